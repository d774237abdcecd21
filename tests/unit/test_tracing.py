"""Trace context: carried by events (stored meta, ``ce_traceparent``), continued by a
consumer's processing, passed on when tracing is off; spans and log ids when it is on."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id

from contracts import execution
from services.notification.application import NotificationApplication
from services.notification.wiring import build
from shared import cloudevents, tracing
from shared.cloudevents import InboundEvent
from shared.config import Settings
from shared.domain import EventMeta
from shared.inbox_store import Delivery
from shared.logs import JsonFormatter

UPSTREAM = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def assigned(traceparent: str | None) -> InboundEvent:
    task_id = uuid.uuid4()
    event = execution.TaskAssigned(task_id=task_id, campaign_id=uuid.UUID(int=1),
                                   title="Write brief", assignee_id="ben",
                                   due_date=dt.date(2027, 5, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:2", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=2, sequence=1, traceparent=traceparent)
    return InboundEvent(envelope, event)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[NotificationApplication]:
    application = build(replace(Settings(service="notification"), sqlite_dir=tmp_path))
    assert isinstance(application.application, NotificationApplication)
    yield application.application
    application.application.close()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    yield exporter
    tracing.disable()


def stored_traceparents(app: NotificationApplication) -> list[str | None]:
    notifications = app.recorder.select_notifications(start=1, limit=100)
    assert notifications, "the policy recorded something"
    return [app.mapper.to_domain_event(n).meta.traceparent  # type: ignore[attr-defined]
            for n in notifications]


# --- on the wire -----------------------------------------------------------------------


def test_traceparent_travels_as_ce_traceparent() -> None:
    inbound = assigned(UPSTREAM)
    body, headers = cloudevents.encode(inbound.envelope, inbound.event)
    assert ("ce_traceparent", UPSTREAM.encode()) in headers
    assert cloudevents.decode(headers, body).envelope.traceparent == UPSTREAM


def test_an_event_without_trace_context_has_no_header() -> None:
    inbound = assigned(None)
    body, headers = cloudevents.encode(inbound.envelope, inbound.event)
    assert "ce_traceparent" not in dict(headers)
    assert cloudevents.decode(headers, body).envelope.traceparent is None


@pytest.mark.parametrize("malformed", [
    "nonsense", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", UPSTREAM + "-extra",
])
def test_a_malformed_traceparent_is_ignored_not_poison(malformed: str) -> None:
    inbound = assigned(None)
    body, headers = cloudevents.encode(inbound.envelope, inbound.event)
    decoded = cloudevents.decode([*headers, ("ce_traceparent", malformed.encode())], body)
    assert decoded.envelope.traceparent is None


# --- in the store ----------------------------------------------------------------------


def test_meta_without_trace_context_is_stored_as_before() -> None:
    assert "traceparent" not in EventMeta(actor="ben").model_dump(mode="json")
    assert EventMeta(actor="ben", traceparent=UPSTREAM).model_dump(mode="json")[
        "traceparent"] == UPSTREAM
    # What was stored before the field existed reads as untraced.
    old = orjson.loads(b'{"actor": "ben", "correlation_id": null}')
    assert EventMeta.model_validate(old).traceparent is None


def test_a_follow_up_is_traced_where_it_is_made() -> None:
    meta = EventMeta(actor="ben", traceparent=UPSTREAM)
    assert meta.caused_by("system:clock").traceparent is None


# --- consuming ---------------------------------------------------------------------------


def test_tracing_off_passes_an_inbound_trace_on(app: NotificationApplication) -> None:
    assert not tracing.enabled()
    assert app.process_inbound(assigned(UPSTREAM))
    assert set(stored_traceparents(app)) == {UPSTREAM}


def test_tracing_off_and_no_inbound_trace_stores_none(app: NotificationApplication) -> None:
    app.process_inbound_batch([(assigned(None), None)])
    assert set(stored_traceparents(app)) == {None}


def test_processing_continues_the_event_trace(app: NotificationApplication,
                                              spans: InMemorySpanExporter) -> None:
    applied, _ = app.process_inbound_batch(
        [(assigned(UPSTREAM), Delivery("t.execution.events", 0, 7))])
    assert applied == 1
    [consume] = [span for span in spans.get_finished_spans() if span.kind == SpanKind.CONSUMER]
    assert consume.name == "process t.execution.events"
    assert consume.parent is not None and format_span_id(consume.parent.span_id) == \
        UPSTREAM.split("-")[2]
    context = consume.get_span_context()
    assert context.trace_id == int(UPSTREAM.split("-")[1], 16)
    own = tracing.current_traceparent()
    assert own is None  # nothing leaks out of the span
    assert set(stored_traceparents(app)) == {
        f"00-{UPSTREAM.split('-')[1]}-{format_span_id(context.span_id)}-"
        f"{context.trace_flags:02x}"}


def test_work_outside_any_trace_starts_no_span(app: NotificationApplication,
                                               spans: InMemorySpanExporter) -> None:
    app.process_inbound_batch([(assigned(None), None)])
    kinds = [span.kind for span in spans.get_finished_spans()]
    assert kinds == [SpanKind.CONSUMER]  # the processing itself; no root commit span


# --- configuration and logs ------------------------------------------------------------


@pytest.mark.parametrize(("environ", "wanted"), [
    ({}, False),
    ({"MARKETFLOW_TRACING": "on"}, True),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "MARKETFLOW_TRACING": "off"}, False),
    ({"MARKETFLOW_TRACING": "on", "OTEL_SDK_DISABLED": "true"}, False),
])
def test_tracing_is_off_unless_asked(environ: dict[str, str], wanted: bool) -> None:
    assert tracing.wanted(environ) is wanted


def test_an_unknown_tracing_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="MARKETFLOW_TRACING"):
        tracing.wanted({"MARKETFLOW_TRACING": "maybe"})


def test_log_lines_carry_the_recorded_span(spans: InMemorySpanExporter) -> None:
    formatter = JsonFormatter("unit")
    record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO"})
    assert "trace_id" not in orjson.loads(formatter.format(record))
    with tracing.span("work") as span:
        assert span is not None
        line = orjson.loads(formatter.format(record))
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
