"""Every operation of execution's, notification's and reporting's OpenAPI documents says
what a success returns: a concrete schema, never an untyped object. (A client generated
from the document gets classes, not dictionaries.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.in_process import service_client

SERVICES = ("execution", "notification", "reporting")
OPEN_BY_DESIGN = {"data"}
"""Fields that are open on purpose: an event's payload, whose schema is its contract
(described as such in the document)."""


def untyped(schema: dict[str, Any], components: dict[str, Any], where: str,
            seen: set[str]) -> list[str]:
    """Where ``schema`` leaves a value's shape open."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return untyped(components[name], components, name, seen)
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            found += untyped(branch, components, where, seen)
    kind = schema.get("type")
    if not schema or (kind is None and not any(k in schema for k in (
            "$ref", "anyOf", "oneOf", "allOf", "enum", "const"))):
        found.append(f"{where}: no type")
    if kind == "array":
        found += untyped(schema.get("items", {}), components, f"{where}[]", seen)
    if kind == "object":
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not properties and not isinstance(extra, dict):
            found.append(f"{where}: an object of unknown shape")
        if extra is True:
            found.append(f"{where}: additionalProperties: true")
        if isinstance(extra, dict):
            found += untyped(extra, components, f"{where}{{}}", seen)
        for name, field in properties.items():
            if name not in OPEN_BY_DESIGN:
                found += untyped(field, components, f"{where}.{name}", seen)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_success_response_has_a_concrete_schema(service: str, tmp_path: Path) -> None:
    with service_client(service, tmp_path) as client:
        document = client.get("/openapi.json").json()
    components = document.get("components", {}).get("schemas", {})
    problems: list[str] = []
    operations = 0
    for path, item in document["paths"].items():
        if path.startswith("/health") or path == "/metrics":
            continue  # the shared runtime's, typed by its owner
        for method, operation in item.items():
            operations += 1
            successes = {status: response for status, response
                         in operation["responses"].items() if status.startswith("2")}
            assert successes, f"{method.upper()} {path}: no 2xx documented"
            for status, response in successes.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                where = f"{method.upper()} {path} {status}"
                if schema is None:
                    problems.append(f"{where}: no schema")
                    continue
                problems += untyped(schema, components, where, set())
    assert operations > 0
    assert problems == []
