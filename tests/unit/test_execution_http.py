"""Execution's HTTP edge, in-process without a broker: what only the HTTP layer decides
(query and path validation, 404 for unknown resources, text the stores cannot hold)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.execution.application import ExecutionApplication
from services.execution.wiring import build
from shared.config import Settings
from shared.runtime import create_http_app
from tests.harness import TOKENS, auth
from tests.unit.execution_support import Planning, planned

Service = tuple[httpx.AsyncClient, ExecutionApplication]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """The service's HTTP app; its runtime (Kafka, relay, inbox) is never started."""
    settings = replace(Settings(service="execution"), sqlite_dir=tmp_path)
    http = create_http_app(settings, build, tokens=TOKENS)
    app = http.state.runtime.parts.application
    assert isinstance(app, ExecutionApplication)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=http),
                                 base_url="http://execution") as client:
        yield client, app
    app.close()


async def refused(client: httpx.AsyncClient, app: ExecutionApplication, method: str,
                  path: str, status: int, mentions: str, **kwargs: Any) -> None:
    before = app.max_notification_id()
    response = await client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert mentions in response.text, response.text
    assert app.max_notification_id() == before, "a refused request wrote"


async def test_queries_refuse_what_they_cannot_answer(service: Service) -> None:
    client, app = service
    await refused(client, app, "GET", "/tasks?status=bogus", 422, "status",
            headers=auth("anna"))
    assert (await client.get("/tasks?status=ready", headers=auth("anna"))).status_code == 200
    await refused(client, app, "GET", f"/campaigns/{uuid.uuid4()}/board", 404, "not found",
            headers=auth("anna"))
    await refused(client, app, "GET", "/tasks?assignee=" + "x" * 201, 422, "at most 200",
            headers=auth("anna"))
    await refused(client, app, "PUT", "/members/" + "x" * 201 + "/wip-limit", 422, "at most 200",
            json={"limit": 2}, headers=auth("anna"))


async def test_text_the_stores_cannot_hold_is_refused_naming_the_field(
        service: Service) -> None:
    client, app = service
    planning = Planning(app)
    planning.member("anna", "planner")
    planning.member("ben", "writer")
    brief = planned("brief")
    planning.campaign(brief)
    path = f"/tasks/{brief.task_id}"
    await refused(client, app, "POST", f"{path}/block", 422, "U+0000 at position 1",
            json={"reason": "a\u0000b"}, headers=auth("ben"))
    await refused(client, app, "POST", f"{path}/comments", 422, "control characters",
            json={"text": "bell\u0007"}, headers=auth("ben"))
    await refused(client, app, "GET", "/queues/a%00b", 422, "U+0000", headers=auth("ben"))
    await refused(client, app, "POST", f"{path}/reassign", 422, "member 'ghost'",
            json={"assignee_id": "ghost", "reason": "ben is ill"}, headers=auth("anna"))
    ok = await client.post(f"{path}/comments", json={"text": "line one\nline two\tok"},
                     headers=auth("ben"))
    assert ok.status_code == 201, ok.text
