"""Execution's HTTP edge, in-process without a broker: what only the HTTP layer decides
(query and path validation, 404 for unknown resources, text the stores cannot hold)."""

from __future__ import annotations

import datetime as dt
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
from tests.unit.execution_support import Planning, planned, step

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


# --- HTTP conventions: ETag, If-Match, Location, pagination --------------------------------


async def all_pages(client: httpx.AsyncClient, path: str, member: str,
                    limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``X-Next-Cursor`` (and checking ``Link``)."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        # Merged, not replaced: the list's own query stays.
        url = httpx.URL(path).copy_merge_params(params)
        response = await client.get(url, headers=auth(member))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            return pages
        assert 'rel="next"' in response.headers["Link"]
        assert len(pages) < 20, "the cursor does not advance"


async def test_a_task_read_carries_its_version_as_etag_and_if_match_guards_commands(
        service: Service) -> None:
    client, app = service
    planning = Planning(app)
    planning.member("anna", "planner")
    planning.member("ben", "writer")
    brief = planned("brief")
    planning.campaign(brief)
    path = f"/tasks/{brief.task_id}"

    read = await client.get(path, headers=auth("ben"))
    assert read.headers["ETag"] == f'"{read.json()["version"]}"'
    seen = read.headers["ETag"]
    started = await client.post(f"{path}/start", headers={**auth("ben"), "If-Match": seen})
    assert started.status_code == 200, started.text
    assert started.headers["ETag"] == f'"{started.json()["version"]}"' != seen

    # The version the member saw is stale now: 412 by If-Match, 409 by the body's field.
    await refused(client, app, "POST", f"{path}/block", 412, "changed since version",
                  json={"reason": "waiting"}, headers={**auth("ben"), "If-Match": seen})
    await refused(client, app, "POST", f"{path}/block", 409, "changed since version",
                  json={"reason": "waiting", "expected_version": int(seen.strip('"'))},
                  headers=auth("ben"))
    await refused(client, app, "POST", f"{path}/block", 422, "disagrees with If-Match",
                  json={"reason": "waiting", "expected_version": 1},
                  headers={**auth("ben"), "If-Match": started.headers["ETag"]})
    await refused(client, app, "POST", f"{path}/block", 422, "not an entity tag",
                  json={"reason": "waiting"}, headers={**auth("ben"), "If-Match": "3"})
    blocked = await client.post(f"{path}/block", json={"reason": "waiting"},
                                headers={**auth("ben"), "If-Match": started.headers["ETag"]})
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["blocked_reason"] == "waiting"
    any_version = await client.post(f"{path}/unblock", headers={**auth("ben"), "If-Match": "*"})
    assert any_version.status_code == 200, any_version.text


async def test_a_comment_is_created_where_location_says(service: Service) -> None:
    client, app = service
    planning = Planning(app)
    planning.member("ben", "writer")
    brief = planned("brief")
    planning.campaign(brief)
    path = f"/tasks/{brief.task_id}"

    created = await client.post(f"{path}/comments", json={"text": "first draft soon"},
                                headers=auth("ben"))
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location == f"{path}/comments/{created.json()['version']}"
    comment = await client.get(location, headers=auth("ben"))
    assert comment.status_code == 200, comment.text
    assert comment.json()["text"] == "first draft soon"
    assert comment.json()["author"] == "ben"
    assert (await client.get(f"{path}/comments/999", headers=auth("ben"))).status_code == 404
    await refused(client, app, "POST", f"{path}/comments", 412, "changed since version",
                  json={"text": "again"}, headers={**auth("ben"), "If-Match": '"1"'})


async def test_an_absence_read_carries_its_version_as_etag(service: Service) -> None:
    client, app = service
    planning = Planning(app)
    planning.member("ben", "writer")
    absence_id = planning.absence("ben", None)
    read = await client.get(f"/absences/{absence_id}", headers=auth("ben"))
    assert read.status_code == 200, read.text
    assert read.headers["ETag"] == '"1"' and read.json()["version"] == 1
    assert read.json()["status"] == "scheduled"


async def test_every_list_pages_with_a_cursor(service: Service) -> None:
    client, app = service
    planning = Planning(app)
    planning.member("anna", "planner")
    planning.member("ben", "writer")
    planning.member("carla", "brand")

    reviewed = [planned(f"post-{n}", approval_chain=[step("brand")]) for n in range(3)]
    queued = [planned(f"queued-{n}", assignee=None, queue="translators") for n in range(3)]
    campaign_id = planning.campaign(*reviewed, *queued)
    for task in reviewed:
        for verb, body in (("start", None), ("submit", {"reference": "doc://1"})):
            done = await client.post(f"/tasks/{task.task_id}/{verb}", json=body,
                                     headers=auth("ben"))
            assert done.status_code == 200, done.text
    for n in range(3):
        comment = await client.post(f"/tasks/{reviewed[0].task_id}/comments",
                                    json={"text": f"note {n}"}, headers=auth("ben"))
        assert comment.status_code == 201, comment.text
    for n in range(3):
        planning.absence("ben", None, starts_on=dt.date(2027, 4, 1 + 10 * n))

    lists = {
        "/tasks?assignee=ben": 3, f"/tasks?campaign_id={campaign_id}": 6,
        "/approvals?approver=carla": 3, "/queues/translators": 3, "/absences?member_id=ben": 3,
        f"/tasks/{reviewed[0].task_id}/comments": 3,
    }
    for path, expected in lists.items():
        pages = await all_pages(client, path, "anna", limit=2)  # a planner sees all
        rows = [row for page in pages for row in page]
        assert [len(page) for page in pages] == [2] * (expected // 2) + (
            [expected % 2] if expected % 2 else []), path
        assert len({str(row["id"]) for row in rows}) == expected, path
    await refused(client, app, "GET", "/tasks/" + str(reviewed[0].task_id)
                  + "/comments?cursor=bogus", 422, "cursor", headers=auth("ben"))
