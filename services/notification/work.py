"""What notification knows of the work, kept from other services' events as its own.

A notification must name the task and the campaign, and reach people by their part in the
work: the assignee, the accountable and consulted and informed roles' members, the
campaign's planner, managers. No event carries all of that (changes requested does not
name the assignee, a reschedule does not name the campaign's planner), and notification
reads no other service's database. So it keeps copies: one aggregate per task, campaign
and member, recorded from planning's and execution's events as notification's own
events, in whatever order the two topics deliver them.

``remember`` (the copy handlers) runs after the notification rules of the same event, so
a rule sees the copy as it was before the event (a reschedule: the old due date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import ProcessingEvent

from contracts import execution, planning
from shared.access import ACCESS, TeamAccess
from shared.application import Handler, Handlers, ServiceApplication
from shared.cloudevents import InboundEvent
from shared.domain import Aggregate, EventMeta, event

WORK = uuid5(NAMESPACE_URL, "urn:marketflow:notification:work")

TASK_STATES = ("open", "ready", "in_progress", "submitted", "in_review", "approved", "done",
               "cancelled", "blocked")
FINISHED = frozenset({"done", "cancelled"})


class Copy(Aggregate):
    """A copy of something another service owns: a bag of JSON fields, changed only by
    what differs (an event that repeats what is known records nothing)."""

    @event("Noted")
    def __init__(self, id: UUID, key: str, fields: dict[str, Any], meta: EventMeta) -> None:
        self.key = key
        self.fields: dict[str, Any] = dict(fields)

    def note(self, meta: EventMeta, **fields: Any) -> None:
        changed = {name: value for name, value in _json(fields).items()
                   if self.fields.get(name) != value}
        if changed:
            self._changed(fields=changed, meta=meta)

    @event("Changed")
    def _changed(self, fields: dict[str, Any], meta: EventMeta) -> None:
        self.fields.update(fields)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


class TaskCopy(Copy):
    """A task: from planning's plan (title, dates, RACI) and execution's events (state,
    assignee, submissions, approval steps)."""

    @property
    def task_id(self) -> UUID:
        return UUID(self.key)

    @property
    def campaign_id(self) -> UUID | None:
        value = self.fields.get("campaign_id")
        return UUID(value) if value else None

    @property
    def title(self) -> str:
        return str(self.fields.get("title") or f"task {self.key}")

    @property
    def due_date(self) -> dt.date | None:
        value = self.fields.get("due_date")
        return dt.date.fromisoformat(value) if value else None

    @property
    def assignee_id(self) -> str | None:
        return self.fields.get("assignee_id")

    @property
    def status(self) -> str:
        return str(self.fields.get("status") or "open")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def members(self, name: str) -> list[str]:
        """``accountable``, ``consulted``, ``informed`` or ``pending_approvers``."""
        return list(self.fields.get(name) or [])

    @property
    def reminder_days(self) -> int | None:
        """The playbook task's own reminder lead, if it sets one."""
        value = self.fields.get("reminder_days")
        return int(value) if value is not None else None


class CampaignCopy(Copy):
    @property
    def campaign_id(self) -> UUID:
        return UUID(self.key)

    @property
    def name(self) -> str:
        return str(self.fields.get("name") or f"campaign {self.key}")

    @property
    def planner_id(self) -> str | None:
        return self.fields.get("planner_id")

    @property
    def team_id(self) -> str | None:
        return self.fields.get("team_id")


class MemberCopy(Copy):
    """A member as the directory describes them: how to reach them and who manages them."""

    @property
    def member_id(self) -> str:
        return self.key

    @property
    def name(self) -> str:
        return str(self.fields.get("name") or self.key)

    @property
    def email(self) -> str | None:
        return self.fields.get("email")

    @property
    def manager_id(self) -> str | None:
        return self.fields.get("manager_id")

    @property
    def team_ids(self) -> list[str]:
        return list(self.fields.get("team_ids") or [])

    @property
    def active(self) -> bool:
        return bool(self.fields.get("active", True))


def copy_id(kind: type[Copy], key: object) -> UUID:
    return uuid5(WORK, f"{kind.__name__}:{key}")


