"""Events published by the execution service on ``marketflow.execution.events``.

Every task event names its task and campaign, so a subscriber needs no lookups.
Additive evolution only within a version: new fields must be optional with a default.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.base import IntegrationEvent


class TaskOpened(IntegrationEvent):
    event_type = "marketflow.execution.task.opened.v1"

    task_id: UUID
    campaign_id: UUID
    title: str
    role: str
    due_date: date
    start_date: date | None = None
    queue: str | None = Field(default=None, description="team queue while unassigned")


class TaskAssigned(IntegrationEvent):
    """The task has a new assignee: as planned, claimed from a queue, reassigned by a
    planner, or handed to a backup because the assignee is away (``via``)."""

    event_type = "marketflow.execution.task.assigned.v1"

    task_id: UUID
    campaign_id: UUID
    title: str
    assignee_id: str
    due_date: date
    previous_assignee_id: str | None = None
    via: Literal["planned", "claimed", "reassigned", "absence"] = "planned"
    absence_id: UUID | None = None
    role_holders: list[str] | None = Field(
        default=None, description="who held the task's role when it was resolved for this "
                                  "assignment (campaign and directory); null: not resolved")


class TaskReturnedToQueue(IntegrationEvent):
    """Nobody holds the task any more; it waits in ``queue`` to be claimed."""

    event_type = "marketflow.execution.task.returned_to_queue.v1"

    task_id: UUID
    campaign_id: UUID
    previous_assignee_id: str
    queue: str
    absence_id: UUID | None = None


class TaskReady(IntegrationEvent):
    """Every predecessor is done: work can start."""

    event_type = "marketflow.execution.task.ready.v1"

    task_id: UUID
    campaign_id: UUID


class TaskStarted(IntegrationEvent):
    event_type = "marketflow.execution.task.started.v1"

    task_id: UUID
    campaign_id: UUID
    assignee_id: str


class TaskSubmitted(IntegrationEvent):
    """A new version of the deliverable; its approval chain starts again at step one."""

    event_type = "marketflow.execution.task.submitted.v1"

    task_id: UUID
    campaign_id: UUID
    submission_version: int = Field(ge=1)
    reference: str
    note: str
    pending_approvers: list[str] = Field(default_factory=list,
                                         description="who may approve step 1")


class ApprovalGiven(IntegrationEvent):
    event_type = "marketflow.execution.approval.given.v1"

    task_id: UUID
    campaign_id: UUID
    step: int = Field(ge=1, description="1-based step of the approval chain")
    submission_version: int = Field(ge=1)
    step_completed: bool
    comment: str = ""
    next_step_approvers: list[str] | None = Field(
        default=None, description="when this approval completed a step and another follows: "
                                  "who may approve the step that is now current")


class ApprovalsDelegated(IntegrationEvent):
    """An approver is away: their approvals on this task go to ``backup_id`` (or, when
    null, to the other approvers of the step)."""

    event_type = "marketflow.execution.approval.delegated.v1"

    task_id: UUID
    member_id: str
    backup_id: str | None
    absence_id: UUID | None = None


class TaskChangesRequested(IntegrationEvent):
    event_type = "marketflow.execution.task.changes_requested.v1"

    task_id: UUID
    campaign_id: UUID
    step: int = Field(ge=1)
    submission_version: int = Field(ge=1)
    revision_round: int = Field(ge=1)
    comment: str


class TaskApproved(IntegrationEvent):
    """Every step of the approval chain approved this submission."""

    event_type = "marketflow.execution.task.approved.v1"

    task_id: UUID
    campaign_id: UUID
    submission_version: int = Field(ge=1)


class TaskCompleted(IntegrationEvent):
    event_type = "marketflow.execution.task.completed.v1"

    task_id: UUID
    campaign_id: UUID
    on_approval: bool = Field(
        default=False, description="true: the approval of its chain completed the task "
                                   "(the actor approved); false: its assignee completed it")


class ApprovalStepEscalated(IntegrationEvent):
    """No one left can satisfy the current approval step of a submission (e.g. the
    submitter is its only approver): it goes to ``escalated_to`` (the campaign's planner),
    who may decide it alone. Null ``escalated_to``: nobody could be found to decide it."""

    event_type = "marketflow.execution.approval.step_escalated.v1"

    task_id: UUID
    campaign_id: UUID
    step: int = Field(ge=1, description="1-based step of the approval chain")
    submission_version: int = Field(ge=1)
    escalated_to: str | None
    eligible_approvers: list[str] = Field(
        default_factory=list, description="who could still approve when it was escalated")


class TaskBlocked(IntegrationEvent):
    event_type = "marketflow.execution.task.blocked.v1"

    task_id: UUID
    campaign_id: UUID
    reason: str


class TaskUnblocked(IntegrationEvent):
    event_type = "marketflow.execution.task.unblocked.v1"

    task_id: UUID
    campaign_id: UUID
    resumed_state: str


class TaskCancelled(IntegrationEvent):
    event_type = "marketflow.execution.task.cancelled.v1"

    task_id: UUID
    campaign_id: UUID
    reason: str


class TaskCommented(IntegrationEvent):
    event_type = "marketflow.execution.task.commented.v1"

    task_id: UUID
    text: str
    submission_version: int = Field(ge=0, description="0: before any submission")


class TaskRevised(IntegrationEvent):
    """Planning rescheduled the task or changed its definition; dates follow planning."""

    event_type = "marketflow.execution.task.revised.v1"

    task_id: UUID
    campaign_id: UUID
    title: str
    due_date: date
    start_date: date | None = None
