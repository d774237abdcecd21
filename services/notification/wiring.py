"""Assembles the notification service for the runtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from services.notification import handlers, integration
from services.notification.api import build_router
from services.notification.application import NotificationApplication
from services.notification.delivery import Deliverer, DeliveriesView
from services.notification.notify import Clock, utc_now
from services.notification.settings import NotificationSettings
from services.notification.webhooks import Webhooks
from services.notification.webhooks_api import build_webhooks_router
from services.notification.work import then_remember
from shared.access import AccessView, with_access_handlers
from shared.config import Settings
from shared.runtime import ServiceParts

UPSTREAM = ("planning", "execution")

log = logging.getLogger(__name__)


def timer_clock(app: NotificationApplication) -> Callable[[], Coroutine[Any, Any, None]]:
    """Notification's own clock: reminders and escalations fire when their day comes
    (``app.clock``), looked for every ``poll_seconds``."""

    async def run_timer_clock() -> None:
        while True:
            try:
                fired = await asyncio.to_thread(app.fire_due_timers)
                if fired:
                    log.info("reminders and escalations recorded", extra={"count": fired})
            except Exception:
                log.exception("timer clock failed; retrying at the next tick")
            await asyncio.sleep(app.notification_settings.poll_seconds)

    return run_timer_clock


def build(settings: Settings, *, notification_settings: NotificationSettings | None = None,
          clock: Clock = utc_now) -> ServiceParts:
    """Tests pass their own notification settings (an SMTP server of theirs) and clock."""
    app = NotificationApplication(
        settings, handlers=then_remember(with_access_handlers(handlers.HANDLERS)),
        notification_settings=notification_settings or NotificationSettings.from_env(),
        clock=clock)
    access = AccessView(app)
    deliveries = DeliveriesView(app)
    deliverer = Deliverer(app, deliveries)
    router = build_router(app)
    router.include_router(build_webhooks_router(Webhooks(app)))
    return ServiceParts(
        application=app,
        router=router,
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[app.inbox, app.timers, deliveries, access],
        background=[timer_clock(app), deliverer.notification_deliveries],
        access=access,
    )
