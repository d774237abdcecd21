"""Events published by the notification service on ``marketflow.notification.events``."""

from __future__ import annotations

from uuid import UUID

from contracts.base import IntegrationEvent


class NotificationRecorded(IntegrationEvent):
    event_type = "marketflow.notification.notification.recorded.v1"

    notification_id: UUID
    recipient_id: str
    kind: str
    subject_id: UUID
    text: str
