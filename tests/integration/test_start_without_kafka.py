"""A service started while Kafka is down (a pod scheduled during a broker outage) does not
crash-loop: it serves from its store, readiness is 200, commands commit into the outbox,
/health/status says Kafka is not connected and why; when the broker comes up it connects
by itself and publishes what was committed meanwhile, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness import Environment, auth, eventually, read_topic, start_service, tuned
from tests.integration.test_broker_outage import PrivateKafka

pytestmark = pytest.mark.integration


async def test_a_service_started_during_an_outage_serves_and_connects_later(
        tmp_path: Path) -> None:
    broker = PrivateKafka(tmp_path / "kafka")  # not started yet
    env = tuned(Environment(kafka_bootstrap=broker.bootstrap, namespace="late",
                            store="sqlite", sqlite_dir=tmp_path / "stores", postgres_url=""),
                stall_seconds=1.0, kafka_connect_seconds=1.0)
    planning = await start_service(env, "planning")
    try:
        assert (await planning.http.get("/health/ready")).status_code == 200
        response = await planning.http.put("/teams/content", headers=auth("anna"),
                                           json={"name": "Content", "country": "FI"})
        assert response.status_code == 200, response.text

        async def kafka(connected: bool) -> dict[str, Any] | None:
            response = await planning.http.get("/health/status")
            report: dict[str, Any] = response.json()
            state = report["kafka"]
            if state["connected"] is connected and (connected or state["state"] == "stalled"):
                return report | {"code": response.status_code}
            return None

        down = await eventually(lambda: kafka(False), what="status to show Kafka stalled")
        assert down["code"] == 503 and down["status"] == "degraded"
        assert down["kafka"]["last_error"] and down["kafka"]["bootstrap"] == broker.bootstrap

        await broker.start()
        await eventually(lambda: kafka(True), timeout=120, what="the service to connect")

        async def published() -> list[Any] | None:
            records = await read_topic(broker.bootstrap, env.settings("planning").topic())
            return records or None

        records = await eventually(published, timeout=60, what="the buffered event published")
        assert [dict(r.headers)["ce_type"] for r in records] == [
            b"marketflow.planning.team.registered.v1"]
        up = await planning.http.get("/health/status")
        assert up.json()["kafka"]["state"] == "healthy"
    finally:
        await planning.stop()
        await broker.stop()
