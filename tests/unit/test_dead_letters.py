"""The inbox's last resort, without a broker: what a dead letter carries, what happens
when it would be too large, and which failures are dead-lettered instead of retried."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any, cast

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError
from eventsourcing.persistence import DataError, OperationalError

from contracts import execution
from shared import cloudevents, inbox
from shared.cloudevents import InboundEvent
from shared.config import Settings
from shared.inbox import Inbox


class FakeProducer:
    def __init__(self, refuse_first: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refuse_first = refuse_first

    async def send(self, topic: str, value: bytes | None, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future[None]:
        if self.refuse_first:
            self.refuse_first = False
            raise MessageSizeTooLargeError("The message is 1048600 bytes when serialized")
        self.sent.append({"topic": topic, "value": value, "key": key, "headers": headers})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class FakeApplication:
    def __init__(self, error: Exception) -> None:
        self.settings = Settings(service="execution")
        self.error = error

    def process_inbound(self, *_: Any) -> bool:
        raise self.error


def record(headers: list[tuple[str, bytes]], value: bytes = b"{}") -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic="marketflow.planning.events", partition=2, offset=41,
                          timestamp=0, timestamp_type=0, key=b"k", value=value, checksum=None,
                          serialized_key_size=1, serialized_value_size=len(value),
                          headers=headers)


def make_inbox(producer: FakeProducer, error: Exception | None = None) -> Inbox:
    app = FakeApplication(error or RuntimeError("unused"))
    # No upstream topics: nothing is subscribed, so no broker is needed.
    return Inbox(cast(Any, app), cast(Any, None), cast(Any, producer), ())


def inbound() -> InboundEvent:
    task_id = uuid.uuid4()
    event = execution.TaskStarted(task_id=task_id, campaign_id=uuid.uuid4(), assignee_id="b")
    envelope = cloudevents.Envelope(
        id=f"{task_id}:2", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="ben",
        aggregate_version=2, sequence=1)
    return InboundEvent(envelope, event)


async def test_a_dead_letter_keeps_the_original_and_adds_readable_headers() -> None:
    producer = FakeProducer()
    original = [("ce_actor", b"\xff\xfe"), ("dlq_reason", b"forged-by-sender")]
    await make_inbox(producer).dead_letter(record(original), "undecodable-header",
                                           "header ce_actor \udcff is not UTF-8")
    [sent] = producer.sent
    assert sent["topic"] == "marketflow.planning.events.dlq"
    assert (sent["key"], sent["value"]) == (b"k", b"{}")
    headers = sent["headers"]
    assert ("ce_actor", b"\xff\xfe") in headers  # copied as the bytes it was
    # A message cannot bring its own verdict: only ours is there, and it reads as UTF-8.
    assert [v for n, v in headers if n == "dlq_reason"] == [b"undecodable-header"]
    for name, value in headers:
        if name.startswith("dlq_"):
            value.decode()
    assert dict(headers)["dlq_original_offset"] == b"41"


async def test_a_dead_letter_too_large_for_the_broker_keeps_the_reason_and_position() -> None:
    producer = FakeProducer(refuse_first=True)
    await make_inbox(producer).dead_letter(record([("ce_id", b"x")], value=b"x" * 1000),
                                           "invalid-payload", "too big")
    [sent] = producer.sent
    assert sent["value"] is None and sent["key"] is None
    headers = dict(sent["headers"])
    assert headers["dlq_reason"] == b"invalid-payload"
    assert headers["dlq_body_dropped"] == b"1000"
    assert headers["dlq_original_partition"] == b"2"
    assert "ce_id" not in headers


@pytest.mark.parametrize(("error", "detail"), [
    (OverflowError("Python int too large to convert to SQLite INTEGER"), "OverflowError"),
    (DataError("value out of range for type bigint"), "DataError"),
    (ValueError("bad value"), "ValueError"),
])
async def test_values_no_store_can_hold_are_dead_lettered_not_retried(
    error: Exception, detail: str,
) -> None:
    producer = FakeProducer()
    consumer = make_inbox(producer, error)
    await consumer.apply_one(record([]), inbound())
    [sent] = producer.sent
    headers = dict(sent["headers"])
    assert headers["dlq_reason"] == b"unprocessable"
    assert headers["dlq_detail"].decode().startswith(detail)
    assert consumer.dead_lettered == 1


async def test_an_outage_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "RETRY_DELAY_SECONDS", 0)
    producer = FakeProducer()
    consumer = make_inbox(producer, OperationalError("connection refused"))
    with pytest.raises(OperationalError):  # the offset is not committed: redelivered
        await consumer.apply_one(record([]), inbound())
    assert producer.sent == []
