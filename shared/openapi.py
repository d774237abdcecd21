"""A service's OpenAPI document: what FastAPI generates from the routes, plus what every
operation shares and FastAPI cannot know by itself — the error answers it can give (RFC
9457 problem details, ``application/problem+json``) and the bearer token it needs.

Both are inferred from each route, so a service's API module declares neither:

- authenticated unless declared public (``openapi_extra=PUBLIC``, the health probes):
  401 and 403, and ``security: [{"bearer": []}]``;
- a path that names a resource (``/tasks/{task_id}``), or a command whose body or query
  names one by id (``playbook_id``, ``goal_ids``): 404;
- commands (POST, PUT, PATCH, DELETE): 409 (illegal transition, lost race), 413 (body or
  the resulting event too large) and 422 (the domain refused the input);
- a command that accepts ``If-Match``: 412; one that takes a version to act on
  (``If-Match`` or ``expected_version``): 428;
- any parameter or body: 422; every operation: 500; authenticated reads: 503 (a read
  model catching up).

A route that can give another error declares it the FastAPI way, with a description;
the Problem schema is filled in here::

    @router.post("/x/{x_id}/archive", responses={410: {"description": "archived"}})

(``problem_responses(410)`` builds the same entry with the default description.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from shared.problems import PROBLEM_MEDIA_TYPE, Problem

PUBLIC: dict[str, Any] = {"security": []}  # openapi_extra of a route that needs no token
SECURITY_SCHEME = "bearer"
PROBLEM_REF = "#/components/schemas/Problem"
COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# FastAPI's own 422 entry, replaced by the problem.
FASTAPI_VALIDATION_REFS = {"#/components/schemas/HTTPValidationError"}
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "No valid bearer token: missing, malformed, unknown or revoked",
    403: "The member may not do this (access policy)",
    404: "A resource the request names does not exist",
    409: "Not allowed in the resource's current state, or a concurrent change won "
         "(stale version)",
    410: "Gone",
    412: "If-Match names a version that is no longer the latest",
    413: "The request body, or the event it would produce, is larger than the limit",
    422: "Invalid input; `errors` lists each field problem",
    428: "The change must say which version it acts on (If-Match or expected_version)",
    500: "Unexpected error (logged; no details are given)",
    503: "Temporarily unavailable (e.g. a read model catching up); retry later",
}


@dataclass(frozen=True)
class RouteTraits:
    """What a route's signature says about the errors it can give."""

    authenticated: bool
    names_resource_in_path: bool
    names_resource_elsewhere: bool
    has_input: bool
    has_body: bool
    accepts_if_match: bool
    accepts_version: bool


def _is_resource_name(name: str) -> bool:
    return name.endswith(("_id", "_ids"))


def _body_field_names(route: RouteContext) -> set[str]:
    if route.body_field is None:
        return set()
    annotation = route.body_field.field_info.annotation
    candidates = [annotation, *get_args(annotation)]
    names = {route.body_field.name}
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, field in candidate.model_fields.items():
                names.update({name, field.alias or name})
    return names


@dataclass
class _Parameters:
    path: set[str]
    query: set[str]
    header: set[str]
    cookie: set[str]


def _parameters(dependant: Dependant, found: _Parameters | None = None) -> _Parameters:
    """The route's parameters, its dependencies' included (by their names on the wire)."""
    found = found or _Parameters(set(), set(), set(), set())
    found.path.update(field.alias for field in dependant.path_params)
    found.query.update(field.alias for field in dependant.query_params)
    found.header.update(field.alias.lower().replace("_", "-")
                        for field in dependant.header_params)
    found.cookie.update(field.alias for field in dependant.cookie_params)
    for dependency in dependant.dependencies:
        _parameters(dependency, found)
    return found


