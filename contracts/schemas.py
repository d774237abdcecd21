"""JSON Schema for every integration event, generated from the models.

``python -m contracts.schemas`` rewrites ``contracts/schemas/``; a test fails when
the checked-in files differ from what the models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from contracts import EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def generate() -> dict[str, str]:
    """File name -> content for every event type."""
    files = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:marketflow:contracts:{event_type}",
            "x-cloudevents-type": event_type,
            **model.model_json_schema(),
        }
        files[f"{event_type}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


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
