"""Reporting's progress read model: the live fold, a rebuild and the as-of fold give the
same answer whatever order a campaign's events arrive in from its two topics."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import IntegrationEvent
from contracts import execution as task_contract
from contracts import planning as plan_contract
from services.reporting.application import ReportingApplication
from services.reporting.domain import timeline_id
from services.reporting.views import ProgressView
from services.reporting.wiring import build
from shared import cloudevents
from shared.config import Settings
from shared.domain import NotFound
from shared.projections import ReadModelUnavailable, open_projections

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
CAMPAIGN = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
TASKS = [uuid.UUID(f"00000000-0000-4000-8000-00000000000{n}") for n in range(1, 5)]


def _planned(task_id: uuid.UUID, key: str) -> plan_contract.PlannedTask:
    return plan_contract.PlannedTask(task_id=task_id, key=key, title=key, role="writer",
                                     due_date=dt.date(2027, 3, 1), assignee_id="ben")


def _inbound(source: str, subject: uuid.UUID, version: int, sequence: int, minute: int,
             event: IntegrationEvent) -> cloudevents.InboundEvent:
    envelope = cloudevents.Envelope(
        id=f"{subject}:{version}", source=f"/marketflow/{source}", type=event.event_type,
        time=T0 + dt.timedelta(minutes=minute), subject=str(subject), actor="anna",
        aggregate_version=version, sequence=sequence)
    return cloudevents.InboundEvent(envelope, event)


def planning_topic() -> list[cloudevents.InboundEvent]:
    return [
        _inbound("planning", CAMPAIGN, 1, 1, 0, plan_contract.CampaignPlanned(
            campaign_id=CAMPAIGN, name="Spring launch", playbook_id=uuid.uuid4(),
            playbook_version=1, launch_date=dt.date(2027, 3, 1),
            tasks=[_planned(task_id, f"t{n}") for n, task_id in enumerate(TASKS[:3])])),
        _inbound("planning", CAMPAIGN, 2, 2, 30, plan_contract.CampaignTasksRevised(
            campaign_id=CAMPAIGN, reason="launch moved", launch_date=dt.date(2027, 3, 15),
            added=[_planned(TASKS[3], "t3")])),
    ]


def execution_topic() -> list[cloudevents.InboundEvent]:
    # The fourth task is opened after the revision added it.
    opened = [_inbound("execution", task_id, 1, n + 1, 31 if n == 3 else 1 + n,
                       task_contract.TaskOpened(
        task_id=task_id, campaign_id=CAMPAIGN, title=f"t{n}", role="writer",
        due_date=dt.date(2027, 3, 1))) for n, task_id in enumerate(TASKS)]
    # Same minute as the reschedule: ties in event time must not matter either.
    return [*opened,
            _inbound("execution", TASKS[0], 5, 5, 30, task_contract.TaskCompleted(
                task_id=TASKS[0], campaign_id=CAMPAIGN)),
            _inbound("execution", TASKS[1], 3, 6, 40, task_contract.TaskCancelled(
                task_id=TASKS[1], campaign_id=CAMPAIGN, reason="not needed"))]


@contextmanager
def reporting(directory: Path) -> Iterator[ReportingApplication]:
    settings = replace(Settings(service="reporting"), sqlite_dir=directory)
    parts = build(settings)
    app = parts.application
    assert isinstance(app, ReportingApplication)
    try:
        yield app
    finally:
        app.close()


def feed(app: ReportingApplication, order: list[cloudevents.InboundEvent]) -> None:
    for inbound in order:
        assert app.process_inbound(inbound)


def table_rows(view: ProgressView) -> dict[str, list[dict[str, Any]]]:
    view.catch_up()
    with view.store.transaction(commit=False) as sql:
        return {table.name: sql.rows(f"SELECT * FROM {view.table(table.name)} ORDER BY "
                                     + ", ".join(table.primary_key)) for table in view.tables}


def interleave(first: list[Any], second: list[Any], picks: list[bool]) -> list[Any]:
    """Merge two topics keeping each one's own order (what a consumer may see)."""
    a, b, merged = list(first), list(second), []
    for pick in picks:
        if a and (pick or not b):
            merged.append(a.pop(0))
        elif b:
            merged.append(b.pop(0))
    return merged + a + b


