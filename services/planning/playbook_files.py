"""Playbooks as YAML files ("process as code"): the same structure the HTTP API takes
as JSON, so teams can keep their processes in git and review changes."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from services.planning.domain import PlaybookSpec
from shared.domain import InvalidCommand

PLAYBOOK_DIR = Path(__file__).parent / "playbooks"
MAX_YAML_BYTES = 1_000_000


def playbook_from_yaml(text: str | bytes) -> PlaybookSpec:
    """Parse and validate a playbook file; ``InvalidCommand`` names the problem."""
    if len(text) > MAX_YAML_BYTES:
        raise InvalidCommand(f"playbook: the file is larger than {MAX_YAML_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidCommand(f"playbook: not valid YAML: {error}") from None
    except RecursionError:
        # PyYAML composes nested collections recursively.
        raise InvalidCommand("playbook: the YAML nests too deeply") from None
    if not isinstance(data, dict):
        raise InvalidCommand("playbook: expected a mapping with name and phases at the top")
    try:
        return PlaybookSpec.model_validate(data)
    except ValidationError as error:
        raise InvalidCommand(describe(error)) from None
    except RecursionError:
        raise InvalidCommand("playbook: the YAML nests too deeply") from None


def playbook_to_yaml(spec: PlaybookSpec) -> str:
    """YAML that ``playbook_from_yaml`` reads back into an equal spec; defaults left out."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(text) != data:
        # Rare characters (e.g. U+0085) do not survive as plain text: escape everything.
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=100)
    return text


def shipped_playbooks() -> dict[str, PlaybookSpec]:
    """The example playbooks that ship with Marketflow, by file stem."""
    return {path.stem: playbook_from_yaml(path.read_text())
            for path in sorted(PLAYBOOK_DIR.glob("*.yaml"))}


def describe(error: ValidationError, limit: int = 5) -> str:
    """'phases.0.tasks.2.duration_days: Input should be ...; ...'"""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'playbook'}: {item['msg']}"
        for item in error.errors()[:limit]
    )
