"""Execution's domain: tasks opened from planned campaigns, assigned and completed.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
from uuid import UUID

from shared.domain import Aggregate, Conflict, EventMeta, Forbidden, event


class Task(Aggregate):
    @event("Opened")
    def __init__(
        self,
        id: UUID,
        campaign_id: UUID,
        key: str,
        title: str,
        role: str,
        due_date: dt.date,
        meta: EventMeta,
    ) -> None:
        self.campaign_id = campaign_id
        self.key = key
        self.title = title
        self.role = role
        self.due_date = due_date
        self.status = "open"
        self.assignee_id: str | None = None
        self.completed_by: str | None = None

    def assign(self, assignee_id: str, meta: EventMeta) -> None:
        if self.status != "open":
            raise Conflict(f"cannot assign task {self.id}: it is {self.status}")
        self._assigned(assignee_id, self.campaign_id, self.title, self.due_date, meta)

    # Events repeat the task's campaign, title and due date so that each one can be
    # published on its own: subscribers need no lookups.
    @event("Assigned")
    def _assigned(self, assignee_id: str, campaign_id: UUID, title: str, due_date: dt.date,
                  meta: EventMeta) -> None:
        self.assignee_id = assignee_id

    def complete(self, meta: EventMeta) -> None:
        if self.status != "open":
            raise Conflict(f"cannot complete task {self.id}: transition {self.status} -> done "
                           "is not allowed")
        if self.assignee_id != meta.actor:
            holder = self.assignee_id or "nobody"
            raise Forbidden(f"only the assignee ({holder}) can complete task {self.id}")
        self._completed(self.campaign_id, meta)

    @event("Completed")
    def _completed(self, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = "done"
        self.completed_by = meta.actor
