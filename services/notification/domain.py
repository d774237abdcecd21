"""Notification's domain: in-app notifications to members.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

from uuid import UUID

from shared.domain import Aggregate, EventMeta, event


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
        """Who may is the access policy's business (``policy.py``: the recipient)."""
        if not self.read:
            self._read(meta)

    @event("Read")
    def _read(self, meta: EventMeta) -> None:
        self.read = True
