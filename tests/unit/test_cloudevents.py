from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from contracts import schema_id
from contracts.execution import TaskCompleted
from contracts.schemas import SCHEMA_DIR
from shared import cloudevents
from shared.cloudevents import Envelope, PoisonMessage


def message() -> tuple[bytes, cloudevents.Headers, Envelope, TaskCompleted]:
    task_id, campaign_id = uuid.uuid4(), uuid.uuid4()
    event = TaskCompleted(task_id=task_id, campaign_id=campaign_id)
    envelope = Envelope(
        id=f"{task_id}:3", source="/marketflow/execution", type=event.event_type,
        time=datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC), subject=str(task_id), actor="ben",
        aggregate_version=3, sequence=42, correlation_id="c-1", causation_id="x:1",
        reason="finished",
    )
    body, headers = cloudevents.encode(envelope, event)
    return body, headers, envelope, event


def test_round_trip_keeps_every_attribute() -> None:
    body, headers, envelope, event = message()
    decoded = cloudevents.decode(headers, body)
    assert decoded.envelope == envelope
    assert decoded.event == event
    names = {name for name, _ in headers}
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
            "ce_actor", "content-type"} <= names


def replace_header(headers: cloudevents.Headers, name: str, value: bytes) -> cloudevents.Headers:
    return [(n, value if n == name else v) for n, v in headers]


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda b, h: (b"{", h), "undecodable-body"),
    (lambda b, h: (b'{"task_id": 1}', h), "invalid-payload"),
    (lambda b, h: (b, replace_header(h, "ce_type", b"marketflow.x.y.v1")), "unknown-type"),
    (lambda b, h: (b, [(n, v) for n, v in h if n != "ce_actor"]), "missing-attributes"),
    (lambda b, h: (b, replace_header(h, "ce_specversion", b"0.3")), "unsupported-specversion"),
    (lambda b, h: (b, replace_header(h, "ce_time", b"yesterday")), "invalid-attributes"),
    (lambda b, h: (b, replace_header(h, "ce_sequence", b"0")), "invalid-attributes"),
    (lambda b, h: (b, replace_header(h, "content-type", b"text/xml")),
     "unsupported-content-type"),
    (lambda b, h: (b, replace_header(h, "ce_subject", b"\xff")), "undecodable-header"),
    (lambda b, h: (b, None), "missing-attributes"),
])
def test_poison_is_classified(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    body, headers, _, _ = message()
    body, headers = mutate(body, headers)
    with pytest.raises(PoisonMessage) as caught:
        cloudevents.decode(headers, body)
    assert caught.value.reason == reason


def test_payload_with_unknown_fields_is_refused() -> None:
    body, headers, _, _ = message()
    with pytest.raises(PoisonMessage, match="invalid-payload"):
        cloudevents.decode(headers, body[:-1] + b',"extra":1}')


def test_encode_refuses_an_envelope_of_another_type() -> None:
    _, _, envelope, _ = message()
    other = TaskCompleted(task_id=uuid.uuid4(), campaign_id=uuid.uuid4())
    with pytest.raises(ValueError):
        cloudevents.encode(envelope.__class__(**{**envelope.__dict__, "type": "x"}), other)


def test_every_event_names_its_json_schema_in_dataschema() -> None:
    _, headers, _, event = message()
    sent = dict(headers)
    assert sent["ce_dataschema"] == schema_id(event.event_type).encode()
    schema_file = SCHEMA_DIR / f"{event.event_type}.json"
    assert json.loads(schema_file.read_text())["$id"] == sent["ce_dataschema"].decode()


def test_messages_sent_before_dataschema_existed_still_decode() -> None:
    body, headers, envelope, event = message()
    decoded = cloudevents.decode([(n, v) for n, v in headers if n != "ce_dataschema"], body)
    assert (decoded.envelope, decoded.event) == (envelope, event)
