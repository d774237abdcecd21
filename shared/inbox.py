"""Consuming other services' events: decode, validate, apply exactly once.

FastStream subscribers with ``AckPolicy.NACK_ON_ERROR``: the offset is committed only
after the message was applied (or dead-lettered); a transient failure rewinds to it.
Idempotence does not rest on offsets: the application records a tracking position per
(topic, partition) atomically with its own events (see ``ServiceApplication``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from eventsourcing.persistence import Tracking
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from shared import cloudevents
from shared.application import ServiceApplication
from shared.domain import DomainError

log = logging.getLogger(__name__)

# Pause before a failed message is redelivered, so an outage is not a hot loop.
RETRY_DELAY_SECONDS = 1.0
MAX_BATCH = 500


def _raw_body(message: StreamMessage[Any]) -> bytes:
    # Decoding is ours (cloudevents.decode): a poison body must not fail in the framework.
    return message.body


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
        self.topics = [settings.topic(service) for service in upstream_services]
        if self.topics:
            # One consumer for all upstream topics: one group member, fewer rebalances.
            broker.subscriber(
                *self.topics,
                group_id=settings.consumer_group,
                auto_offset_reset="earliest",
                ack_policy=AckPolicy.NACK_ON_ERROR,
                # Whatever has arrived, up to MAX_BATCH: one offset commit per batch and
                # one store transaction per partition (see process_inbound_batch).
                batch=True,
                max_records=MAX_BATCH,
                # An idle batch subscriber sleeps this long after an empty poll, and what
                # lands meanwhile waits: the default 200 ms made ~100 ms of each hop's
                # latency. (fetch_max_wait_ms does not matter: the broker answers a fetch
                # as soon as one message is there.)
                batch_timeout_ms=50,
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
                inbound = cloudevents.decode(record.headers, record.value)
            except cloudevents.PoisonMessage as poison:
                await self.dead_letter(record, poison.reason, poison.detail)
                continue
            by_partition.setdefault((record.topic, record.partition), []).append(
                (record, inbound))
        for (topic, partition), items in by_partition.items():
            name = f"inbox:{topic}:{partition}"
            batch = [(inbound, Tracking(name, inbound.envelope.sequence))
                     for _, inbound in items]
            try:
                applied, duplicates = await asyncio.to_thread(
                    self.app.process_inbound_batch, batch)
            except Exception:
                log.info("batch not applied as a whole; applying one by one",
                         exc_info=True, extra={"topic": topic, "partition": partition,
                                               "events": len(items)})
                for record, inbound in items:
                    await self.apply_one(record, inbound)
            else:
                self.applied += applied
                self.duplicates += duplicates
                if duplicates:
                    log.info("duplicate deliveries ignored", extra={
                        "topic": topic, "partition": partition, "duplicates": duplicates})

    async def apply_one(self, record: ConsumerRecord[bytes, bytes],
                        inbound: cloudevents.InboundEvent) -> None:
        tracking = Tracking(f"inbox:{record.topic}:{record.partition}", inbound.envelope.sequence)
        try:
            applied = await asyncio.to_thread(self.app.process_inbound, inbound, tracking)
        except DomainError as refused:
            # Valid message the domain can never accept: retrying would block the partition.
            await self.dead_letter(record, "refused-by-domain", str(refused))
            return
        except Exception as error:
            self.last_error = (time.time(), f"{record.topic}[{record.partition}] offset "
                                            f"{record.offset}: {type(error).__name__}: {error}")
            log.exception("failed to apply inbound event; will retry",
                          extra={"ce_id": inbound.envelope.id, "topic": record.topic})
            await asyncio.sleep(RETRY_DELAY_SECONDS)
            raise
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
            log.info("duplicate delivery ignored", extra={"ce_id": inbound.envelope.id})

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str,
                          detail: str) -> None:
        headers = list(record.headers or ())
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_detail", detail[:2000].encode()),
            ("dlq_consumer", self.app.settings.service.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        dead_letter_topic = record.topic + ".dlq"
        await (await self.producer.send(
            dead_letter_topic, value=record.value, key=record.key, headers=headers
        ))
        self.dead_lettered += 1
        log.warning("message dead-lettered", extra={
            "reason": reason, "detail": detail, "topic": record.topic,
            "partition": record.partition, "offset": record.offset,
        })
