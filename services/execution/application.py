"""Execution's use cases: every command is attributed to the member behind it, loads the
aggregates it needs, lets the domain decide, and saves with optimistic concurrency (a
writer that lost a race gets a 409, never a silent overwrite; approvals, which commute
within an N-of-M step, are run again instead).

Who holds a role is resolved from execution's copy of the directory at the time of need
(a task opening, a submission, a claim, an approval, an absence's hand-over), so the
directory's changes reach running campaigns.

Access: every use case a person takes starts by asking execution's policy
(``services/execution/policy.py``) whether the caller may take that action on that task,
queue, board, member or absence; reads are scoped the same way (lists are filtered to
what the caller may see). Event handlers (reactions to planning) are the system acting
and are not guarded. The domain keeps its own invariants (only the assignee does the
work, only an approver of the current step decides it, separation of duties).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.execution.commands import (
    ApproveTask,
    BlockTask,
    CancelTask,
    ClaimTask,
    CommentOnTask,
    CompleteTask,
    ReassignTask,
    RequestChanges,
    SetWipLimit,
    StartTask,
    SubmitTask,
    UnblockTask,
)
from services.execution.domain import Absence, Task, TeamMember, member_aggregate_id
from services.execution.domain.directory import (
    DEFAULT_WIP_LIMIT,
    ReceiverLoad,
    Team,
    team_aggregate_id,
)
from services.execution.domain.task import WORK_IN_PROGRESS_STATES, ReviewTarget, TaskState
from services.execution.policy import POLICY
from services.execution.views import AbsenceView, DirectoryView, TaskBoardView, TaskVisibility
from shared.access import AccessView
from shared.application import Handlers, ServiceApplication, retry_lost_races
from shared.config import Settings
from shared.domain import (
    Aggregate,
    Conflict,
    EventMeta,
    Forbidden,
    InvalidCommand,
    NotFound,
    StaleVersion,
)
from shared.policy import Caller, Resource, Role, Scope
from shared.projections import Page, PageRequest

log = logging.getLogger(__name__)
ABSENCE_CLOCK = "system:execution.absence-clock"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _check_version(task: Task, expected_version: int | None) -> None:
    if expected_version is not None and task.version != expected_version:
        raise StaleVersion(f"task {task.id} changed since version {expected_version} (it is "
                           f"at version {task.version} now); reload and retry")


class _Loads:
    """Receivers' work in progress during one hand-over: what they held plus what they
    received so far, against their WIP limits."""

    def __init__(self, app: ExecutionApplication) -> None:
        self.app = app
        self.in_progress: dict[str, int] = {}
        self.limits: dict[str, int] = {}
        self.tasks_received: Counter[str] = Counter()

    def _know(self, member_id: str) -> None:
        if member_id not in self.in_progress:
            self.in_progress[member_id] = self.app.board.work_in_progress(member_id)
            member = self.app.member(member_id)
            self.limits[member_id] = member.wip_limit if member else DEFAULT_WIP_LIMIT

    def has_room(self, member_id: str) -> bool:
        self._know(member_id)
        return self.in_progress[member_id] < self.limits[member_id]

    def first_with_room(self, first: list[str], others: list[str]) -> str | None:
        """The first of ``first`` with room, else the least loaded of ``others`` with room."""
        for member_id in first:
            if self.has_room(member_id):
                return member_id
        with_room = [member_id for member_id in others if self.has_room(member_id)]
        return min(with_room, key=lambda m: (self.in_progress[m], m)) if with_room else None

    def received(self, member_id: str, counts: bool) -> None:
        self._know(member_id)
        self.tasks_received[member_id] += 1
        if counts:
            self.in_progress[member_id] += 1

    def summary(self) -> list[ReceiverLoad]:
        return [ReceiverLoad(member_id=member_id, tasks_received=count,
                             work_in_progress=self.in_progress[member_id],
                             wip_limit=self.limits[member_id])
                for member_id, count in sorted(self.tasks_received.items())]


class ExecutionApplication(ServiceApplication):
    def __init__(self, settings: Settings, handlers: Handlers | None = None,
                 clock: Callable[[], dt.date] = utc_today) -> None:
        super().__init__(settings, handlers)
        self.today = clock
        self.board = TaskBoardView(self)
        self.absences = AbsenceView(self)
        self.directory = DirectoryView(self)
        self.access = AccessView(self)
        """Who callers are (roles, teams, managers), folded from planning's directory."""

    # --- reading -----------------------------------------------------------------------

    def task(self, task_id: UUID, expected_version: int | None = None) -> Task:
        task = self.load(task_id, Task, label="task")
        _check_version(task, expected_version)
        return task

    def task_with_history(self, task_id: UUID) -> tuple[Task, list[Any]]:
        """The task and every stored event of it up to that version, oldest first."""
        task = self.task(task_id)
        return task, list(self.repository.event_store.get(task_id, lte=task.version))

    def caller(self, member_id: str, *roles: Role) -> Caller:
        """``member_id`` as the directory knows them (for callers inside the service and
        tests; the HTTP edge gets callers from the authenticator)."""
        return self.access.caller(member_id, member_id, frozenset(roles), False)

    # --- reads, scoped by the policy ----------------------------------------------------

    def read_task(self, caller: Caller, task_id: UUID) -> tuple[Task, list[Any]]:
        """The task and its history (403 outside the caller's scope)."""
        task, history = self.task_with_history(task_id)
        POLICY.authorize("task.read", caller, self.task_resource(task))
        return task, history

    def list_tasks(self, caller: Caller, *, assignee_id: str | None = None,
                   campaign_id: UUID | None = None, status: str | None = None,
                   page: PageRequest | None = None) -> Page:
        """Tasks matching the filters, among those the caller may see."""
        return self.board.query(today=self.today(), assignee_id=assignee_id,
                                campaign_id=campaign_id, status=status, page=page,
                                visible=self.visible_tasks(caller))

    def visible_tasks(self, caller: Caller) -> TaskVisibility | None:
        """Which tasks ``task.read`` lets the caller see, as the board can filter them
        (None: all), by the same rules as ``Policy.authorize`` on one task."""
        grants = POLICY.rule("task.read").grants
        held = {role: grants[role] for role in caller.roles if role in grants}
        if not held:
            raise Forbidden(POLICY.refusal("task.read", caller, Resource()))
        if Scope.ALL in held.values():
            return None
        assignees, as_approver = {caller.member_id}, False
        teams: set[str] = set()
        for role, scope in held.items():
            if role is Role.APPROVER:
                as_approver = True
            elif scope is Scope.TEAM and role is Role.TEAM_MANAGER:
                teams |= caller.managed_teams
                assignees |= caller.reports
            elif scope is Scope.TEAM:
                teams |= caller.teams
        return TaskVisibility(
            assignees=frozenset(assignees), teams=frozenset(teams),
            queues=frozenset(teams | self.directory.queues_of(sorted(teams))),
            approver=caller.member_id if as_approver else None)

    def approvals_inbox(self, caller: Caller, approver_id: str,
                        page: PageRequest | None = None) -> Page:
        member = self.member(approver_id)
        POLICY.authorize("approval.inbox", caller, Resource.of(
            owners=approver_id, teams=member.team_ids if member else (),
            description=f"{approver_id}'s approvals"))
        return self.board.approvals_inbox(approver_id, self.today(), page)

    def queue(self, caller: Caller, queue: str, page: PageRequest | None = None) -> Page:
        # Those who may claim from it see it: its teams' members, and the holders of the
        # role a queue is named after (a task's queue is its role unless planned otherwise).
        holders = self.directory.role_holders([queue], None).get(queue, [])
        POLICY.authorize("queue.read", caller, Resource.of(
            owners=holders, teams=[*self.directory.teams_owning(queue), queue],
            description=f"queue {queue}"))
        return self.board.queue(queue, self.today(), page)

    def campaign_board(self, caller: Caller, campaign_id: UUID) -> dict[str, Any]:
        """The campaign's tasks by state, for its team and the members holding one."""
        if not self.board.campaign_tasks(campaign_id):
            raise NotFound(f"campaign {campaign_id} not found: execution has no task of it")
        assignees, teams = self.board.campaign_people(campaign_id)
        POLICY.authorize("campaign.board", caller, Resource.of(
            owners=assignees, teams=teams, description=f"campaign {campaign_id}"))
        return self.board.campaign_board(campaign_id, self.today())

    def list_absences(self, caller: Caller, member_id: str | None = None,
                      page: PageRequest | None = None) -> Page:
        """Absences; the reason only where ``absence.read_reason`` allows ('away' else)."""
        POLICY.authorize("absence.read", caller)
        found = self.absences.list_absences(member_id, page)
        return Page([self._absence_for(caller, row) for row in found.rows],
                    found.next_cursor)

    def absence(self, caller: Caller, absence_id: UUID) -> dict[str, Any]:
        POLICY.authorize("absence.read", caller)
        found = self.absences.get(absence_id)
        if found is None:
            raise NotFound(f"absence {absence_id} not found")
        return self._absence_for(caller, found)

    def _absence_for(self, caller: Caller, absence: dict[str, Any]) -> dict[str, Any]:
        reason, away = absence.get("reason"), absence["member_id"]
        if not reason or POLICY.scope("absence.read_reason", caller) is Scope.ALL:
            return absence
        member = self.member(away)
        if POLICY.allows("absence.read_reason", caller, Resource.of(
                owners=away, teams=member.team_ids if member else ())):
            return absence
        # Moves say why too (the absence's description): the reason goes from them.
        hidden = f" ({reason})"
        return {**absence, "reason": "away",
                "moved": [{**move, "reason": (move["reason"] or "").replace(hidden, "")
                           or None} for move in absence["moved"]]}

    def member(self, member_id: str) -> TeamMember | None:
        aggregate_id = member_aggregate_id(member_id)
        return self.load(aggregate_id, TeamMember) if self.exists(aggregate_id) else None

    def team(self, team_id: str) -> Team | None:
        aggregate_id = team_aggregate_id(team_id)
        return self.load(aggregate_id, Team) if self.exists(aggregate_id) else None

    def known_member(self, member_id: str, field: str) -> TeamMember:
        """The active member ``member_id``; a 422 naming the field and the id otherwise."""
        member = self.member(member_id)
        if member is None:
            raise InvalidCommand(f"{field}: member '{member_id}' is not in the team directory")
        if not member.active:
            raise InvalidCommand(f"{field}: member '{member_id}' is no longer active in the "
                                 "team directory")
        return member

    # --- what the policy sees of a task ---------------------------------------------------

    def teams_of_task(self, task: Task) -> list[str]:
        """The campaign's team, and the teams owning the task's queue (a queue belongs to
        the teams listing it, or is named after its team)."""
        teams = [task.team_id] if task.team_id else []
        owning = [*self.directory.teams_owning(task.queue), task.queue]
        return teams + [team for team in owning if team not in teams]

    def _holders_now(self, task: Task, roles: list[str]) -> set[str]:
        """Who holds ``roles`` for ``task``: as it last resolved them, and as the
        directory says now."""
        found = {member for role in roles for member in task.role_members.get(role, [])}
        directory, _ = self.directory_now(roles, task.team_id, set())
        return found | {member for members in directory.values() for member in members}

    def task_resource(self, task: Task) -> Resource:
        """The task as the policy sees it: its assignee, its teams, and the members its
        approval chain (or its consulted roles) may ask."""
        chain_roles = sorted({step.role for step in task.approval_chain if step.role}
                             | set(task.consulted_roles))
        approvers = self._holders_now(task, chain_roles)
        for index in range(len(task.approval_chain)):
            approvers |= task.approvers_of_step(index)
        return Resource.of(owners={task.assignee_id} if task.assignee_id else (),
                           teams=self.teams_of_task(task), approvers=approvers,
                           description=f"task {task.id}")

    def _authorized_task(self, action: str, caller: Caller, task_id: UUID,
                         expected_version: int | None) -> Task:
        """The task, if the caller may take ``action`` on it (403 else), at the version
        they acted on (409 else)."""
        task = self.task(task_id)
        POLICY.authorize(action, caller, self.task_resource(task))
        _check_version(task, expected_version)
        return task

    # --- roles resolved at the time of need --------------------------------------------------

    def directory_now(self, roles: list[str], team_id: str | None,
                      mentioned: set[str]) -> tuple[dict[str, list[str]], set[str]]:
        """Who holds each of ``roles`` (in ``team_id`` when given) and which of
        ``mentioned`` are no longer active, as the directory says now. Members changed
        earlier in the inbound batch being applied are not in the read model yet: their
        pending state wins."""
        holders = {role: set(members)
                   for role, members in self.directory.role_holders(roles, team_id).items()}
        inactive = self.directory.inactive(sorted(mentioned))
        for aggregate in self._pending_aggregates().values():
            if not isinstance(aggregate, TeamMember):
                continue
            who = aggregate.member_id
            inactive.discard(who)
            if not aggregate.active:
                inactive.add(who)
            in_team = team_id is None or team_id in aggregate.team_ids
            for role in roles:
                holders.setdefault(role, set()).discard(who)
                if aggregate.active and in_team and role in aggregate.roles:
                    holders[role].add(who)
        return {role: sorted(members) for role, members in holders.items() if members}, inactive

    def resolve_roles(self, task: Task, occasion: str, meta: EventMeta) -> None:
        """Record who holds the roles ``task`` needs now (an event only if it changed)."""
        roles = task.roles_needed
        mentioned = {member for members in task.campaign_role_members.values()
                     for member in members}
        directory, inactive = self.directory_now(roles, task.team_id, mentioned)
        task.resolve_role_holders(directory, inactive, occasion, meta)

    def escalation_targets(self, task: Task) -> list[str]:
        """Who decides a stuck approval step, in order: the campaign's planner (unless a
        system planned it), then the manager of the campaign's team."""
        targets = [] if task.planned_by.startswith("system:") else [task.planned_by]
        manager = self.directory.team_manager(task.team_id) if task.team_id else None
        return [*targets, manager] if manager and manager not in targets else targets

    # --- the task's lifecycle -------------------------------------------------------------

    def start_task(self, command: StartTask, caller: Caller) -> Task:
        task = self._authorized_task("task.start", caller, command.task_id,
                                     command.expected_version)
        task.start(caller.meta())
        self.save_or_conflict(task)
        return task

    def submit_task(self, command: SubmitTask, caller: Caller) -> Task:
        task = self._authorized_task("task.submit", caller, command.task_id,
                                     command.expected_version)
        meta = caller.meta()
        self.resolve_roles(task, "at submission", meta)
        task.submit(command.reference, command.note, meta)
        task.escalate_if_unsatisfiable(self.escalation_targets(task), meta)
        self.save_or_conflict(task, *self._successors_if_finished(task, meta))
        return task

    def approve_task(self, command: ApproveTask, caller: Caller) -> Task:
        """Approvals of one N-of-M step commute: an approval is applied to the step the
        approver saw (at ``expected_version``, else at the first load) even when others
        approved it meanwhile; a race lost to one of them is run again. The step having
        completed, or a new submission, is a true conflict (409)."""
        POLICY.authorize("task.approve", caller,
                         self.task_resource(self.task(command.task_id)))
        seen = self._seen_review(command.task_id, command.expected_version)
        return self._approve(command.task_id, command.comment, caller.meta(), seen)

    @retry_lost_races
    def _approve(self, task_id: UUID, comment: str, meta: EventMeta,
                 seen: ReviewTarget | None) -> Task:
        task = self.task(task_id)
        self.resolve_roles(task, "at approval", meta)
        task.approve(comment, meta, seen)
        task.escalate_if_unsatisfiable(self.escalation_targets(task), meta)
        self.save_or_conflict(task, *self._successors_if_finished(task, meta))
        return task

    def _seen_review(self, task_id: UUID, expected_version: int | None) -> ReviewTarget | None:
        """The step the approver acted on: at the version they saw, else the current one."""
        current = self.task(task_id)
        if expected_version is None or expected_version == current.version:
            return current.review_target()
        seen = None
        if expected_version < current.version:
            seen = self.load(task_id, Task, version=expected_version).review_target()
        if seen is None:
            raise StaleVersion(f"task {task_id} changed since version {expected_version} (it is "
                           f"at version {current.version} now); reload and retry")
        return seen

    def request_changes(self, command: RequestChanges, caller: Caller) -> Task:
        task = self._authorized_task("task.request_changes", caller, command.task_id,
                                     command.expected_version)
        meta = caller.meta()
        self.resolve_roles(task, "at review", meta)
        task.request_changes(command.comment, meta)
        self.save_or_conflict(task)
        return task

    def comment_task(self, command: CommentOnTask, caller: Caller) -> Task:
        task = self._authorized_task("task.comment", caller, command.task_id,
                                     command.expected_version)
        task.comment(command.text, caller.meta())
        self.save_or_conflict(task)
        return task

    def block_task(self, command: BlockTask, caller: Caller) -> Task:
        task = self._authorized_task("task.block", caller, command.task_id,
                                     command.expected_version)
        task.block(command.reason, caller.meta(command.reason))
        self.save_or_conflict(task)
        return task

    def unblock_task(self, command: UnblockTask, caller: Caller) -> Task:
        task = self._authorized_task("task.unblock", caller, command.task_id,
                                     command.expected_version)
        task.unblock(caller.meta())
        self.save_or_conflict(task)
        return task

    def complete_task(self, command: CompleteTask, caller: Caller) -> Task:
        task = self._authorized_task("task.complete", caller, command.task_id,
                                     command.expected_version)
        meta = caller.meta()
        task.complete(meta)
        self.save_or_conflict(task, *self._successors_of(task, meta))
        return task

    def cancel_task(self, command: CancelTask, caller: Caller) -> Task:
        task = self._authorized_task("task.cancel", caller, command.task_id,
                                     command.expected_version)
        meta = caller.meta()
        task.cancel(command.reason, caller.meta(command.reason))
        self.save_or_conflict(task, *self._successors_of(task, meta))
        return task

    def _successors_if_finished(self, task: Task, meta: EventMeta) -> list[Task]:
        """A task the approval of its chain completed frees its successors."""
        return self._successors_of(task, meta) if task.status == TaskState.DONE else []

    def _successors_of(self, task: Task, meta: EventMeta) -> list[Task]:
        """Tasks waiting for ``task`` (done or cancelled), each ready once all theirs are."""
        successors = []
        for successor_id in self.board.successors_of(task.id):
            successor = self.task(successor_id)
            successor.predecessor_finished(task.id, meta)
            successors.append(successor)
        return successors

    # --- assignment and queues ----------------------------------------------------------------

    def claim_task(self, command: ClaimTask, caller: Caller) -> Task:
        """A member takes an unassigned task from its queue, within their WIP limit: a
        member of a team owning the queue, or a holder of the task's role."""
        task = self.task(command.task_id)
        # A queue belongs to the teams listing it (or is named after its team).
        owners = {*self.directory.teams_owning(task.queue), task.queue}
        POLICY.authorize("task.claim", caller, Resource.of(
            owners=self._holders_now(task, [task.role]), teams=owners,
            description=f"task {task.id} in queue {task.queue}"))
        _check_version(task, command.expected_version)
        meta = caller.meta()
        claimer = caller.member_id
        member = self.member(claimer)
        self.resolve_roles(task, "at claim", meta)
        teams = sorted(owners & set(member.team_ids)) if member and member.active else []
        task.claim(meta, team_queue_of=teams[0] if teams else None)
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

    def reassign_task(self, command: ReassignTask, caller: Caller) -> Task:
        task = self._authorized_task("task.reassign", caller, command.task_id,
                                     command.expected_version)
        self.known_member(command.assignee_id, "assignee_id")
        task.reassign(command.assignee_id, caller.meta(command.reason))
        self.save_or_conflict(task)
        return task

    def set_wip_limit(self, command: SetWipLimit, caller: Caller) -> TeamMember:
        member_id, limit = command.member_id, command.limit
        member = self.member(member_id)
        if member is None:
            raise NotFound(f"member '{member_id}' is not in the team directory")
        POLICY.authorize("member.set_wip_limit", caller, Resource.of(
            owners=member_id, teams=member.team_ids, description=f"member {member_id}"))
        member.set_wip_limit(limit, caller.meta())
        self.save_or_conflict(member)
        return member

    # --- absences ----------------------------------------------------------------------------

    def hand_over(self, absence: Absence, meta: EventMeta) -> list[Aggregate]:
        """Start ``absence``: the member's open tasks go to the backup (or back to their
        queue) and their pending approvals to the backup (or to the step's other
        approvers). Due dates stay. When the planner chose to spread by capacity, the
        backup takes tasks up to their WIP limit, then the team's holders of each task's
        role with room (least loaded first), and the rest go back to the queue. The
        absence records each receiver's load afterwards (over the limit: a warning).
        Returns the changed aggregates, not yet saved."""
        meta = meta.model_copy(update={"reason": absence.describe()})
        changed: dict[UUID, Task] = {}
        away, backup = absence.member_id, absence.backup_member_id
        if backup is not None:
            known = self.member(backup)
            if known is not None and not known.active:
                backup = None  # a backup who left takes nothing
        loads = _Loads(self)
        queued: Counter[str] = Counter()
        away_member = self.member(away)
        teammates = set(self.directory.teammates(away_member.team_ids if away_member else []))
        for task_id in self.board.open_tasks_of(away):
            task = changed.get(task_id) or self.task(task_id)
            changed[task_id] = task
            counts = task.status in WORK_IN_PROGRESS_STATES
            receiver = backup
            if absence.spread_by_capacity and counts:
                self.resolve_roles(task, "at the absence's hand-over", meta)
                holders = [m for m in task.role_members.get(task.role, [])
                           if m != away and (not teammates or m in teammates)]
                receiver = loads.first_with_room([backup] if backup else [], holders)
            if receiver:
                task.assign(receiver, meta, via="absence", absence_id=absence.id)
                loads.received(receiver, counts)
            else:
                task.return_to_queue(meta, absence_id=absence.id)
                queued[task.queue] += 1
        for task_id in self.board.approvals_involving(away):
            task = changed.get(task_id) or self.task(task_id)
            task.delegate_approvals(away, backup, meta, absence_id=absence.id)
            task.escalate_if_unsatisfiable(self.escalation_targets(task), meta)
            changed[task_id] = task
        absence.start(meta, [*loads.summary(),
                             *(ReceiverLoad(queue=queue, tasks_received=count)
                               for queue, count in sorted(queued.items()))])
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
                task.escalate_if_unsatisfiable(self.escalation_targets(task), reason)

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
