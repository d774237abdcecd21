"""Every Prometheus metric the services export, defined once per process.

The metrics live in prometheus_client's default registry, created at import (a second
registration of a name raises), and carry a ``service`` label: one process may hold
several services (the tests run all four in one), and each service's ``/metrics``
exposes the process's registry.

Counters and histograms are updated where things happen (HTTP edge, inbox, notification
deliveries). The background flows (outbox relay, inbox consumer lag, read models) are
read from each runtime's last ``ServiceStatus`` by a custom collector: the status is
evaluated on every watch tick and on every scrape (see ``ServiceRuntime.status``), so
the figures agree with ``/health/status`` and nothing is computed twice.

See ``deploy/grafana/marketflow.json`` and ``deploy/prometheus/alerts.yaml`` for what
reads them (``tests/unit/test_metrics.py`` checks that every name they use exists).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from typing import get_args

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.health import FlowState, FlowStatus, ServiceStatus

# --- HTTP edge ---------------------------------------------------------------------

DENIALS = Counter("marketflow_http_denials", "Requests refused with 403, by the action "
                  "the policy (or 'domain-rule' for a rule of the work itself) refused",
                  ["service", "action"])
HTTP_REQUESTS = Counter(
    "marketflow_http_requests", "HTTP requests answered, by route template (not the raw "
    "path: ids would make a series each) and status", ["service", "method", "route", "status"])
HTTP_DURATION = Histogram(
    "marketflow_http_request_duration_seconds", "Time from request to the end of the "
    "response body, by route template", ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request no route matched (404s of scanners would otherwise make
a series per probed path)."""

# --- commands ----------------------------------------------------------------------

COMMANDS = Counter(
    "marketflow_commands", "Commands (state-changing requests) by policy action and "
    "outcome: ok, refused (the domain or the policy said no: 4xx), conflict (409/412: a "
    "concurrent change or stale version), error (5xx)", ["service", "command", "outcome"])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def command_outcome(status: int) -> str:
    if status >= 500:
        return "error"
    if status in (409, 412):
        return "conflict"
    if status >= 400:
        return "refused"
    return "ok"


# --- inbox -------------------------------------------------------------------------

INBOX_APPLIED = Counter("marketflow_inbox_applied", "Upstream events applied (once each)",
                        ["service"])
INBOX_DUPLICATES = Counter("marketflow_inbox_duplicates", "Upstream events delivered again "
                           "and dropped (redelivery, relay re-publishing)", ["service"])
INBOX_DEAD_LETTERED = Counter(
    "marketflow_inbox_dead_lettered", "Messages set aside on <topic>.dlq, by the topic they "
    "came from and why (dlq_reason)", ["service", "topic", "reason"])

# --- notification deliveries -------------------------------------------------------

NOTIFICATION_DELIVERIES = Counter(
    "marketflow_notification_deliveries", "Notification delivery attempts by channel and "
    "outcome (see record_delivery)", ["channel", "outcome"])
DELIVERY_OUTCOMES = frozenset({"delivered", "retrying", "failed", "disabled"})
_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def record_delivery(channel: str, outcome: str) -> None:
    """Count one delivery attempt of a notification (called by the notification service).

    ``channel``: where it went, a short lowercase name (``email``, ``digest``, ``webhook``).
    ``outcome``: as recorded on the notification: ``delivered``; ``retrying`` (this attempt
    failed, another is scheduled); ``failed`` (given up); ``disabled`` (a webhook endpoint
    answered 410 Gone).
    Anything else raises ``ValueError``: labels come from code, never from input, so the
    number of series stays bounded."""
    if not _CHANNEL.fullmatch(channel):
        raise ValueError(f"channel {channel!r}: expected a short lowercase name")
    if outcome not in DELIVERY_OUTCOMES:
        raise ValueError(f"outcome {outcome!r}: expected one of {sorted(DELIVERY_OUTCOMES)}")
    NOTIFICATION_DELIVERIES.labels(channel=channel, outcome=outcome).inc()


# --- background flows, from each runtime's last status -------------------------------

FLOW_STATES: tuple[str, ...] = get_args(FlowState)


