"""Runs every benchmark scenario at a tiny size, so the harness cannot rot.
It asserts that figures and baselines are produced, never how fast anything is."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.benchmarks.__main__ import run

pytestmark = pytest.mark.integration


def test_every_scenario_produces_figures_with_baselines(
    kafka_bootstrap: str, postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETFLOW_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("MARKETFLOW_POSTGRES_URL", postgres_server)
    output = tmp_path / "results.json"
    results = run("smoke", output)
    names = {r.name.split("@")[0] for r in results}
    assert {
        "commands.use_case_layer.postgres", "commands.event_store_protocol_only.postgres",
        "http.start_task.throughput",
        "http.start_task.p99", "pipeline.sustained", "pipeline.commit_to_visible.p99",
        "replay.reporting_read_models", "audit.task_history.p99", "audit.campaign_as_of.p99",
        "audit.verify",
    } <= names
    for service in ("reporting", "execution"):
        assert {f"startup.{service}.{figure}" for figure in (
            "ready", "first_answer", "peak_rss",
            "ready.growth", "first_answer.growth", "peak_rss.growth")} <= names, service
    assert any(name.startswith("memory.peak_rss.") for name in names)
    for figure in results:
        assert figure.value > 0 and figure.baseline > 0, figure
        assert math.isfinite(figure.ratio), figure
    written = json.loads(output.read_text())
    assert len(written) == len(results)
    assert set(written[0]) == {"name", "value", "unit", "baseline", "ratio", "scale", "note"}
