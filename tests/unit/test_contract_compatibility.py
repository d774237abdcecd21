"""Every contract stays compatible with its released version (``contracts/released/``), and
the comparison tells breaking changes from additive ones."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal  # noqa: F401  (Annotated: in string annotations)
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field

from contracts import EVENT_TYPES
from contracts.compatibility import breaking_changes
from contracts.release import RELEASED_DIR, incompatibilities, released, report


def test_every_released_contract_is_still_compatible() -> None:
    found = incompatibilities()
    assert not found, (
        "breaking changes to released contracts; make a new type version (….v2) instead:\n"
        + report(found))


def test_every_contract_has_been_released() -> None:
    # A new type is released with the next `make release-contracts`; until then the
    # snapshot would not protect it.
    assert RELEASED_DIR.is_dir()
    assert set(released()) == set(EVENT_TYPES), (
        "contracts without a released snapshot: run `make release-contracts` and commit "
        "contracts/released/")


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    role: str
    approvals: int = 1


class StepV2(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", title="Step")
    role: str
    approvals: int = Field(default=1, ge=1)


class Released(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", title="Event")
    task_id: UUID
    title: str
    due: date | None = None
    via: Literal["planned", "claimed"] = "planned"
    count: int = 0
    steps: list[Step] = []


def schema(**fields: Any) -> dict[str, Any]:
    """The JSON Schema of ``Released`` with fields changed: name -> (annotation, default),
    or None to remove it."""
    annotations = dict(Released.__annotations__)
    defaults = {name: field.default for name, field in Released.model_fields.items()
                if not field.is_required()}
    for name, change in fields.items():
        annotations.pop(name, None)
        defaults.pop(name, None)
        if change is not None:
            annotations[name], default = change
            if default is not ...:
                defaults[name] = default
    namespace = {"__annotations__": annotations, "__module__": __name__, **defaults,
                 "model_config": ConfigDict(frozen=True, extra="forbid", title="Event")}
    model = type("Event", (BaseModel,), namespace)
    return model.model_json_schema()


RELEASED = Released.model_json_schema()


@pytest.mark.parametrize(("change", "expected"), [
    ({"title": None}, "title: field removed"),
    ({"owner": ("str", ...)}, "owner: new required field"),
    ({"due": ("date", ...)}, "due: optional field became required"),
    ({"due": ("date", None)}, "due: type ['null'] changed to ['string']"),
    ({"count": ("str", "0")}, "count: type ['integer'] changed to ['string']"),
    ({"via": ("Literal['planned']", "planned")}, "via: no longer accepts ['claimed']"),
    ({"title": ("Annotated[str, Field(max_length=10)]", ...)},
     "title: maxLength None tightened to 10"),
    ({"title": ("UUID", ...)}, "title: format None changed to 'uuid'"),
    ({"steps": ("list[StepV2]", [])}, "steps[].approvals: minimum None tightened to 1"),
])
def test_a_breaking_change_is_named(change: dict[str, Any], expected: str) -> None:
    problems = breaking_changes(RELEASED, schema(**change))
    assert any(problem.startswith(expected) for problem in problems), problems


@pytest.mark.parametrize("change", [
    {"note": ("str | None", None)},                                    # new optional field
    {"count": ("float", 0)},                                           # integer -> number
    {"title": ("str | None", ...)},                                    # now nullable
    {"task_id": ("str", ...)},                                         # any string now
    {"via": ("Literal['planned', 'claimed', 'absence']", "planned")},  # one value more
    {"steps": ("list[Step] | None", None)},                            # nullable list
])
def test_an_additive_change_is_compatible(change: dict[str, Any]) -> None:
    assert breaking_changes(RELEASED, schema(**change)) == []


def test_an_unchanged_contract_is_compatible() -> None:
    assert breaking_changes(RELEASED, schema()) == []
