"""Event-store plumbing: pydantic events as orjson bytes, and store preparation."""

from __future__ import annotations

import copy
import functools
import inspect
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import CanInitAggregate, DomainEventProtocol, decorated_funcs
from eventsourcing.persistence import Mapper, ProgrammingError, StoredEvent, Transcoder, Transcoding
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from shared.config import Settings
from shared.domain import TooLarge


class OrjsonTranscoder(Transcoder):
    """orjson does the bytes; pydantic already turned everything into JSON types."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)

    def register(self, transcoding: Transcoding) -> None:
        raise ProgrammingError("events are pydantic models; no transcodings are needed")


class PydanticMapper(Mapper[UUID]):
    # Set by ServiceApplication: events are mapped right before they are inserted, so
    # refusing here refuses the whole save before anything is committed.
    max_state_bytes: int | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = self.transcoder.encode(cast(BaseModel, domain_event).model_dump(mode="json"))
        if self.max_state_bytes is not None and len(state) > self.max_state_bytes:
            raise TooLarge(
                f"{type(domain_event).__qualname__}: this change would be stored as an event "
                f"of {len(state):,} bytes; the limit is {self.max_state_bytes:,} bytes per "
                "event (half of MARKETFLOW_KAFKA_MAX_MESSAGE_BYTES); make it smaller"
            )
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event_class = resolve_topic(stored_event.topic)
        added = added_parameters(event_class)
        if not added:  # straight from the bytes: a quarter faster than loads + validate
            return cast(DomainEventProtocol[UUID],
                        event_class.model_validate_json(stored_event.state))
        state = self.transcoder.decode(stored_event.state)
        for name, default in added.items():
            if name not in state:
                state[name] = copy.deepcopy(default)
        return cast(DomainEventProtocol[UUID], event_class.model_validate(state))


@functools.cache
def added_parameters(event_class: type) -> dict[str, Any]:
    """Stored events are never rewritten, so a parameter added later to an ``@event``
    method must have a default, and events stored before it existed read as that default.
    (The library builds the event class from the method's annotations only: without this,
    the pydantic event would call the missing field required and the old event would no
    longer load.)"""
    method = decorated_funcs.get(event_class)
    if method is None and issubclass(event_class, CanInitAggregate):
        # A created event is made from its aggregate's __init__.
        aggregate_name = event_class.__qualname__.rpartition(".")[0]
        aggregate = resolve_topic(f"{event_class.__module__}:{aggregate_name}") \
            if aggregate_name else None
        method = getattr(aggregate, "__init__", None)
    if method is None:
        return {}
    return {name: parameter.default
            for name, parameter in inspect.signature(method).parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def prepare_store(settings: Settings) -> None:
    """Create what the library expects to exist (PostgreSQL schema); idempotent."""
    if settings.store != "postgres":
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(settings.postgres_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.postgres_schema)
            )
        )
