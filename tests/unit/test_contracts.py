from __future__ import annotations

from contracts import EVENT_TYPES, asyncapi
from contracts.asyncapi import DOCUMENT
from contracts.schemas import SCHEMA_DIR, generate


def test_checked_in_json_schemas_match_the_models() -> None:
    wanted = generate()
    on_disk = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(wanted), "run `make contracts` and commit contracts/schemas/"
    stale = [name for name, content in wanted.items() if on_disk[name] != content]
    assert not stale, f"stale schemas {stale}: run `make contracts` and commit them"


def test_checked_in_asyncapi_document_matches_the_models() -> None:
    assert DOCUMENT.read_text() == asyncapi.generate(), (
        "contracts/asyncapi.json is stale: run `make contracts` and commit it")


def test_every_event_type_is_versioned_and_named_after_its_service() -> None:
    for event_type in EVENT_TYPES:
        prefix, service, *_, version = event_type.split(".")
        assert prefix == "marketflow"
        assert service in {"planning", "execution", "notification", "reporting"}
        assert version.startswith("v") and version[1:].isdigit()
