"""An instance of every integration-event type, built from the models alone: one with every
optional field filled, one with the required fields only. A new contract type is covered
without anyone writing an example for it."""

from __future__ import annotations

import types
import typing
import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from contracts import EVENT_TYPES, IntegrationEvent


def examples() -> list[IntegrationEvent]:
    made: list[IntegrationEvent] = []
    for _, model in sorted(EVENT_TYPES.items()):
        made.append(instance(model, complete=True))  # type: ignore[arg-type]
        made.append(instance(model, complete=False))  # type: ignore[arg-type]
    return made


# Text fields constrained by a pattern, and a value each pattern takes.
PATTERNED = {r"^[0-9a-f]{64}$": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}


def _patterned(field: Any) -> str | None:
    for constraint in field.metadata:
        pattern = getattr(constraint, "pattern", None)
        if pattern is not None:
            assert pattern in PATTERNED, f"add an example for the pattern {pattern!r}"
            return PATTERNED[pattern]
    return None


def instance(model: type[BaseModel], *, complete: bool) -> BaseModel:
    values = {name: _patterned(field) or value(field.annotation, complete=complete)
              for name, field in model.model_fields.items()
              if complete or field.is_required()}
    try:
        return model.model_validate(values)
    except ValidationError:
        if not complete:
            raise
    # A model rule forbids some combination (e.g. an approval step names a role or a
    # member, not both): leave out one optional field at a time until it holds.
    for optional in (name for name, field in model.model_fields.items()
                     if not field.is_required()):
        try:
            return model.model_validate({k: v for k, v in values.items() if k != optional})
        except ValidationError:
            continue
    return instance(model, complete=False)


def value(annotation: Any, *, complete: bool) -> Any:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return value(next(a for a in arguments if a is not type(None)), complete=complete)
    if origin is Literal:
        return arguments[-1]
    if origin is list:
        return [value(arguments[0], complete=complete)]
    if origin is dict:
        return {"key": value(arguments[1], complete=complete)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return instance(annotation, complete=complete).model_dump(mode="json")
    simple = {uuid.UUID: lambda: str(uuid.uuid4()), str: lambda: "Ada Lovelace",
              int: lambda: 2, float: lambda: 0.5, bool: lambda: True,
              date: lambda: "2027-03-01", datetime: lambda: datetime(2027, 3, 1, tzinfo=UTC)}
    if annotation in simple:
        return simple[annotation]()
    raise TypeError(f"no example for {annotation!r}: teach tests/unit/contract_examples.py")
