"""What execution publishes: each task event as its contract; the rest stays private."""

from __future__ import annotations

from typing import Any

from contracts import execution as contract
from services.execution.domain import Task
from shared.outbox import translate_by_type


def _opened(event: Any) -> contract.TaskOpened:
    return contract.TaskOpened(task_id=event.originator_id, campaign_id=event.campaign_id,
                               title=event.title, role=event.role, due_date=event.due_date,
                               start_date=event.start_date, queue=event.queue or event.role)


def _assigned(event: Any) -> contract.TaskAssigned:
    return contract.TaskAssigned(task_id=event.originator_id, campaign_id=event.campaign_id,
                                 title=event.title, assignee_id=event.assignee_id,
                                 due_date=event.due_date,
                                 previous_assignee_id=event.previous_assignee_id,
                                 via=event.via, absence_id=event.absence_id,
                                 role_holders=event.role_holders)


def _unassigned(event: Any) -> contract.TaskReturnedToQueue:
    return contract.TaskReturnedToQueue(
        task_id=event.originator_id, campaign_id=event.campaign_id,
        previous_assignee_id=event.previous_assignee_id, queue=event.queue,
        absence_id=event.absence_id)


def _delegated(event: Any) -> contract.ApprovalsDelegated:
    return contract.ApprovalsDelegated(task_id=event.originator_id, member_id=event.member_id,
                                       backup_id=event.backup_id, absence_id=event.absence_id)


def _ready(event: Any) -> contract.TaskReady:
    return contract.TaskReady(task_id=event.originator_id, campaign_id=event.campaign_id)


def _started(event: Any) -> contract.TaskStarted:
    return contract.TaskStarted(task_id=event.originator_id, campaign_id=event.campaign_id,
                                assignee_id=event.meta.actor)


def _submitted(event: Any) -> contract.TaskSubmitted:
    return contract.TaskSubmitted(task_id=event.originator_id, campaign_id=event.campaign_id,
                                  submission_version=event.version, reference=event.reference,
                                  note=event.note, pending_approvers=event.first_approvers)


def _approval_given(event: Any) -> contract.ApprovalGiven:
    return contract.ApprovalGiven(task_id=event.originator_id, campaign_id=event.campaign_id,
                                  step=event.step_index + 1,
                                  submission_version=event.submission_version,
                                  step_completed=event.step_completed, comment=event.comment,
                                  next_step_approvers=event.next_approvers
                                  if event.step_completed and event.next_approvers else None)


def _changes_requested(event: Any) -> contract.TaskChangesRequested:
    return contract.TaskChangesRequested(
        task_id=event.originator_id, campaign_id=event.campaign_id, step=event.step_index + 1,
        submission_version=event.submission_version, revision_round=event.revision_round,
        comment=event.comment)


def _approved(event: Any) -> contract.TaskApproved:
    return contract.TaskApproved(task_id=event.originator_id, campaign_id=event.campaign_id,
                                 submission_version=event.submission_version)


def _completed(event: Any) -> contract.TaskCompleted:
    return contract.TaskCompleted(task_id=event.originator_id, campaign_id=event.campaign_id,
                                  on_approval=event.on_approval)


def _escalated(event: Any) -> contract.ApprovalStepEscalated:
    return contract.ApprovalStepEscalated(
        task_id=event.originator_id, campaign_id=event.campaign_id,
        step=event.step_index + 1, submission_version=event.submission_version,
        escalated_to=event.escalated_to, eligible_approvers=event.eligible_approvers)


def _blocked(event: Any) -> contract.TaskBlocked:
    return contract.TaskBlocked(task_id=event.originator_id, campaign_id=event.campaign_id,
                                reason=event.reason)


def _unblocked(event: Any) -> contract.TaskUnblocked:
    return contract.TaskUnblocked(task_id=event.originator_id, campaign_id=event.campaign_id,
                                  resumed_state=str(event.resumed_state))


def _cancelled(event: Any) -> contract.TaskCancelled:
    return contract.TaskCancelled(task_id=event.originator_id, campaign_id=event.campaign_id,
                                  reason=event.reason)


def _commented(event: Any) -> contract.TaskCommented:
    return contract.TaskCommented(task_id=event.originator_id, text=event.text,
                                  submission_version=event.submission_version)


def _revised(event: Any) -> contract.TaskRevised:
    return contract.TaskRevised(task_id=event.originator_id, campaign_id=event.campaign_id,
                                title=event.title, due_date=event.due_date,
                                start_date=event.start_date)


translate = translate_by_type({
    Task.Opened: _opened,  # type: ignore[attr-defined]
    Task.Assigned: _assigned,  # type: ignore[attr-defined]
    Task.Unassigned: _unassigned,  # type: ignore[attr-defined]
    Task.ApprovalsDelegated: _delegated,  # type: ignore[attr-defined]
    Task.Ready: _ready,  # type: ignore[attr-defined]
    Task.Started: _started,  # type: ignore[attr-defined]
    Task.Submitted: _submitted,  # type: ignore[attr-defined]
    Task.ApprovalGiven: _approval_given,  # type: ignore[attr-defined]
    Task.ChangesRequested: _changes_requested,  # type: ignore[attr-defined]
    Task.Approved: _approved,  # type: ignore[attr-defined]
    Task.Completed: _completed,  # type: ignore[attr-defined]
    Task.Blocked: _blocked,  # type: ignore[attr-defined]
    Task.Unblocked: _unblocked,  # type: ignore[attr-defined]
    Task.Cancelled: _cancelled,  # type: ignore[attr-defined]
    Task.Commented: _commented,  # type: ignore[attr-defined]
    Task.Revised: _revised,  # type: ignore[attr-defined]
    Task.ApprovalStepEscalated: _escalated,  # type: ignore[attr-defined]
})
