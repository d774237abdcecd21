"""The AsyncAPI document: valid for the AsyncAPI project's own parser, true to the wiring,
and describing every message the services send."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import EVENT_TYPES, schema_id
from contracts.asyncapi import DEAD_LETTER_MESSAGE, DOCUMENT
from contracts.schemas import SCHEMA_DIR
from contracts.topics import EXTERNAL_TYPES, UPSTREAM, topic
from services.execution import wiring as execution_wiring
from services.notification import wiring as notification_wiring
from services.planning import wiring as planning_wiring
from services.reporting import wiring as reporting_wiring
from shared import cloudevents
from shared.cloudevents import Envelope
from tests.asyncapi_check import check, wire_message
from tests.unit.contract_examples import examples


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return loaded


def test_the_asyncapi_parser_accepts_the_document() -> None:
    result = check()
    assert result.returncode == 0, f"@asyncapi/parser refuses contracts/asyncapi.json:\n" \
                                   f"{result.stderr}"
    assert "Error" not in result.stderr


def test_the_checker_fails_on_a_broken_document(tmp_path, document) -> None:  # type: ignore[no-untyped-def]
    broken = json.loads(json.dumps(document))
    broken["operations"]["planningPublishes"]["messages"].append(
        {"$ref": "#/channels/planningEvents/messages/marketflow.nothing.v1"})
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(broken))
    result = check(path)
    assert result.returncode == 1
    assert "marketflow.nothing.v1" in result.stderr


def test_the_topology_is_the_services_wiring() -> None:
    assert dict(UPSTREAM) == {
        "planning": planning_wiring.UPSTREAM, "execution": execution_wiring.UPSTREAM,
        "notification": notification_wiring.UPSTREAM, "reporting": reporting_wiring.UPSTREAM}
    assert cloudevents.EXTERNAL_TYPES is EXTERNAL_TYPES


def test_every_topic_read_or_written_has_its_channel(document) -> None:  # type: ignore[no-untyped-def]
    read = {topic(producer) for upstream in UPSTREAM.values() for producer in upstream}
    written = {topic(service) for service in ("planning", "execution", "notification")}
    dead_letters = {name + ".dlq" for name in read}
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == read | written | dead_letters
    assert "marketflow.crm.events" in addresses


def operations_of(document: dict[str, Any], service: str, action: str) -> set[str]:
    return {document["channels"][operation["channel"]["$ref"].split("/")[-1]]["address"]
            for operation in document["operations"].values()
            if operation["action"] == action and operation["tags"] == [{"name": service}]}


def test_each_service_sends_and_receives_what_it_really_does(document) -> None:  # type: ignore[no-untyped-def]
    assert operations_of(document, "planning", "send") == {
        "marketflow.planning.events", "marketflow.execution.events.dlq",
        "marketflow.crm.events.dlq"}
    assert operations_of(document, "planning", "receive") == {
        "marketflow.execution.events", "marketflow.crm.events"}
    assert operations_of(document, "reporting", "send") == {
        "marketflow.planning.events.dlq", "marketflow.execution.events.dlq",
        "marketflow.notification.events.dlq"}
    for service, upstream in UPSTREAM.items():
        assert operations_of(document, service, "receive") == {topic(p) for p in upstream}


def test_one_message_per_event_type_named_by_its_ce_type(document) -> None:  # type: ignore[no-untyped-def]
    messages = document["components"]["messages"]
    assert set(messages) == set(EVENT_TYPES) | {DEAD_LETTER_MESSAGE}
    for event_type in EVENT_TYPES:
        message = messages[event_type]
        assert message["name"] == event_type
        assert message["headers"]["properties"]["ce_type"]["const"] == event_type
        assert message["payload"]["$id"] == schema_id(event_type) == \
            message["headers"]["properties"]["ce_dataschema"]["const"]
        checked_in = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text())
        assert checked_in["$id"] == schema_id(event_type)
        assert message["payload"]["properties"].keys() == checked_in["properties"].keys()
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
    planning_channel = document["channels"]["planningEvents"]["messages"]
    assert "marketflow.planning.kpi.measurement_reported.v1" not in planning_channel
    assert list(document["channels"]["crmEvents"]["messages"]) == [
        "marketflow.planning.kpi.measurement_reported.v1"]


def test_the_correlation_id_points_at_the_header_really_sent(document) -> None:  # type: ignore[no-untyped-def]
    location = document["components"]["correlationIds"]["ceCorrelationId"]["location"]
    header = location.removeprefix("$message.header#/")
    _, headers = cloudevents.encode(envelope_for(examples()[0], correlation_id="flow-1"),
                                    examples()[0])
    assert dict(headers)[header] == b"flow-1"


def test_dead_letter_headers_are_the_ones_the_inbox_writes(document) -> None:  # type: ignore[no-untyped-def]
    import inspect

    from shared import inbox
    written = {name for name in ("dlq_reason", "dlq_detail", "dlq_consumer",
                                 "dlq_original_topic", "dlq_original_partition",
                                 "dlq_original_offset", "dlq_body_dropped")
               if f'"{name}"' in inspect.getsource(inbox.Inbox.dead_letter)}
    described = document["components"]["messages"][DEAD_LETTER_MESSAGE]["headers"]
    assert written == set(described["properties"])


def envelope_for(event: Any, **optional: str) -> Envelope:
    """As a relay would wrap ``event``; ``optional``: correlation_id, causation_id, reason."""
    subject = str(uuid.uuid4())
    service = event.event_type.split(".")[1]
    external = next((name for name, types in EXTERNAL_TYPES.items()
                     if event.event_type in types), None)
    return Envelope(
        id=f"{subject}:7" if external is None else f"crm-{uuid.uuid4()}",
        source=f"/marketflow/{service}" if external is None else f"/{external}",
        type=event.event_type, time=datetime(2027, 3, 1, 9, 30, tzinfo=UTC),
        subject=subject, actor="ada", aggregate_version=7, sequence=1234, **optional)


def test_every_message_produced_is_described() -> None:
    """Every contract type, with all optional fields and with none, encoded as the relay
    encodes it, validates against the message the document gives for its ce_type on its
    topic: headers, payload and key."""
    sent = []
    for event in examples():
        external = next((name for name, types in EXTERNAL_TYPES.items()
                         if event.event_type in types), None)
        # With and without the optional extensions, alternately.
        optional = {"correlation_id": "flow-1", "causation_id": "x:1", "reason": "because"} \
            if len(sent) % 2 == 0 else {}
        envelope = envelope_for(event, **optional)
        body, headers = cloudevents.encode(envelope, event)
        producer = external or event.event_type.split(".")[1]
        sent.append(wire_message(topic(producer), envelope.subject.encode(), headers, body))
    result = check(messages=sent)
    assert result.returncode == 0, result.stderr
    assert f"{len(sent)} messages checked, 0 problem(s)" in result.stdout


def test_a_message_the_document_does_not_describe_is_caught() -> None:
    event = examples()[0]
    body, headers = cloudevents.encode(envelope_for(event), event)
    wrong_topic = wire_message("marketflow.notification.events", b"k", headers, body)
    bad_header = wire_message(topic(event.event_type.split(".")[1]), b"k",
                              [(n, b"0" if n == "ce_sequence" else v) for n, v in headers],
                              body)
    result = check(messages=[wrong_topic, bad_header])
    assert result.returncode == 1
    assert "the channel has no such message" in result.stderr
    assert "/ce_sequence must match pattern" in result.stderr
