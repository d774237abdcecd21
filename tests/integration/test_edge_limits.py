"""Input is bounded at the edge: oversized bodies, playbooks and texts get a 4xx naming
the limit, and the store's notification log does not move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import yaml

from services.planning.domain.playbook import MAX_TASKS
from tests.harness import (
    Environment,
    RunningService,
    auth,
    eventually,
    plan_launch,
    start_service,
)

pytestmark = pytest.mark.integration

LIMIT = 1_048_576  # Settings.max_request_bytes' default
HUGE = [{"key": f"t{n}", "title": f"T{n}", "role": "writer"} for n in range(5000)]


async def assert_refused(service: RunningService, method: str, path: str, status: int,
                         mentions: str, **kwargs: Any) -> None:
    before = service.application.max_notification_id()
    response = await service.http.request(method, path, **kwargs)
    assert response.status_code == status, response.text[:500]
    assert mentions in response.text, response.text[:500]
    assert service.application.max_notification_id() == before, "a refused request wrote"


@pytest.fixture
async def planning(sqlite_env: Environment) -> AsyncIterator[RunningService]:
    service = await start_service(sqlite_env, "planning")
    yield service
    await service.stop()


async def test_a_five_thousand_task_playbook_is_refused(planning: RunningService) -> None:
    await assert_refused(planning, "POST", "/playbooks", 422,
                         f"tasks: at most {MAX_TASKS} tasks, not 5000",
                         json={"name": "Everything", "tasks": HUGE}, headers=auth("anna"))
    await assert_refused(planning, "POST", "/playbooks/import", 422,
                         f"at most {MAX_TASKS} tasks, not 5000",
                         content=yaml.safe_dump({"name": "Everything", "tasks": HUGE}),
                         headers={**auth("anna"), "content-type": "application/yaml"})
    # A revision is held to the same limits.
    response = await planning.http.post("/playbooks", headers=auth("anna"), json={
        "name": "Small", "tasks": HUGE[:3]})
    assert response.status_code == 201, response.text
    await assert_refused(planning, "POST", f"/playbooks/{response.json()['id']}/revisions",
                         422, f"at most {MAX_TASKS} tasks",
                         json={"name": "Everything", "tasks": HUGE}, headers=auth("anna"))


async def test_a_body_over_the_limit_is_refused_with_413(planning: RunningService) -> None:
    wordy = {"name": "Wordy", "tasks": [{**task, "description": "x" * 4000}
                                        for task in HUGE[:400]]}
    body = orjson.dumps(wordy)
    assert len(body) > LIMIT
    headers = {**auth("anna"), "content-type": "application/json"}
    await assert_refused(planning, "POST", "/playbooks", 413, f"{LIMIT:,} bytes",
                         content=body, headers=headers)

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length to go by
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    await assert_refused(planning, "POST", "/playbooks", 413, "MARKETFLOW_MAX_REQUEST_BYTES",
                         content=chunked(), headers=headers)
    await assert_refused(planning, "POST", "/playbooks/import", 413, f"{LIMIT:,} bytes",
                         content=yaml.safe_dump(wordy).encode(),
                         headers={**auth("anna"), "content-type": "application/yaml"})


async def test_a_playbook_whose_event_would_be_too_large_is_refused(
    planning: RunningService,
) -> None:
    """Within every count and length limit, under the body limit, yet its event would
    exceed the event size limit: refused before anything is committed."""
    limit = planning.settings.max_event_bytes
    wordy = {"name": "Wordy", "tasks": [{**task, "description": "y" * 1200}
                                        for task in HUGE[:MAX_TASKS]]}
    assert len(orjson.dumps(wordy)) < LIMIT
    await assert_refused(planning, "POST", "/playbooks", 413,
                         f"the limit is {limit:,} bytes per event", json=wordy,
                         headers=auth("anna"))


async def test_oversized_comments_and_notes_are_refused(sqlite_env: Environment) -> None:
    planning = await start_service(sqlite_env, "planning")
    execution = await start_service(sqlite_env, "execution")
    try:
        campaign = await plan_launch(planning)
        task_id = next(t["task_id"] for t in campaign["tasks"] if t["key"] == "brief")

        async def opened() -> bool:
            response = await execution.http.get(f"/tasks/{task_id}", headers=auth("ben"))
            return response.status_code == 200

        await eventually(opened, what="the task to open")
        response = await execution.http.post(f"/tasks/{task_id}/start", headers=auth("ben"))
        assert response.status_code == 200, response.text
        path = f"/tasks/{task_id}"
        await assert_refused(execution, "POST", f"{path}/comments", 422,
                             "at most 5000 characters", json={"text": "z" * 5001},
                             headers=auth("ben"))
        await assert_refused(execution, "POST", f"{path}/submit", 422,
                             "at most 5000 characters",
                             json={"reference": "doc://brief", "note": "z" * 5001},
                             headers=auth("ben"))
        await assert_refused(execution, "POST", f"{path}/comments", 413, f"{LIMIT:,} bytes",
                             json={"text": "z" * (2 * LIMIT)}, headers=auth("ben"))
    finally:
        await planning.stop()
        await execution.stop()
