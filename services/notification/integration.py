"""What notification publishes: notifications, each delivery attempt, and changes to
webhook subscriptions (never their URLs or secrets: a chat tool's URL is a credential)."""

from __future__ import annotations

from typing import Any

from contracts import notification as contract
from services.notification.domain import Notification
from services.notification.webhooks import WebhookSubscriptions
from shared.outbox import translate_by_type


def _recorded(event: Any) -> contract.NotificationRecorded:
    return contract.NotificationRecorded(
        notification_id=event.originator_id, recipient_id=event.recipient_id,
        kind=event.kind, subject_id=event.subject_id, text=event.text,
        campaign_id=event.campaign_id, title=event.title, link=event.link,
    )


def _attempted(event: Any) -> contract.DeliveryAttempted:
    return contract.DeliveryAttempted(
        notification_id=event.originator_id, channel=event.channel, target=event.target,
        attempt=event.attempt, outcome=event.outcome, response_code=event.response_code,
        error=event.error, next_attempt_at=event.next_attempt_at)


def _subscribed(event: Any) -> contract.WebhookSubscribed:
    return contract.WebhookSubscribed(owner=event.owner, subscription_id=event.subscription_id,
                                      kinds=event.kinds)


def _unsubscribed(event: Any) -> contract.WebhookUnsubscribed:
    return contract.WebhookUnsubscribed(owner=event.owner,
                                        subscription_id=event.subscription_id)


def _rotated(event: Any) -> contract.WebhookSecretRotated:
    return contract.WebhookSecretRotated(owner=event.owner,
                                         subscription_id=event.subscription_id,
                                         previous_valid_until=event.previous_valid_until)


def _disabled(event: Any) -> contract.WebhookDisabled:
    return contract.WebhookDisabled(owner=event.owner, subscription_id=event.subscription_id,
                                    reason=event.reason, response_code=event.response_code)


translate = translate_by_type({
    Notification.Recorded: _recorded,  # type: ignore[attr-defined]
    Notification.DeliveryAttempted: _attempted,  # type: ignore[attr-defined]
    WebhookSubscriptions.Subscribed: _subscribed,  # type: ignore[attr-defined]
    WebhookSubscriptions.Unsubscribed: _unsubscribed,  # type: ignore[attr-defined]
    WebhookSubscriptions.SecretRotated: _rotated,  # type: ignore[attr-defined]
    WebhookSubscriptions.Disabled: _disabled,  # type: ignore[attr-defined]
})
