"""Assembles the notification service for the runtime."""

from __future__ import annotations

from services.notification import handlers, integration
from services.notification.api import build_router
from services.notification.application import NotificationApplication
from shared.access import AccessView, with_access_handlers
from shared.config import Settings
from shared.runtime import ServiceParts

UPSTREAM = ("planning", "execution")


def build(settings: Settings) -> ServiceParts:
    app = NotificationApplication(settings, handlers=with_access_handlers(handlers.HANDLERS))
    access = AccessView(app)
    return ServiceParts(
        application=app,
        router=build_router(app),
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[app.inbox, access],
        access=access,
    )
