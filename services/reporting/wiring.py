"""Assembles the reporting service for the runtime."""

from __future__ import annotations

from services.reporting import handlers, integration
from services.reporting.api import build_router
from services.reporting.application import ReportingApplication
from services.reporting.audit_api import audit_routes
from services.reporting.reports_delivery_api import build_delivery_router
from services.reporting.reports_people_api import people_reports
from services.reporting.transparency_api import tamper_evidence
from shared.access import AccessView, with_access_handlers
from shared.config import Settings
from shared.runtime import ServiceParts

UPSTREAM = ("planning", "execution", "notification")


def build(settings: Settings) -> ServiceParts:
    app = ReportingApplication(settings, handlers=with_access_handlers(handlers.HANDLERS))
    access = AccessView(app)
    router = build_router(app)
    audit = tamper_evidence(app)
    router.include_router(audit.router)
    activity = audit_routes(app, access)
    router.include_router(activity.router)
    people = people_reports(app)  # approvals, workload and goals reports
    router.include_router(people.router)
    router.include_router(build_delivery_router(app))
    return ServiceParts(
        application=app,
        router=router,
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[app.progress, app.archive, app.facts, access, audit.view,
               activity.view, *people.views],
        access=access,
        background=[audit.publisher],
    )
