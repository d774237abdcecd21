"""What notification publishes."""

from __future__ import annotations

from typing import Any

from contracts import notification as contract
from services.notification.domain import Notification
from shared.outbox import translate_by_type


def _recorded(event: Any) -> contract.NotificationRecorded:
    return contract.NotificationRecorded(
        notification_id=event.originator_id, recipient_id=event.recipient_id,
        kind=event.kind, subject_id=event.subject_id, text=event.text,
        campaign_id=event.campaign_id, title=event.title, link=event.link,
    )


translate = translate_by_type({Notification.Recorded: _recorded})  # type: ignore[attr-defined]
