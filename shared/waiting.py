"""Waiting in background loops without losing a cancellation.

On Python 3.11, ``asyncio.wait_for(event.wait(), timeout)`` returns normally when the
event is set in the same loop iteration as the task is cancelled: the cancellation is
swallowed, the loop goes round again, and whoever awaits the cancelled task (a service
stopping) waits forever. ``asyncio.timeout`` does not have that flaw.
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set, at most ``seconds``; True if it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
            return True
    return False
