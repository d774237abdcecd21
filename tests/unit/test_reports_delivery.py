"""The delivery reports (``services/reporting/reports_delivery.py``): every figure of a
scripted history checked against numbers worked out by hand; as of T equal to the report
on the archive cut at T; live equal to as of now; filters; access; bad input.

The script (T0 = Monday 2026-01-05 09:00 UTC; all times UTC):

    campaign SPRING (team brand, launch 2026-02-01, moved to 2026-02-08 on Fri Jan 9)
      brief   prepare  due Tue 01-06  ben   ready Mon 10:00, done Thu 01-08 11:00 (2 wd late)
      copy    create   due Thu 01-15  ben   ready Thu 01-08 12:00, reviewed twice,
                                            done Wed 01-14 12:00 (on time)
      visual  create   due Fri 01-09  lee   opened Mon 10:00 unassigned, ready Tue 09:00,
                                            blocked a day, done Mon 01-12 12:00 (1 wd late)
      social  launch   due Fri 01-16  -     queued in brand-queue
      ads     launch   due Mon 01-19  ben   in progress
      faq     launch   due Tue 01-13  lee   submitted Tue 01-13 (overdue: open)
      press   launch   due Mon 01-19  lee   submitted Thu 01-15
      legal   (none)   due Tue 01-20        planned, never opened
      print   launch   due Thu 01-22        removed from the plan and cancelled Fri 01-09
    campaign TEASER (team web, launch 2026-01-30)
      teaser  prepare  due Wed 01-07  otto  opened Mon 11:00, assigned 12:00, ready 13:00,
                                            started Tue 09:00, done Wed 01-07 09:00

The report's instant R is Friday 2026-01-16 09:00.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.reporting.application import ReportingApplication
from services.reporting.report_filter import ReportFilter
from services.reporting.reports_delivery import (
    DeliveryReports,
    percentile,
    working_days_between,
)
from shared.domain import InvalidCommand
from shared.policy import Caller, Role
from tests.unit.in_process import ServiceClient, auth, service_client
from tests.unit.report_script import Script, day
from tests.unit.test_report_facts import fed, reporting

D = dt.date
SPRING = uuid.UUID("00000000-0000-4000-8000-00000000d001")
TEASER_CAMPAIGN = uuid.UUID("00000000-0000-4000-8000-00000000d002")
BRIEF, COPY, VISUAL, SOCIAL, ADS, FAQ, PRESS, LEGAL, PRINT, TEASER = (
    uuid.UUID(f"00000000-0000-4000-8000-0000000000{n:02d}") for n in range(10))
SPRING_PLAYBOOK = uuid.uuid5(uuid.NAMESPACE_URL, "Spring launch")
R = day(11)  # Friday 2026-01-16 09:00
ADMIN = Caller.person("anna", Role.ADMIN)


def script() -> Script:
    s = Script()
    s.member("ben", teams=["brand"])
    s.member("lee", teams=["brand"])
    s.member("otto", teams=["web"])
    s.at(day(0)).plan(SPRING, "Spring launch", launch=D(2026, 2, 1), team="brand", tasks=[
        s.task(BRIEF, "brief", phase="prepare", due=D(2026, 1, 6), start=D(2026, 1, 5),
               assignee="ben"),
        s.task(COPY, "copy", phase="create", due=D(2026, 1, 15), assignee="ben",
               approvers=["lee"]),
        s.task(VISUAL, "visual", phase="create", due=D(2026, 1, 9)),
        s.task(SOCIAL, "social", phase="launch", due=D(2026, 1, 16), queue="brand-queue"),
        s.task(ADS, "ads", phase="launch", due=D(2026, 1, 19), assignee="ben"),
        s.task(FAQ, "faq", phase="launch", due=D(2026, 1, 13), assignee="lee"),
        s.task(PRESS, "press", phase="launch", due=D(2026, 1, 19), assignee="lee"),
        s.task(LEGAL, "legal", due=D(2026, 1, 20)),
        s.task(PRINT, "print", phase="launch", due=D(2026, 1, 22))])
    s.plan(TEASER_CAMPAIGN, "Summer teaser", launch=D(2026, 1, 30), team="web", tasks=[
        s.task(TEASER, "teaser", phase="prepare", due=D(2026, 1, 7), assignee="otto")])

    def open_(task: uuid.UUID, due: D, assignee: str | None = None, campaign: uuid.UUID = SPRING,
              queue: str = "writer") -> None:
        s.opened(task, campaign, due=due, queue=queue, title=f"Task {str(task)[-2:]}")
        if assignee:
            s.assigned(task, campaign, assignee, due=due)
            s.ready(task, campaign)

    s.at(day(0, 1))  # Mon 10:00
    open_(BRIEF, D(2026, 1, 6), "ben")
    open_(VISUAL, D(2026, 1, 9))
    open_(PRINT, D(2026, 1, 22))
    s.at(day(0, 2)).opened(TEASER, TEASER_CAMPAIGN, due=D(2026, 1, 7))
    s.at(day(0, 3)).assigned(TEASER, TEASER_CAMPAIGN, "otto", due=D(2026, 1, 7))
    s.at(day(0, 4)).ready(TEASER, TEASER_CAMPAIGN)
    s.at(day(1))  # Tue 09:00
    s.started(BRIEF, SPRING, "ben")
    s.assigned(VISUAL, SPRING, "lee", due=D(2026, 1, 9))
    s.ready(VISUAL, SPRING)
    s.started(TEASER, TEASER_CAMPAIGN, "otto")
    s.at(day(2)).started(VISUAL, SPRING, "lee")  # Wed 09:00
    s.completed(TEASER, TEASER_CAMPAIGN)
    s.at(day(3)).blocked(VISUAL, SPRING, "waiting for photos")  # Thu 09:00
    s.at(day(3, 2)).completed(BRIEF, SPRING)  # Thu 11:00
    s.at(day(3, 3))  # Thu 12:00
    open_(COPY, D(2026, 1, 15), "ben")
    open_(SOCIAL, D(2026, 1, 16), queue="brand-queue")
    open_(ADS, D(2026, 1, 19), "ben")
    open_(FAQ, D(2026, 1, 13), "lee")
    open_(PRESS, D(2026, 1, 19), "lee")
    s.at(day(4))  # Fri 09:00
    s.unblocked(VISUAL, SPRING, "in_progress")
    s.started(COPY, SPRING, "ben")
    s.revise(SPRING, "launch moved", launch=D(2026, 2, 8), removed=[PRINT])
    s.cancelled(PRINT, SPRING, "dropped from the plan")
    s.at(day(5)).started(FAQ, SPRING, "lee")  # Sat
    s.at(day(7)).submitted(COPY, SPRING, 1, ["lee"])  # Mon 01-12 09:00
    s.at(day(7, 3)).completed(VISUAL, SPRING)  # Mon 12:00
    s.at(day(8)).changes_requested(COPY, SPRING, 1, 1, 1)  # Tue 01-13 09:00
    s.submitted(FAQ, SPRING, 1, ["ben"])
    s.at(day(9)).submitted(COPY, SPRING, 2, ["lee"])  # Wed 01-14 09:00
    s.at(day(9, 2)).approved(COPY, SPRING, 2)
    s.at(day(9, 3)).completed(COPY, SPRING, on_approval=True)  # Wed 12:00
    s.at(day(10)).started(ADS, SPRING, "ben")  # Thu 01-15 09:00
    s.started(PRESS, SPRING, "lee")
    s.at(day(10, 4)).submitted(PRESS, SPRING, 1, ["ben"])
    return s


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with reporting(tmp_path_factory.mktemp("delivery")) as application:
        fed(application, script().events)
        yield application


def reports(app: ReportingApplication) -> DeliveryReports:
    return DeliveryReports(app)


def at(**filters: Any) -> ReportFilter:
    return ReportFilter(as_of=filters.pop("as_of", R), **filters)


def by_id(rows: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {row["id"]: row for row in rows}


# --- the shared definitions ------------------------------------------------------------

def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7], 90) == 7
    assert percentile([4, 1, 3, 2], 50) == 2  # rank ceil(0.5 * 4) = 2
    assert percentile([4, 1, 3, 2], 90) == 4  # rank ceil(0.9 * 4) = 4
    assert percentile(range(1, 11), 90) == 9  # rank ceil(0.9 * 10) = 9


def test_working_days_count_monday_to_friday_after_the_first_day() -> None:
    assert working_days_between(D(2026, 1, 9), D(2026, 1, 9)) == 0  # same day
    assert working_days_between(D(2026, 1, 9), D(2026, 1, 5)) == 0  # before
    assert working_days_between(D(2026, 1, 9), D(2026, 1, 12)) == 1  # Fri -> Mon
    assert working_days_between(D(2026, 1, 9), D(2026, 1, 11)) == 0  # Fri -> Sun
    assert working_days_between(D(2026, 1, 6), D(2026, 1, 8)) == 2  # Tue -> Thu
    assert working_days_between(D(2026, 1, 5), D(2026, 1, 19)) == 10  # two weeks


# --- progress -------------------------------------------------------------------------

def test_progress_per_campaign_and_phase(app: ReportingApplication) -> None:
    rows = {row["campaign_id"]: row for row in reports(app).progress(ADMIN, at())}
    spring = rows[str(SPRING)]
    # 9 tasks: 3 done (brief, copy, visual), print cancelled, legal never opened
    # (planned), social opened (planned), ads in progress, faq and press submitted.
    assert spring["tasks_total"] == 9 and spring["tasks_done"] == 3
    assert {state: n for state, n in spring["tasks_by_state"].items() if n} == {
        "planned": 2, "in_progress": 1, "submitted": 2, "done": 3, "cancelled": 1}
    assert spring["percent_done"] == 37.5  # 3 done of 9 - 1 cancelled
    phases = {phase["phase"]: phase for phase in spring["phases"]}
    assert list(phases) == ["create", "launch", "prepare", None]
    assert (phases["create"]["tasks_total"], phases["create"]["percent_done"]) == (2, 100.0)
    # launch: social planned, ads in progress, faq + press submitted, print cancelled
    assert (phases["launch"]["tasks_total"], phases["launch"]["percent_done"]) == (5, 0.0)
    assert phases["launch"]["tasks_by_state"]["cancelled"] == 1
    assert phases[None]["tasks_by_state"]["planned"] == 1  # legal
    # launch moved to Feb 8: Jan 16 -> Feb 8 = 15 + 8 = 23 days
    assert (spring["launch_date"], spring["days_to_launch"]) == (D(2026, 2, 8), 23)
    # start: brief's start Jan 5; end: legal's due Jan 20 (print's Jan 22: removed)
    assert (spring["start_date"], spring["end_date"]) == (D(2026, 1, 5), D(2026, 1, 20))
    assert spring["status"] == "planned"
    teaser = rows[str(TEASER_CAMPAIGN)]
    assert (teaser["percent_done"], teaser["days_to_launch"]) == (100.0, 14)  # Jan 16->30
    assert (teaser["start_date"], teaser["end_date"]) == (D(2026, 1, 7), D(2026, 1, 7))


def test_progress_before_the_reschedule_and_after_the_launch(
        app: ReportingApplication) -> None:
    (before,) = reports(app).progress(ADMIN, at(as_of=day(3), campaign_id=str(SPRING)))
    # Thu Jan 8 09:00: launch still Feb 1 (24 days); brief in progress, visual blocked,
    # print, visual opened; copy, social, ads, faq, press, legal only planned
    assert (before["launch_date"], before["days_to_launch"]) == (D(2026, 2, 1), 24)
    assert before["end_date"] == D(2026, 1, 22)  # print still in the plan
    assert {state: n for state, n in before["tasks_by_state"].items() if n} == {
        "planned": 7, "in_progress": 1, "blocked": 1}
    (after,) = reports(app).progress(ADMIN, at(as_of=day(40), campaign_id=str(SPRING)))
    assert after["days_to_launch"] == -6  # Feb 14 is 6 days after Feb 8


def test_the_campaign_progress_endpoint_carries_dates_and_phases(tmp_path: Path) -> None:
    with service_client("reporting", tmp_path) as client:
        fed(client.application, script().events)
        answer = client.get(f"/campaigns/{SPRING}/progress",
                            params={"as_of": R.isoformat()}, headers=auth("anna"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["launch_date"], body["start_date"], body["end_date"]) == (
            "2026-02-08", "2026-01-05", "2026-01-20")
        assert (body["days_to_launch"], body["status"]) == (23, "planned")
        assert [phase["phase"] for phase in body["phases"]] == [
            "create", "launch", "prepare", None]
        live = client.get(f"/campaigns/{SPRING}/progress", headers=auth("anna")).json()
        assert live["launch_date"] == "2026-02-08" and live["tasks_done"] == 3
        assert live["days_to_launch"] == (D(2026, 2, 8) - dt.date.today()).days


# --- on time --------------------------------------------------------------------------

def test_on_time_share_and_lateness(app: ReportingApplication) -> None:
    summary, _ = reports(app).on_time(ADMIN, at())
    # done: brief 2 wd late (due Tue 6, done Thu 8), copy on time, visual 1 wd late
    # (due Fri 9, done Mon 12), teaser on time -> lateness [0, 0, 1, 2]
    assert summary["overall"] == {
        "tasks_done": 4, "done_on_time": 2, "share_on_time": 0.5,
        "working_days_late_median": 0,  # rank ceil(0.5 * 4) = 2 -> 0
        "working_days_late_p90": 2}  # rank ceil(0.9 * 4) = 4 -> 2
    campaigns = by_id(summary["by_campaign"])
    # spring: [0, 1, 2]: median rank 2 -> 1, p90 rank 3 -> 2; 1 of 3 on time
    assert campaigns[str(SPRING)] == {
        "id": str(SPRING), "tasks_done": 3, "done_on_time": 1, "share_on_time": 0.3333,
        "working_days_late_median": 1, "working_days_late_p90": 2}
    assert campaigns[str(TEASER_CAMPAIGN)]["share_on_time"] == 1.0
    teams = by_id(summary["by_team"])
    assert (teams["brand"]["tasks_done"], teams["web"]["tasks_done"]) == (3, 1)
    playbooks = by_id(summary["by_playbook"])
    assert playbooks[str(SPRING_PLAYBOOK)]["done_on_time"] == 1
    members = by_id(summary["by_member"])
    # ben: brief (2 late), copy (0): median rank 1 -> 0, p90 rank 2 -> 2
    assert (members["ben"]["share_on_time"], members["ben"]["working_days_late_median"],
            members["ben"]["working_days_late_p90"]) == (0.5, 0, 2)
    assert (members["lee"]["share_on_time"], members["lee"]["working_days_late_p90"]) == (
        0.0, 1)
    assert members["otto"]["share_on_time"] == 1.0


def test_overdue_and_at_risk(app: ReportingApplication) -> None:
    _, attention = reports(app).on_time(ADMIN, at())
    # Fri Jan 16: faq due Tue 13, open (submitted): 3 wd late (Wed, Thu, Fri);
    # social due today, queued: at risk; ads due Mon 19 (1 wd), in progress: at risk;
    # press due Mon 19 but submitted: not at risk
    assert [(row["key"], row["kind"], row["working_days_late"], row["working_days_left"],
             row["assignee_id"], row["queue"]) for row in attention] == [
        ("faq", "overdue", 3, 0, "lee", "writer"),
        ("social", "at_risk", 0, 0, None, "brand-queue"),
        ("ads", "at_risk", 0, 1, "ben", "writer")]
    assert attention[0]["campaign_id"] == str(SPRING) and attention[0]["title"] == "Task 05"


def test_the_period_picks_tasks_by_their_done_date(app: ReportingApplication) -> None:
    summary, attention = reports(app).on_time(ADMIN, at(start=D(2026, 1, 8),
                                                       end=D(2026, 1, 12)))
    # done Jan 8 (brief, late) and Jan 12 (visual, late); copy (14th), teaser (7th) out
    assert (summary["overall"]["tasks_done"], summary["overall"]["done_on_time"]) == (2, 0)
    assert len(attention) == 3  # the attention list is as of the instant, whatever period


# --- flow -----------------------------------------------------------------------------

def test_cycle_and_lead_times(app: ReportingApplication) -> None:
    flow = reports(app).flow(ADMIN, at())
    # cycle (ready -> done): brief Mon 10:00 -> Thu 11:00 = 73 h; copy Thu 12:00 ->
    # Wed 12:00 = 144 h; visual Tue 09:00 -> Mon 12:00 = 147 h; teaser Mon 13:00 ->
    # Wed 09:00 = 44 h. lead (opened -> done): 73, 144, 170 (visual from Mon 10:00),
    # 46 (teaser from Mon 11:00)
    assert flow["tasks_done"] == 4
    assert flow["cycle_time_hours"] == {"count": 4, "median": 73.0, "p90": 147.0}
    assert flow["lead_time_hours"] == {"count": 4, "median": 73.0, "p90": 170.0}
    phases = {row["phase"]: row for row in flow["by_phase"]}
    assert phases["create"]["cycle_time_hours"] == {"count": 2, "median": 144.0,
                                                    "p90": 147.0}
    assert phases["create"]["lead_time_hours"] == {"count": 2, "median": 144.0,
                                                   "p90": 170.0}
    assert phases["prepare"]["cycle_time_hours"] == {"count": 2, "median": 44.0,
                                                     "p90": 73.0}
    keys = {row["key"]: row for row in flow["by_key"]}
    assert keys["visual"]["lead_time_hours"]["median"] == 170.0
    assert keys["teaser"]["cycle_time_hours"]["median"] == 44.0
    # ISO week 2 (Jan 5-11): teaser, brief; week 3: visual, copy
    assert [(week["week"], week["tasks_done"]) for week in flow["throughput"]] == [
        ("2026-W02", 2), ("2026-W03", 2)]


def test_time_in_each_state(app: ReportingApplication) -> None:
    teaser = reports(app).flow(ADMIN, at(campaign_id=str(TEASER_CAMPAIGN)))
    # opened 11:00 unassigned (queued 1 h); assigned 12:00, ready 13:00, started Tue
    # 09:00 (waiting 21 h); done Wed 09:00 (in progress 24 h)
    assert teaser["hours_in_state"] == {"queued": 1.0, "waiting_to_start": 21.0,
                                        "in_progress": 24.0, "in_review": 0.0,
                                        "blocked": 0.0}
    spring = reports(app).flow(ADMIN, at(campaign_id=str(SPRING)))
    create = {row["phase"]: row["hours"] for row in spring["hours_in_state_by_phase"]
              }["create"]
    # copy: waiting Thu 12:00 -> Fri 09:00 (21), in progress Fri -> Mon 09:00 (72) and
    # Tue -> Wed 09:00 (24), in review Mon -> Tue 09:00 (24) and Wed 09:00 -> 12:00 (3);
    # visual: queued Mon 10:00 -> Tue 09:00 (23), waiting -> Wed 09:00 (24), in progress
    # -> Thu 09:00 (24), blocked -> Fri 09:00 (24), in progress -> Mon 12:00 (75)
    assert create == {"queued": 23.0, "waiting_to_start": 45.0, "in_progress": 195.0,
                      "in_review": 27.0, "blocked": 24.0}


def test_the_period_clips_time_in_state_and_picks_done_tasks(
        app: ReportingApplication) -> None:
    flow = reports(app).flow(ADMIN, at(campaign_id=str(SPRING), start=D(2026, 1, 8),
                                       end=D(2026, 1, 8)))
    create = {row["phase"]: row["hours"] for row in flow["hours_in_state_by_phase"]
              }["create"]
    # Thu Jan 8 only: visual in progress 00:00 -> 09:00, blocked 09:00 -> 24:00; copy
    # waiting 12:00 -> 24:00
    assert create == {"queued": 0.0, "waiting_to_start": 12.0, "in_progress": 9.0,
                      "in_review": 0.0, "blocked": 15.0}
    assert flow["tasks_done"] == 1  # brief, done Jan 8
    assert flow["throughput"] == [{"week": "2026-W02", "week_start": D(2026, 1, 5),
                                   "tasks_done": 1}]


# --- a campaign's state -------------------------------------------------------------

def test_the_state_of_a_campaign_as_of_an_instant(app: ReportingApplication) -> None:
    state = reports(app).campaign_state(str(SPRING), ADMIN, day(8, 12))  # Tue 13 21:00
    tasks = {task["key"]: task for task in state["tasks"]}
    copy = tasks["copy"]
    assert (copy["state"], copy["assignee_id"], copy["submission_version"],
            copy["revision_rounds"]) == ("in_progress", "ben", 1, 1)
    assert copy["milestones"] == {
        "opened": day(3, 3), "ready": day(3, 3), "started": day(4), "submitted": day(7),
        "done": None, "cancelled": None}
    assert (tasks["print"]["state"], tasks["print"]["in_plan"]) == ("cancelled", False)
    assert (tasks["legal"]["state"], tasks["legal"]["phase"]) == ("planned", None)
    assert state["launch_date"] == D(2026, 2, 8) and len(tasks) == 9
    earlier = reports(app).campaign_state(str(SPRING), ADMIN, day(3))
    tasks = {task["key"]: task for task in earlier["tasks"]}
    assert earlier["launch_date"] == D(2026, 2, 1)
    assert (tasks["copy"]["state"], tasks["copy"]["milestones"]["opened"]) == (
        "planned", None)
    assert tasks["visual"]["state"] == "blocked"


# --- as of T is the report on the archive cut at T; live is as of now ---------------

def all_reports(app: ReportingApplication, report: ReportFilter) -> dict[str, Any]:
    delivery = reports(app)
    return {"progress": delivery.progress(ADMIN, report),
            "on_time": delivery.on_time(ADMIN, report),
            "flow": delivery.flow(ADMIN, report),
            "state": delivery.campaign_state(str(SPRING), ADMIN, report.as_of)}


@pytest.mark.parametrize("moment", [day(3), day(8, 12), R])
def test_as_of_t_equals_the_report_on_the_archive_cut_at_t(
        app: ReportingApplication, tmp_path: Path, moment: dt.datetime) -> None:
    with reporting(tmp_path, "cut") as cut:
        fed(cut, script().cut(moment))
        for filters in ({}, {"campaign_id": str(SPRING)}, {"member_id": "lee"}):
            report = ReportFilter(as_of=moment, **filters)
            assert all_reports(app, report) == all_reports(cut, report), filters


def test_live_equals_as_of_now(app: ReportingApplication) -> None:
    # a period that ended (January) keeps time in state from growing between the calls
    for filters in ({"end": D(2026, 1, 31)}, {"campaign_id": str(SPRING),
                                               "end": D(2026, 1, 31)}):
        live = all_reports(app, ReportFilter(**filters))
        now = all_reports(app, ReportFilter(as_of=dt.datetime.now(dt.UTC), **filters))
        assert live == now


# --- filters --------------------------------------------------------------------------

def test_each_filter_narrows(app: ReportingApplication) -> None:
    def done(**filters: Any) -> int:
        summary, _ = reports(app).on_time(ADMIN, at(**filters))
        return int(summary["overall"]["tasks_done"])

    assert done() == 4
    assert done(campaign_id=str(SPRING)) == 3
    assert done(playbook_id=str(SPRING_PLAYBOOK)) == 3
    assert done(team_id="web") == 1
    assert done(member_id="ben") == 2  # brief, copy
    assert done(start=D(2026, 1, 13)) == 1  # copy (Jan 14)
    _, attention = reports(app).on_time(ADMIN, at(member_id="ben"))
    assert [row["key"] for row in attention] == ["ads"]
    # a member's progress: their tasks only, in the campaigns they have work in
    (lees,) = reports(app).progress(ADMIN, at(member_id="lee"))
    assert (lees["tasks_total"], lees["tasks_done"]) == (3, 1)  # visual, faq, press
    assert reports(app).flow(ADMIN, at(team_id="web"))["tasks_done"] == 1
    lee_flow = reports(app).flow(ADMIN, at(member_id="lee"))
    assert [row["key"] for row in lee_flow["by_key"]] == ["visual"]  # lee's one done task


# --- over HTTP: access, paging, bad input -------------------------------------------

@pytest.fixture
def client(tmp_path: Path) -> Any:
    with service_client("reporting", tmp_path) as service:
        fed(service.application, script().events)
        yield service


def test_a_contributor_names_themselves_a_team_or_campaign_of_theirs(
        client: ServiceClient) -> None:
    for path in ("/reports/progress", "/reports/on-time", "/reports/flow"):
        assert client.get(path, headers=auth("ben")).status_code == 403, path
        mine = client.get(path, params={"member_id": "ben", "as_of": R.isoformat()},
                          headers=auth("ben"))
        assert mine.status_code == 200, (path, mine.text)
        assert client.get(path, params={"member_id": "lee"},
                          headers=auth("ben")).status_code == 403, path
        assert client.get(path, params={"campaign_id": str(SPRING)},
                          headers=auth("ben")).status_code == 200, path
        assert client.get(path, headers=auth("anna")).status_code == 200, path
    assert client.get(f"/campaigns/{SPRING}/state", headers=auth("ben")).status_code == 200
    assert client.get(f"/campaigns/{TEASER_CAMPAIGN}/state",
                      headers=auth("ben")).status_code == 403


def test_the_attention_list_is_paged(client: ServiceClient) -> None:
    first = client.get("/reports/on-time", params={"as_of": R.isoformat(), "limit": 2},
                       headers=auth("anna"))
    assert first.status_code == 200, first.text
    assert [row["key"] for row in first.json()["attention"]] == ["faq", "social"]
    following = client.get("/reports/on-time", params={
        "as_of": R.isoformat(), "limit": 2, "cursor": first.headers["X-Next-Cursor"]},
        headers=auth("anna"))
    assert [row["key"] for row in following.json()["attention"]] == ["ads"]
    assert "Link" not in following.headers
    assert following.json()["overall"] == first.json()["overall"]


def test_bad_input_is_refused_and_changes_nothing(client: ServiceClient) -> None:
    before = client.head_position()
    for path in ("/reports/progress", "/reports/on-time", "/reports/flow",
                 f"/campaigns/{SPRING}/state"):
        naive = client.get(path, params={"as_of": "2026-01-16T09:00:00"},
                           headers=auth("anna"))
        assert naive.status_code == 422 and "time zone" in naive.text, path
    backwards = client.get("/reports/flow", params={"from": "2026-01-10", "to": "2026-01-01"},
                           headers=auth("anna"))
    assert backwards.status_code == 422 and "from" in backwards.text
    unknown = str(uuid.uuid4())
    assert client.get("/reports/on-time", params={"campaign_id": unknown},
                      headers=auth("anna")).status_code == 422  # a filter naming nothing
    assert client.get(f"/campaigns/{unknown}/state", headers=auth("anna")).status_code == 404
    assert client.get(f"/campaigns/{SPRING}/state", params={"as_of": day(-1).isoformat()},
                      headers=auth("anna")).status_code == 404  # not planned yet
    assert client.get("/reports/progress", params={"campaign_id": "nope"},
                      headers=auth("anna")).status_code == 422
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    future = client.get("/reports/workload", params={"as_of": tomorrow.isoformat()},
                        headers=auth("anna"))
    assert future.status_code == 422 and "in the future" in future.text
    assert client.head_position() == before


def test_a_filter_without_a_time_zone_is_refused_in_process() -> None:
    with pytest.raises(InvalidCommand):
        ReportFilter(as_of=dt.datetime(2026, 1, 16))
