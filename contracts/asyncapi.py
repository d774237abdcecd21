"""The AsyncAPI 3.0 document of every topic Marketflow reads or writes, generated from the
contract models and ``contracts.topics``. ``python -m contracts.asyncapi`` rewrites
``contracts/asyncapi.json``; a test fails when the checked-in file is stale, and the
AsyncAPI project's own parser checks it (``tests/asyncapi/check.mjs``).

Written for code generators: one message per event type, named by its CloudEvents
``type``, whose payload is the type's JSON Schema and whose headers schema is the
CloudEvents binary-mode headers exactly as ``shared/cloudevents.encode`` sends them (the
type, source and dataschema fixed per message, so the headers tell the type apart).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts import EVENT_TYPES, schema_id
from contracts.schemas import json_schema
from contracts.topics import (
    EXTERNAL_TYPES,
    NAMESPACE,
    SERVICES,
    UPSTREAM,
    producers,
    published_types,
    topic,
)

DOCUMENT = Path(__file__).parent / "asyncapi.json"
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SERVER = "production"
DEAD_LETTER_MESSAGE = "deadLetter"
CORRELATION_ID = "ceCorrelationId"
# What consumers write to ``dlq_reason`` (shared/cloudevents.py, shared/inbox.py,
# shared/application.py): examples, not an enum, so a new reason breaks no client.
DEAD_LETTER_REASONS = (
    "missing-attributes", "unsupported-specversion", "unsupported-content-type",
    "unknown-type", "invalid-attributes", "undecodable-header", "undecodable-body",
    "invalid-payload", "source-mismatch", "type-mismatch", "id-mismatch", "key-mismatch",
    "conflicting-duplicate", "refused-by-domain", "unprocessable",
)
IDENTIFIER = {
    # What decode accepts for ids, sources and subjects (no control characters, ≤ 256).
    "type": "string", "minLength": 1, "maxLength": 256,
    "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
}
POSITIVE_INTEGER_TEXT = {"type": "string", "pattern": "^[1-9][0-9]{0,18}$"}
OFFSET_TEXT = {"type": "string", "pattern": "^(0|[1-9][0-9]{0,18})$"}


def generate() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for producer in producers():
        channels[_channel_id(producer)] = _event_channel(producer)
        if producer in SERVICES:
            operations[f"{producer}Publishes"] = _operation(
                "send", producer, producer,
                f"The {producer} service's outbox relay publishes every committed event, in "
                "order per aggregate (key = aggregate id), re-publishing under the same "
                "ce_id after a crash.")
    for consumer, upstream in UPSTREAM.items():
        for producer in upstream:
            operations[f"{consumer}Receives{producer.title()}Events"] = _operation(
                "receive", consumer, producer,
                f"The {consumer} service's inbox applies each event exactly once "
                f"(consumer group {NAMESPACE}.{consumer}; deduplicated on ce_source + "
                "ce_id); what it can never apply goes to the dead-letter topic.")
    for producer in sorted({p for upstream in UPSTREAM.values() for p in upstream}):
        channels[_channel_id(producer, dead_letters=True)] = _dead_letter_channel(producer)
        for consumer in (c for c, upstream in UPSTREAM.items() if producer in upstream):
            operations[f"{consumer}DeadLetters{producer.title()}Events"] = _operation(
                "send", consumer, producer,
                f"The {consumer} service sets aside a message of {topic(producer)} it can "
                "never apply (undecodable, invalid, not genuine for its topic, refused by "
                "the domain), with the reason and its original position, and moves on.",
                dead_letters=True)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:marketflow:events",
        "info": {
            "title": "Marketflow integration events",
            "version": "1.0.0",
            "description": (
                "Every topic the Marketflow services (planning, execution, notification, "
                "reporting) write or read. Envelope: CloudEvents 1.0 in Kafka binary mode, "
                "attributes as `ce_*` headers, body = the event's JSON payload; one message "
                "per event type, named by its CloudEvents type, a breaking change being a new "
                "type version. Message key = ce_subject = the aggregate id: order holds per "
                "aggregate. Topic names start with the deployment's namespace "
                f"(`MARKETFLOW_NAMESPACE`, `{NAMESPACE}` by default)."),
        },
        "defaultContentType": "application/json",
        "servers": {SERVER: {
            "host": "kafka:9092", "protocol": "kafka",
            "description": "The organisation's Kafka cluster",
        }},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {
                **{event_type: _event_message(event_type) for event_type in sorted(EVENT_TYPES)},
                DEAD_LETTER_MESSAGE: _dead_letter_message(),
            },
            "correlationIds": {CORRELATION_ID: {
                "description": "The correlation id of the flow this event belongs to (the "
                               "CloudEvents extension attribute correlationid).",
                "location": "$message.header#/ce_correlationid",
            }},
        },
    }


def _channel_id(producer: str, *, dead_letters: bool = False) -> str:
    return f"{producer}{'DeadLetters' if dead_letters else 'Events'}"


def _event_channel(producer: str) -> dict[str, Any]:
    address = topic(producer)
    if producer in SERVICES:
        description = (f"Everything the {producer} service publishes, from its outbox: "
                       f"ce_source `/marketflow/{producer}`, ce_id "
                       "`<aggregate id>:<aggregate version>` (stable when re-published).")
    else:
        description = (f"What another system ({producer}) reports to Marketflow. Only the "
                       "message types below are accepted; ce_source is the system's own "
                       "(never `/marketflow/…`); anything else is dead-lettered.")
    return {
        "address": address,
        "title": address,
        "description": description,
        "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}
                     for event_type in published_types(producer)},
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "bindings": {"kafka": {"topic": address, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _dead_letter_channel(producer: str) -> dict[str, Any]:
    address = topic(producer) + ".dlq"
    readers = ", ".join(c for c, upstream in UPSTREAM.items() if producer in upstream)
    return {
        "address": address,
        "title": address,
        "description": (f"Messages of {topic(producer)} a consumer ({readers}) could never "
                        "apply: key, body and headers as they came, plus `dlq_*` headers "
                        "saying why and where the original is."),
        "messages": {DEAD_LETTER_MESSAGE: {
            "$ref": f"#/components/messages/{DEAD_LETTER_MESSAGE}"}},
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "bindings": {"kafka": {"topic": address, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(action: str, service: str, producer: str, description: str, *,
               dead_letters: bool = False) -> dict[str, Any]:
    channel = _channel_id(producer, dead_letters=dead_letters)
    names = [DEAD_LETTER_MESSAGE] if dead_letters else published_types(producer)
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "title": f"{service} {'receives' if action == 'receive' else 'sends'} "
                 f"{topic(producer)}{'.dlq' if dead_letters else ''}",
        "description": description,
        "tags": [{"name": service}],
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names],
    }
    if action == "receive":
        operation["bindings"] = {"kafka": {
            "groupId": {"type": "string", "enum": [f"{NAMESPACE}.{service}"]},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }}
    return operation


def _event_message(event_type: str) -> dict[str, Any]:
    model = EVENT_TYPES[event_type]
    summary, _, details = (model.__doc__ or "").strip().partition("\n\n")
    message: dict[str, Any] = {
        "name": event_type,
        "title": model.__name__,
        "contentType": "application/json",
        "headers": _event_headers(event_type),
        "payload": _payload(event_type),
        "correlationId": {"$ref": f"#/components/correlationIds/{CORRELATION_ID}"},
        "bindings": {"kafka": {
            "key": {**IDENTIFIER, "description": "The aggregate id (= ce_subject): "
                                                 "per-aggregate order."},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
    }
    if summary:
        message["summary"] = " ".join(summary.split())
    if details:
        message["description"] = details.strip()
    return message


def _payload(event_type: str) -> dict[str, Any]:
    """The type's JSON Schema (``contracts/schemas/<type>.json``, same ``$id``), without
    ``$schema`` (the document's schema format applies) and with its ``$defs`` inlined: a
    ``#/$defs/…`` reference inside a document would point at the document's root."""
    schema = json_schema(event_type)
    del schema["$schema"]
    definitions = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, definitions, ())
    return inlined


