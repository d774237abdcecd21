"""Transactional outbox: the store's notification log is the outbox; the relay
publishes it to the service's topic and records its position only after Kafka
acknowledged every message (acks=all, idempotent producer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification, Tracking
from opentelemetry.trace import Span, SpanKind
from pydantic import BaseModel

from contracts import IntegrationEvent
from shared import cloudevents, tracing
from shared.application import ServiceApplication
from shared.config import Settings
from shared.domain import EventMeta
from shared.health import RelayStatus, StallWatch
from shared.leadership import RelayLeadership
from shared.waiting import wait_for_event

log = logging.getLogger(__name__)

MIN_BACKOFF_SECONDS = 0.2
# Bounded low so that the relay resumes within seconds once the cause is fixed.
MAX_BACKOFF_SECONDS = 5.0
STANDBY_POLL_SECONDS = 1.0
LEADERSHIP_CHECK_SECONDS = 5.0
# How many notifications that publish nothing the position may run ahead of the stored one.
POSITION_WRITE_DISTANCE = 5000

Translator = Callable[[Any], IntegrationEvent | None]
"""Maps a stored domain event to the integration event others see, or None if private."""


class RelayBlocked(Exception):
    """The relay cannot get past one notification (the cause is chained)."""

    def __init__(self, notification_id: int, error: BaseException, *, published: bool) -> None:
        super().__init__(f"notification {notification_id}: {type(error).__name__}: {error}")
        self.notification_id = notification_id
        self.error = error
        # The producer failed on it: after a refused batch aiokafka's idempotent
        # producer answers OutOfOrderSequenceNumber forever, so it must be replaced.
        self.published = published


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        new_producer: Callable[[], AIOKafkaProducer],
        translate: Translator,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self.app = app
        self.new_producer = new_producer
        self.producer: AIOKafkaProducer | None = None
        self.translate = translate
        self.topic = app.settings.topic()
        self.source = app.settings.event_source
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.position_name = f"outbox:{self.topic}"
        self.position = 0
        self._written_position = 0  # what the store has; ``position`` may be ahead
        self.failures = 0
        self.leading = False
        self.blocked_at: int | None = None
        self.activity = "starting"
        self.health = StallWatch("outbox relay", app.settings.stall_seconds, logger=log)
        self.leadership = RelayLeadership(app.settings, self.topic)
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Ask for an immediate poll (call in the loop's thread: after a commit, through
        ``loop.call_soon_threadsafe``)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Relay forever. On any failure, start again from the recorded position: what
        was published but not recorded is published again, and consumers drop it."""
        backoff = MIN_BACKOFF_SECONDS
        listener = CommitNotifications.start_for(self.app.settings, self._wake_from_thread())
        try:
            while True:
                try:
                    await self._lead()
                    backoff = MIN_BACKOFF_SECONDS
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self.failures += 1
                    blocked = error if isinstance(error, RelayBlocked) else None
                    self.blocked_at = blocked.notification_id if blocked else None
                    self.health.failed(blocked.error if blocked else error,
                                       topic=self.topic, notification_id=self.blocked_at,
                                       retry_in_seconds=backoff)
                    if blocked is not None and blocked.published:
                        await self._discard_producer()
                    self.activity = f"retrying after a failure (every {backoff:g}s at most)"
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            self.leading = False
            self.activity = "stopped"
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            await self._discard_producer()
            await asyncio.to_thread(self.leadership.release)

    def _wake_from_thread(self) -> Callable[[], None]:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to wake
                loop.call_soon_threadsafe(self.wake)

        return wake

    async def _lead(self) -> None:
        """Wait to become the leader, then relay for as long as the lock is held."""
        while not await asyncio.to_thread(self.leadership.try_acquire):
            self.activity = "standing by: another replica relays"
            await asyncio.sleep(STANDBY_POLL_SECONDS)
        self.position = self._written_position = await asyncio.to_thread(
            self._recorded_position)
        if not self.leading:
            self.leading = True
            self.health.progressed()  # leading from now on; the stall clock starts here
            log.info("leading the outbox relay", extra={"topic": self.topic,
                                                        "position": self.position})
        idle_since = time.monotonic()
        while True:
            # Cleared before reading the log, so a commit during the read is not missed.
            self._wakeup.clear()
            if await self.relay_once():
                idle_since = time.monotonic()
                continue
            self.health.progressed()  # caught up
            self.activity = "idle: everything committed is published"
            if time.monotonic() - idle_since > LEADERSHIP_CHECK_SECONDS:
                if not await asyncio.to_thread(self.leadership.still_held):
                    self.leading = False
                    log.warning("lost the outbox relay lock; standing by")
                    return
                idle_since = time.monotonic()
            await wait_for_event(self._wakeup, self.poll_seconds)

    async def relay_once(self) -> int:
        """Publish the next batch; returns how many notifications it covered.

        Everything before the first notification Kafka did not acknowledge is recorded;
        that one is raised as ``RelayBlocked``. While failing, notifications go one at a
        time, so the one that cannot pass is named exactly and nothing behind it is
        published ahead of it."""
        limit = 1 if self.health.failing else self.batch_size
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications, start=self.position + 1, limit=limit,
        )
        if not notifications:
            return 0
        first, last = notifications[0].id, notifications[-1].id
        span = f"{first}" if first == last else f"{first}..{last}"
        blocked: RelayBlocked | None = None
        deliveries: list[tuple[int, asyncio.Future[Any], Span | None]] = []
        self.activity = f"publishing notifications {span}"
        for notification in notifications:
            try:
                message = self._message_for(notification)
            except Exception as error:  # e.g. an event its translation cannot read
                blocked = RelayBlocked(notification.id, error, published=False)
                break
            if message is None:
                continue
            key, body, headers = message
            # Ends when Kafka acknowledged the message (or refused it).
            publishing = self._publish_span(notification.id, headers)
            try:
                producer = await self._producer()
                deliveries.append((notification.id, await producer.send(
                    self.topic, value=body, key=key, headers=headers), publishing))
            except Exception as error:  # e.g. too large, broker unreachable
                tracing.end_span(publishing, error)
                blocked = RelayBlocked(notification.id, error, published=True)
                break
        # Every message acknowledged by all in-sync replicas before the position moves.
        self.activity = f"waiting for Kafka to acknowledge notifications {span}"
        results = await asyncio.gather(*(d for _, d, _ in deliveries), return_exceptions=True)
        for (_, _, publishing), result in zip(deliveries, results, strict=True):
            tracing.end_span(publishing, result if isinstance(result, BaseException) else None)
        for (notification_id, _, _), result in zip(deliveries, results, strict=True):
            if isinstance(result, BaseException):
                blocked = RelayBlocked(notification_id, result, published=True)
                break
        covered = last if blocked is None else blocked.notification_id - 1
        if covered > self.position:
            # Notifications that publish nothing (most of reporting's) move the position
            # in memory; it is written with the next publication, or once
            # POSITION_WRITE_DISTANCE of them were passed, so a restart re-reads at most
            # that many. The write does not wait for the disk (``record_position``):
            # lost in a server crash, it only has events published again, which
            # consumers drop as they drop any re-publication.
            if deliveries or covered - self._written_position >= POSITION_WRITE_DISTANCE:
                await self.before_recording_position(covered)
                await asyncio.to_thread(self.app.inbox_recorder.record_position,
                                        Tracking(self.position_name, covered))
                self._written_position = covered
            self.position = covered
            self.blocked_at = None
            self.health.progressed()
        if blocked is not None:
            raise blocked
        return len(notifications)

    def _publish_span(self, notification_id: int, headers: cloudevents.Headers) -> Span | None:
        """The publish span, child of the span that committed the event (its stored
        traceparent, sent as ``ce_traceparent``); None for an event committed untraced."""
        found = dict(headers)
        traceparent = found.get("ce_traceparent")
        if traceparent is None or not tracing.enabled():
            return None
        return tracing.start_span(
            f"publish {self.topic}", kind=SpanKind.PRODUCER, parent=traceparent.decode(),
            attributes={"messaging.system": "kafka", "messaging.operation.type": "send",
                        "messaging.destination.name": self.topic,
                        "messaging.message.id": found["ce_id"].decode(),
                        "cloudevents.event_type": found["ce_type"].decode(),
                        "marketflow.service": self.app.settings.service,
                        "marketflow.notification_id": notification_id})

    async def _producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            producer = self.new_producer()
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self.producer = producer
        return self.producer

    async def _discard_producer(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def status(self, running: bool) -> RelayStatus:
        """Where the relay is against the store's head; re-evaluates its state."""
        try:
            head: int | None = await asyncio.to_thread(self.app.max_notification_id)
        except Exception:  # the relay itself reports the store's errors
            head = None
        position = self.position
        if not running:
            state = "stopped"
        elif not self.leading and self.leadership.exclusive:
            # Another replica relays: its recorded position is in the shared store (it
            # may trail by notifications that publish nothing, see relay_once).
            with contextlib.suppress(Exception):
                position = await asyncio.to_thread(self._recorded_position)
            state = "standby"
        else:
            state = self.health.observe(behind=None if head is None else head > position)
        snapshot = self.health.snapshot()
        snapshot["state"] = state
        return RelayStatus(
            **snapshot, topic=self.topic, leading=self.leading, position=position,
            head=head, lag=None if head is None else max(head - position, 0),
            blocked_at=self.blocked_at, activity=self.activity if running else "stopped",
        )

    async def before_recording_position(self, notification_id: int) -> None:
        """Seam for fault-injection tests (a crash between publish and bookkeeping)."""

    def _recorded_position(self) -> int:
        return self.app.recorder.max_tracking_id(self.position_name) or 0

    def _message_for(
        self, notification: Notification
    ) -> tuple[bytes, bytes, cloudevents.Headers] | None:
        domain_event = self.app.mapper.to_domain_event(notification)
        integration_event = self.translate(domain_event)
        if integration_event is None:
            return None
        meta: EventMeta = domain_event.meta  # type: ignore[attr-defined]
        subject: UUID = notification.originator_id  # type: ignore[assignment]
        envelope = cloudevents.Envelope(
            # Deterministic, so a re-published event keeps its id.
            id=f"{subject}:{notification.originator_version}",
            source=self.source,
            type=integration_event.event_type,
            time=domain_event.timestamp,  # type: ignore[attr-defined]
            subject=str(subject),
            actor=meta.actor,
            aggregate_version=notification.originator_version,
            sequence=notification.id,
            correlation_id=meta.correlation_id,
            causation_id=meta.causation_id,
            reason=meta.reason,
            traceparent=meta.traceparent,
        )
        body, headers = cloudevents.encode(envelope, integration_event)
        return str(subject).encode(), body, headers


def translate_by_type(
    table: dict[type[BaseModel], Callable[[Any], IntegrationEvent]],
) -> Translator:
    """A translator from a table of domain event class -> builder."""

    def translate(domain_event: Any) -> IntegrationEvent | None:
        build = table.get(type(domain_event))
        return build(domain_event) if build else None

    return translate


class CommitNotifications:
    """PostgreSQL LISTEN on the store's commit channel, in a thread of its own: every
    replica's commit (the recorder NOTIFYs in each inserting transaction) wakes this
    replica's relay, so the leader publishes at once whoever committed."""

    def __init__(self, settings: Settings, on_commit: Callable[[], None]) -> None:
        self.settings = settings
        self.on_commit = on_commit
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True,
                                        name=f"{settings.service}-commit-listener")

    @classmethod
    def start_for(cls, settings: Settings, on_commit: Callable[[], None]
                  ) -> CommitNotifications | None:
        """A started listener on PostgreSQL; None on SQLite (one process: the in-process
        commit listener is enough)."""
        if settings.store != "postgres":
            return None
        listener = cls(settings, on_commit)
        listener._thread.start()
        return listener

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        backoff = MIN_BACKOFF_SECONDS
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.settings.postgres_url, autocommit=True,
                                     connect_timeout=5) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(
                        sql.Identifier(self.settings.commit_channel)))
                    backoff = MIN_BACKOFF_SECONDS
                    self.on_commit()  # commits while (re)connecting were not heard
                    while not self._stopping.is_set():
                        # Returns at least every second, so stop() is honoured.
                        for _ in connection.notifies(timeout=1.0):
                            self.on_commit()
            except Exception:
                # The fallback poll still runs; only latency suffers meanwhile.
                log.debug("commit listener lost its connection; reconnecting", exc_info=True)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
