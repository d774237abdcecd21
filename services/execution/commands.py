"""Execution's commands: what a use case is asked to do, as one value each (who asks
travels beside it, as the ``EventMeta`` the authenticated edge builds).

``expected_version`` is the task version the member acted on (from ``If-Match`` or the
body's field): a newer one is a ``StaleVersion``; None acts on the latest."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, kw_only=True)
class TaskCommand:
    task_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class StartTask(TaskCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class SubmitTask(TaskCommand):
    reference: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ApproveTask(TaskCommand):
    """With ``expected_version``, the approval applies to the step seen at that version
    (approvals of one N-of-M step commute)."""

    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestChanges(TaskCommand):
    comment: str


@dataclass(frozen=True, kw_only=True)
class CommentOnTask(TaskCommand):
    text: str


@dataclass(frozen=True, kw_only=True)
class BlockTask(TaskCommand):
    reason: str


@dataclass(frozen=True, kw_only=True)
class UnblockTask(TaskCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class CompleteTask(TaskCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class CancelTask(TaskCommand):
    reason: str


@dataclass(frozen=True, kw_only=True)
class ClaimTask(TaskCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class ReassignTask(TaskCommand):
    assignee_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetWipLimit:
    member_id: str
    limit: int
