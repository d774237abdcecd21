"""Execution's read models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.execution.domain import Task
from shared.views import View


class TaskBoardView(View):
    """Every task's current line, for 'my tasks' and the campaign board."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: dict[UUID, dict[str, Any]] = {}

    def apply(self, domain_event: Any) -> None:
        task_id = domain_event.originator_id
        if isinstance(domain_event, Task.Opened):  # type: ignore[attr-defined]
            self.tasks[task_id] = {
                "id": str(task_id),
                "campaign_id": str(domain_event.campaign_id),
                "key": domain_event.key,
                "title": domain_event.title,
                "role": domain_event.role,
                "due_date": domain_event.due_date.isoformat(),
                "status": "open",
                "assignee_id": None,
            }
        elif isinstance(domain_event, Task.Assigned):  # type: ignore[attr-defined]
            self.tasks[task_id]["assignee_id"] = domain_event.assignee_id
        elif isinstance(domain_event, Task.Completed):  # type: ignore[attr-defined]
            self.tasks[task_id]["status"] = "done"

    def query(self, *, assignee_id: str | None = None,
              campaign_id: UUID | None = None) -> list[dict[str, Any]]:
        self.catch_up()
        rows = list(self.tasks.values())
        if assignee_id is not None:
            rows = [row for row in rows if row["assignee_id"] == assignee_id]
        if campaign_id is not None:
            rows = [row for row in rows if row["campaign_id"] == str(campaign_id)]
        return sorted(rows, key=lambda row: (row["due_date"], row["key"]))
