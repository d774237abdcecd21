"""No text in any field of any execution command gives a server error: arbitrary Unicode
(lone surrogates, control characters, right-to-left marks, empty strings) in every text
field, path and query parameter is answered with a 2xx or a 4xx, always in JSON."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.execution.application import ExecutionApplication
from tests.unit.execution_support import Planning, planned, step
from tests.unit.in_process import auth, service_client

TEXT = st.text(st.characters(codec=None, categories=None), max_size=30) | st.sampled_from(
    ["\ud800", "\x00", " ", "\u202e", "\udfff\ud800", "a\x1fb", "", "ghost", "x" * 5000])


def commands(text: str, task: str) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(member, method, path, body): each execution command with ``text`` in each of its
    text fields in turn, and in its path or query where it takes one."""
    path = f"/tasks/{task}"
    escaped = quote(text.encode("utf-8", "surrogatepass"), safe="")
    return [
        ("ben", "POST", f"{path}/submit", {"reference": text, "note": "n"}),
        ("ben", "POST", f"{path}/submit", {"reference": "r", "note": text}),
        ("carla", "POST", f"{path}/approve", {"comment": text}),
        ("carla", "POST", f"{path}/request-changes", {"comment": text}),
        ("ben", "POST", f"{path}/comments", {"text": text}),
        ("ben", "POST", f"{path}/block", {"reason": text}),
        ("anna", "POST", f"{path}/reassign", {"assignee_id": text, "reason": "r"}),
        ("anna", "POST", f"{path}/reassign", {"assignee_id": "carla", "reason": text}),
        ("anna", "POST", f"{path}/cancel", {"reason": text}),
        ("ben", "POST", f"/tasks/{escaped}/start", None),
        ("ben", "POST", f"/tasks/{escaped}/claim", None),
        ("anna", "PUT", f"/members/{escaped}/wip-limit", {"limit": 2}),
        ("ben", "GET", f"/tasks?assignee={escaped}", None),
        ("ben", "GET", f"/tasks?status={escaped}", None),
        ("ben", "GET", f"/queues/{escaped}", None),
        ("ben", "GET", f"/campaigns/{escaped}/board", None),
        ("ben", "GET", f"/absences/{escaped}", None),
    ]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=TEXT)
def test_no_text_in_any_command_field_gives_a_server_error(tmp_path_factory: Any,
                                                           text: str) -> None:
    with service_client("execution", tmp_path_factory.mktemp("fuzz")) as client:
        app = client.application
        assert isinstance(app, ExecutionApplication)
        planning = Planning(app)
        planning.member("anna", "planner")
        planning.member("ben", "writer")
        planning.member("carla", "brand")
        brief = planned("brief", approval_chain=[step("brand")])
        planning.campaign(brief)
        client.post(f"/tasks/{brief.task_id}/start", headers=auth("ben"))
        for member, method, path, body in commands(text, str(brief.task_id)):
            # Serialized by hand: httpx's json= refuses lone surrogates; a client may not.
            content = None if body is None else json.dumps(body).encode()
            response = client.request(method, path, content=content, headers={
                **auth(member), "content-type": "application/json"})
            assert response.status_code < 500, (method, path, body, response.text)
            response.json()  # always a JSON body
