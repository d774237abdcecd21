"""What ``cloudevents.decode`` refuses before anything is deduplicated or applied: messages
that cannot be genuine for their topic, and numbers or text the stores cannot hold."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from contracts.execution import TaskCompleted
from contracts.planning import KpiMeasurementReported
from shared import cloudevents
from shared.cloudevents import Envelope, Headers, PoisonMessage

Message = tuple[bytes, Headers, bytes]
"""(body, headers, key)"""


def execution_message() -> Message:
    task_id = uuid.uuid4()
    event = TaskCompleted(task_id=task_id, campaign_id=uuid.uuid4())
    envelope = Envelope(
        id=f"{task_id}:3", source="/marketflow/execution", type=event.event_type,
        time=datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC), subject=str(task_id), actor="ben",
        aggregate_version=3, sequence=42)
    body, headers = cloudevents.encode(envelope, event)
    return body, headers, str(task_id).encode()


def crm_message() -> Message:
    goal_id = uuid.uuid4()
    event = KpiMeasurementReported(goal_id=goal_id, value=12, measured_on=date(2027, 3, 1),
                                   source="crm", external_id="m-1")
    envelope = Envelope(
        id="crm-measurement-17", source="/crm", type=event.event_type,
        time=datetime(2027, 3, 1, tzinfo=UTC), subject=str(goal_id), actor="system:crm",
        aggregate_version=1, sequence=17)
    body, headers = cloudevents.encode(envelope, event)
    return body, headers, str(goal_id).encode()


def replace_header(headers: Headers, name: str, value: bytes) -> Headers:
    return [(n, value if n == name else v) for n, v in headers]


def header(headers: Headers, name: str) -> bytes:
    return dict(headers)[name]


def reason_of(message: Message, producer: str | None) -> str:
    body, headers, key = message
    with pytest.raises(PoisonMessage) as caught:
        cloudevents.decode(headers, body, producer=producer, key=key)
    assert caught.value.detail
    return caught.value.reason


Mutation = Callable[[Message], Message]


def with_header(name: str, value: bytes) -> Mutation:
    return lambda m: (m[0], replace_header(m[1], name, value), m[2])


def test_genuine_messages_pass_their_own_topics_checks() -> None:
    body, headers, key = execution_message()
    decoded = cloudevents.decode(headers, body, producer="execution", key=key)
    assert decoded.envelope.aggregate_version == 3
    body, headers, key = crm_message()
    assert cloudevents.decode(headers, body, producer="crm", key=key).envelope.source == "/crm"


@pytest.mark.parametrize(("mutate", "reason"), [
    # A service's topic carries only that service's source...
    (with_header("ce_source", b"/marketflow/planning"), "source-mismatch"),
    (with_header("ce_source", b"/crm"), "source-mismatch"),
    # ...its own event types...
    (with_header("ce_type", b"marketflow.planning.campaign.cancelled.v1"), "type-mismatch"),
    # ...ids derived from subject and version (what re-publishing keeps stable)...
    (with_header("ce_id", b"something-else"), "id-mismatch"),
    (lambda m: (m[0], replace_header(m[1], "ce_id", header(m[1], "ce_id")[:-1] + b"4"), m[2]),
     "id-mismatch"),
    # ...and the key of the aggregate it is about (per-aggregate order).
    (lambda m: (m[0], m[1], uuid.uuid4().bytes), "key-mismatch"),
    (lambda m: (m[0], m[1], b""), "key-mismatch"),
])
def test_what_a_service_topic_cannot_genuinely_carry(mutate: Mutation, reason: str) -> None:
    assert reason_of(mutate(execution_message()), producer="execution") == reason


def test_a_null_key_is_not_the_subject() -> None:
    body, headers, _ = execution_message()
    with pytest.raises(PoisonMessage, match="key-mismatch"):
        cloudevents.decode(headers, body, producer="execution", key=None)


@pytest.mark.parametrize(("mutate", "reason"), [
    # Other systems never speak as marketflow...
    (with_header("ce_source", b"/marketflow/planning"), "source-mismatch"),
    (with_header("ce_source", b"/marketflow"), "source-mismatch"),
    # ...and publish only the types marketflow takes from them.
    (with_header("ce_type", b"marketflow.planning.campaign.cancelled.v1"), "type-mismatch"),
    (lambda m: (m[0], m[1], b"another-goal"), "key-mismatch"),
])
def test_what_the_crm_topic_cannot_carry(mutate: Mutation, reason: str) -> None:
    assert reason_of(mutate(crm_message()), producer="crm") == reason


def test_a_topic_of_an_unknown_producer_accepts_nothing() -> None:
    assert reason_of(crm_message(), producer="erp") == "type-mismatch"


def test_other_systems_choose_their_own_ids_and_sources() -> None:
    body, headers, key = crm_message()
    headers = replace_header(replace_header(headers, "ce_id", b"any id they like"),
                             "ce_source", b"https://crm.example.com/marketflow")
    assert cloudevents.decode(headers, body, producer="crm", key=key).envelope.id \
        == "any id they like"


@pytest.mark.parametrize("value", [
    b"100000000000000000000", b"9223372036854775808", b"0", b"-1", b"+1", b" 1", b"1_0",
    b"01", b"1.0", b"\xd9\xa1",  # ARABIC-INDIC DIGIT ONE: int() would take it
])
@pytest.mark.parametrize("name", ["ce_sequence", "ce_aggregateversion"])
def test_numbers_outside_what_the_stores_hold_are_poison(name: str, value: bytes) -> None:
    body, headers, _ = execution_message()
    with pytest.raises(PoisonMessage) as caught:
        cloudevents.decode(replace_header(headers, name, value), body)
    assert caught.value.reason == "invalid-attributes"
    assert name in caught.value.detail


def test_the_largest_number_the_stores_hold_is_accepted() -> None:
    body, headers, _ = execution_message()
    headers = replace_header(headers, "ce_sequence", str(2**63 - 1).encode())
    assert cloudevents.decode(headers, body).envelope.sequence == 2**63 - 1


@pytest.mark.parametrize(("name", "value"), [
    ("ce_id", b"x\x00:3"), ("ce_source", b"/crm\n"), ("ce_subject", b"a\x7fb"),
    ("ce_id", b"x" * 257), ("ce_source", b"/" + b"s" * 256),
    ("ce_time", b"2027-01-02T03:04:05"),  # no UTC offset
])
def test_identifiers_and_times_the_stores_cannot_use_are_poison(name: str, value: bytes
                                                                ) -> None:
    body, headers, _ = execution_message()
    with pytest.raises(PoisonMessage, match="invalid-attributes"):
        cloudevents.decode(replace_header(headers, name, value), body)


def test_a_reason_may_span_lines() -> None:
    body, headers, _ = execution_message()
    headers = [*headers, ("ce_reason", b"holiday\nback on Monday")]
    assert cloudevents.decode(headers, body).envelope.reason == "holiday\nback on Monday"


@pytest.mark.parametrize("name", ["ce_actor", "ce_reason", "x-anything"])
def test_a_header_that_is_not_utf8_is_poison(name: str) -> None:
    body, headers, key = execution_message()
    headers = [(n, v) for n, v in headers if n != name] + [(name, b"\xff\xfe")]
    with pytest.raises(PoisonMessage, match="undecodable-header"):
        cloudevents.decode(headers, body, producer="execution", key=key)
