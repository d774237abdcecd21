"""Domain building blocks shared by every service: attributed pydantic events on
eventsourcing aggregates, and the errors a use case may raise."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate as LibraryAggregate
from eventsourcing.domain import CanInitAggregate, CanMutateAggregate, event
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Aggregate",
    "Conflict",
    "DomainError",
    "EventMeta",
    "Forbidden",
    "InvalidCommand",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "StaleVersion",
    "TooLarge",
    "event",
]


class EventMeta(BaseModel):
    """Who did it and why: carried by every stored event and every message on the bus."""

    model_config = ConfigDict(frozen=True)

    actor: str = Field(min_length=1, description="member id, or 'system:<component>'")
    correlation_id: str | None = None
    causation_id: str | None = None
    reason: str | None = None
    # The W3C trace context of the span that committed the event (``shared/tracing.py``),
    # stamped at commit. Left out of the stored JSON when absent, as events stored before
    # it existed are: they read as None.
    traceparent: str | None = Field(default=None, exclude_if=lambda value: value is None)

    def caused_by(self, actor: str | None = None) -> EventMeta:
        """Meta for a follow-up change made on behalf of this one (traced where it is
        made: the trace context is stamped again when it commits)."""
        update: dict[str, str | None] = {"traceparent": None}
        if actor:
            update["actor"] = actor
        return self.model_copy(update=update)


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    # Required on every event, so an unattributed change cannot be constructed.
    meta: EventMeta


class Aggregate(LibraryAggregate):
    """Base aggregate whose events are pydantic models (serialized with orjson)."""

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        pass

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str


class DomainError(Exception):
    """A command that the domain refuses; the message is shown to the user."""

    status_code = 400


class InvalidCommand(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """An illegal transition, or a lost race on an aggregate's version."""

    status_code = 409


class StaleVersion(Conflict):
    """The caller acted on a version that is no longer the latest (409; 412 when the
    version came from ``If-Match``)."""


class PreconditionFailed(DomainError):
    """``If-Match`` named a version that is no longer the latest."""

    status_code = 412


class PreconditionRequired(DomainError):
    """A change that must say which version it revises (lost updates otherwise)."""

    status_code = 428


class TooLarge(DomainError):
    """Bigger than a limit that keeps every event publishable; the message names it."""

    status_code = 413
