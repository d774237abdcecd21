"""CloudEvents 1.0 over Kafka, binary content mode.

Attributes travel as ``ce_*`` headers, the body is the event's JSON payload. Marketflow's
extension attributes: ``actor`` (who did it), ``aggregateversion``, ``sequence`` (the
producer's notification id: consumers track it per partition to drop re-deliveries),
``correlationid``, ``causationid`` and ``reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from pydantic import ValidationError

from contracts import EVENT_TYPES, IntegrationEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]


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
        ("content-type", CONTENT_TYPE.encode()),
    ]
    for name, value in (
        ("ce_correlationid", envelope.correlation_id),
        ("ce_causationid", envelope.causation_id),
        ("ce_reason", envelope.reason),
    ):
        if value is not None:
            headers.append((name, value.encode()))
    return event.__pydantic_serializer__.to_json(event), headers


def decode(headers: Iterable[tuple[str, bytes]] | None, body: bytes | None) -> InboundEvent:
    """Validate a received message against its contract, or raise ``PoisonMessage``."""
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
    try:
        envelope = Envelope(
            id=attributes["ce_id"],
            source=attributes["ce_source"],
            type=attributes["ce_type"],
            time=datetime.fromisoformat(attributes["ce_time"]),
            subject=attributes["ce_subject"],
            actor=attributes["ce_actor"],
            aggregate_version=int(attributes["ce_aggregateversion"]),
            sequence=int(attributes["ce_sequence"]),
            correlation_id=attributes.get("ce_correlationid"),
            causation_id=attributes.get("ce_causationid"),
            reason=attributes.get("ce_reason"),
        )
    except ValueError as error:
        raise PoisonMessage("invalid-attributes", str(error)) from error
    if envelope.sequence < 1:
        raise PoisonMessage("invalid-attributes", "ce_sequence must be a positive integer")
    try:
        payload = orjson.loads(body or b"")
    except orjson.JSONDecodeError as error:
        raise PoisonMessage("undecodable-body", f"body is not JSON: {error}") from error
    try:
        event = model.model_validate(payload)
    except ValidationError as error:
        raise PoisonMessage("invalid-payload", _short(error)) from error
    return InboundEvent(envelope=envelope, event=event)


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
