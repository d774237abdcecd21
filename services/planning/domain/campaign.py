"""Campaigns: a playbook version planned on a team's calendar, with owners and dates.

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

import datetime as dt
from typing import Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from services.planning.domain.playbook import ApprovalStepTemplate, PlaybookSpec
from services.planning.domain.scheduling import DatedTask, Schedule
from services.planning.domain.text import check_date, check_text
from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, event

TASK_STATUSES = ("planned", "open", "in_progress", "done", "cancelled")
FINISHED = ("done", "cancelled")
NOT_STARTED = ("planned", "open")
"""Execution opens every task when the campaign is planned; work on it has not started
until execution reports more than that."""
CampaignStatus = Literal["active", "cancelled", "completed"]


class PlannedTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: UUID
    key: str
    title: str
    role: str
    due_date: dt.date
    assignee_id: str | None
    start_date: dt.date | None = None
    phase: str | None = None
    description: str = ""
    deliverable: str | None = None
    effort_hours: float | None = None
    duration_days: int = 1
    depends_on: list[UUID] = Field(default_factory=list)
    queue: str | None = None
    approval_chain: list[ApprovalStepTemplate] = Field(default_factory=list)
    consulted_roles: list[str] = Field(default_factory=list)
    informed_roles: list[str] = Field(default_factory=list)
    role_members: dict[str, list[str]] = Field(default_factory=dict)
    complete_on_approval: bool = True
    reminder_days: int | None = None


class TaskHolder(BaseModel):
    """Who has a task in hand: a member, or nobody while it waits in a queue."""

    model_config = ConfigDict(frozen=True)

    assignee_id: str | None
    queue: str | None = None


class UnfitTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    reason: str


class Staffing(BaseModel):
    """Who holds each role in a campaign: a member, a team queue, or (for approvals and
    consultations) the team members the directory lists for that role."""

    model_config = ConfigDict(frozen=True)

    assignments: dict[str, str] = Field(default_factory=dict)
    queues: dict[str, str] = Field(default_factory=dict)
    directory: dict[str, list[str]] = Field(default_factory=dict,
                                            description="role -> team members holding it")

    def members_for(self, role: str) -> list[str]:
        if role in self.assignments:
            return [self.assignments[role]]
        return list(self.directory.get(role, []))


def task_id_for(campaign_id: UUID, key: str) -> UUID:
    """Derived from the campaign, so every service names the same task the same way."""
    return uuid5(campaign_id, key)


def planned_tasks(campaign_id: UUID, spec: PlaybookSpec, schedule: Schedule,
                  staffing: Staffing) -> list[PlannedTask]:
    tasks = []
    for phase in spec.phases:
        for template in phase.tasks:
            dated = schedule.tasks[template.key]
            tasks.append(PlannedTask(
                task_id=task_id_for(campaign_id, template.key),
                key=template.key,
                title=template.title,
                role=template.role,
                start_date=dated.start_date,
                due_date=dated.due_date,
                assignee_id=staffing.assignments.get(template.role),
                queue=staffing.queues.get(template.role),
                phase=phase.key,
                description=template.description,
                deliverable=template.deliverable,
                effort_hours=template.effort_hours,
                duration_days=template.duration_days,
                depends_on=[task_id_for(campaign_id, key) for key in template.depends_on],
                approval_chain=list(template.approval_chain),
                consulted_roles=list(template.consulted),
                informed_roles=list(template.informed),
                complete_on_approval=template.complete_on_approval,
                reminder_days=template.reminder_days,
                role_members={role: staffing.members_for(role)
                              for role in sorted(template.roles)
                              if staffing.members_for(role)},
            ))
    return tasks


def check_staffing(spec: PlaybookSpec, staffing: Staffing,
                   team_queues: list[str] | None) -> None:
    roles = set(spec.all_roles)
    for field, mapping in (("assignments", staffing.assignments), ("queues", staffing.queues)):
        unknown = sorted(set(mapping) - roles)
        if unknown:
            raise InvalidCommand(
                f"{field}: roles {', '.join(unknown)} are not in playbook "
                f"'{spec.name}' (its roles: {', '.join(sorted(roles))})"
            )
    both = sorted(set(staffing.assignments) & set(staffing.queues))
    if both:
        raise InvalidCommand(f"queues: roles {', '.join(both)} are also assigned to a member; "
                             "map a role to a member or to a queue, not both")
    for role, member in staffing.assignments.items():
        if not member.strip():
            raise InvalidCommand(f"assignments.{role}: member id must not be blank")
    if staffing.queues:
        if team_queues is None:
            raise InvalidCommand("queues: mapping a role to a team queue needs a team_id")
        for role, queue in staffing.queues.items():
            if queue not in team_queues:
                raise InvalidCommand(
                    f"queues.{role}: the team has no queue '{queue}' "
                    f"(its queues: {', '.join(team_queues) or 'none'})"
                )


def check_separation_of_duties(spec: PlaybookSpec, staffing: Staffing, *,
                               directory_known: bool) -> None:
    """Refuse a plan in which an approval step cannot be completed: execution lets nobody
    approve their own submission or two steps of one chain, so each step needs its N
    approvers among the role's holders, other than the task's assignee (the likely
    submitter) and other than those the chain's other steps need.

    Who holds a role is known when the campaign assigns it or plans with a team (the
    team's directory); otherwise the step is left to execution, which resolves holders
    when the approval is due."""
    for task in spec.tasks:
        submitter = staffing.assignments.get(task.role)
        slots: list[tuple[int, list[str]]] = []
        for number, step in enumerate(task.approval_chain, start=1):
            if not directory_known and step.role not in staffing.assignments:
                continue
            eligible = [member for member in staffing.members_for(step.role)
                        if member != submitter]
            slots += [(number, eligible)] * step.required_approvals
        unfilled = _first_unfilled_step(slots)
        if unfilled is None:
            continue
        step = task.approval_chain[unfilled - 1]
        eligible = [member for member in staffing.members_for(step.role)
                    if member != submitter]
        raise InvalidCommand(
            f"tasks.{task.key}.approval_chain.{unfilled}: step {unfilled} ({step.role}) needs "
            f"{step.required_approvals} approver(s) other than the submitter "
            f"({submitter or 'unassigned'}) and the chain's other approvers; eligible: "
            f"{', '.join(eligible) or 'nobody'}. Assign the role to someone else or give "
            "the team more members holding it"
        )


def _first_unfilled_step(slots: list[tuple[int, list[str]]]) -> int | None:
    """The step of the first approval slot no distinct person can fill (bipartite
    matching by augmenting paths: a handful of slots and people per task)."""
    holder: dict[str, int] = {}  # member -> slot index

    def assign(slot: int, visited: set[str]) -> bool:
        for member in slots[slot][1]:
            if member in visited:
                continue
            visited.add(member)
            if member not in holder or assign(holder[member], visited):
                holder[member] = slot
                return True
        return False

    for index, (number, _) in enumerate(slots):
        if not assign(index, set()):
            return number
    return None


class Campaign(Aggregate):
    @event("Planned")
    def __init__(
        self,
        id: UUID,
        name: str,
        playbook_id: UUID,
        playbook_version: int,
        launch_date: dt.date,
        tasks: list[PlannedTask],
        meta: EventMeta,
        team_id: str | None = None,
        mode: Literal["backward", "forward"] = "backward",
        start_date: dt.date | None = None,
        critical_path: list[str] | None = None,
        unfit: list[UnfitTask] | None = None,
        staffing: Staffing | None = None,
        goal_ids: list[UUID] | None = None,
        routine_id: UUID | None = None,
    ) -> None:
        self.name = name
        self.playbook_id = playbook_id
        self.playbook_version = playbook_version
        self.launch_date = launch_date
        self.tasks = tasks
        self.planned_by = meta.actor
        self.team_id = team_id
        self.mode = mode
        self.start_date = start_date
        self.critical_path = critical_path or []
        self.unfit = unfit or []
        self.staffing = staffing or Staffing()
        self.goal_ids = goal_ids or []
        self.routine_id = routine_id
        self.status: CampaignStatus = "active"
        self.status_reason: str | None = None
        self.task_status: dict[UUID, str] = {task.task_id: "planned" for task in tasks}
        self.holders: dict[UUID, TaskHolder] = {}
        """Who holds each task now, as execution reported it (absent: as planned)."""

    @event("TaskProgressed")
    def record_task_progress(self, task_id: UUID, status: str, meta: EventMeta) -> None:
        self.task_status[task_id] = status

    def record_task_holder(self, task_id: UUID, holder: TaskHolder, via: str,
                           meta: EventMeta) -> bool:
        """Follow execution's assignments (``via``: planned, claimed, reassigned, absence,
        returned_to_queue). False when it is what the campaign already shows."""
        if self.holder_of(task_id) == holder:
            return False
        self._task_holder_changed(task_id=task_id, holder=holder, via=via, meta=meta)
        return True

    @event("TaskHolderChanged")
    def _task_holder_changed(self, task_id: UUID, holder: TaskHolder, via: str,
                             meta: EventMeta) -> None:
        self.holders[task_id] = holder

    def holder_of(self, task_id: UUID) -> TaskHolder:
        if task_id in self.holders:
            return self.holders[task_id]
        planned = next(task for task in self.tasks if task.task_id == task_id)
        return TaskHolder(assignee_id=planned.assignee_id, queue=planned.queue)

    def has_task(self, task_id: UUID) -> bool:
        return task_id in self.task_status

    def task(self, key: str) -> PlannedTask:
        return next(task for task in self.tasks if task.key == key)

    def is_done(self, task: PlannedTask) -> bool:
        return self.task_status.get(task.task_id) == "done"

    def has_started(self, task: PlannedTask) -> bool:
        return self.task_status.get(task.task_id) not in NOT_STARTED

    def done_dates(self) -> dict[str, DatedTask]:
        return {task.key: DatedTask(task.key, task.start_date or task.due_date, task.due_date)
                for task in self.tasks if self.is_done(task)}

    def started_dates(self) -> dict[str, DatedTask]:
        return {task.key: DatedTask(task.key, task.start_date or task.due_date, task.due_date)
                for task in self.tasks if self.has_started(task)}

    def _require_active(self, doing: str) -> None:
        if self.status != "active":
            raise Conflict(f"campaign: cannot {doing} a {self.status} campaign")

    # --- rescheduling -----------------------------------------------------------

    def reschedule(self, launch_date: dt.date, schedule: Schedule, meta: EventMeta) -> None:
        """Move the anchor: every task not yet done gets the new plan's dates."""
        self._require_active("reschedule")
        if launch_date == self.launch_date:
            raise InvalidCommand(
                f"launch_date: the campaign already launches on {launch_date.isoformat()}")
        updated = []
        for task in self.tasks:
            if self.is_done(task):
                continue
            dated = schedule.tasks[task.key]
            if (dated.start_date, dated.due_date) != (task.start_date, task.due_date):
                updated.append(task.model_copy(update={"start_date": dated.start_date,
                                                       "due_date": dated.due_date}))
        self._rescheduled(
            launch_date=launch_date, updated=updated, critical_path=schedule.critical_path,
            unfit=[UnfitTask(key=u.key, reason=u.reason) for u in schedule.unfit], meta=meta,
        )

    @event("Rescheduled")
    def _rescheduled(self, launch_date: dt.date, updated: list[PlannedTask],
                     critical_path: list[str], unfit: list[UnfitTask],
                     meta: EventMeta) -> None:
        if self.mode == "forward" and self.start_date is not None:
            self.start_date += launch_date - self.launch_date
        self.launch_date = launch_date
        self._replace(updated)
        self.critical_path = critical_path
        self.unfit = unfit

    def _replace(self, changed: list[PlannedTask]) -> None:
        by_id = {task.task_id: task for task in changed}
        self.tasks = [by_id.get(task.task_id, task) for task in self.tasks]

    # --- moving to a new playbook version ---------------------------------------

    def migrate(self, playbook_version: int, target: list[PlannedTask],
                critical_path: list[str], meta: EventMeta) -> None:
        """Move to another version of the playbook: only tasks not started change;
        started tasks stay as they are even if the new version drops them."""
        self._require_active("migrate")
        if playbook_version == self.playbook_version:
            raise InvalidCommand(
                f"version: the campaign already follows version {playbook_version}")
        current = {task.key: task for task in self.tasks}
        wanted = {task.key: task for task in target}
        added = [task for key, task in wanted.items() if key not in current]
        removed = [task.task_id for key, task in current.items()
                   if key not in wanted and not self.has_started(task)]
        updated = [task for key, task in wanted.items()
                   if key in current and not self.has_started(current[key])
                   and task != current[key]]
        self._migrated(playbook_version=playbook_version, added=added, updated=updated,
                       removed=removed, critical_path=critical_path, meta=meta)

    @event("Migrated")
    def _migrated(self, playbook_version: int, added: list[PlannedTask],
                  updated: list[PlannedTask], removed: list[UUID], critical_path: list[str],
                  meta: EventMeta) -> None:
        self.playbook_version = playbook_version
        self._replace(updated)
        self.tasks = [task for task in self.tasks if task.task_id not in removed] + added
        for task_id in removed:
            del self.task_status[task_id]
        for task in added:
            self.task_status[task.task_id] = "planned"
        self.critical_path = critical_path

    # --- goals, end of life -------------------------------------------------------

    def link_goals(self, goal_ids: list[UUID], meta: EventMeta) -> None:
        self._require_active("link goals to")
        new = [goal_id for goal_id in dict.fromkeys(goal_ids) if goal_id not in self.goal_ids]
        if not new:
            raise InvalidCommand("goal_ids: these goals are already linked")
        self._goals_linked(goal_ids=new, meta=meta)

    @event("GoalsLinked")
    def _goals_linked(self, goal_ids: list[UUID], meta: EventMeta) -> None:
        self.goal_ids = [*self.goal_ids, *goal_ids]

    def cancel(self, reason: str, meta: EventMeta) -> None:
        self._require_active("cancel")
        reason = check_text("reason", reason)
        self._cancelled(reason=reason, meta=meta)

    @event("Cancelled")
    def _cancelled(self, reason: str, meta: EventMeta) -> None:
        self.status = "cancelled"
        self.status_reason = reason

    def complete(self, meta: EventMeta) -> None:
        self._require_active("complete")
        open_tasks = [task.key for task in self.tasks
                      if self.task_status.get(task.task_id) not in FINISHED]
        if open_tasks:
            raise Conflict(f"campaign: tasks {', '.join(open_tasks)} are not done yet; "
                           "finish them or cancel the campaign")
        self._completed(meta=meta)

    @event("Completed")
    def _completed(self, meta: EventMeta) -> None:
        self.status = "completed"


