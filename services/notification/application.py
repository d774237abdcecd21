"""Notification's use cases."""

from __future__ import annotations

from uuid import UUID

from services.notification.domain import Notification
from shared.application import ServiceApplication
from shared.domain import EventMeta, Forbidden, StaleVersion


class NotificationApplication(ServiceApplication):
    def notification(self, notification_id: UUID, member_id: str,
                     expected_version: int | None = None) -> Notification:
        """The member's own notification (403 for someone else's), at the version they
        saw when they give one."""
        notification = self.load(notification_id, Notification)
        if notification.recipient_id != member_id:
            raise Forbidden(f"notification {notification_id} belongs to "
                            f"{notification.recipient_id}")
        if expected_version is not None and notification.version != expected_version:
            raise StaleVersion(f"notification {notification_id} changed since version "
                               f"{expected_version} (it is at version "
                               f"{notification.version} now); reload and retry")
        return notification

    def mark_read(self, notification_id: UUID, meta: EventMeta,
                  expected_version: int | None = None) -> Notification:
        notification = self.notification(notification_id, meta.actor, expected_version)
        notification.mark_read(meta)
        self.save_or_conflict(notification)
        return notification
