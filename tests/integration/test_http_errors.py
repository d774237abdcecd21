"""Bad input gets a clear 4xx and changes nothing (the store's log does not move)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.harness import (
    LAUNCH_PLAYBOOK,
    Environment,
    RunningService,
    auth,
    register_members,
    start_service,
)

pytestmark = pytest.mark.integration
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
async def planning(postgres_env: Environment) -> AsyncIterator[RunningService]:
    service = await start_service(postgres_env, "planning")
    yield service
    await service.stop()


async def assert_refused(service: RunningService, method: str, path: str, status: int,
                         mentions: str, **kwargs: Any) -> None:
    before = service.application.max_notification_id()
    response = await service.http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert mentions in response.text, response.text
    written = service.application.recorder.select_notifications(start=before + 1, limit=100)
    targets = {uuid.UUID(part) for part in path.split("/") if UUID_TEXT.fullmatch(part)}
    if targets:
        # Its inbox may write meanwhile (other services' events): nothing to the target.
        assert not [n for n in written if n.originator_id in targets], (
            "a refused request wrote")
    else:
        assert not written, "a refused request wrote"


async def test_requests_without_a_valid_token_are_refused(planning: RunningService) -> None:
    await assert_refused(planning, "POST", "/playbooks", 401, "missing Authorization",
                         json=LAUNCH_PLAYBOOK)
    await assert_refused(planning, "POST", "/playbooks", 401, "unknown token",
                         json=LAUNCH_PLAYBOOK, headers={"Authorization": "Bearer forged"})
    await assert_refused(planning, "POST", "/playbooks", 401, "Bearer <token>",
                         json=LAUNCH_PLAYBOOK, headers={"Authorization": "Basic YW5uYQ=="})
    response = await planning.http.get("/playbooks")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_malformed_requests_name_the_problem(planning: RunningService) -> None:
    headers = {**auth("anna"), "content-type": "application/json"}
    await assert_refused(planning, "POST", "/playbooks", 422, "JSON decode error",
                         content=b'{"name": "x", "tasks": [', headers=headers)
    await assert_refused(planning, "POST", "/playbooks", 422, "tasks",
                         json={"name": "No tasks"}, headers=auth("anna"))
    bad_task = {"name": "Bad", "tasks": [{"key": "Bad Key!", "title": "t", "role": "r",
                                          "offset_days": 0}]}
    await assert_refused(planning, "POST", "/playbooks", 422, "key", json=bad_task,
                         headers=auth("anna"))
    twice = {"name": "Twice", "tasks": [LAUNCH_PLAYBOOK["tasks"][0]] * 2}
    await assert_refused(planning, "POST", "/playbooks", 422, "duplicate task keys brief",
                         json=twice, headers=auth("anna"))
    await assert_refused(planning, "POST", "/playbooks", 422, "name: must not be blank",
                         json={**LAUNCH_PLAYBOOK, "name": "   "}, headers=auth("anna"))


async def test_campaign_refusals(planning: RunningService) -> None:
    await register_members(planning, "ben")
    response = await planning.http.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=auth("anna"))
    playbook_id = response.json()["id"]
    good = {"playbook_id": playbook_id, "name": "Launch", "launch_date": "2027-03-01",
            "assignments": {"writer": "ben"}}
    await assert_refused(planning, "POST", "/campaigns", 404, "not found",
                         json={**good, "playbook_id": "00000000-0000-4000-8000-000000000000"},
                         headers=auth("anna"))
    await assert_refused(planning, "POST", "/campaigns", 422, "roles photographer",
                         json={**good, "assignments": {"photographer": "ben"}},
                         headers=auth("anna"))
    await assert_refused(planning, "POST", "/campaigns", 422, "launch_date",
                         json={**good, "launch_date": "2027-02-30"}, headers=auth("anna"))
    await assert_refused(planning, "GET", "/campaigns/not-a-uuid", 422, "campaign_id",
                         headers=auth("anna"))


async def test_illegal_transitions_are_conflicts(sqlite_env: Environment) -> None:
    planning = await start_service(sqlite_env, "planning")
    execution = await start_service(sqlite_env, "execution")
    try:
        from tests.harness import eventually, plan_launch

        campaign = await plan_launch(planning)
        task_id = next(t["task_id"] for t in campaign["tasks"] if t["key"] == "brief")

        async def opened() -> bool:
            response = await execution.http.get(f"/tasks/{task_id}", headers=auth("ben"))
            return response.status_code == 200

        await eventually(opened, what="the task to open")
        await assert_refused(execution, "POST", f"/tasks/{task_id}/complete", 409,
                             "transition ready -> done is not allowed", headers=auth("ben"))
        await assert_refused(execution, "POST", f"/tasks/{task_id}/start", 403,
                             "carla may not task.start", headers=auth("carla"))
        # Not even an admin works in someone's name: they reassign instead.
        await assert_refused(execution, "POST", f"/tasks/{task_id}/start", 403,
                             "anna may not task.start", headers=auth("anna"))
        response = await execution.http.post(f"/tasks/{task_id}/start", headers=auth("ben"))
        assert response.status_code == 200
        await assert_refused(execution, "POST", f"/tasks/{task_id}/complete", 403,
                             "carla may not task.complete", headers=auth("carla"))
        response = await execution.http.post(f"/tasks/{task_id}/complete", headers=auth("ben"))
        assert response.status_code == 200
        await assert_refused(execution, "POST", f"/tasks/{task_id}/complete", 409,
                             "transition done -> done is not allowed", headers=auth("ben"))
        await assert_refused(execution, "POST",
                             "/tasks/00000000-0000-4000-8000-000000000000/complete", 404,
                             "not found", headers=auth("ben"))
    finally:
        await planning.stop()
        await execution.stop()
