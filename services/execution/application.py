"""Execution's use cases: every command is attributed to the member behind it, loads the
aggregates it needs, lets the domain decide, and saves with optimistic concurrency (a
writer that lost a race gets a 409, never a silent overwrite)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.execution.domain import Absence, Task, TeamMember, member_aggregate_id
from services.execution.domain.directory import DEFAULT_WIP_LIMIT
from services.execution.views import AbsenceView, TaskBoardView
from shared.application import Handlers, ServiceApplication
from shared.config import Settings
from shared.domain import Aggregate, Conflict, EventMeta, Forbidden

log = logging.getLogger(__name__)
ABSENCE_CLOCK = "system:execution.absence-clock"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class ExecutionApplication(ServiceApplication):
    def __init__(self, settings: Settings, handlers: Handlers | None = None,
                 clock: Callable[[], dt.date] = utc_today) -> None:
        super().__init__(settings, handlers)
        self.today = clock
        self.board = TaskBoardView(self)
        self.absences = AbsenceView(self)

    # --- reading -----------------------------------------------------------------------

    def task(self, task_id: UUID, expected_version: int | None = None) -> Task:
        task = self.load(task_id, Task, label="task")
        if expected_version is not None and task.version != expected_version:
            raise Conflict(f"task {task_id} changed since version {expected_version} (it is "
                           f"at version {task.version} now); reload and retry")
        return task

    def task_with_history(self, task_id: UUID) -> tuple[Task, list[Any]]:
        """The task and every stored event of it up to that version, oldest first."""
        task = self.task(task_id)
        return task, list(self.repository.event_store.get(task_id, lte=task.version))

    def member(self, member_id: str) -> TeamMember | None:
        aggregate_id = member_aggregate_id(member_id)
        return self.load(aggregate_id, TeamMember) if self.exists(aggregate_id) else None

    def is_planner(self, member_id: str) -> bool:
        member = self.member(member_id)
        return member is not None and member.is_planner

    def require_planner(self, member_id: str, verb: str) -> None:
        if not self.is_planner(member_id):
            raise Forbidden(f"only planners can {verb}; {member_id} does not hold the planner "
                            "or manager role in the team directory")

    # --- the task's lifecycle -------------------------------------------------------------

    def start_task(self, task_id: UUID, meta: EventMeta,
                   expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        task.start(meta)
        self.save_or_conflict(task)
        return task

    def submit_task(self, task_id: UUID, reference: str, note: str, meta: EventMeta,
                    expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        task.submit(reference, note, meta)
        self.save_or_conflict(task)
        return task

    def approve_task(self, task_id: UUID, comment: str, meta: EventMeta,
                     expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        task.approve(comment, meta)
        self.save_or_conflict(task)
        return task

    def request_changes(self, task_id: UUID, comment: str, meta: EventMeta,
                        expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        task.request_changes(comment, meta)
        self.save_or_conflict(task)
        return task

    def comment_task(self, task_id: UUID, text: str, meta: EventMeta) -> Task:
        task = self.task(task_id)
        task.comment(text, meta)
        self.save_or_conflict(task)
        return task

    def block_task(self, task_id: UUID, reason: str, meta: EventMeta,
                   expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        self._require_assignee_or_planner(task, meta.actor, "block")
        task.block(reason, meta)
        self.save_or_conflict(task)
        return task

    def unblock_task(self, task_id: UUID, meta: EventMeta,
                     expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        self._require_assignee_or_planner(task, meta.actor, "unblock")
        task.unblock(meta)
        self.save_or_conflict(task)
        return task

    def complete_task(self, task_id: UUID, meta: EventMeta,
                      expected_version: int | None = None) -> Task:
        task = self.task(task_id, expected_version)
        task.complete(meta)
        self.save_or_conflict(task, *self._successors_of(task, meta))
        return task

    def cancel_task(self, task_id: UUID, reason: str, meta: EventMeta,
                    expected_version: int | None = None) -> Task:
        self.require_planner(meta.actor, "cancel tasks")
        task = self.task(task_id, expected_version)
        task.cancel(reason, meta.model_copy(update={"reason": reason}))
        self.save_or_conflict(task, *self._successors_of(task, meta))
        return task

    def _require_assignee_or_planner(self, task: Task, actor: str, verb: str) -> None:
        if task.assignee_id != actor and not self.is_planner(actor):
            raise Forbidden(f"only the assignee ({task.assignee_id or 'nobody'}) or a planner "
                            f"can {verb} task {task.id}")

    def _successors_of(self, task: Task, meta: EventMeta) -> list[Task]:
        """Tasks waiting for ``task`` (done or cancelled), each ready once all theirs are."""
        successors = []
        for successor_id in self.board.successors_of(task.id):
            successor = self.task(successor_id)
            successor.predecessor_finished(task.id, meta)
            successors.append(successor)
        return successors

    # --- assignment and queues ----------------------------------------------------------------

    def claim_task(self, task_id: UUID, meta: EventMeta) -> Task:
        """A member takes an unassigned task from its queue, within their WIP limit."""
        task = self.task(task_id)
        claimer = meta.actor
        member = self.member(claimer)
        holds_role = claimer in task.role_members.get(task.role, []) or (
            member is not None and (task.role in member.roles or task.queue in member.team_ids))
        if not holds_role:
            raise Forbidden(f"{claimer} cannot claim task {task.id}: it needs role "
                            f"'{task.role}' or a member of queue '{task.queue}'")
        task.claim(meta)
        limit = member.wip_limit if member is not None else DEFAULT_WIP_LIMIT
        in_progress = self.board.work_in_progress(claimer)
        if in_progress >= limit:
            raise Conflict(f"cannot claim task {task.id}: {claimer} already has {in_progress} "
                           f"tasks in progress and the work-in-progress limit is {limit}")
        aggregates: list[Aggregate] = [task]
        if member is not None:
            # Two claims by one member at once clash on this version: the limit holds.
            member.note_claim(task.id, meta)
            aggregates.append(member)
        self.save_or_conflict(*aggregates)
        return task

    def reassign_task(self, task_id: UUID, assignee_id: str, reason: str,
                      meta: EventMeta) -> Task:
        self.require_planner(meta.actor, "reassign tasks")
        task = self.task(task_id)
        task.reassign(assignee_id, meta.model_copy(update={"reason": reason}))
        self.save_or_conflict(task)
        return task

    def set_wip_limit(self, member_id: str, limit: int, meta: EventMeta) -> TeamMember:
        self.require_planner(meta.actor, "set work-in-progress limits")
        member = self.member(member_id)
        if member is None:
            raise Forbidden(f"member {member_id} is not in the team directory")
        member.set_wip_limit(limit, meta)
        self.save_or_conflict(member)
        return member

    # --- absences ----------------------------------------------------------------------------

    def hand_over(self, absence: Absence, meta: EventMeta) -> list[Aggregate]:
        """Start ``absence``: the member's open tasks go to the backup (or back to their
        queue) and their pending approvals to the backup (or to the step's other
        approvers). Due dates stay. Returns the changed aggregates, not yet saved."""
        meta = meta.model_copy(update={"reason": absence.describe()})
        absence.start(meta)
        changed: dict[UUID, Task] = {}
        away, backup = absence.member_id, absence.backup_member_id
        for task_id in self.board.open_tasks_of(away):
            task = changed.get(task_id) or self.task(task_id)
            if backup:
                task.assign(backup, meta, via="absence", absence_id=absence.id)
            else:
                task.return_to_queue(meta, absence_id=absence.id)
            changed[task_id] = task
        for task_id in self.board.approvals_involving(away):
            task = changed.get(task_id) or self.task(task_id)
            task.delegate_approvals(away, backup, meta, absence_id=absence.id)
            changed[task_id] = task
        return [absence, *changed.values()]

    def cover_for_absences(self, task: Task, meta: EventMeta) -> None:
        """Work that reaches a member who is away right now goes where their absence
        sends it (a task opened or revised during the absence)."""
        today = self.today()
        for absence_id in self.absences.active(today):
            absence = self.load(absence_id, Absence)
            reason = meta.model_copy(update={"reason": absence.describe()})
            away, backup = absence.member_id, absence.backup_member_id
            if task.is_open and task.assignee_id == away:
                if backup:
                    task.assign(backup, reason, via="absence", absence_id=absence.id)
                else:
                    task.return_to_queue(reason, absence_id=absence.id)
            if task.is_open and away not in task.delegations and any(
                    away in task.approvers_of_step(index)
                    for index in range(len(task.approval_chain))):
                task.delegate_approvals(away, backup, reason, absence_id=absence.id)

    def start_due_absences(self, today: dt.date | None = None) -> int:
        """Start every recorded absence whose first day has come; returns how many."""
        today = today or self.today()
        started = 0
        for absence_id in self.absences.due(today):
            absence = self.load(absence_id, Absence)
            if not absence.due(today):
                continue
            meta = EventMeta(actor=ABSENCE_CLOCK, correlation_id=str(absence_id))
            try:
                self.save_or_conflict(*self.hand_over(absence, meta))
            except Conflict:
                log.info("absence hand-over lost a race; next tick retries",
                         extra={"absence_id": str(absence_id)})
                continue
            started += 1
        return started
