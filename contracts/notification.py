"""Events published by the notification service on ``marketflow.notification.events``."""

from __future__ import annotations

from datetime import datetime
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


class DeliveryAttempted(IntegrationEvent):
    """One attempt at delivering a notification outside the app: by email, in the daily
    digest, or to a webhook subscription (``target``: the address or subscription id)."""

    event_type = "marketflow.notification.delivery.attempted.v1"

    notification_id: UUID
    channel: str
    target: str
    attempt: int
    outcome: str
    """delivered, retrying, failed or disabled (a webhook endpoint that answered 410)."""
    response_code: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


class WebhookSubscribed(IntegrationEvent):
    """A member or a team subscribed an endpoint (its URL and secret are not published)."""

    event_type = "marketflow.notification.webhook.subscribed.v1"

    owner: str
    """``member:<id>`` or ``team:<id>``."""
    subscription_id: str
    kinds: list[str]


class WebhookUnsubscribed(IntegrationEvent):
    event_type = "marketflow.notification.webhook.unsubscribed.v1"

    owner: str
    subscription_id: str


class WebhookSecretRotated(IntegrationEvent):
    """A new signing secret; the previous ones still sign until ``previous_valid_until``."""

    event_type = "marketflow.notification.webhook.secret_rotated.v1"

    owner: str
    subscription_id: str
    previous_valid_until: datetime


class WebhookDisabled(IntegrationEvent):
    """An endpoint said it is gone (410): nothing more is sent to it."""

    event_type = "marketflow.notification.webhook.disabled.v1"

    owner: str
    subscription_id: str
    reason: str
    response_code: int | None = None
