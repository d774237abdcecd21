"""Execution's own clock: the background job keeps starting due absences and survives a
failing tick (the runtime starts it with the service and cancels it on stop)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from services.execution.wiring import absence_clock


class FakeApplication:
    def __init__(self) -> None:
        self.ticks = 0
        self.third_tick = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def start_due_absences(self) -> int:
        self.ticks += 1
        if self.ticks == 3:
            self.loop.call_soon_threadsafe(self.third_tick.set)
        if self.ticks == 1:
            raise RuntimeError("store unreachable")
        return 1


async def test_the_clock_ticks_on_after_a_failure() -> None:
    app = FakeApplication()
    job = asyncio.create_task(absence_clock(cast(Any, app), interval=0)())
    await app.third_tick.wait()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert app.ticks >= 3
