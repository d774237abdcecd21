"""Transactional outbox: the store's notification log is the outbox; the relay
publishes it to the service's topic and records its position only after Kafka
acknowledged every message (acks=all, idempotent producer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification, Tracking
from pydantic import BaseModel

from contracts import IntegrationEvent
from shared import cloudevents
from shared.application import ServiceApplication
from shared.domain import EventMeta
from shared.leadership import RelayLeadership

log = logging.getLogger(__name__)

MIN_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 30.0
STANDBY_POLL_SECONDS = 1.0
LEADERSHIP_CHECK_SECONDS = 5.0

Translator = Callable[[Any], IntegrationEvent | None]
"""Maps a stored domain event to the integration event others see, or None if private."""


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        producer: AIOKafkaProducer,
        translate: Translator,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.05,
    ) -> None:
        self.app = app
        self.producer = producer
        self.translate = translate
        self.topic = app.settings.topic()
        self.source = app.settings.event_source
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.position_name = f"outbox:{self.topic}"
        self.position = 0
        self.failures = 0
        self.leading = False
        self.leadership = RelayLeadership(app.settings, self.topic)
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Ask for an immediate poll (called after a command commits)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Relay forever. On any failure, start again from the recorded position: what
        was published but not recorded is published again, and consumers drop it."""
        backoff = MIN_BACKOFF_SECONDS
        try:
            while True:
                try:
                    await self._lead()
                    backoff = MIN_BACKOFF_SECONDS
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.failures += 1
                    log.exception("outbox relay failed; resuming from the recorded position",
                                  extra={"topic": self.topic, "retry_in_seconds": backoff})
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            self.leading = False
            await asyncio.to_thread(self.leadership.release)

    async def _lead(self) -> None:
        """Wait to become the leader, then relay for as long as the lock is held."""
        while not await asyncio.to_thread(self.leadership.try_acquire):
            await asyncio.sleep(STANDBY_POLL_SECONDS)
        self.leading = True
        self.position = await asyncio.to_thread(self._recorded_position)
        log.info("outbox relay starting", extra={"topic": self.topic, "position": self.position})
        idle_since = time.monotonic()
        while True:
            if await self.relay_once():
                idle_since = time.monotonic()
                continue
            if time.monotonic() - idle_since > LEADERSHIP_CHECK_SECONDS:
                if not await asyncio.to_thread(self.leadership.still_held):
                    self.leading = False
                    log.warning("lost the outbox relay lock; standing by")
                    return
                idle_since = time.monotonic()
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_seconds)

    async def relay_once(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications,
            start=self.position + 1, limit=self.batch_size,
        )
        if not notifications:
            return 0
        deliveries = []
        for notification in notifications:
            message = self._message_for(notification)
            if message is not None:
                key, body, headers = message
                deliveries.append(
                    await self.producer.send(self.topic, value=body, key=key, headers=headers)
                )
        # Every message acknowledged by all in-sync replicas before the position moves.
        await asyncio.gather(*deliveries)
        last = notifications[-1].id
        await self.before_recording_position(last)
        await asyncio.to_thread(
            self.app.recorder.insert_tracking, Tracking(self.position_name, last)
        )
        self.position = last
        return len(notifications)

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
