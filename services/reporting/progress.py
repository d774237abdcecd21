"""Campaign progress, defined once: the live read model (reporting's tables) and the
"as of" query (a fold over a prefix of the archive) compute it with these rules.

Order-independent by construction: a campaign's fields come from its latest campaign
event, a task's status from its latest task event (by aggregate version, which orders one
aggregate's events exactly). Events of one campaign reach reporting on two topics in any
interleaving; the answer is the same for every interleaving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain import ArchivedEvent
from services.reporting.figures import percent_done

CAMPAIGN_PLANNED = "marketflow.planning.campaign.planned.v1"
CAMPAIGN_TASKS_REVISED = "marketflow.planning.campaign.tasks_revised.v1"
TASK_OPENED = "marketflow.execution.task.opened.v1"
TASK_COMPLETED = "marketflow.execution.task.completed.v1"
TASK_CANCELLED = "marketflow.execution.task.cancelled.v1"
TASK_ASSIGNED = "marketflow.execution.task.assigned.v1"
TASK_STARTED = "marketflow.execution.task.started.v1"
TASK_RETURNED = "marketflow.execution.task.returned_to_queue.v1"
TASK_SUBMITTED = "marketflow.execution.task.submitted.v1"
STEP_ESCALATED = "marketflow.execution.approval.step_escalated.v1"
TASK_STATUS = {TASK_OPENED: "open", TASK_COMPLETED: "done", TASK_CANCELLED: "cancelled"}


@dataclass(frozen=True)
class CampaignChange:
    """What a campaign event sets; None leaves a field as it was."""

    version: int
    name: str | None = None
    launch_date: str | None = None
    planned_tasks: int | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class TaskChange:
    task_id: str
    status: str
    version: int


def merged(earlier: CampaignChange, later: CampaignChange) -> CampaignChange:
    """Two changes of one campaign as one: the later version's fields win, the earlier
    fills what the later leaves as it was."""
    first, second = sorted((earlier, later), key=lambda change: change.version)
    return CampaignChange(
        version=second.version,
        name=second.name if second.name is not None else first.name,
        launch_date=second.launch_date or first.launch_date,
        planned_tasks=second.planned_tasks if second.planned_tasks is not None
        else first.planned_tasks,
        team_id=second.team_id or first.team_id)


def change_of(entry: ArchivedEvent) -> CampaignChange | TaskChange | None:
    """What an archived event changes in its campaign's progress, if anything."""
    data = entry.data
    if entry.type == CAMPAIGN_PLANNED:
        return CampaignChange(entry.aggregate_version, data["name"], data["launch_date"],
                              len(data["tasks"]), data.get("team_id"))
    if entry.type == CAMPAIGN_TASKS_REVISED and data.get("launch_date"):
        return CampaignChange(entry.aggregate_version, launch_date=data["launch_date"])
    status = TASK_STATUS.get(entry.type)
    if status is not None:
        return TaskChange(str(data["task_id"]), status, entry.aggregate_version)
    return None


def _planned_participants(task: dict[str, Any]) -> set[tuple[str, str]]:
    """Who a planned task names: its assignee, members its approval chain names, and the
    members holding its roles in the campaign (approvers, consulted)."""
    task_id = str(task.get("task_id") or "")
    if not task_id:  # a planned task without an id (the benchmarks seed such) names no one
        return set()
    members = {task.get("assignee_id")}
    members |= {step.get("member_id") for step in task.get("approval_chain") or ()}
    for holders in (task.get("role_members") or {}).values():
        members |= set(holders)
    return {(task_id, member) for member in members if member}


def participants_of(entry: ArchivedEvent) -> set[tuple[str, str]]:
    """(task id, member id) for each member an archived event makes take part in its
    campaign's work: named in the plan, assigned, starting, returning it, asked to approve
    or escalated to. Taking part is never undone (the history stays theirs to read), so
    the set is the same whatever order events arrive in."""
    data = entry.data
    if entry.type == CAMPAIGN_PLANNED:
        tasks = data.get("tasks") or []
    elif entry.type == CAMPAIGN_TASKS_REVISED:
        tasks = [*(data.get("added") or []), *(data.get("updated") or [])]
    else:
        task_id = str(data.get("task_id") or "")
        members: set[str | None] = set()
        if entry.type in (TASK_ASSIGNED, TASK_STARTED):
            members = {data.get("assignee_id"), data.get("previous_assignee_id")}
        elif entry.type == TASK_RETURNED:
            members = {data.get("previous_assignee_id")}
        elif entry.type == TASK_SUBMITTED:
            members = set(data.get("pending_approvers") or ())
        elif entry.type == STEP_ESCALATED:
            members = {data.get("escalated_to"), *(data.get("eligible_approvers") or ())}
        return {(task_id, member) for member in members if member and task_id}
    return {pair for task in tasks for pair in _planned_participants(task)}


@dataclass
class CampaignProgress:
    campaign_id: str
    name: str | None = None
    launch_date: str | None = None
    planned_tasks: int = 0
    campaign_version: int = 0
    task_status: dict[str, tuple[str, int]] = field(default_factory=dict)
    """task id -> (status, version of the event that set it)"""

    def apply(self, entry: ArchivedEvent) -> None:
        change = change_of(entry)
        if isinstance(change, CampaignChange):
            self.apply_campaign(change)
        elif isinstance(change, TaskChange):
            self.apply_task(change)

    def apply_campaign(self, change: CampaignChange) -> None:
        if change.version <= self.campaign_version:
            return
        now = merged(CampaignChange(self.campaign_version, self.name, self.launch_date,
                                    self.planned_tasks), change)
        self.campaign_version, self.name, self.launch_date = (
            now.version, now.name, now.launch_date)
        self.planned_tasks = now.planned_tasks or 0

    def apply_task(self, change: TaskChange) -> None:
        known = self.task_status.get(change.task_id)
        if known is None or change.version > known[1]:
            self.task_status[change.task_id] = (change.status, change.version)

    def report(self) -> dict[str, Any]:
        statuses = [status for status, _ in self.task_status.values()]
        done = statuses.count("done")
        cancelled = statuses.count("cancelled")
        total = max(len(statuses), self.planned_tasks)
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "launch_date": self.launch_date,
            "tasks_total": total,
            "tasks_open": len(statuses) - done - cancelled,
            "tasks_cancelled": cancelled,
            "tasks_done": done,
            "percent_done": percent_done(done, total, cancelled),
        }


def campaign_of(entry: ArchivedEvent) -> str | None:
    """The campaign an archived event belongs to, if any."""
    if entry.type == CAMPAIGN_PLANNED:
        return str(entry.data["campaign_id"])
    campaign_id = entry.data.get("campaign_id")
    return str(campaign_id) if campaign_id else None
