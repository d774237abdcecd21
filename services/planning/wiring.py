"""Assembles the planning service for the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from services.planning import handlers, integration
from services.planning.api import build_router
from services.planning.application import PlanningApplication
from services.planning.views import CalendarView, CatalogView, DirectoryView, PlanningAccessView
from shared.config import Settings
from shared.runtime import ServiceParts

# crm: the topic where other systems (a CRM, BI) report KPI measurements.
UPSTREAM = ("execution", "crm")
ROUTINE_INTERVAL_SECONDS = 3600.0
log = logging.getLogger(__name__)


def build(settings: Settings) -> ServiceParts:
    app = PlanningApplication(settings, handlers=handlers.HANDLERS)
    catalog = CatalogView(app)
    directory = DirectoryView(app)
    calendar = CalendarView(app)
    access = PlanningAccessView(app)
    app.directory = directory
    app.catalog = catalog
    app.calendar = calendar
    app.access = access
    router = build_router(app, catalog, directory, calendar)
    router.lifespan_context = routine_ticker(app)
    return ServiceParts(
        application=app,
        router=router,
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[catalog, directory, calendar, access],
        access=access,
    )


def routine_ticker(app: PlanningApplication) -> Any:
    """While the HTTP server runs, recurring routines plan what entered their horizon."""

    async def tick() -> None:
        while True:
            try:
                planned = await asyncio.to_thread(app.run_routines)
                if planned:
                    log.info("routines planned campaigns", extra={"planned": len(planned)})
            except Exception:
                log.exception("running the routines failed; trying again later")
            await asyncio.sleep(ROUTINE_INTERVAL_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(tick(), name="routine-ticker")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan
