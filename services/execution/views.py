"""Execution's read models, folded from its own notification log.

The task board keeps every task as the domain's own ``Task``, rebuilt by applying the
stored events with the aggregate's code, so that the answers of queries (whose approval
is pending, who holds what) are the domain's answers, not a re-implementation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from services.execution.domain import Absence, Task, sla_status
from services.execution.domain.task import OPEN_STATES, WORK_IN_PROGRESS_STATES, TaskState
from shared.views import View


def task_row(task: Task, today: dt.date, finished_on: dt.date | None) -> dict[str, Any]:
    """One task's line on boards and lists."""
    return {
        "id": str(task.id),
        "campaign_id": str(task.campaign_id),
        "key": task.key,
        "title": task.title,
        "role": task.role,
        "queue": task.queue,
        "due_date": task.due_date.isoformat(),
        "start_date": task.start_date.isoformat() if task.start_date else None,
        "status": str(task.status),
        "sla": sla_status(task.status, task.due_date, task.start_date, today, finished_on),
        "assignee_id": task.assignee_id,
        "revision_round": task.revision_round,
        "blocked_reason": task.blocked_reason,
        "version": task.version,
    }


class TaskBoardView(View):
    """Every task: 'my tasks', approvals inboxes, team queues, campaign boards."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: dict[UUID, Task] = {}
        self.finished_on: dict[UUID, dt.date] = {}

    def apply(self, domain_event: Any) -> None:
        if not isinstance(domain_event, Task.Event):
            return
        task_id = domain_event.originator_id
        task = domain_event.mutate(self.tasks.get(task_id))
        assert isinstance(task, Task)
        self.tasks[task_id] = task
        if isinstance(domain_event, (Task.Completed, Task.Cancelled)):  # type: ignore[attr-defined]
            self.finished_on[task_id] = domain_event.timestamp.date()

    @contextlib.contextmanager
    def _tasks(self) -> Iterator[list[Task]]:
        """Every task, caught up, held still while the caller reads them (the fold
        mutates tasks in place, under the same lock)."""
        self.catch_up()
        with self._lock:
            yield list(self.tasks.values())

    def _rows(self, tasks: list[Task], today: dt.date) -> list[dict[str, Any]]:
        rows = [task_row(task, today, self.finished_on.get(task.id)) for task in tasks]
        return sorted(rows, key=lambda row: (row["due_date"], row["key"], row["id"]))

    # --- queries for people ------------------------------------------------------------

    def query(self, *, today: dt.date, assignee_id: str | None = None,
              campaign_id: UUID | None = None, status: str | None = None
              ) -> list[dict[str, Any]]:
        with self._tasks() as tasks:
            return self._rows([task for task in tasks
                               if (assignee_id is None or task.assignee_id == assignee_id)
                               and (campaign_id is None or task.campaign_id == campaign_id)
                               and (status is None or task.status == status)], today)

    def approvals_inbox(self, member_id: str, today: dt.date) -> list[dict[str, Any]]:
        """Submissions waiting for this member's approval at their current step."""
        with self._tasks() as tasks:
            rows = [self._inbox_row(task, today) for task in tasks
                    if member_id in task.pending_approvers()]
        return sorted(rows, key=lambda row: (row["due_date"], row["key"], row["id"]))

    @staticmethod
    def _inbox_row(task: Task, today: dt.date) -> dict[str, Any]:
        row = task_row(task, today, None)
        step = task.approval_chain[task.current_step]
        submission = task.submission
        assert submission is not None
        row.update({
            "step": task.current_step + 1,
            "steps": len(task.approval_chain),
            "step_approver": step.label(),
            "required_approvals": step.required_approvals,
            "approvals": list(task.step_approvals[task.current_step]),
            "submission": submission.model_dump(),
            "consulted_missing": task.consulted_missing(),
        })
        return row

    def queue(self, queue: str, today: dt.date) -> list[dict[str, Any]]:
        """Open tasks nobody holds, waiting in a team queue to be claimed."""
        with self._tasks() as tasks:
            return self._rows([task for task in tasks
                               if task.queue == queue and task.assignee_id is None
                               and task.status in OPEN_STATES], today)

    def campaign_board(self, campaign_id: UUID, today: dt.date) -> dict[str, Any]:
        columns: dict[str, list[dict[str, Any]]] = {state.value: [] for state in TaskState}
        for row in self.query(today=today, campaign_id=campaign_id):
            columns[row["status"]].append(row)
        return {"campaign_id": str(campaign_id), "columns": columns,
                "counts": {state: len(rows) for state, rows in columns.items()}}

    # --- indexes for use cases ----------------------------------------------------------

    def successors_of(self, task_id: UUID) -> list[UUID]:
        with self._tasks() as tasks:
            return sorted((task.id for task in tasks
                           if task_id in task.depends_on and task.is_open), key=str)

    def status_of(self, task_id: UUID) -> str | None:
        self.catch_up()
        with self._lock:
            task = self.tasks.get(task_id)
            return str(task.status) if task is not None else None

    def work_in_progress(self, member_id: str) -> int:
        with self._tasks() as tasks:
            return sum(1 for task in tasks if task.assignee_id == member_id
                       and task.status in WORK_IN_PROGRESS_STATES)

    def open_tasks_of(self, member_id: str) -> list[UUID]:
        with self._tasks() as tasks:
            return sorted((task.id for task in tasks
                           if task.assignee_id == member_id and task.is_open), key=str)

    def campaign_tasks(self, campaign_id: UUID) -> list[UUID]:
        with self._tasks() as tasks:
            return sorted((task.id for task in tasks if task.campaign_id == campaign_id),
                          key=str)

    def approvals_involving(self, member_id: str) -> list[UUID]:
        """Open tasks in whose approval chain the member may still have to approve."""
        found = []
        with self._tasks() as tasks:
            for task in tasks:
                if not task.is_open or member_id in task.delegations:
                    continue
                first = task.current_step if task.status in ("submitted", "in_review") else 0
                if any(member_id in task.approvers_of_step(index)
                       for index in range(first, len(task.approval_chain))):
                    found.append(task.id)
        return sorted(found, key=str)


class AbsenceView(View):
    """Absences and what moved because of each: the planner's view after a return."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.absences: dict[UUID, dict[str, Any]] = {}

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Absence.Recorded):  # type: ignore[attr-defined]
            self.absences[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                "member_id": domain_event.member_id,
                "starts_on": domain_event.starts_on.isoformat(),
                "ends_on": domain_event.ends_on.isoformat(),
                "backup_member_id": domain_event.backup_member_id,
                "reason": domain_event.reason,
                "status": "scheduled",
                "moved": [],
            }
        elif isinstance(domain_event, Absence.Started):  # type: ignore[attr-defined]
            self.absences[domain_event.originator_id]["status"] = "started"
            self.absences[domain_event.originator_id]["started_at"] = (
                domain_event.timestamp.isoformat())
        elif isinstance(domain_event, Absence.Cancelled):  # type: ignore[attr-defined]
            self.absences[domain_event.originator_id]["status"] = "cancelled"
        elif getattr(domain_event, "absence_id", None) in self.absences:
            self.absences[domain_event.absence_id]["moved"].append(self._move(domain_event))

    @staticmethod
    def _move(domain_event: Any) -> dict[str, Any]:
        move = {"task_id": str(domain_event.originator_id),
                "at": domain_event.timestamp.isoformat(), "reason": domain_event.meta.reason}
        if isinstance(domain_event, Task.Assigned):  # type: ignore[attr-defined]
            move.update(what="task", from_member=domain_event.previous_assignee_id,
                        to_member=domain_event.assignee_id, to_queue=None)
        elif isinstance(domain_event, Task.Unassigned):  # type: ignore[attr-defined]
            move.update(what="task", from_member=domain_event.previous_assignee_id,
                        to_member=None, to_queue=domain_event.queue)
        else:
            move.update(what="approvals", from_member=domain_event.member_id,
                        to_member=domain_event.backup_id, to_queue=None)
        return move

    def list_absences(self, member_id: str | None = None) -> list[dict[str, Any]]:
        self.catch_up()
        with self._lock:
            rows = [dict(row, moved=list(row["moved"])) for row in self.absences.values()
                    if member_id is None or row["member_id"] == member_id]
        return sorted(rows, key=lambda row: (row["starts_on"], row["id"]))

    def get(self, absence_id: UUID) -> dict[str, Any] | None:
        return next((row for row in self.list_absences() if row["id"] == str(absence_id)), None)

    def active(self, today: dt.date) -> list[UUID]:
        """Absences under way today."""
        return [UUID(row["id"]) for row in self.list_absences()
                if row["status"] == "started"
                and row["starts_on"] <= today.isoformat() <= row["ends_on"]]

    def due(self, today: dt.date) -> list[UUID]:
        return [UUID(row["id"]) for row in self.list_absences()
                if row["status"] == "scheduled"
                and row["starts_on"] <= today.isoformat() <= row["ends_on"]]
