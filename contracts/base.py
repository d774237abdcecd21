"""The published language: integration events other systems may depend on.

Each event type is a frozen pydantic model with a versioned CloudEvents type
(``marketflow.<service>.<entity>.<happened>.v<N>``). A breaking change is a new
class with a new version; old versions stay until no one publishes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

EVENT_TYPES: dict[str, type[IntegrationEvent]] = {}
SCHEMA_ID_PREFIX = "urn:marketflow:contracts:"


def schema_id(event_type: str) -> str:
    """The ``$id`` of an event type's JSON Schema, sent as the CloudEvents ``dataschema``
    attribute: one per type version, so it changes exactly when the contract may break."""
    return SCHEMA_ID_PREFIX + event_type


class IntegrationEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    """The CloudEvents ``type`` attribute; unique across all services."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is None:
            return
        if event_type in EVENT_TYPES:
            raise TypeError(f"event type {event_type} is defined twice")
        EVENT_TYPES[event_type] = cls


class Contract(BaseModel):
    """A value inside an event's payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")
