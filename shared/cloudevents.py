"""CloudEvents 1.0 over Kafka, binary content mode.

Attributes travel as ``ce_*`` headers, the body is the event's JSON payload. Marketflow's
extension attributes: ``actor`` (who did it), ``aggregateversion``, ``sequence`` (the
producer's notification id; informative only: consumers deduplicate on ``source`` + ``id``,
see ``shared/inbox_store.py``), ``correlationid``, ``causationid`` and ``reason``. The
standard optional ``dataschema`` attribute names the payload's JSON Schema (its ``$id``),
and the distributed-tracing extension's ``traceparent`` the W3C trace context the event
was committed in (see ``shared/tracing.py``; a malformed one is ignored, never poison).
Every header is described in ``contracts/asyncapi.json``.

``decode`` also checks that a message can be genuine for the topic it arrived on (its
producer): a marketflow service's topic carries only that service's source, its own event
types, ids ``<subject>:<aggregateversion>`` and key = subject. Whatever fails goes to the
dead-letter topic, so no single message can pose as another service's event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from pydantic import ValidationError

from contracts import EVENT_TYPES, IntegrationEvent, schema_id
from contracts.topics import EXTERNAL_TYPES
from shared import tracing
from shared.config import SERVICES

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]

# What the stores accept (SQLite INTEGER, PostgreSQL bigint); larger numbers are poison.
MAX_INTEGER = 2**63 - 1
# Identifiers end up in indexed columns (the inbox) and in keys; longer ones are poison.
MAX_IDENTIFIER_LENGTH = 256
MARKETFLOW_SOURCE_PREFIX = "/marketflow/"
_POSITIVE_INTEGER = re.compile(r"[1-9][0-9]{0,18}")
# Not in identifiers (CloudEvents 1.0 forbids control characters in String attributes;
# PostgreSQL text cannot hold NUL at all).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    time: datetime
    subject: str
    actor: str
    aggregate_version: int
    sequence: int
    correlation_id: str | None = None
    causation_id: str | None = None
    reason: str | None = None
    traceparent: str | None = None


@dataclass(frozen=True)
class InboundEvent:
    envelope: Envelope
    event: IntegrationEvent


class PoisonMessage(Exception):
    """A message no consumer can ever process; it goes to the dead-letter topic."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def encode(envelope: Envelope, event: IntegrationEvent) -> tuple[bytes, Headers]:
    if envelope.type != event.event_type:
        raise ValueError(f"envelope type {envelope.type} does not match {event.event_type}")
    headers: Headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", envelope.id.encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_time", envelope.time.isoformat().encode()),
        ("ce_subject", envelope.subject.encode()),
        ("ce_actor", envelope.actor.encode()),
        ("ce_aggregateversion", str(envelope.aggregate_version).encode()),
        ("ce_sequence", str(envelope.sequence).encode()),
        # The payload's JSON Schema ($id in contracts/schemas/). Derived from the type, so
        # decode need not read it: messages sent before it existed carry none.
        ("ce_dataschema", schema_id(envelope.type).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    for name, value in (
        ("ce_correlationid", envelope.correlation_id),
        ("ce_causationid", envelope.causation_id),
        ("ce_reason", envelope.reason),
        ("ce_traceparent", envelope.traceparent),
    ):
        if value is not None:
            headers.append((name, value.encode()))
    return event.__pydantic_serializer__.to_json(event), headers


def decode(headers: Iterable[tuple[str, bytes]] | None, body: bytes | None, *,
           producer: str | None = None, key: bytes | None = None) -> InboundEvent:
    """Validate a received message against its contract, or raise ``PoisonMessage``.

    ``producer`` is whose topic the message came from (``planning``, ``crm``…) and ``key``
    its Kafka key: given a producer, the message must be one that producer could have
    sent (see ``check_provenance``)."""
    attributes = _header_text(headers or ())
    missing = [
        name
        for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time",
                     "ce_subject", "ce_actor", "ce_aggregateversion", "ce_sequence")
        if not attributes.get(name)
    ]
    if missing:
        raise PoisonMessage("missing-attributes",
                            "missing CloudEvents headers: " + ", ".join(missing))
    if attributes["ce_specversion"] != SPEC_VERSION:
        raise PoisonMessage("unsupported-specversion", attributes["ce_specversion"])
    content_type = attributes.get("content-type", CONTENT_TYPE)
    if content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise PoisonMessage("unsupported-content-type", content_type)
    model = EVENT_TYPES.get(attributes["ce_type"])
    if model is None:
        raise PoisonMessage("unknown-type", f"no contract for type {attributes['ce_type']!r}")
    for name in ("ce_id", "ce_source", "ce_subject"):
        if _CONTROL.search(attributes[name]):
            raise PoisonMessage("invalid-attributes", f"{name} contains a control character")
        if len(attributes[name]) > MAX_IDENTIFIER_LENGTH:
            raise PoisonMessage("invalid-attributes",
                                f"{name} is longer than {MAX_IDENTIFIER_LENGTH} characters")
    try:
        envelope = Envelope(
            id=attributes["ce_id"],
            source=attributes["ce_source"],
            type=attributes["ce_type"],
            time=_time(attributes["ce_time"]),
            subject=attributes["ce_subject"],
            actor=attributes["ce_actor"],
            aggregate_version=_positive_integer("ce_aggregateversion", attributes),
            sequence=_positive_integer("ce_sequence", attributes),
            correlation_id=attributes.get("ce_correlationid"),
            causation_id=attributes.get("ce_causationid"),
            reason=attributes.get("ce_reason"),
            traceparent=tracing.valid_traceparent(attributes.get("ce_traceparent")),
        )
    except ValueError as error:
        raise PoisonMessage("invalid-attributes", str(error)) from error
    if producer is not None:
        check_provenance(envelope, producer, key)
    try:
        payload = orjson.loads(body or b"")
    except orjson.JSONDecodeError as error:
        raise PoisonMessage("undecodable-body", f"body is not JSON: {error}") from error
    try:
        event = model.model_validate(payload)
    except ValidationError as error:
        raise PoisonMessage("invalid-payload", _short(error)) from error
    return InboundEvent(envelope=envelope, event=event)


