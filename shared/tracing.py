"""Distributed traces (OpenTelemetry), off by default.

One trace follows a change across services: the HTTP request's span, the store commit,
the relay's publish and each consumer's processing of the event, and on into what the
consumer commits and publishes in turn. The link between services is the W3C
``traceparent`` of the span that committed an event: stored with the event (``EventMeta
.traceparent``) and published as the CloudEvents distributed-tracing extension attribute
(Kafka header ``ce_traceparent``). A consumer's processing span is its child.

On: ``MARKETFLOW_TRACING=on`` (spans exported with OTLP/HTTP; endpoint, headers and
sampler from the standard ``OTEL_EXPORTER_OTLP_*`` / ``OTEL_TRACES_SAMPLER*`` variables),
or any ``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`` set. ``MARKETFLOW_TRACING=off`` or
``OTEL_SDK_DISABLED=true`` keep it off whatever else is set.

Off: no span is created (the helpers below return at once), but a ``traceparent`` that
came in (HTTP header, or an event's ``ce_traceparent``) is still passed on to the events
committed in its name: a service without tracing does not cut a trace that others record.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
"""W3C trace context ``traceparent`` (version-trace_id-parent_id-flags), as carried."""
TRUE = {"1", "true", "on", "yes"}
FALSE = {"0", "false", "off", "no"}

_propagator = TraceContextTextMapPropagator()
_tracer: trace.Tracer | None = None  # None: tracing off


def enabled() -> bool:
    return _tracer is not None


def enable(provider: TracerProvider) -> None:
    """Record spans through ``provider`` (tests pass one with an in-memory exporter)."""
    global _tracer
    _tracer = provider.get_tracer("marketflow")


def disable() -> None:
    global _tracer
    _tracer = None


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for tracing (see the module's docstring)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in TRUE:
        return False
    setting = environ.get("MARKETFLOW_TRACING", "").strip().lower()
    if setting in FALSE:
        return False
    if setting in TRUE:
        return True
    if setting:
        raise ValueError(f"MARKETFLOW_TRACING={setting!r}: expected on or off")
    return bool(environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_from_env(service: str, environ: Mapping[str, str]) -> bool:
    """Turn tracing on for this process if the environment asks; True if it did. The SDK
    is imported only then, so a process without tracing does not load it."""
    if not wanted(environ):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_RESOURCE_ATTRIBUTES adds to these (Resource.create reads it).
    resource = Resource.create({
        "service.namespace": "marketflow",
        "service.name": environ.get("OTEL_SERVICE_NAME") or f"marketflow-{service}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # for libraries that trace on their own
    enable(provider)
    return True


# --- trace context -----------------------------------------------------------------


def valid_traceparent(value: str | None) -> str | None:
    """``value`` if it is a well-formed traceparent, else None (a bad one is dropped, it
    never makes an event poison: tracing is not part of the event's meaning)."""
    if value is None or not TRACEPARENT.fullmatch(value) or value.startswith("ff"):
        return None
    return value


def current_traceparent() -> str | None:
    """The traceparent of the current span: a recorded one, or (tracing off) the one an
    inbound request or event brought; None outside any trace."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return (f"00-{trace.format_trace_id(span_context.trace_id)}-"
            f"{trace.format_span_id(span_context.span_id)}-{span_context.trace_flags:02x}")


def _parent(traceparent: str | None) -> otel_context.Context | None:
    """The context to start a span in: the remote parent named by ``traceparent``, else
    the current one."""
    if traceparent is None:
        return None
    return _propagator.extract({"traceparent": traceparent})


def log_ids() -> dict[str, str]:
    """trace_id and span_id of the span being recorded, for log lines; {} when none is."""
    span = trace.get_current_span()
    if not span.is_recording():
        return {}
    span_context = span.get_span_context()
    return {"trace_id": trace.format_trace_id(span_context.trace_id),
            "span_id": trace.format_span_id(span_context.span_id)}


# --- spans ---------------------------------------------------------------------------

Attributes = Mapping[str, AttributeValue]


@contextlib.contextmanager
def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, parent: str | None = None,
         attributes: Attributes | None = None) -> Iterator[Span | None]:
    """A current span named ``name``, child of ``parent`` (a traceparent) if given, else
    of the current span. Tracing off: yields None; a given ``parent`` is made current
    anyway, so what is committed inside still carries it (see the module's docstring)."""
    if _tracer is None:
        if parent is None:
            yield None
            return
        token = otel_context.attach(_propagator.extract({"traceparent": parent}))
        try:
            yield None
        finally:
            otel_context.detach(token)
        return
    with _tracer.start_as_current_span(name, context=_parent(parent), kind=kind,
                                       attributes=attributes) as current:
        yield current


@contextlib.contextmanager
def child_span(name: str, attributes: Attributes | None = None) -> Iterator[Span | None]:
    """A span only inside a recorded trace (e.g. a commit within a request): work done
    outside any trace does not start one of its own."""
    if _tracer is None or not trace.get_current_span().is_recording():
        yield None
        return
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def start_span(name: str, *, kind: SpanKind, parent: str | None,
               attributes: Attributes | None = None) -> Span | None:
    """A span the caller ends (``end_span``), e.g. a publish ending when Kafka acks.
    Without a ``parent`` nothing is started: the relay does not trace untraced events."""
    if _tracer is None or parent is None:
        return None
    return _tracer.start_span(name, context=_parent(parent), kind=kind, attributes=attributes)


def end_span(span: Span | None, error: BaseException | None = None) -> None:
    if span is None:
        return
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    span.end()
