"""A background loop that waits on its wake-up event stops when cancelled, even when the
event is set in the same loop iteration (asyncio.wait_for on 3.11 swallowed that)."""

from __future__ import annotations

import asyncio

from shared.waiting import wait_for_event


async def test_a_cancel_that_coincides_with_a_wake_up_is_not_lost() -> None:
    for _ in range(50):
        wakeup = asyncio.Event()

        async def loop(wakeup: asyncio.Event = wakeup) -> None:
            while True:
                wakeup.clear()
                await wait_for_event(wakeup, 30.0)

        task = asyncio.create_task(loop())
        await asyncio.sleep(0)
        wakeup.set()
        task.cancel()
        async with asyncio.timeout(2.0):
            done, _ = await asyncio.wait({task})
        assert task in done and task.cancelled()


async def test_it_says_whether_the_event_came_or_the_time_ran_out() -> None:
    event = asyncio.Event()
    assert not await wait_for_event(event, 0.01)
    event.set()
    assert await wait_for_event(event, 1.0)
