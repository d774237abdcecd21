"""The service layer's base class: an eventsourcing application that also applies
integration events from other services exactly once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    ProcessRecorder,
    Recording,
    Tracking,
)

from contracts import IntegrationEvent
from shared.cloudevents import InboundEvent
from shared.config import Settings
from shared.domain import Aggregate, Conflict, EventMeta, NotFound
from shared.store import OrjsonTranscoder, PydanticMapper, prepare_store

TAggregate = TypeVar("TAggregate", bound=Aggregate)
Handler = Callable[[Any, InboundEvent, ProcessingEvent[UUID]], None]
"""Reacts to one integration event type: loads aggregates, collects their new events."""
Handlers = Mapping[type[IntegrationEvent], Handler]
CommitListener = Callable[[], None]
"""Called after each successful commit, in the committing thread; must not block."""
log = logging.getLogger(__name__)

# Attempts at a command that keeps losing optimistic-concurrency races to other writers.
MAX_CONFLICT_RETRIES = 5


class ServiceApplication(Application[UUID]):
    """Each service's application: its own event store, its notification log as the
    outbox, and tracking records that make inbound processing idempotent.

    Every save is bounded: an event larger than ``settings.max_event_bytes`` is refused
    with ``TooLarge`` (413) before anything is committed, so no committed event can be
    one the broker refuses (which would stall the relay behind it). Inbound events whose
    handling would produce one are dead-lettered like any other refused event.
    """

    recorder: ProcessRecorder

    def __init__(self, settings: Settings, handlers: Handlers | None = None) -> None:
        self.settings = settings
        self.handlers: Handlers = handlers or {}
        # The batch being applied by this thread (HTTP commands in other threads never
        # see its uncommitted aggregates).
        self._batch = threading.local()
        self._commit_listeners: list[CommitListener] = []
        prepare_store(settings)
        super().__init__(env=settings.store_environment())

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = self.factory.mapper(transcoder=OrjsonTranscoder(), mapper_class=PydanticMapper)
        assert isinstance(mapper, PydanticMapper)
        mapper.max_state_bytes = self.settings.max_event_bytes
        return mapper

    def construct_recorder(self) -> ProcessRecorder:
        recorder = self.factory.process_recorder()
        if hasattr(recorder, "channel_name"):
            # The PostgreSQL recorder NOTIFYs this channel in every inserting transaction
            # (delivered on commit). By default it is named after the table alone, which
            # every namespace sharing the database has in common.
            recorder.channel_name = self.settings.commit_channel
        return recorder

    # --- commits -----------------------------------------------------------------

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call ``listener`` after every commit (commands, inbound batches, jobs)."""
        self._commit_listeners.append(listener)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = super()._record(processing_event)
        if recordings:
            for listener in self._commit_listeners:
                try:
                    listener()
                except Exception:  # the commit stands; a listener is only a hint
                    log.warning("commit listener failed", exc_info=True)
        return recordings

    # --- reading ---------------------------------------------------------------

    def load(self, aggregate_id: UUID, kind: type[TAggregate], *, version: int | None = None,
             label: str | None = None) -> TAggregate:
        """The aggregate, or ``NotFound`` naming what was asked for. Inside a batch of
        inbound events, an aggregate changed earlier in the batch is returned as changed."""
        what = label or kind.__name__.lower()
        pending = self._pending_aggregates()
        if version is None and aggregate_id in pending:
            aggregate: Aggregate = pending[aggregate_id]
            if isinstance(aggregate, kind):
                return aggregate
        try:
            aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"{what} {aggregate_id} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{what} {aggregate_id} not found")
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._pending_aggregates():
            return True
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _pending_aggregates(self) -> dict[UUID, Any]:
        batch: ProcessingEvent[UUID] | None = getattr(self._batch, "processing_event", None)
        return batch.aggregates if batch is not None else {}

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    # --- inbound integration events ------------------------------------------

    def process_inbound(self, inbound: InboundEvent, tracking: Tracking) -> bool:
        """Apply an integration event once. Returns False for one already applied.

        The tracking record (position in the producer's sequence, per partition) is
        written in the same transaction as the events the policy produces, so a
        redelivered or re-published message can never be applied a second time.
        """
        for _ in range(MAX_CONFLICT_RETRIES):
            if self.recorder.has_tracking_id(tracking.application_name, tracking.notification_id):
                return False
            processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking)
            self.policy(inbound, processing_event)
            try:
                self._record(processing_event)
            except IntegrityError:
                if self.recorder.has_tracking_id(
                    tracking.application_name, tracking.notification_id
                ):
                    return False
                log.info("inbound event lost a race on an aggregate; retrying",
                         extra={"ce_id": inbound.envelope.id})
                continue
            return True
        raise Conflict(f"could not apply {inbound.envelope.id}: repeated concurrent updates")

    def process_inbound_batch(self, batch: Sequence[tuple[InboundEvent, Tracking]]
                              ) -> tuple[int, int]:
        """Apply consecutive events of one partition in one transaction; returns
        (applied, duplicates). The tracking record written with the batch's events is the
        last sequence, so the batch is applied all at once or not at all: on any error
        nothing is written and the caller applies the events one at a time instead
        (``process_inbound``), so a bad event is reported alone."""
        if not batch:
            return 0, 0
        name = batch[0][1].application_name
        highest = self.recorder.max_tracking_id(name) or 0
        fresh = []
        for inbound, tracking in batch:
            if tracking.application_name != name:
                raise ValueError("a batch holds the events of one partition")
            # Re-published events come again with sequences already seen.
            if tracking.notification_id > highest:
                fresh.append((inbound, tracking))
                highest = tracking.notification_id
        duplicates = len(batch) - len(fresh)
        if not fresh:
            return 0, duplicates
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(Tracking(name, highest))
        self._batch.processing_event = processing_event
        try:
            for inbound, _ in fresh:
                self.policy(inbound, processing_event)
            self._record(processing_event)
        finally:
            self._batch.processing_event = None
        return len(fresh), duplicates

    def policy(self, inbound: InboundEvent, processing_event: ProcessingEvent[UUID]) -> None:
        """Dispatch to the service's handler for this event type; others are ignored."""
        handler = self.handlers.get(type(inbound.event))
        if handler is not None:
            handler(self, inbound, processing_event)

    @staticmethod
    def meta_caused_by(inbound: InboundEvent, **overrides: Any) -> EventMeta:
        """Attribution for a change made in reaction to another service's event."""
        envelope = inbound.envelope
        values: dict[str, Any] = {
            "actor": envelope.actor,
            "correlation_id": envelope.correlation_id or envelope.id,
            "causation_id": envelope.id,
        }
        values.update(overrides)
        return EventMeta(**values)

    # --- writing ---------------------------------------------------------------

    def save_or_conflict(self, *aggregates: Aggregate) -> None:
        """Save; a concurrent writer that got there first turns into a 409."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise Conflict(
                "the record was changed by someone else at the same time; reload and retry"
            ) from None