def _inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        name = reference.removeprefix("#/$defs/")
        if name in seen:
            raise ValueError(f"recursive contract {name}: cannot be inlined")
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**_inline(definitions[name], definitions, (*seen, name)),
                **_inline(siblings, definitions, seen)}
    return {key: _inline(value, definitions, seen) for key, value in node.items()}


def _event_headers(event_type: str) -> dict[str, Any]:
    producer = next((name for name, types in EXTERNAL_TYPES.items() if event_type in types),
                    None)
    if producer is None:
        service = event_type.split(".")[1]
        source: dict[str, Any] = {"type": "string", "const": f"/marketflow/{service}",
                                  "description": "The publishing service."}
        event_id = {**IDENTIFIER, "description": "`<aggregate id>:<aggregate version>`: "
                    "unique per source, the same when the event is published again."}
    else:
        source = {**IDENTIFIER, "not": {"pattern": "^/marketflow(/|$)"},
                  "description": f"The reporting system's own source (e.g. `/{producer}`)."}
        event_id = {**IDENTIFIER, "description": "Unique per source; consumers apply an "
                    "event once per ce_source + ce_id."}
    text = {"type": "string"}
    return {
        "type": "object",
        "title": f"{EVENT_TYPES[event_type].__name__}Headers",
        "description": "CloudEvents 1.0 attributes as Kafka headers (binary content mode), "
                       "UTF-8 text. Other headers may be present and are ignored.",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time",
                     "ce_subject", "ce_actor", "ce_aggregateversion", "ce_sequence"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": event_id,
            "ce_source": source,
            "ce_type": {"type": "string", "const": event_type},
            "ce_time": {"type": "string", "format": "date-time",
                        "description": "When it happened (RFC 3339, with offset)."},
            "ce_subject": {**IDENTIFIER, "description": "The aggregate id; also the key."},
            "ce_dataschema": {"type": "string", "const": schema_id(event_type),
                              "description": "The payload's JSON Schema `$id`. Absent on "
                                             "messages published before it was added."},
            "content-type": {"type": "string", "pattern": "^application/json\\s*(;.*)?$",
                             "description": "`application/json` (assumed when absent)."},
            "ce_actor": {**text, "description": "Extension: the member or system component "
                                                "who caused it."},
            "ce_aggregateversion": {**POSITIVE_INTEGER_TEXT,
                                    "description": "Extension: the aggregate's version "
                                                   "after this event (decimal)."},
            "ce_sequence": {**POSITIVE_INTEGER_TEXT,
                            "description": "Extension: the producer's position (its store's "
                                           "notification id, decimal); informative only."},
            "ce_correlationid": {**text, "description": "Extension: the flow this event "
                                                       "belongs to (optional)."},
            "ce_causationid": {**text, "description": "Extension: the ce_id of the event "
                                                     "that caused this one (optional)."},
            "ce_reason": {**text, "description": "Extension: why, in the actor's words "
                                                "(optional)."},
            "ce_traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "Extension (CloudEvents distributed tracing): the W3C trace "
                               "context the event was committed in, so a consumer's "
                               "processing continues the trace (optional; absent for "
                               "events committed outside any trace; a malformed value "
                               "is ignored).",
            },
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER_MESSAGE,
        "title": "DeadLetter",
        "summary": "A message a consumer could never apply, set aside so the partition "
                   "moves on.",
        "description": (
            "Key, body and headers are the original's (a header value that was not UTF-8 is "
            "copied as bytes; `dlq_*` headers it brought are dropped), followed by the "
            "consumer's `dlq_*` headers. When the original plus these headers would be too "
            "large, key and body are dropped and only the `dlq_*` headers remain, with "
            "`dlq_body_dropped` = the original body's size: read the original at "
            "`dlq_original_topic`/`dlq_original_partition`/`dlq_original_offset`."),
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "title": "DeadLetterHeaders",
            "required": ["dlq_reason", "dlq_detail", "dlq_consumer", "dlq_original_topic",
                         "dlq_original_partition", "dlq_original_offset"],
            "properties": {
                "dlq_reason": {"type": "string", "examples": list(DEAD_LETTER_REASONS),
                               "description": "Why it can never be applied (a short code)."},
                "dlq_detail": {"type": "string", "maxLength": 2000,
                               "description": "What exactly was wrong, for a person."},
                "dlq_consumer": {"type": "string", "enum": list(SERVICES),
                                 "description": "The service that set it aside."},
                "dlq_original_topic": {"type": "string"},
                "dlq_original_partition": OFFSET_TEXT,
                "dlq_original_offset": OFFSET_TEXT,
                "dlq_body_dropped": {**OFFSET_TEXT, "description": "Present only when key "
                                     "and body were dropped: the original body's size."},
            },
        },
        "payload": {"description": "The original body, byte for byte (usually the event's "
                                   "JSON, but possibly what could not be decoded)."},
        "bindings": {"kafka": {
            "key": {"type": ["string", "null"], "description": "The original key."},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
    }


def main() -> int:
    DOCUMENT.write_text(generate())
    print(f"wrote {DOCUMENT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
