"""Notification's use cases; each checks the access policy first (``policy.py``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.notification.domain import Notification
from services.notification.notify import Clock, Notifier, utc_now
from services.notification.policy import POLICY
from services.notification.settings import NotificationSettings
from services.notification.views import InboxView
from services.notification.work import Work
from shared.application import Handlers, ServiceApplication
from shared.config import Settings
from shared.domain import NotFound, StaleVersion
from shared.policy import Caller, Resource
from shared.projections import Page, PageRequest


def _resource(notification: Notification) -> Resource:
    return Resource.of(owners=notification.recipient_id,
                       description=f"notification {notification.id} (to "
                                   f"{notification.recipient_id})")


class NotificationApplication(ServiceApplication):
    def __init__(self, settings: Settings, handlers: Handlers | None = None, *,
                 notification_settings: NotificationSettings | None = None,
                 clock: Clock = utc_now) -> None:
        super().__init__(settings, handlers)
        self.notification_settings = notification_settings or NotificationSettings()
        # Injected so that reminders, escalations, quiet hours and retries can be tested
        # without waiting.
        self.clock = clock
        self.notifier = Notifier(self, self.notification_settings, clock)
        self.work = Work(self)
        self.inbox = InboxView(self)

    def my_notifications(self, caller: Caller, page: PageRequest | None = None) -> Page:
        """The caller's own notifications, newest first."""
        POLICY.authorize("notification.list", caller, Resource.of(
            owners=caller.member_id, description=f"{caller.member_id}'s notifications"))
        return self.inbox.for_member(caller.member_id, page)

    def notification(self, notification_id: UUID, caller: Caller,
                     expected_version: int | None = None,
                     action: str = "notification.read") -> Notification:
        """A notification the caller may take ``action`` on (403 otherwise), at the
        version they saw when they give one."""
        notification = self.load(notification_id, Notification)
        POLICY.authorize(action, caller, _resource(notification))
        if expected_version is not None and notification.version != expected_version:
            raise StaleVersion(f"notification {notification_id} changed since version "
                               f"{expected_version} (it is at version "
                               f"{notification.version} now); reload and retry")
        return notification

    def read(self, notification_id: UUID, caller: Caller) -> dict[str, Any]:
        """The notification as the inbox shows it, once the caller may read it."""
        self.notification(notification_id, caller)
        row = self.inbox.get(notification_id)
        if row is None:  # recorded in the store, so the read model has it once caught up
            raise NotFound(f"notification {notification_id} not found")
        return row

    def mark_read(self, notification_id: UUID, caller: Caller,
                  expected_version: int | None = None) -> Notification:
        notification = self.notification(notification_id, caller, expected_version,
                                         action="notification.mark_read")
        notification.mark_read(caller.meta())
        self.save_or_conflict(notification)
        return notification
