"""The released contracts: ``contracts/released/<type>.json``, the JSON Schema of every event
type as last released, against which ``tests/unit/test_contract_compatibility.py`` checks
the current models (see ``contracts.compatibility``).

``python -m contracts.release`` (``make release-contracts``) accepts the current schemas as
the new release: run it when a release is cut and commit ``contracts/released/``. It
refuses while a change breaks a released type (make a new type version instead);
``--allow-breaking`` overrides, for a type no one can have consumed yet.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from contracts import EVENT_TYPES
from contracts.compatibility import breaking_changes
from contracts.schemas import dump, json_schema

RELEASED_DIR = Path(__file__).parent / "released"


def released() -> dict[str, dict[str, Any]]:
    """Event type -> its released JSON Schema."""
    return {path.name.removesuffix(".json"): json.loads(path.read_text())
            for path in sorted(RELEASED_DIR.glob("*.json"))}


def incompatibilities() -> dict[str, list[str]]:
    """Event type -> what breaks its released schema. A released type that no longer
    exists breaks everyone still consuming it; a type never released is free."""
    found: dict[str, list[str]] = {}
    for event_type, released_schema in released().items():
        if event_type not in EVENT_TYPES:
            found[event_type] = ["type removed: keep released versions until nobody "
                                 "publishes or stores them"]
            continue
        problems = breaking_changes(released_schema, json_schema(event_type))
        if problems:
            found[event_type] = problems
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{event_type}:\n" + "\n".join(f"  - {p}" for p in problems)
                     for event_type, problems in sorted(found.items()))


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--allow-breaking", action="store_true",
                        help="release even though a released type breaks")
    options = parser.parse_args(arguments)
    found = incompatibilities()
    if found and not options.allow_breaking:
        print("breaking changes to released contracts (make a new type version, or pass "
              "--allow-breaking):\n" + report(found), file=sys.stderr)
        return 1
    RELEASED_DIR.mkdir(exist_ok=True)
    for stale in RELEASED_DIR.glob("*.json"):
        if stale.name.removesuffix(".json") not in EVENT_TYPES:
            stale.unlink()
    for event_type in sorted(EVENT_TYPES):
        (RELEASED_DIR / f"{event_type}.json").write_text(dump(json_schema(event_type)))
    print(f"released {len(EVENT_TYPES)} contracts to {RELEASED_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
