"""Metrics and traces across the four services over the real broker: what each service's
``/metrics`` shows after a campaign flows from planning to execution, notification and
reporting, and one trace following it through all of them (issue 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from prometheus_client.parser import text_string_to_metric_families

from shared import tracing
from tests.harness import (
    Environment,
    RunningService,
    auth,
    eventually,
    plan_launch,
    read_topic,
    start_service,
)
from tests.unit.delivery_support import http_receiver

pytestmark = pytest.mark.integration

Sample = tuple[str, dict[str, str], float]


SERVICES = ("planning", "execution", "notification", "reporting")
UPSTREAM = {"planning": ("execution",), "execution": ("planning",),
            "notification": ("planning", "execution"),
            "reporting": ("planning", "execution", "notification")}
"""Whose events each service applies (crm, planning's other upstream, sends nothing here)."""
PRODUCERS = ("planning", "execution", "notification")


@pytest.fixture
async def system(sqlite_env: Environment, monkeypatch: pytest.MonkeyPatch
                 ) -> AsyncIterator[dict[str, RunningService]]:
    # Webhooks to a receiver on this machine (read when notification starts).
    monkeypatch.setenv("MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES", "true")
    services: dict[str, RunningService] = {}
    try:
        for name in SERVICES:
            services[name] = await start_service(sqlite_env, name)
        yield services
    finally:
        for service in reversed(services.values()):
            await service.stop()


async def scrape(service: RunningService) -> list[Sample]:
    response = await service.http.get("/metrics")
    assert response.status_code == 200, response.text
    return [(sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples]


def total(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(value for sample_name, sample_labels, value in samples
               if sample_name == name and labels.items() <= sample_labels.items())


def values(samples: list[Sample], name: str, **labels: str) -> list[float]:
    return [value for sample_name, sample_labels, value in samples
            if sample_name == name and labels.items() <= sample_labels.items()]


async def scrape_all(system: dict[str, RunningService]) -> dict[str, list[Sample]]:
    """Each service's own series, each from its own ``/metrics``: a scrape evaluates the
    scraped service's flows, another's are from its last tick. Series without a service
    label (notification deliveries) go with notification."""
    found: dict[str, list[Sample]] = {}
    for name, service in system.items():
        found[name] = [sample for sample in await scrape(service)
                       if sample[1].get("service", "notification") == name]
    return found


Published = dict[str, list[Any]]


async def settled(system: dict[str, RunningService]
                  ) -> tuple[dict[str, list[Sample]], Published] | None:
    """Each service's series and what each producer has published, once every relay has
    published all its store holds and every consumer has applied all its topics hold."""
    samples = await scrape_all(system)
    if not all(values(samples[name], "marketflow_outbox_relay_lag", service=name) == [0.0]
               for name in PRODUCERS):
        return None
    # Read after the relays' lag: with it at 0, this is everything each published.
    published = {name: await read_topic(system[name].settings.kafka_bootstrap,
                                        system[name].settings.topic())
                 for name in PRODUCERS}
    for name in UPSTREAM:
        lags = values(samples[name], "marketflow_consumer_lag", service=name)
        if not lags or any(lags):
            return None
    return samples, published


async def test_metrics_show_the_flow_of_a_campaign(system: dict[str, RunningService]) -> None:
    planning, notification = system["planning"], system["notification"]
    with http_receiver() as receiver:
        answer = await notification.http.post(
            "/members/ben/webhooks", json={"url": receiver.url}, headers=auth("ben"))
        assert answer.status_code == 201, answer.text
        # Counters are per process (earlier tests in it count too), and the subscription
        # flowed too: compare with the state of things once that is all applied.
        before, earlier = await eventually(lambda: settled(system), timeout=10,
                                           what="the subscription to settle")

        await plan_launch(planning)

        def applied(samples: dict[str, list[Sample]], name: str) -> float:
            return (total(samples[name], "marketflow_inbox_applied_total", service=name)
                    - total(before[name], "marketflow_inbox_applied_total", service=name))

        def new(published: Published, producer: str) -> list[Any]:
            seen = {(record.partition, record.offset) for record in earlier[producer]}
            return [record for record in published[producer]
                    if (record.partition, record.offset) not in seen]

        async def caught_up() -> tuple[dict[str, list[Sample]], Published] | None:
            state = await settled(system)
            if state is None:
                return None
            samples, published = state
            if any(applied(samples, name) < sum(len(new(published, producer))
                                                for producer in upstream)
                   for name, upstream in UPSTREAM.items()):
                return None
            attempts = [record for record in new(published, "notification")
                        if header(record, "ce_type")
                        == "marketflow.notification.delivery.attempted.v1"]
            return state if len(attempts) >= 2 else None

        after, published = await eventually(
            caught_up, timeout=15, what="every service to apply what the others published")
        assert len(receiver.hits) == 2  # ben's two tasks, on his webhook

    def grew(of: str, name: str, /, **labels: str) -> float:
        return total(after[of], name, **labels) - total(before[of], name, **labels)

    # planning: the request, the command, the relay that published what it committed.
    assert grew("planning", "marketflow_http_requests_total", service="planning",
                method="POST", route="/campaigns", status="201") == 1
    assert grew("planning", "marketflow_http_request_duration_seconds_count",
                service="planning", method="POST", route="/campaigns") == 1
    assert grew("planning", "marketflow_commands_total", service="planning",
                command="campaign.plan", outcome="ok") == 1
    # Raw paths never become labels: the member's id is in the template's place.
    assert not [labels for name, labels, _ in after["planning"]
                if name == "marketflow_http_requests_total" and "ben" in labels["route"]]
    assert total(after["planning"], "marketflow_flow_state", service="planning",
                 flow="outbox_relay", state="healthy") == 1

    # Each consumer applied exactly what its upstream producers published, nothing set aside.
    for name, upstream in UPSTREAM.items():
        assert applied(after, name) == sum(
            len(new(published, producer)) for producer in upstream), name
        assert grew(name, "marketflow_inbox_dead_lettered_total", service=name) == 0, name
        assert grew(name, "marketflow_inbox_duplicates_total", service=name) == 0, name
        lags = values(after[name], "marketflow_consumer_lag", service=name)
        assert lags and not any(lags), name
        topics = {labels["topic"] for sample, labels, _ in after[name]
                  if sample == "marketflow_consumer_lag"}
        assert topics >= {system[producer].settings.topic() for producer in upstream}, name
    # Each producer's relay is at its store's head: all it committed is on Kafka.
    for name in PRODUCERS:
        assert values(after[name], "marketflow_outbox_relay_position", service=name) == \
            values(after[name], "marketflow_outbox_relay_head", service=name), name
        assert total(after[name], "marketflow_flow_state", service=name,
                     flow="outbox_relay", state="healthy") == 1, name

    assert max(values(after["execution"], "marketflow_projection_position",
                      service="execution")) > 0
    # notification: ben's two notifications, each delivered to his webhook once, and the
    # recorded notifications (ben's two, carla's one) and attempts published.
    kinds = [header(record, "ce_type") for record in new(published, "notification")]
    assert kinds.count("marketflow.notification.notification.recorded.v1") == 3
    assert kinds.count("marketflow.notification.delivery.attempted.v1") == 2
    assert grew("notification", "marketflow_notification_deliveries_total",
                channel="webhook", outcome="delivered") == 2
    assert grew("notification", "marketflow_notification_deliveries_total") == 2
    # reporting: every read model folded something.
    positions = values(after["reporting"], "marketflow_projection_position",
                       service="reporting")
    assert positions and min(positions) > 0


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    yield exporter
    tracing.disable()
    provider.shutdown()


def traceparent_of(span: ReadableSpan) -> str:
    context = span.get_span_context()
    return (f"00-{format_trace_id(context.trace_id)}-{format_span_id(context.span_id)}-"
            f"{context.trace_flags:02x}")


def header(record: Any, name: str) -> str | None:
    return next((value.decode() for key, value in record.headers if key == name), None)


def ce_type(name: str) -> str:
    return f"marketflow.{name}.v1"


async def test_one_trace_follows_a_command_across_services(
        spans: InMemorySpanExporter, system: dict[str, RunningService]) -> None:
    planning, execution = system["planning"], system["execution"]
    notification = system["notification"]
    bootstrap = planning.settings.kafka_bootstrap
    campaign = await plan_launch(planning)

    def spans_of(kind: SpanKind, service: str, message_id: str | None) -> list[ReadableSpan]:
        return [span for span in spans.get_finished_spans() if span.kind == kind
                and span.attributes is not None
                and span.attributes["marketflow.service"] == service
                and span.attributes["messaging.message.id"] == message_id]

    async def everyone_saw_it() -> tuple[list[Any], list[Any]] | None:
        """execution's opened and assigned tasks and notification's recorded messages,
        once each is published and processed by all its consumers."""
        records = await read_topic(bootstrap, execution.settings.topic())
        tasks = [record for record in records if header(record, "ce_type") in (
            ce_type("execution.task.opened"), ce_type("execution.task.assigned"))]
        notes = [record for record in await read_topic(bootstrap, notification.settings.topic())
                 if header(record, "ce_type") == ce_type("notification.notification.recorded")]
        # Three tasks opened, three assigned (ben two, carla one), each told of it.
        if len(tasks) != 6 or len(notes) != 3:
            return None
        if not all(spans_of(SpanKind.CONSUMER, consumer, header(record, "ce_id"))
                   for record in tasks for consumer in ("notification", "reporting")) \
                or not all(spans_of(SpanKind.CONSUMER, "reporting", header(record, "ce_id"))
                           for record in notes):
            return None
        return tasks, notes

    tasks, notes = await eventually(everyone_saw_it, timeout=15,
                                    what="notification and reporting to process it all")
    finished = spans.get_finished_spans()
    by_id = {span.get_span_context().span_id: span for span in finished}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, f"{span.name} has no parent"
        return by_id[span.parent.span_id]

    def only(found: list[ReadableSpan]) -> ReadableSpan:
        assert len(found) == 1, found
        return found[0]

    request = next(span for span in finished if span.name == "POST /campaigns")
    trace_id = request.get_span_context().trace_id
    assert request.kind == SpanKind.SERVER
    assert request.attributes is not None and request.attributes["http.route"] == "/campaigns"

    # Planning's commit is a child of the request, and its event carries the commit's span.
    planned = next(record for record in await read_topic(bootstrap, planning.settings.topic())
                   if header(record, "ce_type") == ce_type("planning.campaign.planned")
                   and header(record, "ce_subject") == campaign["id"])
    planned_id = header(planned, "ce_id")
    commit = next(span for span in finished if header(planned, "ce_traceparent")
                  == traceparent_of(span))
    assert commit.name == "planning commit" and parent(commit) is request
    # Planning's relay publishes it as a child of the commit; each consumer processes it so.
    assert parent(only(spans_of(SpanKind.PRODUCER, "planning", planned_id))) is commit
    consume = only(spans_of(SpanKind.CONSUMER, "execution", planned_id))
    assert parent(consume) is commit
    for consumer in ("notification", "reporting"):
        assert parent(only(spans_of(SpanKind.CONSUMER, consumer, planned_id))) is commit

    # What execution recorded for it carries its processing span and is published as its
    # child; notification (told the assignees) and reporting processed each as its child.
    for record in tasks:
        message_id = header(record, "ce_id")
        assert header(record, "ce_traceparent") == traceparent_of(consume)
        assert parent(only(spans_of(SpanKind.PRODUCER, "execution", message_id))) is consume
        assert parent(only(spans_of(SpanKind.CONSUMER, "reporting", message_id))) is consume
        assert parent(only(spans_of(SpanKind.CONSUMER, "notification", message_id))) is consume

    # Notification's messages carry the span that processed the assignment; published
    # and processed by reporting as its children.
    told = {traceparent_of(span): span for record in tasks
            if header(record, "ce_type") == ce_type("execution.task.assigned")
            for span in spans_of(SpanKind.CONSUMER, "notification", header(record, "ce_id"))}
    for record in notes:
        message_id = header(record, "ce_id")
        cause = told[header(record, "ce_traceparent") or ""]
        assert parent(only(spans_of(SpanKind.PRODUCER, "notification", message_id))) is cause
        assert parent(only(spans_of(SpanKind.CONSUMER, "reporting", message_id))) is cause

    # One tree: every span of the trace leads up to the request; all services are in it.
    in_trace = [span for span in finished if span.get_span_context().trace_id == trace_id]
    for span in in_trace:
        top = span
        while top is not request:
            top = parent(top)
    assert {span.attributes["marketflow.service"] for span in in_trace
            if span.attributes and "marketflow.service" in span.attributes} == set(SERVICES)
