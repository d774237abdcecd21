"""JSON Schema for every integration event, generated from the models.

``python -m contracts.schemas`` rewrites ``contracts/schemas/``; a test fails when
the checked-in files differ from what the models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts import EVENT_TYPES, schema_id

SCHEMA_DIR = Path(__file__).parent / "schemas"


def json_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type's payload, identified by its ``$id`` (the
    ``dataschema`` its events carry)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id(event_type),
        "x-cloudevents-type": event_type,
        **EVENT_TYPES[event_type].model_json_schema(),
    }


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def generate() -> dict[str, str]:
    """File name -> content for every event type."""
    return {f"{event_type}.json": dump(json_schema(event_type))
            for event_type in sorted(EVENT_TYPES)}


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    wanted = generate()
    for stale in SCHEMA_DIR.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    for name, content in wanted.items():
        (SCHEMA_DIR / name).write_text(content)
    print(f"wrote {len(wanted)} schemas to {SCHEMA_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
