"""Issue 9's scenario end to end, as a team uses it: a team in Denmark plans a product
launch across Easter from its own playbook, with a work queue, an absence and a two-step
approval whose legal step needs 2 of 3. All four services run against the real broker and
PostgreSQL, driven only over HTTP with each person's bearer token.

Each assertion is one of the issue's defects seen from the user's side: roles given after
planning reach running work (item 1), two approvals of a 2-of-3 step at once both count
(3), calendar, ICS and reporting show who does the work now and the current dates (4),
unknown people and bad filters are refused with a clear 422 that changes nothing (5, 11),
a step only its submitter could approve is refused at planning time (2), an absence's
summary shows each receiver's load (8), approved is done (9).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.harness import Environment, RunningService, auth, eventually, start_service
from tests.integration.test_http_errors import assert_refused
from tests.integration.test_planning_calendar import parse_feed

pytestmark = pytest.mark.integration
TEAM, QUEUE = "marketing-dk", "dk-web"
LAUNCH, MOVED_LAUNCH = "2027-03-30", "2027-04-13"  # the Tuesday after Easter Monday
EASTER = {"2027-03-25", "2027-03-26", "2027-03-29"}  # Maundy Thursday to Easter Monday
MEMBERS: dict[str, list[str]] = {
    "anna": ["marketing-manager"], "carla": ["product-marketer"], "ben": ["writer"],
    "dave": ["brand"], "erin": [],  # erin becomes a brand approver after planning
    "lee": ["legal"], "mette": ["legal"], "soren": ["legal"],
}
PLAYBOOK = {
    "name": "Product launch (Denmark)",
    "roles": ["marketing-manager", "product-marketer", "writer", "web", "brand", "legal"],
    "tasks": [
        {"key": "positioning", "title": "Agree positioning", "role": "product-marketer",
         "duration_days": 2, "date_rule": {"kind": "anchor", "offset_working_days": -8}},
        {"key": "landing-page", "title": "Build the landing page", "role": "web",
         "duration_days": 2, "date_rule": {"kind": "anchor", "offset_working_days": -6}},
        {"key": "press-release", "title": "Draft the press release", "role": "writer",
         "deliverable": "press-release", "duration_days": 3,
         "depends_on": ["positioning", "landing-page"],
         "approval_chain": [{"role": "brand"}, {"role": "legal", "required_approvals": 2}]},
        {"key": "teaser-post", "title": "Publish the teaser post", "role": "writer",
         "duration_days": 1, "depends_on": ["press-release"],
         "date_rule": {"kind": "anchor", "offset_working_days": -1}},
    ],
}

Services = dict[str, RunningService]


@pytest.fixture
async def services(postgres_env: Environment) -> AsyncIterator[Services]:
    started: Services = {}
    try:
        for name in ("planning", "execution", "notification", "reporting"):
            started[name] = await start_service(postgres_env, name)
        yield started
    finally:
        for service in started.values():
            await service.stop()


async def call(service: RunningService, method: str, path: str, member: str = "anna",
               expect: int = 200, **kwargs: Any) -> Any:
    response = await service.http.request(method, path, headers=auth(member), **kwargs)
    assert response.status_code == expect, f"{method} {path}: {response.text}"
    return response.json()


async def accepted(service: RunningService, method: str, path: str, member: str,
                   waiting: set[int], **kwargs: Any) -> Any:
    """A command that is refused (``waiting``: 403, 404) until the service's copy of the
    directory has caught up with planning; a refusal writes nothing, so it is simply
    sent again until it succeeds. Any other refusal fails at once."""
    async def attempt() -> Any:
        response = await service.http.request(method, path, headers=auth(member), **kwargs)
        if response.status_code in waiting:
            return None
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response.json()

    return await eventually(attempt, what=f"{member}: {method} {path} accepted")


async def until(probe: Callable[[], Awaitable[Any]], check: Callable[[Any], bool],
                what: str) -> Any:
    async def checked() -> Any:
        value = await probe()
        return value if value is not None and check(value) else None

    return await eventually(checked, what=what)


def get(service: RunningService, path: str, member: str = "anna",
        **params: Any) -> Callable[[], Awaitable[Any]]:
    """A probe: the JSON body of a GET, or None until it answers 200."""
    async def probe() -> Any:
        response = await service.http.get(path, params=params, headers=auth(member))
        return response.json() if response.status_code == 200 else None

    return probe


async def register_directory(planning: RunningService) -> None:
    team = {"name": "Marketing Denmark", "country": "DK", "queues": [QUEUE]}
    await call(planning, "PUT", f"/teams/{TEAM}", json=team)
    for member_id, roles in MEMBERS.items():
        await call(planning, "PUT", f"/members/{member_id}", json={
            "name": member_id.title(), "roles": roles, "team_ids": [TEAM],
            "manager_id": None if member_id == "anna" else "anna"})
    await call(planning, "PUT", f"/teams/{TEAM}", json={**team, "manager_id": "anna"})


async def test_danish_team_launches_a_product_across_easter(services: Services) -> None:
    planning, execution = services["planning"], services["execution"]
    notification, reporting = services["notification"], services["reporting"]

    # 1-3. The directory, the playbook and a campaign whose schedule crosses Easter.
    await register_directory(planning)
    playbook = await call(planning, "POST", "/playbooks", expect=201, json=PLAYBOOK)
    plan = {"playbook_id": playbook["id"], "name": "Spring launch DK", "launch_date": LAUNCH,
            "team_id": TEAM, "assignments": {"writer": "ben", "product-marketer": "carla"},
            "queues": {"web": QUEUE}}
    await assert_refused(planning, "POST", "/campaigns", 422,
                         "assignments.writer: unknown member 'benn'", headers=auth("anna"),
                         json={**plan, "assignments": {"writer": "benn"}})
    # Dave, the only brand approver, cannot review what he writes himself (item 2).
    await assert_refused(planning, "POST", "/campaigns", 422,
                         "tasks.press-release.approval_chain.1: step 1 (brand) needs 1 "
                         "approver(s) other than the submitter (dave)", headers=auth("anna"),
                         json={**plan, "assignments": {"writer": "dave"}})
    campaign = await call(planning, "POST", "/campaigns", expect=201, json=plan)
    tasks = {task["key"]: task for task in campaign["tasks"]}
    ids = {key: task["task_id"] for key, task in tasks.items()}
    closed = await call(planning, "GET", f"/teams/{TEAM}/closed-days",
                        params={"from": "2027-03-01", "to": "2027-04-30"})
    holidays = {day["date"] for day in closed if day["reason"] != "weekend"}
    assert holidays == EASTER, closed
    dates = {task[field] for task in tasks.values() for field in ("start_date", "due_date")}
    assert not dates & {day["date"] for day in closed}, "work scheduled on a closed day"
    assert min(dates) < min(EASTER) and max(EASTER) < LAUNCH  # the plan spans Easter
    # One working day before Tuesday 30 March is Wednesday 24 March in Denmark.
    assert tasks["teaser-post"]["due_date"] == "2027-03-24"
    assert tasks["press-release"]["role_members"] == {
        "brand": ["dave"], "legal": ["lee", "mette", "soren"], "writer": ["ben"]}
    assert (tasks["landing-page"]["assignee_id"], tasks["landing-page"]["queue"]) == (
        None, QUEUE)

    board = await until(get(execution, f"/campaigns/{campaign['id']}/board"),
                        lambda b: sum(b["counts"].values()) == 4, "execution opens 4 tasks")
    assert board["counts"]["ready"] == 2 and board["counts"]["planned"] == 2

    # 4. Erin becomes a brand approver while the campaign runs.
    await call(planning, "PUT", "/members/erin", json={
        "name": "Erin", "roles": ["brand"], "team_ids": [TEAM], "manager_id": "anna"})

    # Carla may hold at most 3 tasks; she claims the web task from her team's queue
    # although she does not hold role 'web' (item 1).
    await accepted(execution, "PUT", "/members/carla/wip-limit", "anna", {404},
                   json={"limit": 3})
    queued = await until(get(execution, f"/queues/{QUEUE}", "carla"), lambda rows: rows,
                         "the landing page in the team's queue")
    assert [row["key"] for row in queued] == ["landing-page"]
    claimed = await accepted(execution, "POST", f"/tasks/{ids['landing-page']}/claim",
                             "carla", {403})
    assert claimed["assignee_id"] == "carla"

    # 7. Wrong input is refused, names the problem and changes nothing.
    await assert_refused(execution, "POST", f"/tasks/{ids['teaser-post']}/reassign", 422,
                         "assignee_id: member 'ghost' is not in the team directory",
                         headers=auth("anna"), json={"assignee_id": "ghost",
                                                     "reason": "typo"})
    await assert_refused(execution, "GET", "/tasks", 422, "status", headers=auth("anna"),
                         params={"status": "bogus"})

    # 5. Ben is off sick from today; carla is his backup and takes his open work.
    today = dt.datetime.now(dt.UTC).date()
    absence = await call(planning, "POST", "/members/ben/absences", expect=201, json={
        "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=14)).isoformat(),
        "backup_member_id": "carla", "reason": "sick leave"})
    summary = await until(get(execution, f"/absences/{absence['absence_id']}"),
                          lambda a: a["status"] == "started", "the absence's hand-over")
    assert sorted((m["task_id"], m["from_member"], m["to_member"]) for m in summary["moved"]) == (
        sorted((ids[key], "ben", "carla") for key in ("press-release", "teaser-post")))
    assert summary["receivers"] == [{  # item 8: positioning, landing page and ben's two
        "member_id": "carla", "queue": None, "tasks_received": 2, "work_in_progress": 4,
        "wip_limit": 3, "over_capacity": True}]
    assert summary["warnings"] == [
        "carla now has 4 tasks in progress, over their work-in-progress limit of 3"]
    assert await call(execution, "GET", "/tasks", "ben", params={"assignee": "me"}) == []

    # The calendar and carla's feed show who does the work now (item 4).
    window = {"from": "2027-03-01", "to": "2027-04-30"}
    mine = await until(get(planning, "/calendar", member_id="carla", **window),
                       lambda rows: len(rows) == 4, "carla's four tasks on the calendar")
    assert {row["key"]: row["assignee_id"] for row in mine} == dict.fromkeys(tasks, "carla")
    assert await call(planning, "GET", "/calendar", params={**window, "member_id": "ben"}) == []
    address = await call(planning, "POST", "/members/carla/calendar-feeds", "carla", 201,
                         json={"kind": "member", "id": "carla"})
    feed = await planning.http.get(address["url"].split("http://planning")[1])
    assert feed.status_code == 200, feed.text
    assert {f"task-{task_id}@marketflow" for task_id in ids.values()} == set(
        parse_feed(feed.content))
    assert "Assignee: carla" in feed.text.replace("\r\n ", "")

    # 6. Carla does the work; the press release goes through brand, then legal.
    for key in ("positioning", "landing-page"):
        await call(execution, "POST", f"/tasks/{ids[key]}/start", "carla")
        await call(execution, "POST", f"/tasks/{ids[key]}/complete", "carla")
    release = f"/tasks/{ids['press-release']}"
    assert (await call(execution, "GET", release))["status"] == "ready"
    await call(execution, "POST", f"{release}/start", "carla")
    submitted = await call(execution, "POST", f"{release}/submit", "carla",
                           json={"reference": "https://docs.example/press-release-v1"})
    assert "dave" in submitted["pending_approvers"]
    # Erin's role, given after planning, is resolved when her approval is needed.
    step_one = await accepted(execution, "POST", f"{release}/approve", "erin", {403},
                              json={"comment": "on brand"})
    assert step_one["role_members"]["brand"] == ["dave", "erin"]
    assert (step_one["current_step"], step_one["pending_approvers"]) == (
        2, ["lee", "mette", "soren"])
    seen = step_one["version"]
    both = await asyncio.gather(*(
        execution.http.post(f"{release}/approve", headers=auth(member),
                            json={"expected_version": seen, "comment": f"{member}: ok"})
        for member in ("lee", "soren")))
    assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
    await assert_refused(execution, "POST", f"{release}/approve", 409, "cannot approve",
                         headers=auth("mette"), json={"expected_version": seen})
    done = await call(execution, "GET", release)
    assert done["status"] == "done" and done["completed_by"] in {"lee", "soren"}
    assert sorted(done["step_approvals"][1]) == ["lee", "soren"]
    assert [event["type"] for event in done["history"]][-2:] == ["Approved", "Completed"]
    assert "completes the task" in done["history"][-1]["reason"]
    teaser = await call(execution, "GET", f"/tasks/{ids['teaser-post']}")
    assert (teaser["status"], teaser["assignee_id"], teaser["waiting_for"]) == (
        "ready", "carla", [])

    # Planning follows the work; moving the launch moves what is not done yet.
    statuses = await until(get(planning, f"/campaigns/{campaign['id']}"),
                           lambda c: [t["status"] for t in c["tasks"]].count("done") == 3,
                           "planning to see three tasks done")
    assert {t["key"]: t["status"] for t in statuses["tasks"]}["teaser-post"] == "open"
    moved = await call(planning, "POST", f"/campaigns/{campaign['id']}/reschedule",
                       json={"launch_date": MOVED_LAUNCH})
    moved_dates = {t["key"]: t["due_date"] for t in moved["tasks"]}
    assert moved_dates["teaser-post"] == "2027-04-12"
    assert moved_dates["press-release"] == tasks["press-release"]["due_date"]  # done: kept
    await until(get(execution, f"/tasks/{ids['teaser-post']}"),
                lambda t: t["due_date"] == "2027-04-12" and t["assignee_id"] == "carla",
                "execution to follow the new launch date")

    # 8. Reporting shows the done work and the current dates; people were told.
    report = await until(get(reporting, f"/campaigns/{campaign['id']}/progress"),
                         lambda r: r["launch_date"] == MOVED_LAUNCH and r["tasks_done"] == 3,
                         "reporting to follow the work and the new launch date")
    assert (report["tasks_total"], report["tasks_open"], report["percent_done"]) == (4, 1, 75.0)
    history = await until(get(reporting, f"/tasks/{ids['press-release']}/history"),
                          lambda h: h["events"][-1]["type"].endswith("task.completed.v1"),
                          "the archived completion of the press release")
    assert history["events"][-1]["actor"] in {"lee", "soren"}
    await reports_follow_the_work(reporting, campaign["id"], ids)

    async def told(member: str, kind: str, count: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await until(
            get(notification, "/notifications", member),
            lambda rows: sum(n["kind"] == kind for n in rows) >= count,
            f"{count} {kind} notification(s) for {member}")
        return rows

    assert any("Draft the press release" in n["text"]
               for n in await told("ben", "task.assigned", 2))
    # Carla is not told of her own claim; she is told of ben's two she took over.
    carla_told = await told("carla", "task.taken_over", 2)
    assert {n["text"].split("'")[1] for n in carla_told if n["kind"] == "task.taken_over"
            } == {"Draft the press release", "Publish the teaser post"}
    assert not any("Build the landing page" in n["text"] for n in carla_told
                   if n["kind"] == "task.assigned")
    assert all(n["link"] and n["link"] in n["text"] for n in carla_told)
    await told("dave", "approval.requested", 1)


async def reports_follow_the_work(reporting: RunningService, campaign_id: str,
                                  ids: dict[str, str]) -> None:
    """Issue 12's reports and audit over the real broker: the same campaign, seen by its
    manager, its worker and an auditor's questions, now and as it was."""
    about = {"campaign_id": campaign_id}
    (progress,) = await call(reporting, "GET", "/reports/progress", params=about)
    assert (progress["launch_date"], progress["tasks_done"], progress["tasks_total"]) == (
        MOVED_LAUNCH, 3, 4)
    assert sum(phase["tasks_total"] for phase in progress["phases"]) == 4
    approvals = await call(reporting, "GET", "/reports/approvals", params=about)
    assert approvals["first_time_approval"] == {
        "tasks_approved": 1, "approved_first_time": 1, "share_percent": 100.0}
    assert {row["approver"] for row in approvals["turnaround_by_approver"]} == {
        "erin", "lee", "soren"}
    assert {(h["from_member"], h["to_member"]) for h in approvals["delegations"]["handovers"]
            } == {("ben", "carla")}  # the absence's hand-overs
    flow = await call(reporting, "GET", "/reports/flow", params=about)
    assert flow["lead_time_hours"]["count"] == 3  # the three done tasks
    # Carla reads her own workload, not ben's; the teaser post is her one open task.
    workload = await call(reporting, "GET", "/reports/workload", "carla",
                          params={"member_id": "carla"})
    assert [(m["member_id"], m["open_tasks"]) for m in workload["members"]] == [("carla", 1)]
    await call(reporting, "GET", "/reports/workload", "carla", expect=403,
               params={"member_id": "ben"})
    # The campaign as it stood before the press release was submitted.
    events = (await call(reporting, "GET", f"/tasks/{ids['press-release']}/history"))["events"]
    submitted_at = next(e["time"] for e in events if e["type"].endswith("task.submitted.v1"))
    before = dt.datetime.fromisoformat(submitted_at) - dt.timedelta(microseconds=1)
    state = await call(reporting, "GET", f"/campaigns/{campaign_id}/state",
                       params={"as_of": before.isoformat()})
    then = {task["task_id"]: task for task in state["tasks"]}
    assert (then[ids["press-release"]]["state"], then[ids["press-release"]]["assignee_id"]
            ) == ("in_progress", "carla")
    # Who did what: carla's own work and what was handed to her because ben was away.
    activity = await call(reporting, "GET", "/audit/members/carla/activity",
                          params={"limit": 500})
    roles = {(entry["type"].rsplit(".", 2)[-2], entry["role"]) for entry in activity}
    assert {("started", "actor"), ("submitted", "actor"), ("assigned", "on_behalf")} <= roles
    # Wrong input changes nothing and says why.
    await call(reporting, "GET", "/reports/progress", expect=422,
               params={**about, "as_of": "2026-01-01T00:00:00"})
    await call(reporting, "GET", "/reports/on-time", expect=422,
               params={**about, "from": "2026-02-01", "to": "2026-01-01"})
