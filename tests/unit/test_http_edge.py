"""The shared HTTP edge: every 422 is a problem in the declared shape and never echoes
the input; JSON the stores could not hold is refused before any use case runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.http_errors import storable_json_problem
from tests.harness import LAUNCH_PLAYBOOK
from tests.problems import field_errors, problem
from tests.unit.in_process import auth, service_client

SURROGATE_BODIES = [
    b'{"name": "\\ud800", "tasks": []}',
    b'{"name": "ok", "unknown": "\\udfff", "tasks": []}',
    b'{"\\ud800": 1}',
]


@pytest.mark.parametrize("service, path", [
    ("planning", "/playbooks"), ("planning", "/campaigns"),
    ("reporting", "/campaigns/00000000-0000-4000-8000-000000000001/progress"),
    ("notification", "/notifications/00000000-0000-4000-8000-000000000001/read"),
    ("execution", "/tasks/00000000-0000-4000-8000-000000000001/start"),
])
def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_422_in_json(
        tmp_path: Path, service: str, path: str) -> None:
    with service_client(service, tmp_path) as client:
        before = client.head_position()
        for body in SURROGATE_BODIES:
            response = client.post(path, content=body, headers={
                **auth("anna"), "content-type": "application/json"})
            assert response.status_code == 422, response.text
            errors = field_errors(response)
            assert errors[0]["type"] == "json_invalid"
            assert "surrogate" in errors[0]["msg"]
        assert client.head_position() == before


@pytest.mark.parametrize("body", [b'g.\xf6p70\x1d', b'{"name": "\xf6"}', b'\x91'])
def test_bytes_that_are_not_utf8_are_a_422_not_a_500(body: bytes) -> None:
    # Found by the schemathesis run: Python's json raised UnicodeDecodeError, not a
    # decode error, and the guard let it escape as a 500.
    reason = storable_json_problem(body)
    assert reason is not None and reason.startswith("not UTF-8")


def test_a_body_that_is_not_utf8_is_a_422_that_changes_nothing(tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        before = client.head_position()
        response = client.post("/playbooks", content=b'{"name": "\xf6", "tasks": []}',
                               headers={**auth("anna"), "content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert field_errors(response)[0]["msg"].startswith("JSON decode error: not UTF-8")
        assert client.head_position() == before


def test_nan_and_nesting_deeper_than_the_store_can_encode_are_refused(tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        headers = {**auth("anna"), "content-type": "application/json"}
        deep = b"[" * 5000 + b"]" * 5000
        response = client.post("/playbooks", content=deep, headers=headers)
        assert response.status_code == 422, response.text
        assert "depth" in field_errors(response)[0]["msg"]
        response = client.post("/playbooks", content=b'{"name": NaN}', headers=headers)
        assert response.status_code == 422, response.text
        # Broken JSON is still FastAPI's own decode error, in the same shape.
        response = client.post("/playbooks", content=b'{"name": ', headers=headers)
        assert response.status_code == 422
        assert field_errors(response)[0]["msg"].startswith("JSON decode error")


def test_a_422_never_echoes_the_refused_input(tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        response = client.post("/playbooks", json={"name": "x" * 5000, "tasks": []},
                               headers=auth("anna"))
        assert response.status_code == 422
        assert "x" * 300 not in response.text
        assert all(set(item) == {"loc", "msg", "type"} for item in field_errors(response))


def test_domain_refusals_have_the_declared_422_shape_naming_the_field(tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        response = client.post("/playbooks", json={**LAUNCH_PLAYBOOK, "name": "   "},
                               headers=auth("anna"))
        assert response.status_code == 422
        assert field_errors(response) == [{
            "loc": ["name"], "msg": "name: must not be blank", "type": "invalid_command"}]
        # Other refusals keep a plain message.
        response = client.get("/playbooks/00000000-0000-4000-8000-000000000001",
                              headers=auth("anna"))
        assert response.status_code == 404
        assert "errors" not in problem(response)
