"""Assembles the execution service for the runtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from services.execution import handlers, integration
from services.execution.api import build_router
from services.execution.application import ExecutionApplication
from shared.access import with_access_handlers
from shared.config import Settings
from shared.runtime import ServiceParts

UPSTREAM = ("planning",)
ABSENCE_CHECK_SECONDS = 60.0
"""How often the service looks for absences whose first day has come."""
log = logging.getLogger(__name__)


def absence_clock(app: ExecutionApplication,
                  interval: float = ABSENCE_CHECK_SECONDS
                  ) -> Callable[[], Coroutine[Any, Any, None]]:
    """Execution's own clock: absences recorded ahead start on their first day."""

    async def run_absence_clock() -> None:
        while True:
            try:
                started = await asyncio.to_thread(app.start_due_absences)
                if started:
                    log.info("absences started", extra={"count": started})
            except Exception:
                log.exception("absence clock failed; retrying at the next tick")
            await asyncio.sleep(interval)

    return run_absence_clock


def build(settings: Settings) -> ServiceParts:
    app = ExecutionApplication(settings, handlers=with_access_handlers(handlers.HANDLERS))
    access = app.access
    return ServiceParts(
        application=app,
        router=build_router(app),
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[app.board, app.absences, app.directory, access],
        access=access,
        background=[absence_clock(app)],
    )
