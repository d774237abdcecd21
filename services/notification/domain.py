"""Notification's domain: in-app notifications to members.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

from uuid import UUID

from shared.domain import Aggregate, EventMeta, Forbidden, event


class Notification(Aggregate):
    @event("Recorded")
    def __init__(self, id: UUID, recipient_id: str, kind: str, subject_id: UUID, text: str,
                 meta: EventMeta) -> None:
        self.recipient_id = recipient_id
        self.kind = kind
        self.subject_id = subject_id
        self.text = text
        self.read = False

    def mark_read(self, meta: EventMeta) -> None:
        if meta.actor != self.recipient_id:
            raise Forbidden(f"notification {self.id} belongs to {self.recipient_id}")
        if not self.read:
            self._read(meta)

    @event("Read")
    def _read(self, meta: EventMeta) -> None:
        self.read = True
