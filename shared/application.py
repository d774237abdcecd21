"""The service layer's base class: an eventsourcing application that also applies
integration events from other services exactly once."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from copy import deepcopy
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, Mapper, ProcessRecorder, Recording
from opentelemetry.trace import SpanKind

from contracts import IntegrationEvent
from shared import tracing
from shared.cloudevents import InboundEvent, PoisonMessage
from shared.config import Settings
from shared.domain import Aggregate, Conflict, EventMeta, NotFound
from shared.inbox_store import Delivery, InboxEntry, InboxRecorder, recorder_topic
from shared.store import OrjsonTranscoder, PydanticMapper, prepare_store

TAggregate = TypeVar("TAggregate", bound=Aggregate)
P = ParamSpec("P")
R = TypeVar("R")
Handler = Callable[[Any, InboundEvent, ProcessingEvent[UUID]], None]
"""Reacts to one integration event type: loads aggregates, collects their new events."""
Handlers = Mapping[type[IntegrationEvent], Handler]
CommitListener = Callable[[], None]
"""Called after each successful commit, in the committing thread; must not block."""
log = logging.getLogger(__name__)

# Attempts at a command that keeps losing optimistic-concurrency races to other writers.
MAX_CONFLICT_RETRIES = 5
# Stored events per inbound transaction. PostgreSQL inserts of ~7-14k events in one go
# were seen to hang forever in psycopg's pipeline (the server waiting in ClientRead);
# a batch of 500 messages can produce that many, so it is recorded in chunks.
MAX_EVENTS_PER_TRANSACTION = 1000


class ServiceApplication(Application[UUID]):
    """Each service's application: its own event store, its notification log as the
    outbox, and an inbox of applied event ids that makes inbound processing idempotent.

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
        self.local_commits = 0
        """Commits by this process so far (see ``committed_since``)."""
        self._last_commit_of: dict[type, int] = {}
        self._commits_counted = threading.Lock()
        prepare_store(settings)
        env = settings.store_environment()
        # The library's process recorder, plus the inbox table of applied event ids.
        env["PROCESS_RECORDER_TOPIC"] = recorder_topic(env["PERSISTENCE_MODULE"])
        super().__init__(env=env)

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
        """Every commit (command, inbound chunk, job): traced as a child of the request
        or job it belongs to, its events stamped with that trace context (events of
        inbound processing were stamped by their own processing span already)."""
        with tracing.child_span(f"{self.settings.service} commit", attributes={
                "marketflow.service": self.settings.service,
                "marketflow.events": len(processing_event.events)}):
            stamp_trace_context(processing_event.events)
            recordings = super()._record(processing_event)
        if recordings:
            with self._commits_counted:
                self.local_commits += 1
                for domain_event in processing_event.events:
                    self._last_commit_of[type(domain_event)] = self.local_commits
            for listener in self._commit_listeners:
                try:
                    listener()
                except Exception:  # the commit stands; a listener is only a hint
                    log.warning("commit listener failed", exc_info=True)
        return recordings

    def committed_since(self, local_commits: int, wanted: Callable[[type], bool]) -> bool:
        """Whether this process committed an event of a ``wanted`` class after its
        ``local_commits``-th commit (other processes' commits are not seen here)."""
        return any(commit > local_commits and wanted(event_class)
                   for event_class, commit in list(self._last_commit_of.items()))

    # --- reading ---------------------------------------------------------------

    def load(self, aggregate_id: UUID, kind: type[TAggregate], *, version: int | None = None,
             label: str | None = None) -> TAggregate:
        """The aggregate, or ``NotFound`` naming what was asked for. Inside a batch of
        inbound events, an aggregate changed earlier in the batch is returned as changed."""
        what = label or kind.__name__.lower()
        found = self.find(aggregate_id, kind) if version is None else self._get(
            aggregate_id, kind, version)
        if found is None:
            raise NotFound(f"{what} {aggregate_id} not found")
        return found

    def find(self, aggregate_id: UUID, kind: type[TAggregate]) -> TAggregate | None:
        """The aggregate, or None if there is none (one read, where ``exists`` and then
        ``load`` cost two). Inside a batch of inbound events, an aggregate changed earlier
        in the batch is returned as changed, and one read earlier is not read again."""
        pending = self._pending_aggregates()
        if aggregate_id in pending:
            aggregate = pending[aggregate_id]
            return aggregate if isinstance(aggregate, kind) else None
        read: dict[UUID, Any] | None = getattr(self._batch, "read", None)
        if read is None:
            return self._get(aggregate_id, kind, None)
        if aggregate_id not in read:
            try:
                read[aggregate_id] = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                read[aggregate_id] = None
        aggregate = read[aggregate_id]
        # A copy: the handler may change it, and the batch may be applied again one by one.
        return deepcopy(aggregate) if isinstance(aggregate, kind) else None

    def _get(self, aggregate_id: UUID, kind: type[TAggregate], version: int | None
             ) -> TAggregate | None:
        try:
            aggregate: Any = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def prefetch(self, batch: Sequence[InboundEvent]) -> None:
        """Before a batch's handlers run: read at once what they will ask for one by one
        (a service overrides it; ``remember_missing`` is the usual tool)."""

    def remember_missing(self, aggregate_ids: Collection[UUID]) -> None:
        """For the batch being applied: which of ``aggregate_ids`` do not exist yet, in
        one query, so that looking each up later costs nothing."""
        read: dict[UUID, Any] | None = getattr(self._batch, "read", None)
        if read is None:
            return
        wanted = {aggregate_id for aggregate_id in aggregate_ids if aggregate_id not in read}
        if wanted:
            existing = self.inbox_recorder.select_existing(wanted)
            read.update((aggregate_id, None) for aggregate_id in wanted - existing)

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._pending_aggregates():
            return True
        read: dict[UUID, Any] | None = getattr(self._batch, "read", None)
        if read is not None and aggregate_id in read:
            return read[aggregate_id] is not None
        found = bool(self.recorder.select_events(aggregate_id, limit=1))
        if read is not None and not found:
            read[aggregate_id] = None  # created later in the batch, it is pending first
        return found

    def _pending_aggregates(self) -> dict[UUID, Any]:
        batch: ProcessingEvent[UUID] | None = getattr(self._batch, "processing_event", None)
        return batch.aggregates if batch is not None else {}

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    # --- inbound integration events ------------------------------------------

    def process_inbound(self, inbound: InboundEvent, delivery: Delivery | None = None) -> bool:
        """Apply an integration event once. Returns False for one already applied;
        raises ``PoisonMessage`` for one whose identity was applied with other content.

        Its identity (``source`` + ``id``) is recorded in the inbox table in the same
        transaction as the events the policy produces, so a redelivered or re-published
        message can never be applied a second time (``shared/inbox_store.py``).
        """
        entry = inbox_entry(inbound, delivery)
        for _ in range(MAX_CONFLICT_RETRIES):
            if not self._fresh([(inbound, entry)]):
                return False
            processing_event: ProcessingEvent[UUID] = ProcessingEvent()
            self.traced_policy(inbound, processing_event, delivery)
            processing_event.saved_kwargs["inbox"] = [entry]
            try:
                self._record(processing_event)
            except IntegrityError:
                if not self._fresh([(inbound, entry)]):
                    return False
                log.info("inbound event lost a race on an aggregate; retrying",
                         extra={"ce_id": inbound.envelope.id})
                continue
            return True
        raise Conflict(f"could not apply {inbound.envelope.id}: repeated concurrent updates")

    def process_inbound_batch(self, batch: Sequence[tuple[InboundEvent, Delivery | None]]
                              ) -> tuple[int, int]:
        """Apply a batch (in order within each partition), a transaction per chunk of
        consecutive messages (at most about ``MAX_EVENTS_PER_TRANSACTION`` stored events
        each); returns (applied, duplicates). Which ones were applied before is one query
        for the whole batch; each chunk's identities are recorded with its events, so a
        chunk is applied all at once or not at all: on any error the chunk is not written
        and the caller applies the batch one at a time instead (``process_inbound``; the
        chunks already written are duplicates then), so a bad event is reported alone."""
        if not batch:
            return 0, 0
        fresh = self._fresh([(inbound, inbox_entry(inbound, delivery))
                             for inbound, delivery in batch])
        duplicates = len(batch) - len(fresh)
        if not fresh:
            return 0, duplicates
        # What the batch's handlers read, read once for the whole batch: the inbox is the
        # only writer of most of it, and a copy another writer made stale fails the save.
        self._batch.read = {}
        try:
            self.prefetch([inbound for inbound, _ in fresh])
            chunk: list[InboxEntry] = []
            processing_event = self._start_chunk()
            for inbound, entry in fresh:
                self.traced_policy(inbound, processing_event, entry.delivery)
                chunk.append(entry)
                if len(processing_event.events) >= MAX_EVENTS_PER_TRANSACTION:
                    self._record_chunk(processing_event, chunk)
                    chunk, processing_event = [], self._start_chunk()
            if chunk:
                self._record_chunk(processing_event, chunk)
        finally:
            self._batch.processing_event = None
            self._batch.read = None
        return len(fresh), duplicates

    def _start_chunk(self) -> ProcessingEvent[UUID]:
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        self._batch.processing_event = processing_event
        return processing_event

    def _record_chunk(self, processing_event: ProcessingEvent[UUID],
                      entries: list[InboxEntry]) -> None:
        """One transaction: the chunk's events and its messages' identities."""
        processing_event.saved_kwargs["inbox"] = entries
        self._record(processing_event)
        read: dict[UUID, Any] | None = getattr(self._batch, "read", None)
        if read is not None:
            read.update(processing_event.aggregates)

    @property
    def inbox_recorder(self) -> InboxRecorder:
        recorder = self.recorder
        assert isinstance(recorder, InboxRecorder), "configured in __init__"
        return recorder

    def _fresh(self, items: Sequence[tuple[InboundEvent, InboxEntry]]
               ) -> list[tuple[InboundEvent, InboxEntry]]:
        """The items not applied yet (nor earlier in ``items``), in order. An identity
        already applied with different content is poison: raises ``PoisonMessage``."""
        recorder = self.inbox_recorder
        applied = recorder.select_inbox({entry.event_id for _, entry in items})
        fresh = []
        for inbound, entry in items:
            digest = applied.get((entry.event_id, entry.source))
            if digest is None:
                if _applied_before_inbox(recorder, inbound, entry):
                    continue
                applied[(entry.event_id, entry.source)] = entry.digest
                fresh.append((inbound, entry))
            elif digest != entry.digest:
                raise PoisonMessage(
                    "conflicting-duplicate",
                    f"{entry.source} {entry.event_id} was applied before with other content; "
                    "this one is not applied")
        return fresh

    def traced_policy(self, inbound: InboundEvent, processing_event: ProcessingEvent[UUID],
                      delivery: Delivery | None) -> None:
        """``policy`` in a consumer span continuing the event's trace (its traceparent);
        what the policy produces carries this span's trace context."""
        envelope = inbound.envelope
        topic = delivery.topic if delivery is not None else envelope.source
        already = len(processing_event.events)
        with tracing.span(f"process {topic}", kind=SpanKind.CONSUMER,
                          parent=envelope.traceparent, attributes={
                              "messaging.system": "kafka", "messaging.operation.type": "process",
                              "messaging.destination.name": topic,
                              "messaging.message.id": envelope.id,
                              "cloudevents.event_type": envelope.type,
                              "cloudevents.event_source": envelope.source,
                              "marketflow.service": self.settings.service}):
            self.policy(inbound, processing_event)
            stamp_trace_context(processing_event.events, already)

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
            raise LostRace(
                "the record was changed by someone else at the same time; reload and retry"
            ) from None


