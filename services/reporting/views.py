"""Reporting's read models, folded from the archive."""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.reporting.domain import ArchivedEvent, Timeline
from shared.views import View

TASK_OPENED = "marketflow.execution.task.opened.v1"
TASK_COMPLETED = "marketflow.execution.task.completed.v1"
TASK_CANCELLED = "marketflow.execution.task.cancelled.v1"
CAMPAIGN_PLANNED = "marketflow.planning.campaign.planned.v1"


class ProgressView(View):
    """Campaign progress (tasks open/done) and archive totals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.task_status: dict[str, dict[str, str]] = {}
        self.archived_by_type: Counter[str] = Counter()

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Timeline.Started):  # type: ignore[attr-defined]
            self._archived(domain_event.first)
        elif isinstance(domain_event, Timeline.Appended):  # type: ignore[attr-defined]
            self._archived(domain_event.entry)

    def _archived(self, entry: ArchivedEvent) -> None:
        self.archived_by_type[entry.type] += 1
        data = entry.data
        if entry.type == CAMPAIGN_PLANNED:
            self.campaigns[data["campaign_id"]] = {
                "name": data["name"], "launch_date": data["launch_date"],
                "planned_tasks": len(data["tasks"]),
            }
        elif entry.type == TASK_OPENED:
            self.task_status.setdefault(data["campaign_id"], {})[data["task_id"]] = "open"
        elif entry.type == TASK_COMPLETED:
            self.task_status.setdefault(data["campaign_id"], {})[data["task_id"]] = "done"
        elif entry.type == TASK_CANCELLED:
            self.task_status.setdefault(data["campaign_id"], {})[data["task_id"]] = "cancelled"

    def progress(self, campaign_id: str) -> dict[str, Any] | None:
        self.catch_up()
        campaign = self.campaigns.get(campaign_id)
        statuses = self.task_status.get(campaign_id, {})
        if campaign is None and not statuses:
            return None
        done = sum(1 for status in statuses.values() if status == "done")
        cancelled = sum(1 for status in statuses.values() if status == "cancelled")
        total = max(len(statuses), campaign["planned_tasks"] if campaign else 0)
        return {
            "campaign_id": campaign_id,
            "name": campaign["name"] if campaign else None,
            "launch_date": campaign["launch_date"] if campaign else None,
            "tasks_total": total,
            "tasks_open": len(statuses) - done - cancelled,
            "tasks_cancelled": cancelled,
            "tasks_done": done,
            "percent_done": round(100 * done / total, 1) if total else 0.0,
        }

    def totals(self) -> dict[str, int]:
        self.catch_up()
        return dict(sorted(self.archived_by_type.items()))
