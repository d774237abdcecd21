"""Assembles the planning service for the runtime."""

from __future__ import annotations

from services.planning import handlers, integration
from services.planning.api import build_router
from services.planning.application import PlanningApplication
from services.planning.views import CatalogView, DirectoryView
from shared.config import Settings
from shared.runtime import ServiceParts

# crm: the topic where other systems (a CRM, BI) report KPI measurements.
UPSTREAM = ("execution", "crm")


def build(settings: Settings) -> ServiceParts:
    app = PlanningApplication(settings, handlers=handlers.HANDLERS)
    catalog = CatalogView(app)
    directory = DirectoryView(app)
    app.directory = directory
    return ServiceParts(
        application=app,
        router=build_router(app, catalog, directory),
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[catalog, directory],
    )
