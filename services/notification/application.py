"""Notification's use cases."""

from __future__ import annotations

from uuid import UUID

from services.notification.domain import Notification
from shared.application import ServiceApplication
from shared.domain import EventMeta


class NotificationApplication(ServiceApplication):
    def mark_read(self, notification_id: UUID, meta: EventMeta) -> Notification:
        notification = self.load(notification_id, Notification)
        notification.mark_read(meta)
        self.save_or_conflict(notification)
        return notification