class Work:
    """Reading and writing the copies inside a handler (a batch sees its own changes)."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app

    def find(self, kind: type[Copy], key: object) -> Any | None:
        return self.app.find(copy_id(kind, key), kind)

    def task(self, task_id: UUID) -> TaskCopy | None:
        found: TaskCopy | None = self.find(TaskCopy, task_id)
        return found

    def campaign(self, campaign_id: UUID | None) -> CampaignCopy | None:
        if campaign_id is None:
            return None
        found: CampaignCopy | None = self.find(CampaignCopy, campaign_id)
        return found

    def member(self, member_id: str | None) -> MemberCopy | None:
        if not member_id:
            return None
        found: MemberCopy | None = self.find(MemberCopy, member_id)
        return found

    def team_manager(self, team_id: str | None) -> str | None:
        if not team_id:
            return None
        team = self.app.find(uuid5(ACCESS, f"team:{team_id}"), TeamAccess)
        return team.manager_id if team is not None else None

    def manager_of(self, member_id: str) -> str | None:
        """The member's own manager, else the manager of their first team that has one
        (not themselves)."""
        member = self.member(member_id)
        if member is None:
            return None
        candidates = [member.manager_id, *(self.team_manager(team) for team in member.team_ids)]
        return next((who for who in candidates if who and who != member_id), None)

    def manager_chain(self, member_id: str, levels: int = 2) -> list[str]:
        """Their manager, the manager's manager, ... (no one twice, never themselves)."""
        chain: list[str] = []
        current = member_id
        for _ in range(levels):
            manager = self.manager_of(current)
            if manager is None or manager == member_id or manager in chain:
                break
            chain.append(manager)
            current = manager
        return chain

    def note(self, processing_event: ProcessingEvent[UUID], kind: type[Copy], key: object,
             meta: EventMeta, /, **fields: Any) -> Any:
        # Positional-only: a copy may have a field named ``key`` (a planned task's key).
        known = self.find(kind, key)
        if known is None:
            known = kind(id=copy_id(kind, key), key=str(key), fields=_json(fields), meta=meta)
        else:
            known.note(meta, **fields)
        processing_event.collect_events(known)
        return known