class FlowCollector(Collector):
    """Gauges of the background flows, read from the last status each service's runtime
    published: relay position/head/lag, consumer lag per partition, read-model
    positions, and each flow's state and last error time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: dict[str, tuple[object, ServiceStatus]] = {}

    def publish(self, owner: object, status: ServiceStatus) -> None:
        """The latest status of ``status.service`` (``owner``: the runtime it is from)."""
        with self._lock:
            self._statuses[status.service] = (owner, status)

    def forget(self, owner: object, service: str) -> None:
        """A stopped runtime's figures go; another runtime's of the same service stay."""
        with self._lock:
            if self._statuses.get(service, (None,))[0] is owner:
                del self._statuses[service]

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            statuses = [status for _, status in self._statuses.values()]
        families = self._families()
        for status in statuses:
            _fill(families, status)
        return families

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        def gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, documentation, labels=labels)

        relay = ["service", "topic"]
        partition = ["service", "topic", "partition"]
        view = ["service", "projection"]
        return [
            gauge("marketflow_outbox_relay_position",
                  "Last notification id Kafka acknowledged, recorded", relay),
            gauge("marketflow_outbox_relay_head", "The store's last notification id", relay),
            gauge("marketflow_outbox_relay_lag",
                  "Notifications committed and not yet published (head - position)", relay),
            gauge("marketflow_consumer_lag",
                  "Messages not yet applied: end offset - committed offset", partition),
            gauge("marketflow_consumer_committed_offset",
                  "Next offset to apply (the consumer group's committed offset)", partition),
            gauge("marketflow_projection_position",
                  "Last notification id folded into a read model", view),
            gauge("marketflow_projection_lag",
                  "Notifications committed and not yet folded into a read model", view),
            gauge("marketflow_flow_state", "1 for the state a background flow is in "
                  "(healthy, retrying, stalled, standby, stopped), 0 for the others",
                  ["service", "flow", "state"]),
            gauge("marketflow_flow_last_error_timestamp_seconds",
                  "When a background flow last failed (Unix time)", ["service", "flow"]),
        ]


def _fill(families: list[GaugeMetricFamily], status: ServiceStatus) -> None:
    (relay_position, relay_head, relay_lag, consumer_lag, consumer_committed,
     view_position, view_lag, flow_state, flow_error) = families
    service = status.service

    def flow(name: str, flow_status: FlowStatus) -> None:
        for state in FLOW_STATES:
            flow_state.add_metric([service, name, state], float(flow_status.state == state))
        if flow_status.last_error_at is not None:
            flow_error.add_metric([service, name], flow_status.last_error_at.timestamp())

    if status.kafka is not None:
        flow("kafka", status.kafka)
    if (relay := status.relay) is not None:
        flow("outbox_relay", relay)
        relay_position.add_metric([service, relay.topic], relay.position)
        if relay.head is not None and relay.lag is not None:
            relay_head.add_metric([service, relay.topic], relay.head)
            relay_lag.add_metric([service, relay.topic], relay.lag)
    if (inbox := status.inbox) is not None:
        flow("inbox", inbox)
        for part in inbox.partitions:
            labels = [service, part.topic, str(part.partition)]
            if part.lag is not None:
                consumer_lag.add_metric(labels, part.lag)
            if part.committed is not None:
                consumer_committed.add_metric(labels, part.committed)
    for read_model in status.read_models:
        flow(f"read_model:{read_model.name}", read_model)
        view_position.add_metric([service, read_model.name], read_model.position)
        if read_model.lag is not None:
            view_lag.add_metric([service, read_model.name], read_model.lag)


FLOWS = FlowCollector()
REGISTRY.register(FLOWS)


def exported_names() -> set[str]:
    """Every sample name this process can export (what dashboards and alert rules may
    refer to): ``_total`` of counters, ``_bucket``/``_sum``/``_count`` of histograms."""
    suffixes = {"counter": ("_total", "_created"),
                "histogram": ("_bucket", "_sum", "_count", "_created"), "gauge": ("",)}
    names: set[str] = set()
    for family in _families_of_registry():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


def _families_of_registry() -> Iterator[Metric]:
    for collector in (DENIALS, HTTP_REQUESTS, HTTP_DURATION, COMMANDS, INBOX_APPLIED,
                      INBOX_DUPLICATES, INBOX_DEAD_LETTERED, NOTIFICATION_DELIVERIES, FLOWS):
        yield from collector.describe()
