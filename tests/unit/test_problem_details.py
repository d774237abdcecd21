"""Every error answer of every service is an RFC 9457 problem (application/problem+json
with type, title, status, detail and instance; errors for field problems), whichever
layer refuses: authentication, the router, the body limit, pydantic, the domain, or an
unexpected exception (logged, never shown)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Header

from shared.config import Settings
from shared.domain import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionRequired,
    StaleVersion,
    TooLarge,
)
from shared.http_conventions import precondition
from shared.problems import PROBLEM_TYPE_BASE, Problem
from shared.projections import ReadModelUnavailable
from shared.runtime import ServiceParts, create_http_app
from tests.harness import BUILDERS, LAUNCH_PLAYBOOK, TOKENS
from tests.problems import field_errors, problem
from tests.unit.in_process import ServiceClient, auth, service_client

SERVICES = ["planning", "execution", "notification", "reporting"]
UNKNOWN = "00000000-0000-4000-8000-000000000001"
LISTS = {"planning": "/campaigns", "execution": "/tasks", "notification": "/notifications",
         "reporting": "/archive"}
SECRET = "the database password is hunter2"

REFUSALS: dict[str, DomainError] = {
    "bad-request": DomainError("something about this request is wrong"),
    "forbidden": Forbidden("only planners can do this"),
    "not-found": NotFound(f"task {UNKNOWN}: not found"),
    "conflict": Conflict("campaign: cannot cancel a completed campaign"),
    "stale-version": StaleVersion("task: version 3 is not the latest (4)"),
    "precondition-required": PreconditionRequired("expected_version: give the version"),
    "request-too-large": TooLarge("event: 900,000 bytes; the limit is 500,000 bytes"),
    "unavailable": ReadModelUnavailable("read model task_board cannot fold event 7"),
}


def with_failing_routes(settings: Settings) -> ServiceParts:
    """Planning, plus routes that fail in each way a use case can, and one that crashes."""
    parts = BUILDERS["planning"](settings)

    def refuse(kind: str) -> None:
        raise REFUSALS[kind]

    def act_on_version(if_match: Annotated[str | None, Header()] = None) -> None:
        with precondition(if_match):
            raise StaleVersion("task: version 3 is not the latest (4)")

    def crash() -> None:
        raise RuntimeError(SECRET)

    parts.router.add_api_route("/test/refusals/{kind}", refuse, methods=["POST"])
    parts.router.add_api_route("/test/versioned", act_on_version, methods=["POST"])
    parts.router.add_api_route("/test/crash", crash, methods=["GET"])
    return parts


@pytest.fixture
def client(tmp_path: Path) -> Iterator[ServiceClient]:
    settings = replace(Settings(service="planning"), sqlite_dir=tmp_path, max_request_bytes=1000)
    app = create_http_app(settings, with_failing_routes, tokens=TOKENS)
    # As in service_client: the lifespan is not entered, nothing connects to Kafka.
    client = ServiceClient(app, raise_server_exceptions=False)
    try:
        yield client
    finally:
        client.application.close()


def assert_problem(response: object, status: int, slug: str, instance: str) -> dict[str, object]:
    body = problem(response)  # type: ignore[arg-type]
    assert body["status"] == status
    assert body["type"] == PROBLEM_TYPE_BASE + slug
    assert body["instance"] == instance
    assert body["title"] and body["detail"]
    Problem.model_validate(body)
    return body


@pytest.mark.parametrize("service", SERVICES)
def test_authentication_and_router_errors_are_problems_in_every_service(
        tmp_path: Path, service: str) -> None:
    with service_client(service, tmp_path) as client:
        path = LISTS[service]
        missing = client.get(path)
        body = assert_problem(missing, 401, "unauthenticated", path)
        assert "missing Authorization header" in str(body["detail"])
        assert missing.headers["www-authenticate"] == "Bearer"
        forged = client.get(path, headers={"Authorization": "Bearer forged"})
        assert "unknown token" in str(
            assert_problem(forged, 401, "unauthenticated", path)["detail"])
        nowhere = client.get("/no/such/endpoint", headers=auth("anna"))
        assert assert_problem(nowhere, 404, "not-found", "/no/such/endpoint")["detail"] == \
            "no endpoint at this path"
        wrong_method = client.delete("/health/live")
        body = assert_problem(wrong_method, 405, "method-not-allowed", "/health/live")
        assert "DELETE is not allowed" in str(body["detail"])
        assert wrong_method.headers["allow"] == "GET"


def test_a_resource_that_does_not_exist_is_a_404_problem(tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        path = f"/playbooks/{UNKNOWN}"
        body = assert_problem(client.get(path, headers=auth("anna")), 404, "not-found", path)
        assert UNKNOWN in str(body["detail"])
        assert "errors" not in body


def test_field_problems_from_pydantic_and_the_domain_are_listed_in_errors(
        tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        response = client.post("/playbooks", json={"name": "No tasks"}, headers=auth("anna"))
        body = assert_problem(response, 422, "invalid-request", "/playbooks")
        [error] = field_errors(response)
        assert error["loc"] == ["body"] and error["type"] == "value_error"
        assert body["detail"] == f"body: {error['msg']}"

        response = client.post("/playbooks", json={**LAUNCH_PLAYBOOK, "name": "   "},
                               headers=auth("anna"))
        body = assert_problem(response, 422, "invalid-request", "/playbooks")
        assert body["detail"] == "name: must not be blank"
        assert field_errors(response)[0]["loc"] == ["name"]

        response = client.post("/playbooks", content=b'{"name": "\\ud800"}', headers={
            **auth("anna"), "content-type": "application/json"})
        assert_problem(response, 422, "invalid-request", "/playbooks")
        assert field_errors(response)[0]["type"] == "json_invalid"

        response = client.get("/playbooks?limit=0", headers=auth("anna"))
        assert_problem(response, 422, "invalid-request", "/playbooks")
        assert field_errors(response)[0]["loc"] == ["query", "limit"]


def test_the_instance_is_the_path_without_the_query(tmp_path: Path) -> None:
    """The query may carry a secret (calendar feed addresses): not repeated in the answer."""
    with service_client("planning", tmp_path) as client:
        response = client.get("/calendar/teams/nobody.ics?key=not-a-token")
        assert_problem(response, 401, "unauthenticated", "/calendar/teams/nobody.ics")
        assert "not-a-token" not in response.text


def test_a_revision_by_import_without_its_version_is_a_428_problem(tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        path = "/playbooks/import"
        response = client.post(f"{path}?playbook_id={UNKNOWN}", content=b"name: x\n",
                               headers={**auth("anna"), "content-type": "application/yaml"})
        assert_problem(response, 428, "precondition-required", path)


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_each_domain_refusal_is_a_problem_of_its_own_type(client: ServiceClient,
                                                          kind: str) -> None:
    path = f"/test/refusals/{kind}"
    refusal = REFUSALS[kind]
    body = assert_problem(client.post(path), refusal.status_code, kind, path)
    assert body["detail"] == str(refusal)


def test_a_stale_if_match_is_a_412_and_a_stale_body_version_a_409(
        client: ServiceClient) -> None:
    assert_problem(client.post("/test/versioned", headers={"If-Match": '"3"'}), 412,
                   "precondition-failed", "/test/versioned")
    assert_problem(client.post("/test/versioned"), 409, "stale-version", "/test/versioned")


def test_a_body_over_the_limit_is_a_413_problem_with_or_without_content_length(
        client: ServiceClient) -> None:
    headers = {**auth("anna"), "content-type": "application/json"}
    body = b'{"name": "' + b"x" * 2000 + b'", "tasks": []}'
    declared = client.post("/playbooks", content=body, headers=headers)
    assert "1,000 bytes" in str(assert_problem(declared, 413, "request-too-large",
                                               "/playbooks")["detail"])

    def chunks() -> Iterator[bytes]:
        yield body[:500]
        yield body[500:]

    streamed = client.post("/playbooks", content=chunks(), headers=headers)
    assert "1,000 bytes" in str(assert_problem(streamed, 413, "request-too-large",
                                               "/playbooks")["detail"])


def test_an_unexpected_error_is_a_generic_500_problem_and_is_logged(
        client: ServiceClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="shared.http_errors"):
        response = client.get("/test/crash")
    body = assert_problem(response, 500, "internal-error", "/test/crash")
    assert SECRET not in response.text and "Traceback" not in response.text
    assert "logged" in str(body["detail"])
    [record] = [r for r in caplog.records if r.name == "shared.http_errors"]
    assert record.exc_info is not None and SECRET in str(record.exc_info[1])
    assert record.path == "/test/crash"  # type: ignore[attr-defined]


def test_an_unready_service_answers_a_503_problem(client: ServiceClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async def store_unreachable() -> dict[str, str]:
        return {"store": "unreachable: connection refused"}

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    monkeypatch.setattr(runtime, "readiness", store_unreachable)
    body = assert_problem(client.get("/health/ready"), 503, "unavailable", "/health/ready")
    assert body["detail"] == "not ready: store: unreachable: connection refused"
    assert body["checks"] == {"store": "unreachable: connection refused"}
