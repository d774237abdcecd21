"""Event-store plumbing: pydantic events as orjson bytes, and store preparation."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
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
        return cast(
            DomainEventProtocol[UUID],
            event_class.model_validate(self.transcoder.decode(stored_event.state)),
        )


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