def plan_campaign(
    campaign_id: UUID,
    playbook_id: UUID,
    playbook_version: int,
    spec: PlaybookSpec,
    name: str,
    schedule: Schedule,
    meta: EventMeta,
    *,
    staffing: Staffing | None = None,
    team_id: str | None = None,
    team_queues: list[str] | None = None,
    mode: Literal["backward", "forward"] = "backward",
    start_date: dt.date | None = None,
    goal_ids: list[UUID] | None = None,
    routine_id: UUID | None = None,
) -> Campaign:
    name = check_text("name", name)
    check_date("launch_date", schedule.anchor_date)
    staffing = staffing or Staffing()
    check_staffing(spec, staffing, team_queues)
    check_separation_of_duties(spec, staffing, directory_known=team_id is not None)
    return Campaign(
        id=campaign_id,
        name=name,
        playbook_id=playbook_id,
        playbook_version=playbook_version,
        launch_date=schedule.anchor_date,
        tasks=planned_tasks(campaign_id, spec, schedule, staffing),
        meta=meta,
        team_id=team_id,
        mode=mode,
        start_date=start_date,
        critical_path=schedule.critical_path,
        unfit=[UnfitTask(key=u.key, reason=u.reason) for u in schedule.unfit],
        staffing=staffing,
        goal_ids=list(dict.fromkeys(goal_ids or [])),
        routine_id=routine_id,
    )

