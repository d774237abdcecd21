"""Health endpoints: live while the process runs, ready while the store answers (Kafka
and the relay do not decide readiness), and /health/status degraded when a background
flow is not running."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.harness import Environment, start_service

pytestmark = pytest.mark.integration


async def test_ready_means_can_serve_and_status_reports_what_is_missing(
    sqlite_env: Environment,
) -> None:
    service = await start_service(sqlite_env, "notification")
    try:
        live = await service.http.get("/health/live")
        assert live.status_code == 200 and live.json()["status"] == "live"
        ready = await service.http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        status = await service.http.get("/health/status")
        assert status.status_code == 200, status.text
        assert status.json()["relay"]["state"] == "healthy"

        relay_task = service.runtime._relay_task
        assert relay_task is not None
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        # Commands still commit; the outbox keeps them until a relay runs again.
        assert (await service.http.get("/health/ready")).status_code == 200
        degraded = await service.http.get("/health/status")
        assert degraded.status_code == 503, degraded.text
        assert degraded.json()["status"] == "degraded"
        assert degraded.json()["relay"]["state"] == "stopped"
        assert (await service.http.get("/health/live")).status_code == 200
    finally:
        await service.stop()