class LostRace(Conflict):
    """Another writer saved the same aggregate first (optimistic concurrency)."""


def retry_lost_races(command: Callable[P, R]) -> Callable[P, R]:
    """For a use case that acts on the latest state rather than a version the member saw:
    a race lost to a concurrent writer (often the service's own inbound processing, e.g.
    planning following task progress on the same campaign) is run again from a fresh load
    instead of refusing the member's command. Domain refusals are never retried."""

    @functools.wraps(command)
    def retried(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            try:
                return command(*args, **kwargs)
            except LostRace:
                if attempt == MAX_CONFLICT_RETRIES:
                    raise
                log.info("command lost a race on an aggregate; retrying",
                         extra={"command": command.__name__, "attempt": attempt})
        raise AssertionError("unreachable")

    return retried


def stamp_trace_context(events: list[Any], start: int = 0) -> None:
    """Give the events from ``start`` on that have none the current trace context (see
    ``shared/tracing.py``); outside any trace they stay as they are. Events are frozen:
    each stamped one is replaced by a copy before it is stored."""
    traceparent = tracing.current_traceparent()
    if traceparent is None:
        return
    for index in range(start, len(events)):
        event = events[index]
        meta: EventMeta | None = getattr(event, "meta", None)
        if meta is not None and meta.traceparent is None:
            events[index] = event.model_copy(
                update={"meta": meta.model_copy(update={"traceparent": traceparent})})


def inbox_entry(inbound: InboundEvent, delivery: Delivery | None) -> InboxEntry:
    """The identity the inbox records, and a digest of what it stands for: re-publishing
    gives the same digest; a forgery under the same identity does not."""
    envelope = inbound.envelope
    digest = hashlib.sha256()
    for part in (envelope.type, envelope.subject, str(envelope.aggregate_version)):
        digest.update(part.encode() + b"\x00")
    digest.update(inbound.event.__pydantic_serializer__.to_json(inbound.event))
    return InboxEntry(event_id=envelope.id, source=envelope.source,
                      digest=digest.digest(), delivery=delivery)


def _applied_before_inbox(recorder: InboxRecorder, inbound: InboundEvent,
                          entry: InboxEntry) -> bool:
    """What the pre-inbox store would have dropped: created before the inbox table and
    at or below the partition's old ``ce_sequence`` mark (see ``shared/inbox_store.py``)."""
    if entry.delivery is None or not recorder.legacy_marks:
        return False
    mark = recorder.legacy_marks.get(f"inbox:{entry.delivery.topic}:{entry.delivery.partition}")
    return (mark is not None and inbound.envelope.time < mark.recorded_before
            and inbound.envelope.sequence <= mark.position)
