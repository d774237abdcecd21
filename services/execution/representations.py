"""What execution's HTTP API returns, shaped in one place: each resource's pydantic
model (the OpenAPI document's schemas, which clients are generated from) and the one
function that builds it from an aggregate or a read model's row.

Field names and values are the ones the API always returned; new fields are added, never
renamed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.execution.domain import Task, sla_status
from services.execution.domain.task import TaskState
from shared.json_types import Timestamp

SlaStatus = Literal["on_time", "at_risk", "late"]
COMMENTING_EVENTS = ("Commented", "ApprovalGiven", "ChangesRequested")
FINISHING_EVENTS = ("Completed", "Cancelled")


class Representation(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- tasks -------------------------------------------------------------------------------


class TaskSummaryOut(Representation):
    """A task's line on lists, queues and boards (from the task board read model)."""

    id: UUID
    campaign_id: UUID
    key: str
    title: str
    role: str
    queue: str
    due_date: dt.date
    start_date: dt.date | None
    status: TaskState
    sla: SlaStatus | None = Field(description="none for a cancelled task")
    assignee_id: str | None
    revision_round: int
    blocked_reason: str | None
    version: int = Field(description="the task's version: send it as If-Match")


class SubmissionOut(Representation):
    version: int
    reference: str
    note: str
    submitted_by: str


class ApprovalInboxItemOut(TaskSummaryOut):
    """A submission waiting for the approver at its current step."""

    step: int = Field(description="the current step, counted from 1")
    steps: int
    step_approver: str = Field(description="who the step asks for, in words")
    required_approvals: int
    approvals: list[str] = Field(description="members who approved this step already")
    escalated_to: str | None
    submission: SubmissionOut
    consulted_missing: list[str] = Field(description="consulted roles not heard yet")


class ApprovalStepOut(Representation):
    """One step of a chain: any member holding ``role``, or exactly ``member_id``."""

    role: str | None
    member_id: str | None
    required_approvals: int


class TaskOut(Representation):
    """A task as it stands: state, people, approval chain, submissions."""

    id: UUID
    campaign_id: UUID
    key: str
    title: str
    description: str
    role: str
    queue: str
    deliverable: str | None
    due_date: dt.date
    start_date: dt.date | None
    status: TaskState
    sla: SlaStatus | None = Field(description="none for a cancelled task")
    assignee_id: str | None
    completed_by: str | None
    blocked_reason: str | None
    depends_on: list[UUID]
    waiting_for: list[UUID] = Field(description="predecessors not finished yet")
    revision_round: int
    approval_chain: list[ApprovalStepOut]
    current_step: int | None = Field(description="counted from 1; none without a chain")
    step_approvals: list[list[str]] = Field(description="who approved each step")
    pending_approvers: list[str]
    consulted_roles: list[str]
    consulted_missing: list[str]
    submissions: list[SubmissionOut]
    delegations: dict[str, str | None] = Field(
        description="away approver -> who acts for them (none: their step's others)")
    role_members: dict[str, list[str]] = Field(description="role -> who holds it")
    escalated_to: str | None
    complete_on_approval: bool
    version: int = Field(description="the task's version, also its ETag")


class CommentOut(Representation):
    """A comment, or the comment of an approval or a change request."""

    id: int = Field(description="the task version that recorded it")
    author: str
    at: Timestamp
    text: str
    submission_version: int | None
    kind: Literal["Commented", "ApprovalGiven", "ChangesRequested"]


class TaskEventOut(Representation):
    """One stored event of the task: who did what, when and why."""

    version: int
    type: str = Field(description="the domain event's name, e.g. Assigned")
    time: Timestamp
    actor: str
    reason: str | None
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any] = Field(
        description="the event's own fields; which ones depends on type (open by design: "
                    "the audit trail shows every stored field)")


class TaskDetailOut(TaskOut):
    """The task with its comments and full history."""

    comments: list[CommentOut]
    history: list[TaskEventOut]


class TaskColumnsOut(Representation):
    """A campaign's tasks, one list per state."""

    planned: list[TaskSummaryOut]
    ready: list[TaskSummaryOut]
    in_progress: list[TaskSummaryOut]
    submitted: list[TaskSummaryOut]
    in_review: list[TaskSummaryOut]
    approved: list[TaskSummaryOut]
    done: list[TaskSummaryOut]
    blocked: list[TaskSummaryOut]
    cancelled: list[TaskSummaryOut]


class StateCountsOut(Representation):
    planned: int
    ready: int
    in_progress: int
    submitted: int
    in_review: int
    approved: int
    done: int
    blocked: int
    cancelled: int


class BoardOut(Representation):
    campaign_id: UUID
    columns: TaskColumnsOut
    counts: StateCountsOut


