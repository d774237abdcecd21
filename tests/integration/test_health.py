"""Health endpoints: live while the process runs, ready only when store, Kafka and the
outbox relay all work."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.harness import Environment, start_service

pytestmark = pytest.mark.integration


async def test_ready_reports_what_is_missing(sqlite_env: Environment) -> None:
    service = await start_service(sqlite_env, "notification")
    try:
        live = await service.http.get("/health/live")
        assert live.status_code == 200 and live.json()["status"] == "live"
        ready = await service.http.get("/health/ready")
        assert ready.status_code == 200, ready.text

        relay_task = service.runtime._relay_task
        assert relay_task is not None
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        not_ready = await service.http.get("/health/ready")
        assert not_ready.status_code == 503
        assert not_ready.json()["outbox"] == "relay is not running"
        assert (await service.http.get("/health/live")).status_code == 200
    finally:
        await service.stop()
