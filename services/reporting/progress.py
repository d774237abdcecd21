"""Campaign progress as a fold over archived events: the same code answers "now" (the
live read model) and "as of" any past moment (a fold over a prefix of the archive)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain import ArchivedEvent

CAMPAIGN_PLANNED = "marketflow.planning.campaign.planned.v1"
TASK_OPENED = "marketflow.execution.task.opened.v1"
TASK_COMPLETED = "marketflow.execution.task.completed.v1"
TASK_CANCELLED = "marketflow.execution.task.cancelled.v1"


@dataclass
class CampaignProgress:
    campaign_id: str
    name: str | None = None
    launch_date: str | None = None
    planned_tasks: int = 0
    task_status: dict[str, str] = field(default_factory=dict)

    def apply(self, entry: ArchivedEvent) -> None:
        data = entry.data
        if entry.type == CAMPAIGN_PLANNED:
            self.name = data["name"]
            self.launch_date = data["launch_date"]
            self.planned_tasks = len(data["tasks"])
        elif entry.type == TASK_OPENED:
            self.task_status[data["task_id"]] = "open"
        elif entry.type == TASK_COMPLETED:
            self.task_status[data["task_id"]] = "done"
        elif entry.type == TASK_CANCELLED:
            self.task_status[data["task_id"]] = "cancelled"

    def report(self) -> dict[str, Any]:
        done = sum(1 for status in self.task_status.values() if status == "done")
        cancelled = sum(1 for status in self.task_status.values() if status == "cancelled")
        total = max(len(self.task_status), self.planned_tasks)
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "launch_date": self.launch_date,
            "tasks_total": total,
            "tasks_open": len(self.task_status) - done - cancelled,
            "tasks_cancelled": cancelled,
            "tasks_done": done,
            "percent_done": round(100 * done / total, 1) if total else 0.0,
        }


def campaign_of(entry: ArchivedEvent) -> str | None:
    """The campaign an archived event belongs to, if any."""
    if entry.type == CAMPAIGN_PLANNED:
        return str(entry.data["campaign_id"])
    campaign_id = entry.data.get("campaign_id")
    return str(campaign_id) if campaign_id else None
