"""Replaying dead letters: after the cause is fixed (a consumer's bug, a contract), put the
messages a consumer set aside in ``<topic>.dlq`` (see ``shared/inbox.py``) back on their
original topic, as they were: same key, same body, same headers minus the ``dlq_*`` ones.

The replay reads the dead-letter topic in a consumer group of its own
(``<namespace>.dlq-replay``) and commits each partition's offset once the records before it
are back on their topic (acks=all): a second run replays only what was dead-lettered
since. Should it die between publishing and committing, the next run publishes those
again; consumers drop them as duplicates (their inbox records each event's identity), so
effects still happen once. Every consumer of the topic receives a replayed message, also
those that had applied it: they drop it the same way.

A dead letter whose body was too large to keep (``dlq_body_dropped``) cannot be replayed:
it is listed as skipped (its original is still on the topic at the position it names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.config import Settings

DEAD_LETTER_PREFIX = "dlq_"
READ_TIMEOUT_MS = 1000


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, as the replay sees it."""

    partition: int
    offset: int
    original_topic: str
    original_partition: str
    original_offset: str
    reason: str
    consumer: str
    replayable: bool


def replay_group(settings: Settings) -> str:
    """The replay's own consumer group: its offsets say what has been replayed."""
    return f"{settings.namespace}.dlq-replay"


def describe(record: ConsumerRecord[bytes, bytes], default_topic: str) -> DeadLetter:
    headers = {name: value for name, value in record.headers or ()}

    def header(name: str, default: str = "?") -> str:
        value = headers.get(name)
        return default if value is None else value.decode(errors="backslashreplace")

    return DeadLetter(
        partition=record.partition, offset=record.offset,
        original_topic=header("dlq_original_topic", default_topic),
        original_partition=header("dlq_original_partition"),
        original_offset=header("dlq_original_offset"),
        reason=header("dlq_reason"), consumer=header("dlq_consumer"),
        replayable="dlq_body_dropped" not in headers)


def without_dead_letter_headers(record: ConsumerRecord[bytes, bytes]
                                ) -> list[tuple[str, bytes]]:
    return [(name, value) for name, value in record.headers or ()
            if not name.lower().startswith(DEAD_LETTER_PREFIX)]


async def replay(settings: Settings, topic: str, *, dry_run: bool,
                 on_record: Callable[[DeadLetter], None] = lambda _: None
                 ) -> list[DeadLetter]:
    """Replay what ``<topic>.dlq`` holds beyond the replay group's committed offsets, up
    to its end as of now; with ``dry_run`` only list it (nothing is sent or committed)."""
    dead_letter_topic = topic + ".dlq"
    consumer = AIOKafkaConsumer(
        **settings.kafka_client_options(), group_id=replay_group(settings),
        enable_auto_commit=False, auto_offset_reset="earliest",
        client_id=f"{replay_group(settings)}.consumer")
    producer = None if dry_run else AIOKafkaProducer(
        **settings.kafka_client_options(), enable_idempotence=True, acks="all",
        max_request_size=settings.kafka_max_message_bytes,
        client_id=f"{replay_group(settings)}.producer")
    await consumer.start()
    try:
        if producer is not None:
            await producer.start()
        partitions = await _partitions(settings, dead_letter_topic)
        assigned = [TopicPartition(dead_letter_topic, number) for number in partitions]
        consumer.assign(assigned)
        ends = await consumer.end_offsets(assigned)
        seen: list[DeadLetter] = []
        for partition in assigned:
            seen += await _replay_partition(consumer, producer, partition, ends[partition],
                                            topic, on_record)
        return seen
    finally:
        if producer is not None:
            await producer.stop()
        await consumer.stop()


async def _partitions(settings: Settings, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**settings.kafka_client_options())
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description["error_code"] != 0 or not description["partitions"]:
        raise ValueError(f"no topic {topic}")
    return sorted(int(partition["partition"]) for partition in description["partitions"])


async def _replay_partition(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer | None,
                            partition: TopicPartition, end: int, topic: str,
                            on_record: Callable[[DeadLetter], None]) -> list[DeadLetter]:
    seen: list[DeadLetter] = []
    while await consumer.position(partition) < end:
        batch = (await consumer.getmany(partition, timeout_ms=READ_TIMEOUT_MS)
                 ).get(partition, [])
        records = [record for record in batch if record.offset < end]
        for record in records:
            letter = describe(record, topic)
            seen.append(letter)
            on_record(letter)
            if producer is not None and letter.replayable:
                await (await producer.send(letter.original_topic, value=record.value,
                                           key=record.key,
                                           headers=without_dead_letter_headers(record)))
        if producer is not None and records:
            # Only after the broker acknowledged every replayed record of the batch.
            await consumer.commit({partition: records[-1].offset + 1})
        if batch and batch[-1].offset >= end - 1:
            break
    return seen