# --- members and absences -------------------------------------------------------------


class WipLimitOut(Representation):
    member_id: str
    wip_limit: int
    work_in_progress: int = Field(description="open tasks in the member's hands now")


class AbsenceMoveOut(Representation):
    """A task, or a task's approvals, that moved because of the absence."""

    task_id: UUID
    at: Timestamp
    reason: str | None
    what: Literal["task", "approvals"]
    from_member: str | None
    to_member: str | None
    to_queue: str | None


class ReceiverLoadOut(Representation):
    """Where the absence's work went, and what that receiver holds afterwards."""

    member_id: str | None = None
    queue: str | None = None
    tasks_received: int
    work_in_progress: int | None = None
    wip_limit: int | None = None
    over_capacity: bool


class AbsenceOut(Representation):
    id: UUID
    member_id: str
    starts_on: dt.date
    ends_on: dt.date
    backup_member_id: str | None
    reason: str | None
    status: Literal["scheduled", "started", "cancelled"]
    started_at: Timestamp | None = None
    spread_by_capacity: bool
    moved: list[AbsenceMoveOut]
    receivers: list[ReceiverLoadOut]
    warnings: list[str] = Field(description="receivers left over their WIP limit")
    version: int = Field(description="the absence's version, also its ETag")


# --- from aggregates -----------------------------------------------------------------------


def _finished_on(task: Task, history: Sequence[Any] | None) -> dt.date | None:
    """The day of the task's last finishing event (None while it is open)."""
    if task.is_open:
        return None
    finishing = [e for e in history or [] if type(e).__name__ in FINISHING_EVENTS]
    return (finishing[-1].timestamp if finishing else task.modified_on).date()


def task_out(task: Task, today: dt.date, history: Sequence[Any] | None = None) -> TaskOut:
    return TaskOut(
        id=task.id, campaign_id=task.campaign_id, key=task.key, title=task.title,
        description=task.description, role=task.role, queue=task.queue,
        deliverable=task.deliverable, due_date=task.due_date, start_date=task.start_date,
        status=task.status,
        sla=sla_status(task.status, task.due_date, task.start_date, today,
                       _finished_on(task, history)),
        assignee_id=task.assignee_id, completed_by=task.completed_by,
        blocked_reason=task.blocked_reason, depends_on=list(task.depends_on),
        waiting_for=list(task.waiting_for_predecessors),
        revision_round=task.revision_round,
        approval_chain=[ApprovalStepOut(**step.model_dump()) for step in task.approval_chain],
        current_step=task.current_step + 1 if task.approval_chain else None,
        step_approvals=[list(approvers) for approvers in task.step_approvals],
        pending_approvers=sorted(task.pending_approvers()),
        consulted_roles=task.consulted_roles,
        consulted_missing=task.consulted_missing() if task.submission else [],
        submissions=[SubmissionOut(**s.model_dump()) for s in task.submissions],
        delegations=task.delegations, role_members=task.role_members,
        escalated_to=(task.escalated_to(task.current_step)
                      if task.review_target() is not None else None),
        complete_on_approval=task.complete_on_approval, version=task.version)


def comments_of(history: Sequence[Any]) -> list[CommentOut]:
    """Every comment with its author and time (approvals and change requests included)."""
    return [CommentOut(id=event.originator_version, author=event.meta.actor,
                       at=event.timestamp,
                       text=getattr(event, "text", None) or event.comment,
                       submission_version=event.submission_version,
                       kind=type(event).__name__)
            for event in history if type(event).__name__ in COMMENTING_EVENTS
            and (getattr(event, "text", None) or getattr(event, "comment", None))]


def task_event_out(event: Any) -> TaskEventOut:
    data = event.model_dump(mode="json", exclude={"originator_id", "originator_version",
                                                  "timestamp", "meta", "originator_topic"})
    return TaskEventOut(version=event.originator_version, type=type(event).__name__,
                        time=event.timestamp, actor=event.meta.actor,
                        reason=event.meta.reason, correlation_id=event.meta.correlation_id,
                        causation_id=event.meta.causation_id, data=data)


def task_detail_out(task: Task, history: Sequence[Any], today: dt.date) -> TaskDetailOut:
    return TaskDetailOut(**dict(task_out(task, today, history)),
                         comments=comments_of(history),
                         history=[task_event_out(event) for event in history])


__all__ = [
    "AbsenceOut", "ApprovalInboxItemOut", "BoardOut", "CommentOut", "TaskDetailOut",
    "TaskEventOut", "TaskOut", "TaskSummaryOut", "WipLimitOut", "comments_of",
    "task_detail_out", "task_event_out", "task_out",
]
