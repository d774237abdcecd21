"""The year calendar: recurring routines, the calendar query and ICS feeds that a
standard iCalendar library reads back as the plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from icalendar import Calendar

from services.planning.playbook_files import PLAYBOOK_DIR
from tests.harness import Environment, auth, register_members, start_service
from tests.integration.test_http_errors import assert_refused

pytestmark = pytest.mark.integration
ANNA = auth("anna")


def parse_feed(body: bytes) -> dict[str, tuple[dt.date, dt.date, str]]:
    calendar = Calendar.from_ical(body)
    return {str(event["UID"]): (event.decoded("DTSTART"), event.decoded("DTEND"),
                                str(event["SUMMARY"]))
            for event in calendar.walk("VEVENT")}


async def test_routines_plan_campaigns_and_feeds_match_the_plan(
    sqlite_env: Environment,
) -> None:
    planning = await start_service(sqlite_env, "planning")
    try:
        response = await planning.http.put("/teams/content-dk", headers=ANNA, json={
            "name": "Content Denmark", "country": "DK"})
        assert response.status_code == 200, response.text
        text = (PLAYBOOK_DIR / "monthly-newsletter.yaml").read_text()
        response = await planning.http.post("/playbooks/import", content=text, headers={
            **ANNA, "content-type": "application/yaml"})
        playbook_id = response.json()["id"]
        await register_members(planning, "ben", "anna", "dave")
        today = dt.date.today()
        routine = {"name": "Newsletter", "playbook_id": playbook_id,
                   "rule": "FREQ=MONTHLY;BYMONTHDAY=15", "starts_on": today.isoformat(),
                   "horizon_days": 95, "team_id": "content-dk",
                   "assignments": {"writer": "ben", "editor": "anna",
                                   "marketing-manager": "dave"}}
        await assert_refused(planning, "POST", "/routines", 422, "rule: not a valid RFC 5545",
                             json={**routine, "rule": "FREQ=SOMETIMES"}, headers=ANNA)
        await assert_refused(planning, "POST", "/routines", 422, "at most daily",
                             json={**routine, "rule": "FREQ=HOURLY"}, headers=ANNA)
        await assert_refused(planning, "POST", "/routines", 422, "unknown team 'nope'",
                             json={**routine, "team_id": "nope"}, headers=ANNA)
        response = await planning.http.post("/routines", json=routine, headers=ANNA)
        assert response.status_code == 201, response.text
        routine_id = response.json()["id"]
        planned = response.json()["planned"]
        horizon = [today + dt.timedelta(days=n) for n in range(96)]
        assert len(planned) == sum(day.day == 15 for day in horizon)
        assert all(dt.date.fromisoformat(p["occurrence"]).day == 15 for p in planned)

        before = planning.application.max_notification_id()
        response = await planning.http.post("/routines/run", headers=ANNA)
        assert response.json() == {"planned": []}, "an occurrence is planned only once"
        assert planning.application.max_notification_id() == before

        campaigns = [(await planning.http.get(f"/campaigns/{p['campaign_id']}",
                                              headers=ANNA)).json() for p in planned]
        assert all(c["routine_id"] == routine_id for c in campaigns)
        assert all(c["team_id"] == "content-dk" for c in campaigns)
        ben_tasks = {f"task-{t['task_id']}@marketflow": t for c in campaigns
                     for t in c["tasks"] if t["assignee_id"] == "ben"}

        first, last = today - dt.timedelta(days=60), today + dt.timedelta(days=200)
        response = await planning.http.get("/calendar", headers=ANNA, params={
            "from": first.isoformat(), "to": last.isoformat(), "member_id": "ben"})
        assert {f"{row['uid']}@marketflow" for row in response.json()} == set(ben_tasks)
        response = await planning.http.get("/calendar", headers=ANNA, params={
            "from": first.isoformat(), "to": last.isoformat(), "team_id": "content-dk"})
        assert sum(row["kind"] == "launch" for row in response.json()) == len(planned)
        await assert_refused(planning, "GET", "/calendar", 422, "to: must be on or after",
                             headers=ANNA, params={"from": "2027-02-01", "to": "2027-01-01"})

        # A calendar client subscribes with a secret address for this feed alone.
        address = await planning.http.post("/members/ben/calendar-feeds",
                                           json={"kind": "member", "id": "ben"},
                                           headers=auth("ben"))
        assert address.status_code == 201, address.text
        response = await planning.http.get(address.json()["url"].split("http://planning")[1])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/calendar")
        feed = parse_feed(response.content)
        assert set(feed) == set(ben_tasks)
        for uid, (start, end, summary) in feed.items():
            task: dict[str, Any] = ben_tasks[uid]
            assert start == dt.date.fromisoformat(task["start_date"])
            assert end == dt.date.fromisoformat(task["due_date"]) + dt.timedelta(days=1)
            assert summary.startswith(task["title"])

        team_feed = parse_feed((await planning.http.get(
            "/calendar/teams/content-dk.ics", headers=ANNA)).content)
        all_tasks = sum(len(c["tasks"]) for c in campaigns)
        assert len(team_feed) == all_tasks + len(planned)  # every task and each launch
        launches = {start for uid, (start, _, _) in team_feed.items() if "launch-" in uid}
        assert launches == {dt.date.fromisoformat(c["launch_date"]) for c in campaigns}
        await assert_refused(planning, "GET", "/calendar/members/ben.ics", 401,
                             "unknown, rotated or revoked calendar feed address",
                             params={"key": "forged"})
    finally:
        await planning.stop()



async def test_planning_views_rebuild_identically_after_a_restart(
    postgres_env: Environment,
) -> None:
    planning = await start_service(postgres_env, "planning")
    today = dt.date.today()
    try:
        await planning.http.put("/teams/web-us", headers=ANNA, json={
            "name": "Web US", "country": "US", "subdivision": "CA", "queues": ["web"]})
        await planning.http.put("/members/ben", headers=ANNA, json={
            "name": "Ben", "roles": ["writer"], "team_ids": ["web-us"]})
        await register_members(planning, "dave")
        for editor in ("erin", "anna"):  # the editor edits; another editor approves
            await planning.http.put(f"/members/{editor}", headers=ANNA, json={
                "name": editor.title(), "roles": ["editor"], "team_ids": ["web-us"]})
        await planning.http.post("/members/ben/absences", headers=ANNA, json={
            "starts_on": today.isoformat(), "ends_on": today.isoformat()})
        goal = (await planning.http.post("/goals", headers=ANNA, json={
            "name": "Image", "kind": "image", "weight": 10, "kpi": {
                "name": "NPS", "target": 50, "period_start": today.isoformat(),
                "period_end": (today + dt.timedelta(days=365)).isoformat()}})).json()
        text = (PLAYBOOK_DIR / "blog-article.yaml").read_text()
        playbook = (await planning.http.post("/playbooks/import", content=text, headers={
            **ANNA, "content-type": "application/yaml"})).json()
        response = await planning.http.post("/routines", headers=ANNA, json={
            "name": "Weekly blog", "playbook_id": playbook["id"], "rule": "FREQ=WEEKLY",
            "starts_on": today.isoformat(), "horizon_days": 30, "team_id": "web-us",
            "assignments": {"writer": "ben", "brand": "dave"},
            "queues": {"web": "web"},
            "goal_ids": [goal["id"]]})
        assert response.status_code == 201, response.text
        first = response.json()["planned"][0]["campaign_id"]
        response = await planning.http.post(f"/campaigns/{first}/cancel", headers=ANNA,
                                            json={"reason": "holiday week"})
        assert response.status_code == 200, response.text
        before = await everything(planning, today, goal["id"])
    finally:
        await planning.stop()
    planning = await start_service(postgres_env, "planning")
    try:
        assert await everything(planning, today, goal["id"]) == before
    finally:
        await planning.stop()


async def everything(planning: Any, today: dt.date, goal_id: str) -> dict[str, Any]:
    period = {"from": today.isoformat(),
              "to": (today + dt.timedelta(days=60)).isoformat()}
    answers = {}
    for path, params in (("/playbooks", {}), ("/campaigns", {}), ("/routines", {}),
                         ("/goals", {}), ("/teams", {}), ("/members", {}),
                         ("/calendar", period), ("/calendar", {**period, "goal_id": goal_id}),
                         ("/calendar", {**period, "member_id": "ben"})):
        response = await planning.http.get(path, params=params, headers=ANNA)
        assert response.status_code == 200, response.text
        answers[f"{path}?{sorted(params.items())}"] = response.json()
    answers["ics"] = (await planning.http.get("/calendar/teams/web-us.ics",
                                              headers=ANNA)).text
    assert len(answers["/calendar?" + str(sorted({**period, "goal_id": goal_id}.items()))]) > 0
    return answers
