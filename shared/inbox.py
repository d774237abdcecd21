"""Consuming other services' events: decode, validate, apply exactly once.

FastStream subscribers with ``AckPolicy.NACK_ON_ERROR``: the offset is committed only
after the message was applied (or dead-lettered); a transient failure rewinds to it.
Idempotence does not rest on offsets: the application records each applied event's
identity atomically with its own events (see ``ServiceApplication`` and
``shared/inbox_store.py``).

A message that can never be applied goes to ``<topic>.dlq`` with ``dlq_reason``: it does
not decode or validate, it cannot be genuine for its topic (``cloudevents.decode``), its
identity was applied with other content, the domain refuses it, or its values cannot be
stored. Everything else that fails is retried, so an outage never loses events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError
from eventsourcing.persistence import DataError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from shared import cloudevents, metrics
from shared.application import ServiceApplication
from shared.domain import DomainError
from shared.inbox_store import Delivery

log = logging.getLogger(__name__)

# Pause before a failed message is redelivered, so an outage is not a hot loop.
RETRY_DELAY_SECONDS = 1.0
MAX_BATCH = 500
BATCH_WAIT_MS = 10  # see the subscriber: the idle wait each hop may add
# A gathering inbox's fetch is answered early once this much has come (about a full
# batch of MAX_BATCH events): under load, gathering adds no wait.
INBOUND_GATHER_BYTES = 512 * 1024


Records = tuple[ConsumerRecord[bytes, bytes], ...]
# Errors caused by an event's own values (a number a column cannot hold, text it cannot
# store, a value a model refuses): the same on every attempt, so they are dead-lettered
# instead of retried forever. Anything else (store or broker down, a bug) is retried.
UNPROCESSABLE = (DataError, OverflowError, ValueError)


def _raw_body(message: StreamMessage[Any]) -> bytes:
    # Decoding is ours (cloudevents.decode): a poison body must not fail in the framework.
    return message.body


async def _parse_batch(records: Records,
                       original: Callable[[Records], Awaitable[StreamMessage[Any]]]
                       ) -> StreamMessage[Any]:
    """FastStream's batch parser decodes every header as UTF-8 and drops the whole batch
    (undelivered, never dead-lettered) at the first that is not. It only needs headers
    for its own bookkeeping, so it sees the readable ones; the handler gets the records
    as they came, and ``cloudevents.decode`` dead-letters what it cannot read."""
    message = await original(tuple(map(_readable, records)))
    message.raw_message = records
    return message


def _readable(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    headers = [(name, value) for name, value in record.headers if _is_text(value)]
    if len(headers) == len(record.headers):
        return record
    return dataclasses.replace(record, headers=headers)


def _is_text(value: bytes | None) -> bool:
    if value is None:  # a null header value: the framework would fail on it too
        return False
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


class Inbox:
    def __init__(
        self,
        app: ServiceApplication,
        broker: KafkaBroker,
        producer: AIOKafkaProducer,
        upstream_services: Sequence[str],
    ) -> None:
        self.app = app
        self.producer = producer
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        # (when, what) of the last failure to apply a message: read by /health/status.
        self.last_error: tuple[float, str] | None = None
        settings = app.settings
        # Whose topic is whose: a message must be one its topic's producer could send.
        self.producers = {settings.topic(service): service for service in upstream_services}
        self.topics = list(self.producers)
        if self.topics:
            # One consumer for all upstream topics: one group member, fewer rebalances.
            broker.subscriber(
                *self.topics,
                group_id=settings.consumer_group,
                auto_offset_reset="earliest",
                ack_policy=AckPolicy.NACK_ON_ERROR,
                # Whatever has arrived, up to MAX_BATCH: one offset commit per batch and
                # one store transaction per batch (see process_inbound_batch).
                batch=True,
                max_records=MAX_BATCH,
                parser=_parse_batch,
                # An idle batch subscriber sleeps this long after an empty poll, and what
                # lands meanwhile waits: the default 200 ms made ~100 ms of each hop's
                # latency, 50 ms still ~10 ms.
                batch_timeout_ms=BATCH_WAIT_MS,
                # Without gathering the broker answers a fetch as soon as one message is
                # there (aiokafka's defaults); a gathering service lets it hold the fetch
                # for more (Settings.inbound_gather).
                fetch_min_bytes=INBOUND_GATHER_BYTES if settings.inbound_gather else 1,
                fetch_max_wait_ms=settings.inbound_gather or 500,
                decoder=_raw_body,
                title=f"{settings.service}.inbox",
                description=f"{settings.service} applies upstream events exactly once",
            )(self.handle)

    async def handle(self, body: Any, message: KafkaMessage) -> None:
        raw = message.raw_message
        records: tuple[ConsumerRecord[bytes, bytes], ...] = raw if isinstance(raw, tuple) \
            else (raw,)
        by_partition: dict[tuple[str, int], list[tuple[ConsumerRecord[bytes, bytes],
                                                       cloudevents.InboundEvent]]] = {}
        for record in records:
            try:
                inbound = cloudevents.decode(record.headers, record.value, key=record.key,
                                             producer=self.producers.get(record.topic, ""))
            except cloudevents.PoisonMessage as poison:
                await self.dead_letter(record, poison.reason, poison.detail)
                continue
            by_partition.setdefault((record.topic, record.partition), []).append(
                (record, inbound))
        # One transaction for the whole batch (chunked by size), whatever partitions it
        # spans: dedup is by event identity, and order matters only within a partition,
        # which the concatenation keeps. A commit per partition cost a fsync each.
        items = [item for partition_items in by_partition.values() for item in partition_items]
        if not items:
            return
        batch = [(inbound, _delivery(record)) for record, inbound in items]
        try:
            applied, duplicates = await asyncio.to_thread(self.app.process_inbound_batch, batch)
        except Exception:
            log.info("batch not applied as a whole; applying one by one", exc_info=True,
                     extra={"partitions": len(by_partition), "events": len(items)})
            for record, inbound in items:
                await self.apply_one(record, inbound)
        else:
            self._count(applied, duplicates)
            if duplicates:
                log.info("duplicate deliveries ignored", extra={
                    "partitions": len(by_partition), "duplicates": duplicates})

    def _count(self, applied: int, duplicates: int) -> None:
        """For /health/status (this inbox) and /metrics (the service, process-wide)."""
        service = self.app.settings.service
        self.applied += applied
        self.duplicates += duplicates
        if applied:
            metrics.INBOX_APPLIED.labels(service).inc(applied)
        if duplicates:
            metrics.INBOX_DUPLICATES.labels(service).inc(duplicates)

    async def apply_one(self, record: ConsumerRecord[bytes, bytes],
                        inbound: cloudevents.InboundEvent) -> None:
        try:
            applied = await asyncio.to_thread(self.app.process_inbound, inbound,
                                              _delivery(record))
        except cloudevents.PoisonMessage as poison:
            await self.dead_letter(record, poison.reason, poison.detail)
            return
        except DomainError as refused:
            # Valid message the domain can never accept: retrying would block the partition.
            await self.dead_letter(record, "refused-by-domain", str(refused))
            return
        except UNPROCESSABLE as error:
            await self.dead_letter(record, "unprocessable", f"{type(error).__name__}: {error}")
            return
        except Exception as error:
            self.last_error = (time.time(), f"{record.topic}[{record.partition}] offset "
                                            f"{record.offset}: {type(error).__name__}: {error}")
            log.exception("failed to apply inbound event; will retry",
                          extra={"ce_id": inbound.envelope.id, "topic": record.topic})
            await asyncio.sleep(RETRY_DELAY_SECONDS)
            raise
        if applied:
            self._count(applied=1, duplicates=0)
        else:
            self._count(applied=0, duplicates=1)
            log.info("duplicate delivery ignored", extra={"ce_id": inbound.envelope.id})

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str,
                          detail: str) -> None:
        """The original key, body and headers as they came (a header value may not be
        UTF-8: it is copied as bytes), minus any ``dlq_*`` header the message brought,
        then ours, which are always UTF-8."""
        headers = [(name, value) for name, value in record.headers or ()
                   if not name.lower().startswith("dlq_")]
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_detail", detail[:2000].encode(errors="backslashreplace")),
            ("dlq_consumer", self.app.settings.service.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        dead_letter_topic = record.topic + ".dlq"
        try:
            await (await self.producer.send(
                dead_letter_topic, value=record.value, key=record.key, headers=headers
            ))
        except (MessageSizeTooLargeError, RecordTooLargeError):
            # Our headers pushed a message at the size limit over it: keep the reason and
            # the position (where the original can still be read), not its contents.
            headers.append(("dlq_body_dropped", str(len(record.value or b"")).encode()))
            await (await self.producer.send(
                dead_letter_topic, value=None, key=None,
                headers=[(n, v) for n, v in headers if n.startswith("dlq_")]))
        self.dead_lettered += 1
        metrics.INBOX_DEAD_LETTERED.labels(self.app.settings.service, record.topic,
                                           reason).inc()
        log.warning("message dead-lettered", extra={
            "reason": reason, "detail": detail, "topic": record.topic,
            "partition": record.partition, "offset": record.offset,
        })


def _delivery(record: ConsumerRecord[bytes, bytes]) -> Delivery:
    return Delivery(record.topic, record.partition, record.offset)