def check_provenance(envelope: Envelope, producer: str, key: bytes | None) -> None:
    """Refuse what ``producer``'s topic cannot genuinely carry. Deduplication trusts
    ``source`` + ``id``; these checks make sure a message can only ever claim an identity
    of its own topic's producer, consistent with its subject and version."""
    if producer in SERVICES:
        source = MARKETFLOW_SOURCE_PREFIX + producer
        if envelope.source != source:
            raise PoisonMessage("source-mismatch", f"ce_source {envelope.source!r} on "
                                f"{producer}'s topic; expected {source!r}")
        if not envelope.type.startswith(f"marketflow.{producer}."):
            raise PoisonMessage("type-mismatch",
                                f"{envelope.type} is not an event of {producer}")
        expected_id = f"{envelope.subject}:{envelope.aggregate_version}"
        if envelope.id != expected_id:
            raise PoisonMessage("id-mismatch", f"ce_id {envelope.id!r} is not "
                                f"<ce_subject>:<ce_aggregateversion> ({expected_id!r})")
    else:
        if (envelope.source + "/").startswith(MARKETFLOW_SOURCE_PREFIX):
            raise PoisonMessage("source-mismatch", f"ce_source {envelope.source!r} is "
                                f"marketflow's own, not allowed on {producer}'s topic")
        if envelope.type not in EXTERNAL_TYPES.get(producer, frozenset()):
            raise PoisonMessage("type-mismatch",
                                f"{envelope.type} may not be published on {producer}'s topic")
    if key != envelope.subject.encode():
        shown = key[:80].decode(errors="backslashreplace") if key is not None else None
        raise PoisonMessage("key-mismatch", f"Kafka key {shown!r} is not the ce_subject "
                            f"{envelope.subject!r}: per-aggregate order would not hold")


def _positive_integer(name: str, attributes: Mapping[str, str]) -> int:
    text = attributes[name]
    # Strict digits: int() would also take "+1", " 1" or "1_0", and any size at all.
    if not _POSITIVE_INTEGER.fullmatch(text) or int(text) > MAX_INTEGER:
        raise ValueError(f"{name} must be an integer in 1..2^63-1, not {text[:40]!r}")
    return int(text)


def _time(text: str) -> datetime:
    time = datetime.fromisoformat(text)
    if time.tzinfo is None:
        raise ValueError(f"ce_time {text!r} has no UTC offset (RFC 3339 requires one)")
    return time


def _header_text(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    text = {}
    for name, value in headers:
        try:
            text[name.lower()] = value.decode() if value is not None else ""
        except UnicodeDecodeError as error:
            raise PoisonMessage("undecodable-header", f"header {name} is not UTF-8") from error
    return text


def _short(error: ValidationError) -> str:
    problems: Sequence[str] = [
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors()[:5]
    ]
    return "; ".join(problems)
