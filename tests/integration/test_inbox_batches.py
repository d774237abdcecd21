"""Inbound events arrive in batches applied in one transaction per partition; a batch
with an event the domain refuses falls back to one at a time, so only that event is
dead-lettered and the others are applied exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts import execution as execution_contract
from services.reporting import handlers as reporting_handlers
from services.reporting import wiring as reporting_wiring
from shared import cloudevents
from shared.domain import InvalidCommand
from shared.runtime import ServiceParts, ensure_topics
from tests.harness import (
    BUILDERS,
    Environment,
    eventually,
    publish_raw,
    read_topic,
    start_service,
    tuned,
)

pytestmark = pytest.mark.integration
REFUSED_TITLE = "refuse me"


def refusing_archive(app: Any, inbound: cloudevents.InboundEvent, processing: Any) -> None:
    if getattr(inbound.event, "title", None) == REFUSED_TITLE:
        raise InvalidCommand("this event cannot be archived")
    reporting_handlers.archive(app, inbound, processing)


def task_opened(sequence: int, task_id: uuid.UUID, campaign_id: uuid.UUID, title: str
                ) -> tuple[bytes, bytes, cloudevents.Headers]:
    """Version ``sequence`` of one task: all of them share a key, hence a partition."""
    event = execution_contract.TaskOpened(task_id=task_id, campaign_id=campaign_id,
                                          title=title, role="writer",
                                          due_date=dt.date(2027, 5, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:{sequence}", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=sequence, sequence=sequence)
    body, headers = cloudevents.encode(envelope, event)
    return str(task_id).encode(), body, headers


async def test_a_refused_event_in_a_batch_is_dead_lettered_alone(
    sqlite_env: Environment, monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = sqlite_env
    original_build = reporting_wiring.build

    def build(settings: Any) -> ServiceParts:
        parts = original_build(settings)
        parts.application.handlers = {
            **parts.application.handlers, execution_contract.TaskOpened: refusing_archive}
        return parts

    monkeypatch.setitem(BUILDERS, "reporting", build)
    settings = env.settings("execution")
    topic = settings.topic()
    await ensure_topics(settings, topic)
    campaign_id, task_id = uuid.uuid4(), uuid.uuid4()
    titles = ["first", "second", REFUSED_TITLE, "fourth", "fifth"]
    messages = [task_opened(n, task_id, campaign_id, title)
                for n, title in enumerate(titles, start=1)]
    await publish_raw(env.kafka_bootstrap, topic, messages + messages)  # all re-delivered

    reporting = await start_service(env, "reporting")  # all ten are waiting: one batch
    try:
        inbox = reporting.runtime.inbox
        assert inbox is not None
        await eventually(lambda: _true(inbox.applied + inbox.dead_lettered >= 5),
                         what="the batch to be applied")
        await eventually(lambda: _true(inbox.dead_lettered >= 1), what="the refusal")
        response = await reporting.http.get(f"/campaigns/{campaign_id}/history",
                                            headers={"Authorization": "Bearer token-anna"})
        archived = [event["data"]["title"] for event in response.json()["events"]]
        assert archived == ["first", "second", "fourth", "fifth"]
        assert inbox.applied == 4
    finally:
        await reporting.stop()

    dead = await read_topic(env.kafka_bootstrap, topic + ".dlq")
    assert {dict(record.headers)["dlq_reason"] for record in dead} == {b"refused-by-domain"}
    assert all(REFUSED_TITLE.encode() in record.value for record in dead)


async def _true(value: bool) -> bool:
    return value


async def test_a_gathering_inbox_applies_the_events_of_one_moment_as_one_batch(
    sqlite_env: Environment,
) -> None:
    """Events landing one by one, 15 ms apart, within a service's gathering time are
    applied in at most two batches (one if no fetch ends between them), not one each."""
    env = tuned(sqlite_env, inbound_gather_ms=1000)
    settings = env.settings("execution")
    topic = settings.topic()
    await ensure_topics(settings, topic)
    batches: list[int] = []

    def counting(runtime: Any) -> None:
        apply_batch = runtime.application.process_inbound_batch

        def counted(batch: Any) -> Any:
            batches.append(len(batch))
            return apply_batch(batch)

        runtime.application.process_inbound_batch = counted

    campaign_id, task_id = uuid.uuid4(), uuid.uuid4()
    reporting = await start_service(env, "reporting", customize=counting)
    producer = AIOKafkaProducer(bootstrap_servers=env.kafka_bootstrap)
    await producer.start()
    try:
        inbox = reporting.runtime.inbox
        assert inbox is not None
        # A first event, applied: the consumer has its partitions and waits for more.
        await _send(producer, topic, task_opened(1, task_id, campaign_id, "1"))
        await eventually(lambda: _true(inbox.applied == 1), what="the first event")
        batches.clear()
        for sequence in range(2, 12):
            await _send(producer, topic,
                        task_opened(sequence, task_id, campaign_id, str(sequence)))
            await asyncio.sleep(0.015)
        await eventually(lambda: _true(inbox.applied == 11), what="the ten others")
    finally:
        await producer.stop()
        await reporting.stop()
    assert sum(batches) == 10
    assert len(batches) <= 2, f"applied in {len(batches)} batches: {batches}"


async def _send(producer: AIOKafkaProducer, topic: str,
                message: tuple[bytes, bytes, cloudevents.Headers]) -> None:
    key, body, headers = message
    await producer.send_and_wait(topic, body, key=key, headers=headers)
