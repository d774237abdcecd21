"""Notification's read models."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from services.notification.domain import Notification
from shared.views import View


class InboxView(View):
    """Each member's in-app notifications, newest first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_id: dict[UUID, dict[str, Any]] = {}
        self.by_recipient: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Notification.Recorded):  # type: ignore[attr-defined]
            row = {
                "id": str(domain_event.originator_id),
                "recipient_id": domain_event.recipient_id,
                "kind": domain_event.kind,
                "subject_id": str(domain_event.subject_id),
                "text": domain_event.text,
                "read": False,
                "created_at": domain_event.timestamp.isoformat(),
                "caused_by": domain_event.meta.causation_id,
            }
            self.by_id[domain_event.originator_id] = row
            self.by_recipient[domain_event.recipient_id].append(row)
        elif isinstance(domain_event, Notification.Read):  # type: ignore[attr-defined]
            self.by_id[domain_event.originator_id]["read"] = True

    def for_member(self, member_id: str) -> list[dict[str, Any]]:
        self.catch_up()
        return list(reversed(self.by_recipient.get(member_id, [])))