def test_progress_counts_the_latest_state_of_each_task_and_the_moved_launch(
        tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        feed(app, planning_topic() + execution_topic())
        view = ProgressView(app)
        # percent done: 1 done of the 3 tasks not cancelled
        assert view.progress(str(CAMPAIGN)) == {
            "campaign_id": str(CAMPAIGN), "name": "Spring launch",
            "launch_date": "2027-03-15", "tasks_total": 4, "tasks_open": 2,
            "tasks_cancelled": 1, "tasks_done": 1, "percent_done": 33.3}
        assert view.totals()["marketflow.execution.task.opened.v1"] == 4
        # Before the reschedule and the completion: the archive answers as of then.
        before = app.campaign_progress_as_of(str(CAMPAIGN), T0 + dt.timedelta(minutes=10))
        assert (before["launch_date"], before["tasks_done"], before["tasks_total"]) == (
            "2027-03-01", 0, 3)


@settings(max_examples=20, deadline=None)
@given(picks=st.lists(st.booleans(), min_size=8, max_size=8))
def test_live_rebuild_and_as_of_agree_for_every_interleaving_of_the_two_topics(
        tmp_path_factory: Any, picks: list[bool]) -> None:
    reference_dir = tmp_path_factory.mktemp("reference")
    shuffled_dir = tmp_path_factory.mktemp("interleaved")
    with reporting(reference_dir) as reference, reporting(shuffled_dir) as shuffled:
        feed(reference, planning_topic() + execution_topic())
        feed(shuffled, interleave(planning_topic(), execution_topic(), picks))
        live, other = ProgressView(reference), ProgressView(shuffled)
        assert table_rows(other) == table_rows(live)
        now = dt.datetime.now(dt.UTC)
        assert other.progress(str(CAMPAIGN)) == live.progress(str(CAMPAIGN)) == \
            shuffled.campaign_progress_as_of(str(CAMPAIGN), now)
        assert all(difference.count == 0 for difference in other.verify())


def test_replicas_appending_to_one_campaign_timeline_lose_nothing(tmp_path: Path) -> None:
    """Each replica appends from the timeline as it last saved it; a copy made stale by
    the other replica fails its save, is forgotten and the event is applied again from
    the stored timeline: every event archived once, in one gapless timeline."""
    planned, *executed = [*planning_topic(), *execution_topic()]
    with reporting(tmp_path) as first, reporting(tmp_path) as second:
        feed(first, [planned])
        feed(second, executed[:2])  # second now knows the campaign timeline as saved
        feed(first, executed[2:4])  # first's copy is stale: its save loses, then retries
        feed(second, executed[4:])  # and so is second's now
        for app in (first, second):
            history = app.history(str(CAMPAIGN))
            assert sorted(entry.id for entry in history) == sorted(
                inbound.envelope.id for inbound in [planned, *executed])
        versions = [event.originator_version
                    for event in first.events.get(timeline_id(str(CAMPAIGN)))]
        assert versions == list(range(1, len(executed) + 2))


def test_progress_follows_every_reschedule_of_the_launch(tmp_path: Path) -> None:
    # Regression (issue 9, stale views): the launch date is the latest tasks_revised one.
    moved_again = _inbound("planning", CAMPAIGN, 3, 3, 50, plan_contract.CampaignTasksRevised(
        campaign_id=CAMPAIGN, reason="launch moved", launch_date=dt.date(2027, 4, 1)))
    with reporting(tmp_path) as app:
        feed(app, [*planning_topic(), moved_again])
        assert ProgressView(app).progress(str(CAMPAIGN))["launch_date"] == "2027-04-01"  # type: ignore[index]
        as_of = app.campaign_progress_as_of(str(CAMPAIGN), T0 + dt.timedelta(minutes=40))
        assert as_of["launch_date"] == "2027-03-15"


def test_progress_as_of_a_time_before_the_campaign_was_planned_is_not_found(
        tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        feed(app, planning_topic())
        with pytest.raises(NotFound, match="had not been planned by"):
            app.campaign_progress_as_of(str(CAMPAIGN), T0 - dt.timedelta(days=1))


class _ChangedProgress(ProgressView):
    """The same read model after a code change (a new version), whose folding fails
    until the cause is fixed."""

    version = ProgressView.version + 1
    failing = True

    def prepare(self, domain_events: Any) -> None:
        if type(self).failing:
            raise RuntimeError("disk quota exceeded")
        super().prepare(domain_events)


def test_a_changed_read_model_whose_rebuild_fails_does_not_stop_the_service(
        tmp_path: Path) -> None:
    with reporting(tmp_path) as app:
        feed(app, planning_topic())
        before = table_rows(ProgressView(app))
        changed = _ChangedProgress(app)
        open_projections([changed])  # logs the failure; the service goes on starting
        with pytest.raises(ReadModelUnavailable, match="disk quota exceeded"):
            changed.catch_up()  # queries get a 503, never rows of the old version
        _ChangedProgress.failing = False
        try:
            changed.catch_up()  # the follower's next try rebuilds it
        finally:
            _ChangedProgress.failing = True
        assert table_rows(changed) == before
        assert changed.position == app.max_notification_id()
