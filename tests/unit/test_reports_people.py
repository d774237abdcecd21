"""The people reports (``services/reporting/reports_people.py``): approvals, workload and
goals, on a scripted history with known times; every figure is checked against numbers
worked out by hand here, live, as of a past instant (== the archive cut there), and
narrowed by each filter; and who may ask."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.reporting.application import ReportingApplication
from services.reporting.approval_facts import ApprovalFactsView
from services.reporting.goal_facts import GoalFactsView
from services.reporting.report_filter import ReportFilter
from services.reporting.reports_people import PeopleReports
from services.reporting.wiring import build
from shared.config import Settings
from shared.domain import InvalidCommand
from shared.policy import Caller, Role
from tests.unit.in_process import auth, service_client
from tests.unit.report_script import Script, day

SPRING, WEB = (uuid.UUID(f"00000000-0000-4000-8000-00000000c0{n}a") for n in range(2))
A1, A2, A3, A4, A5, A6 = (uuid.UUID(f"00000000-0000-4000-8000-0000000000a{n}")
                          for n in range(1, 7))
B1, B2, B3 = (uuid.UUID(f"00000000-0000-4000-8000-0000000000b{n}") for n in range(1, 4))
LEADS, FOLLOWERS, NPS = (uuid.UUID(f"00000000-0000-4000-8000-00000000060{n}")
                         for n in range(1, 4))
ABSENCE = uuid.UUID("00000000-0000-4000-8000-0000000ab5e0")
R = day(7, 2)
"""The past instant most checks use: Monday 2026-01-12 11:00 UTC, ISO week 2026-W03."""
ADMIN = Caller.person("anna", Role.ADMIN)


def jan(n: int) -> dt.date:
    return dt.date(2026, 1, n)


def history() -> Script:
    """Brand's spring campaign (ben writes, lee and kim approve) and web's relaunch (zoe);
    three goals measured along the way; kim's absence hands an approval to ben and ben's
    hands a task to lee."""
    s = Script()
    s.member("ben", teams=["brand"], capacity=15)
    s.member("lee", teams=["brand"], capacity=40)
    s.member("kim", teams=["brand"], capacity=40)
    s.member("zoe", teams=["web"], capacity=10)
    s.member("old", teams=["brand"], capacity=40, active=False)
    s.goal(LEADS, "Leads", weight=2, target=100, start=jan(1), end=dt.date(2026, 3, 31))
    s.goal(FOLLOWERS, "Followers", weight=1, target=1000, start=jan(1),
           end=dt.date(2026, 6, 30), aggregation="last")
    s.goal(NPS, "NPS", weight=1, target=50, start=jan(1), end=jan(31), aggregation="average")
    s.plan(SPRING, "Spring", launch=dt.date(2026, 2, 15), team="brand", goals=[LEADS], tasks=[
        s.task(A1, "brief", due=jan(6), assignee="ben", effort=8, approvers=["lee", "kim"]),
        s.task(A2, "copy", due=jan(15), assignee="ben", effort=12, approvers=["lee"]),
        s.task(A3, "post", due=jan(21), assignee="ben"),  # no effort: 8h by default
        s.task(A4, "legal", due=jan(20), queue="legal"),
        s.task(A5, "ads", due=jan(13), assignee="lee", effort=50, approvers=["kim"]),
        s.task(A6, "assets", due=jan(9), assignee="ben", effort=4)])
    s.plan(WEB, "Web relaunch", launch=dt.date(2026, 3, 1), team="web", goals=[FOLLOWERS],
           tasks=[s.task(B1, "wireframes", due=jan(27), assignee="zoe", effort=12),
                  s.task(B2, "copy", due=dt.date(2026, 2, 3), queue="web-queue"),
                  s.task(B3, "launch", due=dt.date(2026, 2, 20))])  # never opened
    s.at(day(0, 1), "system:execution")
    for task, campaign, due, assignee, queue in (
            (A1, SPRING, jan(6), "ben", "writer"), (A2, SPRING, jan(15), "ben", "writer"),
            (A3, SPRING, jan(21), "ben", "writer"), (A4, SPRING, jan(20), None, "legal"),
            (A5, SPRING, jan(13), "lee", "writer"), (A6, SPRING, jan(9), "ben", "writer"),
            (B1, WEB, jan(27), "zoe", "writer"), (B2, WEB, dt.date(2026, 2, 3), None,
                                                   "web-queue")):
        s.opened(task, campaign, due=due, queue=queue)
        if assignee:
            s.assigned(task, campaign, assignee, due=due)
    # A1: approved at its first submission, lee then kim.
    s.at(day(1), "ben").started(A1, SPRING, "ben")
    s.at(day(1, 3), "ben").submitted(A1, SPRING, 1, ["lee"])
    s.at(day(1, 5), "lee").approval_given(A1, SPRING, 1, 1)           # step 1: 2 h
    s.at(day(2, 3), "kim").approval_given(A1, SPRING, 2, 1)           # step 2: 22 h
    s.approved(A1, SPRING, 1)
    s.completed(A1, SPRING, on_approval=True)
    # A2: sent back twice, approved at its third submission.
    s.at(day(2, 4), "ben").started(A2, SPRING, "ben")
    s.at(day(3), "ben").submitted(A2, SPRING, 1, ["lee"])
    s.at(day(3), "anna").measured(LEADS, 30, jan(7))
    s.at(day(3, 6), "lee").changes_requested(A2, SPRING, 1, 1, 1)     # 6 h, round 1
    s.at(day(4), "ben").submitted(A2, SPRING, 2, ["lee"])
    s.at(day(5), "anna").measured(FOLLOWERS, 400, jan(9))
    s.at(day(6)).measured(LEADS, 50, jan(10))
    s.goals_linked(SPRING, [FOLLOWERS])
    s.at(day(7), "lee").changes_requested(A2, SPRING, 1, 2, 2)        # 72 h, round 2
    # --- R: Monday 2026-01-12 11:00 ---
    s.at(day(8), "ben").submitted(A2, SPRING, 3, ["lee"])
    s.at(day(8), "anna").member("ben", teams=["brand"], capacity=30)
    s.measured(FOLLOWERS, 700, jan(12))
    s.at(day(8, 4), "lee").approval_given(A2, SPRING, 1, 3)           # 4 h
    s.approved(A2, SPRING, 3)
    # A5: kim is away; her approval goes to ben, who approves the first submission.
    s.at(day(8, 6), "lee").started(A5, SPRING, "lee")
    s.at(day(9), "lee").submitted(A5, SPRING, 1, ["kim"])
    s.at(day(9), "anna").measured(LEADS, 40, jan(13))
    s.measured(FOLLOWERS, 500, jan(8))  # archived last, measured before the 700
    s.at(day(9, 1), "system:execution").delegated(A5, "kim", "ben", ABSENCE)
    s.at(day(9, 5), "ben").approval_given(A5, SPRING, 1, 1)           # 5 h
    s.approved(A5, SPRING, 1)
    s.at(day(10), "system:execution").assigned(A3, SPRING, "lee", due=jan(21),
                                               via="absence", previous="ben")
    return s


@contextmanager
def reports(tmp_path: Path, events: list[Any], name: str = "reporting"
            ) -> Iterator[PeopleReports]:
    parts = build(replace(Settings(service="reporting"), sqlite_dir=tmp_path / name))
    app = parts.application
    assert isinstance(app, ReportingApplication)
    try:
        for event in events:
            assert app.process_inbound(event)
        (approvals,) = (v for v in parts.views if isinstance(v, ApprovalFactsView))
        (goals,) = (v for v in parts.views if isinstance(v, GoalFactsView))
        yield PeopleReports(app.facts, approvals, goals, app._campaign_resource)
    finally:
        app.close()


def all_reports(people: PeopleReports, report: ReportFilter) -> dict[str, Any]:
    return {"approvals": people.approvals(ADMIN, report),
            "workload": people.workload(ADMIN, report),
            "goals": people.goals(ADMIN, report)}


def without(report: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key not in keys}


# --- approvals -----------------------------------------------------------------------------

def test_approvals_now_turnaround_rounds_first_time_and_delegations(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        report = people.approvals(ADMIN, ReportFilter())
    # step 1: lee 2, 6, 72, 4 and ben 5 -> sorted 2 4 5 6 72; nearest rank of n=5:
    # median ⌈2.5⌉ = 3rd = 5; p90 ⌈4.5⌉ = 5th = 72. Step 2: kim's 22 h (from lee's
    # completion of step 1 at day 1 14:00 to day 2 12:00).
    assert report["turnaround_by_step"] == [
        {"step": 1, "decisions": 5, "median_hours": 5.0, "p90_hours": 72.0},
        {"step": 2, "decisions": 1, "median_hours": 22.0, "p90_hours": 22.0}]
    # lee: 2 4 6 72 -> median ⌈2⌉ = 2nd = 4, p90 ⌈3.6⌉ = 4th = 72.
    assert report["turnaround_by_approver"] == [
        {"approver": "ben", "decisions": 1, "median_hours": 5.0, "p90_hours": 5.0},
        {"approver": "kim", "decisions": 1, "median_hours": 22.0, "p90_hours": 22.0},
        {"approver": "lee", "decisions": 4, "median_hours": 4.0, "p90_hours": 72.0}]
    # A1 0 rounds, A2 2, A5 0: mean 2/3, max 2.
    assert report["revision_rounds"] == {
        "tasks": 3, "mean": 0.67, "max": 2,
        "distribution": [{"rounds": 0, "tasks": 2}, {"rounds": 2, "tasks": 1}]}
    # approved: A1 (submission 1), A2 (3), A5 (1): 2 of 3.
    assert report["first_time_approval"] == {
        "tasks_approved": 3, "approved_first_time": 2, "share_percent": 66.7}
    assert report["delegations"]["count"] == 2
    assert [(h["kind"], h["task_id"], h["from_member"], h["to_member"], h["absence_id"])
            for h in report["delegations"]["handovers"]] == [
        ("approvals", str(A5), "kim", "ben", str(ABSENCE)),
        ("task", str(A3), "ben", "lee", None)]


def test_approvals_as_of_r_and_narrowed(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        then = people.approvals(ADMIN, ReportFilter(as_of=R))
        # period 8-12 January: decisions of the 8th (6 h) and 12th (72 h); A2's two
        # submissions of the 8th and 9th, both sent back; nothing approved or delegated.
        period = people.approvals(ADMIN, ReportFilter(start=jan(8), end=jan(12)))
        # lee's tasks now: A5 (approved first time by ben, 5 h) and A3 (handed over to
        # her): their two hand-overs.
        lee = people.approvals(ADMIN, ReportFilter(member_id="lee"))
        web = people.approvals(ADMIN, ReportFilter(campaign_id=str(WEB)))
    # By R: lee 2, 6, 72 (median ⌈1.5⌉ = 2nd = 6; p90 ⌈2.7⌉ = 3rd = 72), kim 22.
    assert then["turnaround_by_step"] == [
        {"step": 1, "decisions": 3, "median_hours": 6.0, "p90_hours": 72.0},
        {"step": 2, "decisions": 1, "median_hours": 22.0, "p90_hours": 22.0}]
    assert then["revision_rounds"]["mean"] == 1.0 and then["revision_rounds"]["tasks"] == 2
    assert then["first_time_approval"]["share_percent"] == 100.0
    assert then["delegations"] == {"count": 0, "handovers": []}
    # two decisions: median ⌈1⌉ = 1st = 6, p90 ⌈1.8⌉ = 2nd = 72.
    assert period["turnaround_by_step"] == [
        {"step": 1, "decisions": 2, "median_hours": 6.0, "p90_hours": 72.0}]
    assert period["revision_rounds"]["distribution"] == [{"rounds": 2, "tasks": 1}]
    assert period["first_time_approval"]["share_percent"] is None
    assert period["delegations"]["count"] == 0
    assert lee["turnaround_by_approver"] == [
        {"approver": "ben", "decisions": 1, "median_hours": 5.0, "p90_hours": 5.0}]
    assert lee["first_time_approval"]["share_percent"] == 100.0
    assert lee["delegations"]["count"] == 2
    assert web["turnaround_by_step"] == [] and web["revision_rounds"]["tasks"] == 0


# --- workload ------------------------------------------------------------------------------

def _weeks(member: dict[str, Any]) -> list[tuple[str, int, float, bool]]:
    return [(w["week"], w["tasks_due"], w["effort_hours"], w["over_capacity"])
            for w in member["weeks"]]


def test_workload_as_of_r(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        report = people.workload(ADMIN, ReportFilter(as_of=R))
    members = {m["member_id"]: m for m in report["members"]}
    assert sorted(members) == ["ben", "kim", "lee", "zoe"]  # old is inactive
    ben = members["ben"]
    # open: A2 (in progress), A3 (planned), A6 (planned, due Fri 9 Jan: overdue).
    assert (ben["open_tasks"], ben["overdue_tasks"], ben["weekly_capacity_hours"]) == (
        3, 1, 15.0)  # capacity 30 only from day 8
    # W03: A2 due 15 Jan, 12 h + A6's overdue 4 h = 16 > 15; W04: A3 due 21 Jan, 8 h.
    assert _weeks(ben) == [("2026-W03", 1, 16.0, True), ("2026-W04", 1, 8.0, False),
                           ("2026-W05", 0, 0.0, False), ("2026-W06", 0, 0.0, False)]
    assert ben["over_capacity_now"] and ben["over_capacity_next_four_weeks"]
    # lee: A5 due 13 Jan, 50 h > 40.
    assert _weeks(members["lee"])[0] == ("2026-W03", 1, 50.0, True)
    # zoe: B1 due 27 Jan (W05), 12 h > 10: not now, but within four weeks.
    zoe = members["zoe"]
    assert _weeks(zoe)[2] == ("2026-W05", 1, 12.0, True)
    assert not zoe["over_capacity_now"] and zoe["over_capacity_next_four_weeks"]
    assert members["kim"]["open_tasks"] == 0
    assert not members["kim"]["over_capacity_next_four_weeks"]
    assert report["queues"] == [{"queue": "legal", "open_unassigned": 1},
                                {"queue": "web-queue", "open_unassigned": 1}]
    assert report["day"] == jan(12) and report["default_effort_hours"] == 8.0


def test_workload_filters(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        brand = people.workload(ADMIN, ReportFilter(as_of=R, team_id="brand"))
        ben = people.workload(ADMIN, ReportFilter(as_of=R, member_id="ben"))
        web = people.workload(ADMIN, ReportFilter(as_of=R, campaign_id=str(WEB)))
        # the period keeps tasks due 12-18 January: ben's A2 only.
        week = people.workload(ADMIN, ReportFilter(as_of=R, start=jan(12), end=jan(18)))
    assert [m["member_id"] for m in brand["members"]] == ["ben", "kim", "lee"]
    assert brand["queues"] == [{"queue": "legal", "open_unassigned": 1}]
    assert [m["member_id"] for m in ben["members"]] == ["ben"] and ben["queues"] == []
    assert [m["member_id"] for m in web["members"]] == ["zoe"]
    assert web["queues"] == [{"queue": "web-queue", "open_unassigned": 1}]
    (week_ben,) = (m for m in week["members"] if m["member_id"] == "ben")
    assert (week_ben["open_tasks"], _weeks(week_ben)[0]) == (1, ("2026-W03", 1, 12.0, False))


# --- goals ---------------------------------------------------------------------------------

def test_goals_now_and_as_of_r(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        now = people.goals(ADMIN, ReportFilter())
        then = people.goals(ADMIN, ReportFilter(as_of=R))
    goals = {g["name"]: g for g in now["goals"]}
    # Leads (sum): 30 + 50 + 40 = 120 of 100 -> 120.0 %.
    assert (goals["Leads"]["achieved"], goals["Leads"]["attainment_percent"]) == (120, 120.0)
    # Followers (last by measured_on): 500 (8 Jan), 400 (9 Jan), 700 (12 Jan) -> 70.0 %.
    assert goals["Followers"]["attainment_percent"] == 70.0
    assert goals["NPS"]["attainment_percent"] is None and now["goals_unmeasured"] == 1
    # (2·min(120, 100) + 1·70) / (2 + 1) = 270 / 3.
    assert now["weighted_attainment_percent"] == 90.0
    assert [c["campaign_id"] for c in goals["Followers"]["campaigns"]] == [str(SPRING),
                                                                         str(WEB)]
    spring, web = goals["Followers"]["campaigns"]
    # Spring: 1 (A1) done of 6 opened = 16.7 %; web: 0 done of max(2 opened, 3 planned).
    assert (spring["tasks_done"], spring["tasks_total"], spring["percent_done"]) == (
        1, 6, 16.7)
    assert (web["tasks_done"], web["tasks_total"], web["percent_done"]) == (0, 3, 0.0)
    assert goals["NPS"]["campaigns"] == []
    by_then = {g["name"]: g for g in then["goals"]}
    # By R: Leads 30 + 50 = 80 %; Followers 400 = 40 %; (2·80 + 40) / 3 = 66.7.
    assert by_then["Leads"]["attainment_percent"] == 80.0
    assert by_then["Followers"]["attainment_percent"] == 40.0
    assert then["weighted_attainment_percent"] == 66.7


def test_goals_filters(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        web = people.goals(ADMIN, ReportFilter(campaign_id=str(WEB)))
        zoe = people.goals(ADMIN, ReportFilter(member_id="zoe"))
        february = people.goals(ADMIN, ReportFilter(start=dt.date(2026, 2, 1),
                                                    end=dt.date(2026, 2, 28)))
        before_link = people.goals(ADMIN, ReportFilter(as_of=day(5)))
    assert [g["name"] for g in web["goals"]] == ["Followers"]
    assert [c["campaign_id"] for c in web["goals"][0]["campaigns"]] == [str(WEB)]
    assert web["weighted_attainment_percent"] == 70.0
    assert [g["name"] for g in zoe["goals"]] == ["Followers"]
    assert [g["name"] for g in february["goals"]] == ["Followers", "Leads"]  # NPS: January
    followers = next(g for g in before_link["goals"] if g["name"] == "Followers")
    assert [c["campaign_id"] for c in followers["campaigns"]] == [str(WEB)]


# --- live, as of and the cut -----------------------------------------------------------------

def test_live_reports_equal_reports_as_of_now(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        live = all_reports(people, ReportFilter())
        now = all_reports(people, ReportFilter(as_of=dt.datetime.now(dt.UTC)))
    for name in live:
        assert without(live[name], "as_of") == without(now[name], "as_of"), name


@pytest.mark.parametrize("moment", [day(0, 2), day(2, 3), R, day(9, 2), day(30)])
def test_a_report_as_of_t_equals_the_report_of_the_archive_cut_at_t(
        tmp_path: Path, moment: dt.datetime) -> None:
    script = history()
    with (reports(tmp_path, script.events) as full,
          reports(tmp_path, script.cut(moment), "cut") as cut):
        for report in (ReportFilter(as_of=moment), ReportFilter(as_of=moment,
                                                                 member_id="ben"),
                       ReportFilter(as_of=moment, campaign_id=str(SPRING))):
            assert all_reports(full, report) == all_reports(cut, report)
        # the cut's live approvals and goals are those as of T on the whole archive
        for name in ("approvals", "goals"):
            live = all_reports(cut, ReportFilter())[name]
            assert without(live, "as_of") == without(
                all_reports(full, ReportFilter(as_of=moment))[name], "as_of")


# --- bad input and access ------------------------------------------------------------------

def test_a_time_without_zone_or_a_reversed_period_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        ReportFilter(as_of=dt.datetime(2026, 1, 12, 11))
    with pytest.raises(InvalidCommand):
        ReportFilter(start=jan(12), end=jan(8))


def test_over_http_contributors_read_their_own_workload_and_bad_input_is_422(
        tmp_path: Path) -> None:
    with service_client("reporting", tmp_path) as client:
        for event in history().events:
            assert client.application.process_inbound(event)
        before = client.head_position()
        for path in ("/reports/approvals", "/reports/workload", "/reports/goals"):
            assert client.get(path, headers=auth("anna")).status_code == 200, path
            assert client.get(path, headers=auth("ben")).status_code == 403, path
            naive = client.get(path, params={"as_of": "2026-01-12T11:00:00"},
                               headers=auth("anna"))
            assert naive.status_code == 422 and "as_of" in naive.json()["detail"], naive.text
            reversed_period = client.get(path, params={"from": "2026-01-12",
                                                       "to": "2026-01-08"},
                                         headers=auth("anna"))
            assert reversed_period.status_code == 422, reversed_period.text
            assert reversed_period.json()["detail"] == "from: must not be after to"
        own = client.get("/reports/workload", params={"member_id": "ben",
                                                      "as_of": R.isoformat()},
                         headers=auth("ben"))
        assert own.status_code == 200, own.text
        assert [m["member_id"] for m in own.json()["members"]] == ["ben"]
        assert client.get("/reports/workload", params={"member_id": "lee"},
                          headers=auth("ben")).status_code == 403
        assert client.head_position() == before  # refusals and reads change nothing


def test_the_new_projections_rebuild_to_the_same_rows(tmp_path: Path) -> None:
    with reports(tmp_path, history().events) as people:
        for view in (people.approval_facts, people.goal_facts):
            assert [difference.count for difference in view.verify()] == [0] * len(
                view.tables), view.name