def route_traits(route: RouteContext) -> RouteTraits:
    parameters = _parameters(route.dependant)
    header_names, query_names = parameters.header, parameters.query
    body_names = _body_field_names(route)
    public = (route.openapi_extra or {}).get("security") == []
    return RouteTraits(
        authenticated=not public,
        names_resource_in_path=bool(parameters.path),
        names_resource_elsewhere=any(map(_is_resource_name, query_names | body_names)),
        has_input=bool(parameters.path or parameters.query or parameters.header
                       or parameters.cookie or route.body_field is not None),
        has_body=route.body_field is not None or "requestBody" in (route.openapi_extra or {}),
        accepts_if_match="if-match" in header_names,
        accepts_version="if-match" in header_names
        or "expected_version" in query_names | body_names,
    )


def inferred_errors(traits: RouteTraits, method: str) -> list[int]:
    """The error statuses an operation can answer with, from its route's traits."""
    command = method in COMMANDS
    statuses = {500}
    if traits.authenticated:
        statuses |= {401, 403}
        if not command:
            statuses.add(503)
    if traits.names_resource_in_path or (command and traits.names_resource_elsewhere):
        statuses.add(404)
    if command:
        statuses |= {409, 413, 422}
    if traits.has_body:
        statuses.add(413)
    if traits.has_input:
        statuses.add(422)
    if command and traits.accepts_if_match:
        statuses.add(412)
    if command and traits.accepts_version:
        statuses.add(428)
    return sorted(statuses)


def problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for errors a route can give that inference misses."""
    return {status: {"description": ERROR_DESCRIPTIONS.get(status, "Error"),
                     "content": problem_content()} for status in statuses}


def _is_problem_or_placeholder(schema: Any) -> bool:
    if not schema:
        return True
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref == PROBLEM_REF or ref in FASTAPI_VALIDATION_REFS


def _error_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    """The problem answer for ``status``; a route's own description and headers stay,
    and so does a typed body of its own (e.g. the health report of a 503)."""
    response = dict(existing or {})
    content = response.get("content") or {}
    if all(_is_problem_or_placeholder(media.get("schema")) for media in content.values()):
        response["content"] = problem_content()
    if not response.get("description") or response["description"] == "Validation Error":
        response["description"] = ERROR_DESCRIPTIONS.get(status, "Error")
    if status == 401:
        response.setdefault("headers", {})["WWW-Authenticate"] = {
            "description": "the scheme to authenticate with: Bearer",
            "schema": {"type": "string"}}
    return response


def _is_error_status(key: str) -> bool:
    return key.isdigit() and 400 <= int(key) <= 599


def document_operation(operation: dict[str, Any], route: RouteContext, method: str) -> None:
    traits = route_traits(route)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in inferred_errors(traits, method):
        responses[str(status)] = _error_response(status, responses.get(str(status)))
    for key in [key for key in responses if _is_error_status(key)]:
        responses[key] = _error_response(int(key), responses[key])
    if "security" not in operation or not traits.authenticated:
        operation["security"] = [{SECURITY_SCHEME: []}] if traits.authenticated else []


def _problem_schemas() -> dict[str, Any]:
    _, schema = models_json_schema([(Problem, "serialization")],
                                   ref_template="#/components/schemas/{model}")
    return dict(schema.get("$defs", {}))


def document(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """Add the error answers and the security requirements to a generated document."""
    paths: dict[str, Any] = schema.get("paths", {})
    # Routes of included routers are seen as FastAPI sees them: with their prefix.
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema \
                or route.path_format is None:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                document_operation(operation, route, method)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(_problem_schemas())
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http", "scheme": "bearer",
        "description": "a member's or machine's API token: `Authorization: Bearer <token>`"}
    # FastAPI's validation error schemas, unless a route still uses them on purpose.
    if not any(ref in json.dumps(paths) for ref in FASTAPI_VALIDATION_REFS):
        for name in FASTAPI_VALIDATION_SCHEMAS:
            components["schemas"].pop(name, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) the documented version."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(generate(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
