"""A broker outage on a private Kafka of this test's own (deploy/local/kafka.sh on free
ports and a temporary data directory): while it is down the services stay ready and
commands succeed, /health/status shows the relay waiting; when it is back everything
committed meanwhile is delivered and applied exactly once."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.execution.domain import Task
from tests.harness import (
    Environment,
    RunningService,
    auth,
    count_events,
    eventually,
    plan_launch,
    read_topic,
    start_service,
    tuned,
)
from tests.infrastructure import LOCAL

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateKafka:
    """One KRaft node of this test's own, started and stopped with the project's script
    (the same data directory each time, so topics and offsets survive a restart)."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.environ = {
            **os.environ,
            "MARKETFLOW_KAFKA_PORT": str(self.port),
            "MARKETFLOW_KAFKA_CONTROLLER_PORT": str(free_port()),
            "MARKETFLOW_KAFKA_DATA": str(data_dir),
            "MARKETFLOW_KAFKA_HEAP": "512m",
        }
        self.bootstrap = f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self._script("start")

    async def stop(self) -> None:
        await self._script("stop")

    async def _script(self, command: str) -> None:
        process = await asyncio.create_subprocess_exec(
            str(LOCAL / "kafka.sh"), command, env=self.environ,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise AssertionError(f"kafka.sh {command} failed:\n{output.decode()[-3000:]}")


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[PrivateKafka]:
    broker = PrivateKafka(tmp_path / "kafka")
    try:
        await broker.start()
        yield broker
    finally:
        await broker.stop()  # whatever happened, no broker outlives the test


async def test_an_outage_buffers_in_the_outbox_and_delivers_once_after(
    private_kafka: PrivateKafka, tmp_path: Path,
) -> None:
    env = tuned(Environment(kafka_bootstrap=private_kafka.bootstrap, namespace="outage",
                            store="sqlite", sqlite_dir=tmp_path / "stores", postgres_url=""),
                stall_seconds=1.0)
    planning = await start_service(env, "planning")
    execution = await start_service(env, "execution")
    try:
        before = await plan_launch(planning)
        await eventually(lambda: _opened(execution, before), what="the first campaign's tasks")

        await private_kafka.stop()
        for service in (planning, execution):
            ready = await service.http.get("/health/ready")
            assert ready.status_code == 200, ready.text
        during = await plan_launch(planning)  # 201s: committed, waiting in the outbox
        head = planning.application.max_notification_id()

        async def waiting() -> dict[str, Any] | None:
            code, report = await status_of(planning)
            relay = report["relay"]
            if code == 503 and relay["state"] == "stalled" and relay["lag"] > 0:
                return report
            return None

        report = await eventually(waiting, what="the relay to show it cannot publish")
        assert report["relay"]["position"] < head
        assert report["relay"]["activity"]
        assert (await planning.http.get("/health/ready")).status_code == 200

        await private_kafka.start()
        await eventually(lambda: _opened(execution, during), timeout=120,
                         what="the campaign planned during the outage to arrive")

        async def caught_up() -> bool:
            code, report = await status_of(planning)
            return code == 200 and report["relay"]["lag"] == 0

        await eventually(caught_up, timeout=60, what="planning's relay to catch up")
        tasks = len(before["tasks"]) + len(during["tasks"])
        assert count_events(execution, Task.Opened) == tasks  # type: ignore[attr-defined]
        assert count_events(execution, Task.Assigned) == tasks  # type: ignore[attr-defined]
        records = await read_topic(private_kafka.bootstrap, env.settings("planning").topic())
        sequences = sorted(int(dict(r.headers)["ce_sequence"]) for r in records)
        assert sequences == published(planning), "each published event on the topic once"
    finally:
        await planning.stop()
        await execution.stop()


async def status_of(service: RunningService) -> tuple[int, dict[str, Any]]:
    response = await service.http.get("/health/status")
    return response.status_code, response.json()


def published(service: RunningService) -> list[int]:
    """The notification ids of the service's events that go on its topic."""
    app, translate = service.application, service.runtime.parts.translate
    return [n.id for n in app.recorder.select_notifications(start=1, limit=1_000_000)
            if translate(app.mapper.to_domain_event(n)) is not None]


async def _opened(execution: RunningService, campaign: dict[str, Any]) -> bool:
    for task in campaign["tasks"]:
        response = await execution.http.get(f"/tasks/{task['task_id']}", headers=auth("anna"))
        if response.status_code != 200:
            return False
    return True
