"""The four OpenAPI documents are valid (checked by an independent validator), declare
the bearer scheme, say which operations need it, and document every error an operation
can give as a problem (application/problem+json, the Problem schema)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from shared.config import Settings
from shared.openapi import problem_responses
from shared.problems import PROBLEM_MEDIA_TYPE
from shared.runtime import ServiceParts, create_http_app
from tests.harness import BUILDERS, TOKENS
from tests.problems import problem
from tests.unit.in_process import ServiceClient, service_client

SERVICES = ["planning", "execution", "notification", "reporting"]
PROBLEM_REF = "#/components/schemas/Problem"
COMMANDS = {"post", "put", "patch", "delete"}
METHODS = COMMANDS | {"get", "head", "options"}


@pytest.fixture(scope="module", params=SERVICES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[ServiceClient, dict[str, Any]]]:
    with service_client(request.param, tmp_path_factory.mktemp(request.param)) as client:
        yield client, client.get("/openapi.json").json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_is_valid_openapi(served: tuple[ServiceClient, dict[str, Any]]) -> None:
    _, document = served
    validate(document)


def test_the_bearer_scheme_is_declared_and_every_operation_says_whether_it_needs_it(
        served: tuple[ServiceClient, dict[str, Any]]) -> None:
    _, document = served
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    for path, method, operation in operations(document):
        public = path.startswith("/health/") or path == "/metrics"
        expected: list[dict[str, list[str]]] = [] if public else [{"bearer": []}]
        assert operation["security"] == expected, (method, path)


def test_every_operation_documents_its_errors_as_problems(
        served: tuple[ServiceClient, dict[str, Any]]) -> None:
    _, document = served
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in operations(document):
        where = (method, path)
        responses = operation["responses"]
        errors = {int(status) for status in responses if status.isdigit()
                  and int(status) >= 400}
        assert 500 in errors, where
        if operation["security"]:
            assert {401, 403} <= errors, where
            assert "WWW-Authenticate" in responses["401"]["headers"], where
        else:
            assert not {401, 403} & errors, where
        if "{" in path:
            assert 404 in errors, where
        if method in COMMANDS:
            assert {409, 413, 422} <= errors, where
        if operation.get("parameters") or operation.get("requestBody"):
            assert 422 in errors, where
        if any(parameter["in"] == "header" and parameter["name"].lower() == "if-match"
               for parameter in operation.get("parameters", [])):
            assert {412, 428} <= errors, where
        for status in errors:
            content = responses[str(status)]["content"]
            if path == "/health/status" and status == 503:
                continue  # the health report itself, typed
            assert content == {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}, \
                (where, status)
            assert responses[str(status)]["description"], (where, status)


def test_an_optional_request_body_is_optional_not_nullable(
        served: tuple[ServiceClient, dict[str, Any]]) -> None:
    """A body that may be left out is documented as such, not as JSON ``null``: generated
    clients (openapi-python-client) cannot leave out a nullable body, they send their
    "unset" marker, so ``start(task_id)`` without a body would fail in the client."""
    _, document = served
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if body is None or body.get("required"):
            continue
        for media_type, content in body["content"].items():
            schema = content["schema"]
            branches = schema.get("anyOf", [schema])
            assert {"type": "null"} not in branches, (method, path, media_type)


def test_every_operation_documented_as_authenticated_refuses_a_request_without_a_token(
        served: tuple[ServiceClient, dict[str, Any]]) -> None:
    """The inference behind ``security`` and the 401s is checked against the routes."""
    client, document = served
    for path, method, operation in operations(document):
        if not operation["security"]:
            continue
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000001", path)
        response = client.request(method.upper(), concrete)
        assert response.status_code == 401, (method, path, response.text)
        if method != "head":  # HEAD answers have no body
            problem(response)


def with_declared_errors(settings: Settings) -> ServiceParts:
    """Planning, plus routes declaring errors that inference cannot know."""
    parts = BUILDERS["planning"](settings)

    def archive() -> None:
        return None

    parts.router.add_api_route("/test/archive", archive, methods=["POST"],
                               responses={410: {"description": "archived long ago"}})
    parts.router.add_api_route("/test/archive-again", archive, methods=["POST"],
                               responses=problem_responses(410))
    return parts


def test_a_route_declares_more_errors_by_status_and_description(tmp_path: Path) -> None:
    settings = replace(Settings(service="planning"), sqlite_dir=tmp_path)
    client = ServiceClient(create_http_app(settings, with_declared_errors, tokens=TOKENS))
    try:
        document = client.get("/openapi.json").json()
    finally:
        client.application.close()
    validate(document)
    for path, description in [("/test/archive", "archived long ago"),
                              ("/test/archive-again", "Gone")]:
        gone = document["paths"][path]["post"]["responses"]["410"]
        assert gone == {"description": description, "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}
