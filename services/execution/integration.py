"""What execution publishes."""

from __future__ import annotations

from typing import Any

from contracts import execution as contract
from services.execution.domain import Task
from shared.outbox import translate_by_type


def _opened(event: Any) -> contract.TaskOpened:
    return contract.TaskOpened(task_id=event.originator_id, campaign_id=event.campaign_id,
                               title=event.title, role=event.role, due_date=event.due_date)


def _assigned(event: Any) -> contract.TaskAssigned:
    return contract.TaskAssigned(task_id=event.originator_id, campaign_id=event.campaign_id,
                                 title=event.title, assignee_id=event.assignee_id,
                                 due_date=event.due_date)


def _completed(event: Any) -> contract.TaskCompleted:
    return contract.TaskCompleted(task_id=event.originator_id, campaign_id=event.campaign_id)


translate = translate_by_type({
    Task.Opened: _opened,  # type: ignore[attr-defined]
    Task.Assigned: _assigned,  # type: ignore[attr-defined]
    Task.Completed: _completed,  # type: ignore[attr-defined]
})
