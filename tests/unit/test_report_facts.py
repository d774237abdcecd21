"""The reports' facts (``services/reporting/facts.py``): one row per version of each
campaign, planned task, task and member, valid from its event's time; read as of any
instant, and as of T they equal the facts folded from the archive cut at T."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.reporting.application import ReportingApplication
from services.reporting.facts import CAMPAIGNS, MEMBERS, PLAN, TASKS, FactsView
from services.reporting.wiring import build
from shared.config import Settings
from shared.projections import Table
from tests.unit.report_script import Script, day

CAMPAIGN = uuid.UUID("00000000-0000-4000-8000-0000000c0de1")
BRIEF, COPY, LEGAL = (uuid.UUID(f"00000000-0000-4000-8000-0000000000a{n}") for n in range(3))


def script() -> Script:
    """Ben writes the brief (late), lee reviews the copy twice; the launch moves a week;
    the legal check is dropped from the plan."""
    s = Script()
    s.member("ben", teams=["brand"], capacity=32)
    s.at(day(0)).plan(CAMPAIGN, "Spring launch", launch=dt.date(2026, 2, 1), team="brand",
                      tasks=[s.task(BRIEF, "brief", phase="prepare", due=dt.date(2026, 1, 6),
                                    assignee="ben", effort=8),
                             s.task(COPY, "copy", phase="create", due=dt.date(2026, 1, 15),
                                    assignee="ben", approvers=["lee"]),
                             s.task(LEGAL, "legal", phase="create",
                                    due=dt.date(2026, 1, 20))])
    s.at(day(0, 1)).opened(BRIEF, CAMPAIGN, due=dt.date(2026, 1, 6))
    s.assigned(BRIEF, CAMPAIGN, "ben", due=dt.date(2026, 1, 6))
    s.ready(BRIEF, CAMPAIGN)
    s.at(day(1), "ben").started(BRIEF, CAMPAIGN, "ben")
    s.commented(BRIEF, "on it")
    s.at(day(3, 2)).completed(BRIEF, CAMPAIGN)
    s.at(day(3, 3), "system:execution").opened(COPY, CAMPAIGN, due=dt.date(2026, 1, 15))
    s.assigned(COPY, CAMPAIGN, "ben", due=dt.date(2026, 1, 15))
    s.ready(COPY, CAMPAIGN)
    s.at(day(4), "anna").revise(CAMPAIGN, "launch moved", launch=dt.date(2026, 2, 8),
                                removed=[LEGAL])
    s.member("ben", teams=["brand", "social"], capacity=24)
    s.at(day(5), "ben").started(COPY, CAMPAIGN, "ben")
    s.at(day(7)).submitted(COPY, CAMPAIGN, 1, ["lee"])
    s.at(day(8), "lee").changes_requested(COPY, CAMPAIGN, 1, 1, 1)
    s.at(day(9), "ben").submitted(COPY, CAMPAIGN, 2, ["lee"])
    return s


@contextmanager
def reporting(tmp_path: Path, name: str = "reporting") -> Iterator[ReportingApplication]:
    settings = replace(Settings(service="reporting"), sqlite_dir=tmp_path / name)
    parts = build(settings)
    app = parts.application
    assert isinstance(app, ReportingApplication)
    try:
        yield app
    finally:
        app.close()


def fed(app: ReportingApplication, events: list[Any]) -> ReportingApplication:
    for event in events:
        assert app.process_inbound(event)
    return app


def facts(app: ReportingApplication, table: Table, as_of: dt.datetime | None = None
          ) -> list[dict[str, Any]]:
    app.facts.catch_up()
    with app.facts.store.transaction(commit=False) as sql:
        rows = app.facts.rows(sql, table, as_of)
    key = table.primary_key[0]
    return sorted(rows, key=lambda row: row[key])


def test_each_task_event_that_changes_something_makes_a_version(tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        fed(app, script().events)
        app.facts.catch_up()
        with app.facts.store.transaction(commit=False) as sql:
            versions = sql.rows(f"SELECT version, state, valid_from, valid_to FROM "
                                f"{app.facts.table('fact_tasks')} WHERE task_id = ? "
                                "ORDER BY version", (str(BRIEF),))
        # opened, assigned, ready, started, (comment: no version), completed
        assert [row["version"] for row in versions] == [1, 2, 3, 4, 6]
        assert [row["state"] for row in versions] == [
            "planned", "planned", "ready", "in_progress", "done"]
        assert all(row["valid_to"] == following["valid_from"]
                   for row, following in pairwise(versions))
        assert versions[-1]["valid_to"] is None


def test_the_facts_now_follow_reschedules_removals_and_reviews(tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        fed(app, script().events)
        (campaign,) = facts(app, CAMPAIGNS)
        assert campaign["launch_date"] == "2026-02-08"
        assert campaign["status"] == "planned" and campaign["team_id"] == "brand"
        plan = {row["key"]: row for row in facts(app, PLAN)}
        assert plan["legal"]["removed"] == 1 and plan["brief"]["phase"] == "prepare"
        tasks = {row["task_id"]: row for row in facts(app, TASKS)}
        assert tasks[str(BRIEF)]["state"] == "done"
        assert tasks[str(COPY)]["state"] == "submitted"
        assert tasks[str(COPY)]["submission_version"] == 2
        assert tasks[str(COPY)]["revision_rounds"] == 1
        (ben,) = facts(app, MEMBERS)
        assert ben["team_ids"] == ["brand", "social"] and ben["weekly_capacity_hours"] == 24


def test_as_of_a_past_instant_the_facts_are_those_of_the_archive_cut_there(
        tmp_path: Path) -> None:
    s = script()
    with reporting(tmp_path) as app:
        fed(app, s.events)
        for moment in (day(0, 2), day(3, 2), day(4, 12), day(8, 1), day(30)):
            with reporting(tmp_path, f"cut-{moment:%d%H}") as cut:
                fed(cut, s.cut(moment))
                for table in (CAMPAIGNS, PLAN, TASKS, MEMBERS):
                    assert facts(app, table, moment) == facts(cut, table), (table, moment)
        before = {row["task_id"]: row["state"] for row in facts(app, TASKS, day(3))}
        assert before == {str(BRIEF): "in_progress"}
        (campaign,) = facts(app, CAMPAIGNS, day(3))
        assert campaign["launch_date"] == "2026-02-01"
        assert facts(app, CAMPAIGNS, day(0) - dt.timedelta(seconds=1)) == []


def test_live_facts_and_facts_as_of_now_are_the_same(tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        fed(app, script().events)
        now = dt.datetime.now(dt.UTC)
        for table in (CAMPAIGNS, PLAN, TASKS, MEMBERS):
            assert facts(app, table) == facts(app, table, now)


def test_an_event_folded_twice_or_a_rebuild_changes_nothing(tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        fed(app, script().events)
        before = {table.name: facts(app, table) for table in FactsView.tables}
        assert not app.process_inbound(script().events[5])  # the inbox: already archived
        assert [difference.count for difference in app.facts.verify()] == [0] * 4
        assert {table.name: facts(app, table) for table in FactsView.tables} == before

