"""Events published by the notification service on ``marketflow.notification.events``."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from contracts.base import IntegrationEvent


class NotificationRecorded(IntegrationEvent):
    event_type = "marketflow.notification.notification.recorded.v1"

    notification_id: UUID
    recipient_id: str
    kind: str
    subject_id: UUID
    text: str
    campaign_id: UUID | None = Field(default=None, description="the campaign it is about")
    title: str = Field(default="", description="a one-line summary naming the task and "
                                               "the campaign")
    link: str | None = Field(default=None, description="the task or campaign in the web app")
