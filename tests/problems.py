"""Reading the services' error answers (RFC 9457 problem details) in tests."""

from __future__ import annotations

from typing import Any, Protocol

from shared.problems import PROBLEM_MEDIA_TYPE


class HasJsonBody(Protocol):
    status_code: int
    headers: Any
    text: str

    def json(self) -> Any: ...


def problem(response: HasJsonBody) -> dict[str, Any]:
    """The problem an error answer carries, checked for the fields every problem has."""
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code, body
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert isinstance(body["detail"], str), body
    return body


def field_errors(response: HasJsonBody) -> list[dict[str, Any]]:
    """A 422's field problems: ``[{"loc": [...], "msg": "...", "type": "..."}]``."""
    errors: list[dict[str, Any]] = problem(response)["errors"]
    return errors
