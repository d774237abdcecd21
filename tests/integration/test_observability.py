"""Metrics and traces across services over the real broker: what ``/metrics`` shows after
a campaign flows from planning to execution, and one trace following it (issue 15)."""

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
    eventually,
    plan_launch,
    read_topic,
    start_service,
)

pytestmark = pytest.mark.integration

Sample = tuple[str, dict[str, str], float]


@pytest.fixture
async def planning_and_execution(sqlite_env: Environment
                                 ) -> AsyncIterator[tuple[RunningService, RunningService]]:
    planning = await start_service(sqlite_env, "planning")
    execution = await start_service(sqlite_env, "execution")
    yield planning, execution
    await execution.stop()
    await planning.stop()


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


async def test_metrics_show_the_flow_of_a_campaign(
        planning_and_execution: tuple[RunningService, RunningService]) -> None:
    planning, execution = planning_and_execution
    # Counters are per process (earlier tests in it count too): compare before and after.
    before = await scrape(planning)

    await plan_launch(planning)
    published: list[Any] = []

    async def caught_up() -> list[Sample] | None:
        # A scrape evaluates the scraped service's flows; another's are from its last tick.
        samples = [sample for sample in await scrape(planning)
                   if sample[1].get("service") != "execution"]
        samples += [sample for sample in await scrape(execution)
                    if sample[1].get("service") == "execution"]
        applied = (total(samples, "marketflow_inbox_applied_total", service="execution")
                   - total(before, "marketflow_inbox_applied_total", service="execution"))
        lags = values(samples, "marketflow_consumer_lag", service="execution",
                      topic=planning.settings.topic())
        relay_lag = values(samples, "marketflow_outbox_relay_lag", service="planning")
        views = values(samples, "marketflow_projection_position", service="planning")
        # Read after the relay's lag: with it at 0, this is everything planning published.
        published[:] = await read_topic(planning.settings.kafka_bootstrap,
                                        planning.settings.topic())
        done = (published and applied >= len(published) and lags and not any(lags)
                and relay_lag == [0.0] and views and min(views) > 0)
        return samples if done else None

    after = await eventually(caught_up, timeout=15, what="execution to apply planning's events")

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("marketflow_http_requests_total", service="planning", method="POST",
                route="/campaigns", status="201") == 1
    assert grew("marketflow_http_request_duration_seconds_count", service="planning",
                method="POST", route="/campaigns") == 1
    assert grew("marketflow_commands_total", service="planning", command="campaign.plan",
                outcome="ok") == 1
    # Raw paths never become labels: the member's id is in the template's place.
    assert not [labels for name, labels, _ in after if name == "marketflow_http_requests_total"
                and "ben" in labels["route"]]
    assert grew("marketflow_inbox_applied_total", service="execution") == len(published)
    assert grew("marketflow_inbox_dead_lettered_total", service="execution") == 0
    assert values(after, "marketflow_outbox_relay_position", service="planning") == \
        values(after, "marketflow_outbox_relay_head", service="planning")
    assert max(values(after, "marketflow_projection_position", service="execution")) > 0
    assert total(after, "marketflow_flow_state", service="planning", flow="outbox_relay",
                 state="healthy") == 1


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


async def test_one_trace_follows_a_command_across_services(
        spans: InMemorySpanExporter,
        planning_and_execution: tuple[RunningService, RunningService]) -> None:
    planning, execution = planning_and_execution
    campaign = await plan_launch(planning)
    execution_topic = execution.settings.topic()

    async def execution_published() -> list[Any] | None:
        records = await read_topic(planning.settings.kafka_bootstrap, execution_topic)
        opened = [record for record in records
                  if header(record, "ce_type") == "marketflow.execution.task.opened.v1"]
        return opened if len(opened) == 3 else None

    opened = await eventually(execution_published, timeout=15, what="execution's tasks")
    finished = spans.get_finished_spans()
    by_id = {span.get_span_context().span_id: span for span in finished}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, f"{span.name} has no parent"
        return by_id[span.parent.span_id]

    request = next(span for span in finished if span.name == "POST /campaigns")
    trace_id = request.get_span_context().trace_id
    assert request.kind == SpanKind.SERVER
    assert request.attributes is not None and request.attributes["http.route"] == "/campaigns"

    # Planning's commit is a child of the request, and its event carries the commit's span.
    planned = next(record for record in await read_topic(
        planning.settings.kafka_bootstrap, planning.settings.topic())
        if header(record, "ce_type") == "marketflow.planning.campaign.planned.v1"
        and header(record, "ce_subject") == campaign["id"])
    commit = next(span for span in finished if header(planned, "ce_traceparent")
                  == traceparent_of(span))
    assert commit.name == "planning commit" and parent(commit) is request

    publish = next(span for span in finished if span.kind == SpanKind.PRODUCER
                   and span.attributes is not None
                   and span.attributes["messaging.message.id"] == header(planned, "ce_id"))
    assert parent(publish) is commit

    consume = next(span for span in finished if span.kind == SpanKind.CONSUMER
                   and span.attributes is not None
                   and span.attributes["messaging.message.id"] == header(planned, "ce_id")
                   and span.attributes["marketflow.service"] == "execution")
    assert parent(consume) is commit
    assert consume.get_span_context().trace_id == trace_id

    # What execution recorded for it carries its processing span, and is published so.
    for record in opened:
        assert header(record, "ce_traceparent") == traceparent_of(consume)
    execution_publish = [span for span in finished if span.kind == SpanKind.PRODUCER
                         and span.attributes is not None
                         and span.attributes["marketflow.service"] == "execution"
                         and span.get_span_context().trace_id == trace_id]
    assert len(execution_publish) >= len(opened)
    assert all(parent(span) is consume for span in execution_publish)
