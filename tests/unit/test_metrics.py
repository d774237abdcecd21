"""The metric helpers, the HTTP edge's measurements, and the dashboard and alert rules
against what the services export (so they cannot drift from the code)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics
from shared.health import (
    InboxStatus,
    PartitionStatus,
    ReadModelStatus,
    RelayStatus,
    ServiceStatus,
)
from shared.http_observability import ObservedRequests
from shared.policy import action

ROOT = Path(__file__).resolve().parents[2]
METRIC_NAME = re.compile(r"\bmarketflow_[a-z0-9_]+\b")


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def scraped() -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest().decode()):
        for one in family.samples:
            found.setdefault(one.name, []).append((one.labels, one.value))
    return found


# --- helpers ---------------------------------------------------------------------------


def test_record_delivery_counts_by_channel_and_outcome() -> None:
    before = sample("marketflow_notification_deliveries_total", channel="email",
                    outcome="delivered")
    metrics.record_delivery("email", "delivered")
    metrics.record_delivery("email", "delivered")
    metrics.record_delivery("email", "failed")
    assert sample("marketflow_notification_deliveries_total", channel="email",
                  outcome="delivered") == before + 2


@pytest.mark.parametrize(("channel", "outcome"), [
    ("email", "sent"), ("Email", "delivered"), ("", "delivered"), ("e" * 40, "delivered"),
    ("web hook", "delivered"),
])
def test_record_delivery_refuses_labels_outside_its_vocabulary(channel: str,
                                                               outcome: str) -> None:
    with pytest.raises(ValueError):
        metrics.record_delivery(channel, outcome)


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "ok"), (201, "ok"), (204, "ok"), (400, "refused"), (403, "refused"),
    (404, "refused"), (422, "refused"), (409, "conflict"), (412, "conflict"),
    (500, "error"), (503, "error"),
])
def test_command_outcome_by_status(status: int, outcome: str) -> None:
    assert metrics.command_outcome(status) == outcome


def status_of(service: str, *, relay_lag: int) -> ServiceStatus:
    now = datetime.now(UTC)
    flow: dict[str, Any] = {"state": "healthy", "last_progress_at": now, "stalled_since": None}
    return ServiceStatus(
        service=service, status="healthy", checked_at=now, stall_seconds=30, jobs=[],
        relay=RelayStatus(**{**flow, "state": "stalled", "last_error": "KafkaError: down",
                             "last_error_at": now},
                          topic=f"{service}.events", leading=True, position=10 - relay_lag,
                          head=10, lag=relay_lag, activity="publishing"),
        inbox=InboxStatus(**flow, group="g", topics=["up.events"], applied=3, duplicates=0,
                          dead_lettered=0, partitions=[
                              PartitionStatus(topic="up.events", partition=0, committed=5,
                                              end=7, lag=2, state="healthy"),
                              PartitionStatus(topic="up.events", partition=1, committed=None,
                                              end=None, lag=None, state="healthy")]),
        read_models=[ReadModelStatus(**flow, name="board", version=1, position=9, head=10,
                                     lag=1)],
    )


def test_flow_gauges_come_from_the_last_published_status() -> None:
    owner, other = object(), object()
    metrics.FLOWS.publish(owner, status_of("unit-flows", relay_lag=4))
    try:
        found = scraped()

        def value(name: str, **labels: str) -> list[float]:
            return [v for found_labels, v in found.get(name, [])
                    if labels.items() <= found_labels.items()]

        assert value("marketflow_outbox_relay_lag", service="unit-flows") == [4]
        assert value("marketflow_outbox_relay_position", service="unit-flows") == [6]
        assert value("marketflow_consumer_lag", service="unit-flows", topic="up.events",
                     partition="0") == [2]
        # An unknown lag is left out, not shown as 0.
        assert value("marketflow_consumer_lag", service="unit-flows", partition="1") == []
        assert value("marketflow_projection_position", service="unit-flows",
                     projection="board") == [9]
        assert value("marketflow_flow_state", service="unit-flows", flow="outbox_relay",
                     state="stalled") == [1]
        assert value("marketflow_flow_state", service="unit-flows", flow="outbox_relay",
                     state="healthy") == [0]
        assert value("marketflow_flow_last_error_timestamp_seconds", service="unit-flows",
                     flow="outbox_relay")
        # Only the runtime that published can withdraw its figures.
        metrics.FLOWS.forget(other, "unit-flows")
        assert "unit-flows" in generate_latest().decode()
    finally:
        metrics.FLOWS.forget(owner, "unit-flows")
    assert "unit-flows" not in generate_latest().decode()


# --- the HTTP edge ---------------------------------------------------------------------


def observed_app() -> TestClient:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    def read(thing_id: str, request: Request) -> dict[str, str]:
        request.state.member_id = "ben"
        return {"id": thing_id}

    @app.post("/things/{thing_id}/approve", openapi_extra=action("thing.approve"))
    def approve(thing_id: str) -> dict[str, str]:
        if thing_id == "taken":
            raise HTTPException(409, "approved by someone else")
        if thing_id == "broken":
            raise RuntimeError("bug")
        return {"id": thing_id}

    app.add_middleware(ObservedRequests, service="unit-http")
    return TestClient(app, raise_server_exceptions=False)


def test_requests_are_counted_by_route_template_and_commands_by_outcome(
        caplog: pytest.LogCaptureFixture) -> None:
    client = observed_app()
    labels = {"service": "unit-http", "method": "GET", "route": "/things/{thing_id}",
              "status": "200"}
    before = sample("marketflow_http_requests_total", **labels)
    before_ok = sample("marketflow_commands_total", service="unit-http",
                       command="thing.approve", outcome="ok")
    before_conflict = sample("marketflow_commands_total", service="unit-http",
                             command="thing.approve", outcome="conflict")
    before_error = sample("marketflow_commands_total", service="unit-http",
                          command="thing.approve", outcome="error")
    with caplog.at_level(logging.INFO, logger="marketflow.access"):
        assert client.get("/things/a").status_code == 200
        assert client.get("/things/b").status_code == 200
        assert client.post("/things/a/approve").status_code == 200
        assert client.post("/things/taken/approve").status_code == 409
        assert client.post("/things/broken/approve").status_code == 500
        assert client.get("/nowhere/x").status_code == 404

    assert sample("marketflow_http_requests_total", **labels) == before + 2
    assert sample("marketflow_http_request_duration_seconds_count", service="unit-http",
                  method="GET", route="/things/{thing_id}") >= 2
    assert sample("marketflow_http_requests_total", service="unit-http", method="GET",
                  route=metrics.UNMATCHED_ROUTE, status="404") >= 1
    assert sample("marketflow_commands_total", service="unit-http", command="thing.approve",
                  outcome="ok") == before_ok + 1
    assert sample("marketflow_commands_total", service="unit-http", command="thing.approve",
                  outcome="conflict") == before_conflict + 1
    assert sample("marketflow_commands_total", service="unit-http", command="thing.approve",
                  outcome="error") == before_error + 1
    # Reads are not commands.
    assert not [labels for name, rows in scraped().items() if name == "marketflow_commands_total"
                for labels, _ in rows if labels.get("service") == "unit-http"
                and labels["command"] != "thing.approve"]

    lines = [record.__dict__ for record in caplog.records if record.name == "marketflow.access"]
    assert len(lines) == 6
    first = lines[0]
    assert (first["method"], first["route"], first["path"], first["status"], first["actor"]) \
        == ("GET", "/things/{thing_id}", "/things/a", 200, "ben")
    assert first["duration_ms"] >= 0
    assert "actor" not in lines[2]  # nobody said who
    assert [line["status"] for line in lines] == [200, 200, 200, 409, 500, 404]


# --- the dashboard and the alert rules ------------------------------------------------


def expressions_of_dashboard() -> list[str]:
    dashboard = json.loads((ROOT / "deploy/grafana/marketflow.json").read_text())
    found = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    found += [variable["query"] for variable in dashboard["templating"]["list"]
              if variable["type"] == "query"]
    return found


def expressions_of_alerts() -> dict[str, str]:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yaml").read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def test_the_dashboard_and_alerts_use_only_metrics_the_services_export() -> None:
    exported = metrics.exported_names()
    # What a scrape really shows agrees with the names the registry declares.
    assert {name for name in scraped() if name.startswith("marketflow_")} <= exported
    dashboard, alerts = expressions_of_dashboard(), expressions_of_alerts()
    assert dashboard and alerts
    for expression in [*dashboard, *alerts.values()]:
        used = set(METRIC_NAME.findall(expression))
        assert used, f"no marketflow metric in {expression!r}"
        assert used <= exported, f"not exported: {sorted(used - exported)} in {expression!r}"


def test_the_alerts_cover_the_flows_that_can_stop() -> None:
    alerts = " ".join(expressions_of_alerts().values())
    for needed in ("outbox_relay", "marketflow_consumer_lag",
                   "marketflow_inbox_dead_lettered_total", 'status=~"5.."'):
        assert needed in alerts
