"""Execution's access policy at its HTTP edge, in-process: a team's manager manages the
team's work, contributors see their own and their teams' work (403 elsewhere, lists
filtered), approvers the tasks asking them, absence reasons only for the member, their
managers, planners and auditors, and auditors read everything but change nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.execution.application import ExecutionApplication
from services.execution.policy import POLICY
from services.execution.wiring import build
from shared.config import Settings
from shared.policy import ACTION_EXTENSION
from shared.runtime import create_http_app
from tests.harness import TOKENS, auth
from tests.unit.execution_support import Planning, planned, step

Client = httpx.AsyncClient


@dataclass
class World:
    client: Client
    app: ExecutionApplication
    planning: Planning
    brief: uuid.UUID  # ben's, campaign of marketing-fi
    visual: uuid.UUID  # carla's, approved by erin (brand, of no team)
    queued: uuid.UUID  # in marketing-fi's queue 'content'
    pitch: uuid.UUID  # dave's, campaign of sales
    fi_campaign: uuid.UUID
    sales_campaign: uuid.UUID

    async def status(self, member: str, method: str, path: str, **kwargs: Any) -> int:
        return (await self.client.request(method, path, headers=auth(member),
                                          **kwargs)).status_code

    async def refused(self, member: str, method: str, path: str, **kwargs: Any) -> str:
        """A 403 that wrote nothing; its message."""
        before = self.app.max_notification_id()
        response = await self.client.request(method, path, headers=auth(member), **kwargs)
        assert response.status_code == 403, (member, method, path, response.text)
        assert self.app.max_notification_id() == before, "a refused request wrote"
        return response.text

    async def keys(self, member: str, path: str) -> list[str]:
        response = await self.client.get(path, headers=auth(member))
        assert response.status_code == 200, response.text
        return sorted(row["key"] for row in response.json())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = replace(Settings(service="execution"), sqlite_dir=tmp_path)
    http = create_http_app(settings, build, tokens=TOKENS)
    app = http.state.runtime.parts.application
    assert isinstance(app, ExecutionApplication)
    planning = Planning(app)
    # mette manages marketing-fi (without being in it); sales has no manager.
    planning.team("marketing-fi", queues=("content",), manager_id="mette")
    planning.team("sales", queues=("leads",))
    planning.member("anna", "planner")
    planning.member("mette", "marketing-manager")
    planning.member("ben", "writer", teams=("marketing-fi",))
    planning.member("carla", "designer", teams=("marketing-fi",))
    planning.member("dave", "writer", teams=("sales",))
    planning.member("erin", "brand")
    planning.member("soren", "legal", "auditor")
    brief, queued = planned("brief"), planned("queued", assignee=None, queue="content")
    visual = planned("visual", assignee="carla", role="designer",
                     approval_chain=[step(role="brand")], role_members={"brand": ["erin"]})
    pitch = planned("pitch", assignee="dave")
    fi_campaign = planning.campaign(brief, visual, queued, team_id="marketing-fi")
    sales_campaign = planning.campaign(pitch, team_id="sales")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=http),
                                 base_url="http://execution") as client:
        yield World(client, app, planning, brief.task_id, visual.task_id, queued.task_id,
                    pitch.task_id, fi_campaign, sales_campaign)
    app.close()


def test_every_route_names_an_action_of_the_policy(tmp_path: Path) -> None:
    settings = replace(Settings(service="execution"), sqlite_dir=tmp_path)
    http = create_http_app(settings, build, tokens=TOKENS)
    try:
        operations = [(path, method, operation.get(ACTION_EXTENSION))
                      for path, item in http.openapi()["paths"].items()
                      for method, operation in item.items()
                      if not path.startswith(("/health", "/metrics"))]
        assert operations
        missing = [(path, method, name) for path, method, name in operations
                   if name not in POLICY.rules]
        assert not missing, missing
        named = {name for _, _, name in operations}
        # Every rule is a route's, except the reason of an absence (a field, not a route).
        assert set(POLICY.rules) - named == {"absence.read_reason"}
    finally:
        http.state.runtime.parts.application.close()


async def test_the_teams_manager_manages_the_teams_work(world: World) -> None:
    """Regression: a team's ``manager_id`` may reassign and cancel the team's work and set
    its members' WIP limits, without any other role."""
    moved = await world.client.post(
        f"/tasks/{world.brief}/reassign", headers=auth("mette"),
        json={"assignee_id": "carla", "reason": "ben is on the webinar"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] == "carla"
    assert await world.status("mette", "PUT", "/members/ben/wip-limit",
                              json={"limit": 2}) == 200
    assert await world.status("mette", "POST", f"/tasks/{world.queued}/cancel",
                              json={"reason": "dropped"}) == 200
    # Not another team's work, nor its members.
    message = await world.refused("mette", "POST", f"/tasks/{world.pitch}/reassign",
                                  json={"assignee_id": "ben", "reason": "help out"})
    assert "may not task.reassign" in message and "team-manager (team)" in message
    await world.refused("mette", "PUT", "/members/dave/wip-limit", json={"limit": 2})
    # A contributor manages nobody's work, not even their teammate's.
    await world.refused("ben", "POST", f"/tasks/{world.visual}/reassign",
                        json={"assignee_id": "ben", "reason": "mine now"})
    await world.refused("ben", "POST", f"/tasks/{world.visual}/cancel",
                        json={"reason": "no"})
    await world.refused("ben", "PUT", "/members/carla/wip-limit", json={"limit": 9})


async def test_a_contributor_sees_their_own_and_their_teams_work_only(world: World) -> None:
    for path in (f"/tasks/{world.brief}", f"/tasks/{world.brief}/comments",
                 f"/campaigns/{world.fi_campaign}/board", "/queues/content",
                 "/approvals?approver=ben"):
        await world.refused("dave", "GET", path)
    await world.refused("dave", "POST", f"/tasks/{world.brief}/comments",
                        json={"text": "not my team"})
    await world.refused("dave", "POST", f"/tasks/{world.brief}/block", json={"reason": "x"})
    await world.refused("dave", "POST", f"/tasks/{world.queued}/claim")
    assert await world.keys("dave", "/tasks") == ["pitch"]
    assert await world.keys("dave", f"/tasks?campaign_id={world.fi_campaign}") == []
    assert await world.keys("ben", "/tasks") == ["brief", "queued", "visual"]
    assert await world.keys("ben", "/queues/content") == ["queued"]
    # A queue named after a role is its holders' too (they may claim from it).
    assert await world.status("dave", "GET", "/queues/writer") == 200
    await world.refused("carla", "GET", "/queues/writer")
    assert await world.status("ben", "GET", f"/campaigns/{world.fi_campaign}/board") == 200
    assert await world.status("ben", "GET", f"/tasks/{world.visual}") == 200
    assert await world.status("ben", "POST", f"/tasks/{world.visual}/comments",
                              json={"text": "nice"}) == 201
    # Blocking is the assignee's (or their managers'), not a teammate's.
    await world.refused("ben", "POST", f"/tasks/{world.visual}/block", json={"reason": "x"})
    assert await world.status("ben", "POST", f"/tasks/{world.queued}/claim") == 200
    # The team's manager sees the team's work; a planner all of it.
    assert await world.keys("mette", "/tasks") == ["brief", "queued", "visual"]
    assert await world.status("mette", "GET", "/approvals?approver=ben") == 200
    assert await world.keys("anna", "/tasks") == ["brief", "pitch", "queued", "visual"]


async def test_an_approver_sees_the_tasks_asking_them_and_decides_them(world: World) -> None:
    assert await world.keys("erin", "/tasks") == ["visual"]
    await world.refused("erin", "GET", f"/tasks/{world.brief}")
    board = f"/campaigns/{world.fi_campaign}/board"
    await world.refused("erin", "GET", board)
    for verb, body in (("start", None), ("submit", {"reference": "doc://1"})):
        assert await world.status("carla", "POST", f"/tasks/{world.visual}/{verb}",
                                  json=body) == 200
    assert await world.keys("erin", "/approvals") == ["visual"]
    # Asked to decide, they see the deliverable's campaign (its board), while asked.
    assert await world.status("erin", "GET", board) == 200
    await world.refused("dave", "GET", "/approvals?approver=erin")
    message = await world.refused("dave", "POST", f"/tasks/{world.visual}/approve")
    assert "approver (own)" in message
    assert await world.status("erin", "POST", f"/tasks/{world.visual}/approve") == 200
    await world.refused("erin", "GET", board)


async def test_an_absence_reason_is_only_for_the_member_their_managers_and_readers(
        world: World) -> None:
    absence_id = world.planning.absence("ben", "carla", starts_on=world.app.today())
    path = f"/absences/{absence_id}"
    for member in ("ben", "mette", "anna", "soren"):
        shown = (await world.client.get(path, headers=auth(member))).json()
        assert shown["reason"] == "holiday", member
    # The hand-over's events name the absence, never its reason: the backup reading the
    # task's history (and every subscriber of the events) learns only that ben is away.
    moved = (await world.client.get(path, headers=auth("ben"))).json()["moved"]
    assert moved
    for move in moved:
        task = await world.client.get(f"/tasks/{move['task_id']}", headers=auth("carla"))
        assert task.status_code == 200, task.text
        assert "holiday" not in task.text
        assert "away" in str(move["reason"])
    for member in ("carla", "dave", "erin"):
        for shown in [(await world.client.get(path, headers=auth(member))).json(),
                      *(await world.client.get("/absences", headers=auth(member))).json()]:
            assert shown["member_id"] == "ben"
            assert shown["reason"] == "away", member
            assert shown["moved"], "what moved is not hidden"
            assert "holiday" not in str(shown), member


async def test_an_auditor_reads_everything_and_changes_nothing(world: World) -> None:
    absence_id = world.planning.absence("ben", None, starts_on=world.app.today())
    reads = [
        "/tasks", f"/tasks/{world.brief}", f"/tasks/{world.brief}/comments",
        "/approvals?approver=erin", "/queues/content", "/queues/leads",
        f"/campaigns/{world.fi_campaign}/board", f"/campaigns/{world.sales_campaign}/board",
        "/absences", f"/absences/{absence_id}",
    ]
    for path in reads:
        assert await world.status("soren", "GET", path) == 200, path
    assert await world.keys("soren", "/tasks") == ["brief", "pitch", "queued", "visual"]
    assert (await world.client.get(f"/absences/{absence_id}",
                                   headers=auth("soren"))).json()["reason"] == "holiday"
    task = f"/tasks/{world.pitch}"
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{task}/start", None), ("POST", f"{task}/submit", {"reference": "r"}),
        ("POST", f"{task}/approve", None), ("POST", f"{task}/request-changes",
                                            {"comment": "c"}),
        ("POST", f"{task}/comments", {"text": "t"}), ("POST", f"{task}/block",
                                                       {"reason": "r"}),
        ("POST", f"{task}/unblock", None), ("POST", f"{task}/complete", None),
        ("POST", f"{task}/cancel", {"reason": "r"}), ("POST", f"/tasks/{world.queued}/claim",
                                                      None),
        ("POST", f"{task}/reassign", {"assignee_id": "ben", "reason": "r"}),
        ("PUT", "/members/dave/wip-limit", {"limit": 2}),
    ]
    for method, path, body in writes:
        message = await world.refused("soren", method, path, json=body)
        assert "soren may not" in message