def _json(fields: dict[str, Any]) -> dict[str, Any]:
    """Copies hold JSON: dates as ISO text, ids as text, lists sorted without repeats."""
    return {name: _json_value(value) for name, value in fields.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted({str(item) for item in value})
    return value


# --- what each event teaches the copies --------------------------------------------------


def _role_members(task: planning.PlannedTask, roles: Iterable[str]) -> set[str]:
    return {member for role in roles for member in task.role_members.get(role, [])}


def _plan_fields(task: planning.PlannedTask, campaign_id: UUID) -> dict[str, Any]:
    accountable = _role_members(task, [step.role for step in task.approval_chain if step.role])
    accountable |= {step.member_id for step in task.approval_chain if step.member_id}
    return {
        "campaign_id": campaign_id, "key": task.key, "title": task.title, "role": task.role,
        "phase": task.phase, "due_date": task.due_date, "start_date": task.start_date,
        # The plan's own due date: a reschedule compares with it (execution's TaskRevised,
        # which also moves ``due_date``, may arrive first).
        "planned_due_date": task.due_date,
        "depends_on": task.depends_on,  # a task with none is ready as it opens: no news
        "accountable": accountable,
        "consulted": _role_members(task, task.consulted_roles),
        "informed": _role_members(task, task.informed_roles),
        "reminder_days": task.reminder_days,
    }


def remember_campaign_planned(app: ServiceApplication, inbound: InboundEvent,
                              processing_event: ProcessingEvent[UUID]) -> None:
    planned = inbound.event
    assert isinstance(planned, planning.CampaignPlanned)
    work, meta = Work(app), app.meta_caused_by(inbound)
    work.note(processing_event, CampaignCopy, planned.campaign_id, meta, name=planned.name,
              planner_id=inbound.envelope.actor, team_id=planned.team_id,
              launch_date=planned.launch_date, status="planned")
    for task in planned.tasks:
        fields = _plan_fields(task, planned.campaign_id)
        if work.task(task.task_id) is None and task.assignee_id:
            # Execution's own assignment may have arrived first; it wins.
            fields["assignee_id"] = task.assignee_id
        work.note(processing_event, TaskCopy, task.task_id, meta, **fields)


def remember_tasks_revised(app: ServiceApplication, inbound: InboundEvent,
                           processing_event: ProcessingEvent[UUID]) -> None:
    revised = inbound.event
    assert isinstance(revised, planning.CampaignTasksRevised)
    work, meta = Work(app), app.meta_caused_by(inbound)
    if revised.launch_date is not None:
        work.note(processing_event, CampaignCopy, revised.campaign_id, meta,
                  launch_date=revised.launch_date)
    for task in [*revised.added, *revised.updated]:
        work.note(processing_event, TaskCopy, task.task_id, meta,
                  **_plan_fields(task, revised.campaign_id))
    for task_id in revised.removed:
        work.note(processing_event, TaskCopy, task_id, meta, status="cancelled")


def remember_campaign_ended(app: ServiceApplication, inbound: InboundEvent,
                            processing_event: ProcessingEvent[UUID]) -> None:
    ended = inbound.event
    assert isinstance(ended, (planning.CampaignCancelled, planning.CampaignCompleted))
    status = "cancelled" if isinstance(ended, planning.CampaignCancelled) else "completed"
    Work(app).note(processing_event, CampaignCopy, ended.campaign_id,
                   app.meta_caused_by(inbound), status=status)


def remember_member(app: ServiceApplication, inbound: InboundEvent,
                    processing_event: ProcessingEvent[UUID]) -> None:
    member = inbound.event
    assert isinstance(member, planning.MemberRegistered)
    Work(app).note(processing_event, MemberCopy, member.member_id, app.meta_caused_by(inbound),
                   name=member.name, email=member.email, manager_id=member.manager_id,
                   team_ids=member.team_ids, active=member.active)


def _task_fields(inbound: InboundEvent) -> dict[str, Any] | None:
    """What an execution event says of its task's state, assignee and review."""
    e = inbound.event
    at = inbound.envelope.time.isoformat()
    match e:
        case execution.TaskOpened():
            return {"campaign_id": e.campaign_id, "title": e.title, "role": e.role,
                    "due_date": e.due_date, "start_date": e.start_date, "queue": e.queue}
        case execution.TaskAssigned():
            return {"campaign_id": e.campaign_id, "title": e.title,
                    "assignee_id": e.assignee_id, "due_date": e.due_date}
        case execution.TaskReturnedToQueue():
            return {"assignee_id": None, "queue": e.queue}
        case execution.TaskReady():
            return {"status": "ready"}
        case execution.TaskStarted():
            return {"status": "in_progress", "assignee_id": e.assignee_id}
        case execution.TaskSubmitted():
            return {"status": "submitted", "submission_version": e.submission_version,
                    "reference": e.reference, "note": e.note, "approval_step": 1,
                    "approval_step_since": at, "pending_approvers": e.pending_approvers}
        case execution.ApprovalGiven():
            fields: dict[str, Any] = {"status": "in_review"}
            if e.step_completed:
                fields |= {"approval_step": e.step + 1, "approval_step_since": at,
                           "pending_approvers": e.next_step_approvers or []}
            return fields
        case execution.TaskChangesRequested():
            return {"status": "in_progress", "pending_approvers": [], "approval_step": None,
                    "approval_step_since": None}
        case execution.TaskApproved():
            return {"status": "approved", "pending_approvers": [], "approval_step": None,
                    "approval_step_since": None}
        case execution.TaskCompleted():
            return {"status": "done", "pending_approvers": [], "approval_step": None,
                    "approval_step_since": None}
        case execution.TaskBlocked():
            return {"status": "blocked", "blocked_reason": e.reason}
        case execution.TaskUnblocked():
            return {"status": e.resumed_state if e.resumed_state in TASK_STATES else "ready",
                    "blocked_reason": None}
        case execution.TaskCancelled():
            return {"status": "cancelled", "pending_approvers": [], "approval_step": None,
                    "approval_step_since": None}
        case execution.TaskRevised():
            return {"campaign_id": e.campaign_id, "title": e.title, "due_date": e.due_date,
                    "start_date": e.start_date}
    return None


def remember_task(app: ServiceApplication, inbound: InboundEvent,
                  processing_event: ProcessingEvent[UUID]) -> None:
    fields = _task_fields(inbound)
    if fields is None:
        return
    task_id = inbound.event.task_id  # type: ignore[attr-defined]
    Work(app).note(processing_event, TaskCopy, task_id, app.meta_caused_by(inbound), **fields)


COPY_HANDLERS: Handlers = {
    planning.CampaignPlanned: remember_campaign_planned,
    planning.CampaignTasksRevised: remember_tasks_revised,
    planning.CampaignCancelled: remember_campaign_ended,
    planning.CampaignCompleted: remember_campaign_ended,
    planning.MemberRegistered: remember_member,
    **{kind: remember_task for kind in (
        execution.TaskOpened, execution.TaskAssigned, execution.TaskReturnedToQueue,
        execution.TaskReady, execution.TaskStarted, execution.TaskSubmitted,
        execution.ApprovalGiven, execution.TaskChangesRequested, execution.TaskApproved,
        execution.TaskCompleted, execution.TaskBlocked, execution.TaskUnblocked,
        execution.TaskCancelled, execution.TaskRevised)},
}


def then_remember(rules: Handlers) -> Handlers:
    """Each event's notification rule (which sees the copies as they were), then the
    copies learn what the event says; both in the event's one transaction."""
    combined: dict[Any, Handler] = dict(rules)
    for kind, remember in COPY_HANDLERS.items():
        rule = combined.get(kind)
        if rule is None:
            combined[kind] = remember
            continue

        def both(app: Any, inbound: InboundEvent, processing_event: Any,
                 first: Handler = rule, second: Handler = remember) -> None:
            first(app, inbound, processing_event)
            second(app, inbound, processing_event)
        combined[kind] = both
    return combined
