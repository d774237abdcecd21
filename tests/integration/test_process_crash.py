"""A service process killed with SIGKILL while it works loses nothing and applies
nothing twice when it comes back: real processes, real Kafka, real PostgreSQL."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.execution.application import ExecutionApplication
from services.execution.domain import Task
from tests.benchmarks.context import PLANNER_TOKEN, BenchContext, execution_app, wait_for
from tests.harness import LAUNCH_PLAYBOOK

pytestmark = pytest.mark.integration
CAMPAIGNS = 12


@pytest.fixture
def context(kafka_bootstrap: str, postgres_server: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[BenchContext]:
    monkeypatch.setenv("MARKETFLOW_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("MARKETFLOW_POSTGRES_URL", postgres_server)
    context = BenchContext.create("smoke")
    context.workdir = tmp_path
    yield context
    context.close()


def test_execution_killed_mid_stream_applies_every_campaign_once(context: BenchContext
                                                                  ) -> None:
    namespace = context.namespace("crash")
    planning, planning_url = context.start_service("planning", namespace)
    execution, _ = context.start_service("execution", namespace)
    headers = {"Authorization": f"Bearer {PLANNER_TOKEN}"}
    with httpx.Client(base_url=planning_url, headers=headers, timeout=30) as client:
        client.put("/members/ben", json={"name": "Ben"}).raise_for_status()
        playbook = client.post("/playbooks", json=LAUNCH_PLAYBOOK).raise_for_status().json()
        for number in range(CAMPAIGNS):
            client.post("/campaigns", json={
                "playbook_id": playbook["id"], "name": f"Campaign {number}",
                "launch_date": "2027-03-01", "assignments": {"writer": "ben"},
            }).raise_for_status()
            if number == CAMPAIGNS // 2:
                os.kill(execution.pid, signal.SIGKILL)  # mid-stream, no shutdown at all
                execution.wait()
    assert execution.returncode == -signal.SIGKILL

    restarted, _ = context.start_service("execution", namespace)
    expected = CAMPAIGNS * len(LAUNCH_PLAYBOOK["tasks"])  # type: ignore[arg-type]
    app = execution_app(context, namespace)
    try:
        wait_for(lambda: _count(app, Task.Opened) >= expected,  # type: ignore[attr-defined]
                 60, "the restarted execution to open every task")
        assert _count(app, Task.Opened) == expected  # type: ignore[attr-defined]
        assert _count(app, Task.Assigned) == 2 * CAMPAIGNS  # type: ignore[attr-defined]
    finally:
        app.close()
        for process in (restarted, planning):
            process.terminate()
            process.wait(timeout=30)


def _count(app: ExecutionApplication, event_class: type) -> int:
    return sum(1 for n in app.recorder.select_notifications(start=1, limit=100_000)
               if isinstance(app.mapper.to_domain_event(n), event_class))
