"""How execution reacts to planning: campaigns open, revise and cancel tasks; the team
directory and absences arrive from planning's directory.

Every change made here keeps the planner as actor and names the causing event.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import planning
from services.execution.application import ExecutionApplication
from services.execution.domain import Absence, ApprovalStep, Task, TeamMember, member_aggregate_id
from services.execution.domain.directory import Team, team_aggregate_id
from services.execution.domain.task import TaskState
from shared.application import Handlers
from shared.cloudevents import InboundEvent
from shared.domain import EventMeta

FINISHED = ("done", "cancelled")


def _chain(planned: planning.PlannedTask) -> list[ApprovalStep]:
    return [ApprovalStep(role=step.role, member_id=step.member_id,
                         required_approvals=step.required_approvals)
            for step in planned.approval_chain]


def _open_task(app: ExecutionApplication, campaign_id: UUID, planned: planning.PlannedTask,
               meta: EventMeta, opened_now: set[UUID], team_id: str | None) -> Task:
    task = Task(
        id=planned.task_id, campaign_id=campaign_id, key=planned.key, title=planned.title,
        role=planned.role, due_date=planned.due_date, meta=meta,
        description=planned.description, start_date=planned.start_date,
        depends_on=list(planned.depends_on), queue=planned.queue,
        approval_chain=_chain(planned), consulted_roles=list(planned.consulted_roles),
        role_members={role: list(members) for role, members in planned.role_members.items()},
        deliverable=planned.deliverable, team_id=team_id,
        complete_on_approval=planned.complete_on_approval,
    )
    _note_finished_predecessors(app, task, meta, opened_now)
    task.make_ready_if_free(meta)
    app.resolve_roles(task, "when the task opened", meta)
    if planned.assignee_id and planned.assignee_id.strip():
        task.assign(planned.assignee_id, meta.model_copy(
            update={"reason": f"holds role '{planned.role}' in the campaign"}),
            role_holders=task.role_members.get(task.role, []))
    elif planned.queue is None:  # the planner sent it to no queue: its sole holder, if any
        task.assign_to_sole_holder(meta)
    app.cover_for_absences(task, meta)
    return task


def _campaign_team(app: ExecutionApplication, campaign_id: UUID) -> str | None:
    """The team of a campaign execution already has tasks of (for tasks added later)."""
    for task_id in app.board.campaign_tasks(campaign_id):
        return app.task(task_id).team_id
    return None


def _note_finished_predecessors(app: ExecutionApplication, task: Task, meta: EventMeta,
                                opened_now: set[UUID]) -> None:
    for predecessor_id in task.waiting_for_predecessors:
        if predecessor_id not in opened_now and app.board.status_of(predecessor_id) in FINISHED:
            task.predecessor_finished(predecessor_id, meta)


def on_campaign_planned(app: ExecutionApplication, inbound: InboundEvent,
                        processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, planning.CampaignPlanned)
    meta = app.meta_caused_by(inbound)
    opened_now = {planned.task_id for planned in event.tasks}
    for planned in event.tasks:
        if app.exists(planned.task_id):
            continue
        processing_event.collect_events(
            _open_task(app, event.campaign_id, planned, meta, opened_now, event.team_id))


def on_campaign_tasks_revised(app: ExecutionApplication, inbound: InboundEvent,
                              processing_event: ProcessingEvent[UUID]) -> None:
    """Rescheduling or a new playbook version: dates and definitions follow planning."""
    event = inbound.event
    assert isinstance(event, planning.CampaignTasksRevised)
    meta = app.meta_caused_by(inbound, reason=event.reason)
    opened_now = {planned.task_id for planned in event.added}
    team_id = _campaign_team(app, event.campaign_id) if event.added else None
    for planned in event.added:
        if not app.exists(planned.task_id):
            processing_event.collect_events(
                _open_task(app, event.campaign_id, planned, meta, opened_now, team_id))
    loaded: dict[UUID, Task] = {}

    def task(task_id: UUID) -> Task:
        if task_id not in loaded:
            loaded[task_id] = app.task(task_id)
        return loaded[task_id]

    for planned in event.updated:
        if not app.exists(planned.task_id):
            continue
        revised = task(planned.task_id)
        revised.revise(title=planned.title, description=planned.description,
                       role=planned.role, due_date=planned.due_date,
                       start_date=planned.start_date, depends_on=list(planned.depends_on),
                       queue=planned.queue, approval_chain=_chain(planned),
                       consulted_roles=list(planned.consulted_roles),
                       role_members={r: list(m) for r, m in planned.role_members.items()},
                       deliverable=planned.deliverable, meta=meta,
                       complete_on_approval=planned.complete_on_approval)
        _note_finished_predecessors(app, revised, meta, set())
        if revised.is_open:
            app.resolve_roles(revised, "when planning revised the task", meta)
            revised.escalate_if_unsatisfiable(app.escalation_targets(revised), meta)
        if revised.status == TaskState.DONE:  # no approval chain any more: approved, done
            for successor_id in app.board.successors_of(planned.task_id):
                task(successor_id).predecessor_finished(planned.task_id, meta)
        app.cover_for_absences(revised, meta)
    for task_id in event.removed:
        if app.exists(task_id) and task(task_id).is_open:
            task(task_id).cancel(f"removed from the campaign: {event.reason}", meta)
            for successor_id in app.board.successors_of(task_id):
                task(successor_id).predecessor_finished(task_id, meta)
    processing_event.collect_events(*loaded.values())


def on_campaign_cancelled(app: ExecutionApplication, inbound: InboundEvent,
                          processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, planning.CampaignCancelled)
    meta = app.meta_caused_by(inbound, reason=event.reason)
    for task_id in app.board.campaign_tasks(event.campaign_id):
        task = app.task(task_id)
        if task.is_open:
            task.cancel(f"campaign cancelled: {event.reason}", meta)
            processing_event.collect_events(task)


def on_member_registered(app: ExecutionApplication, inbound: InboundEvent,
                         processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, planning.MemberRegistered)
    meta = app.meta_caused_by(inbound)
    member = app.member(event.member_id)
    if member is None:
        member = TeamMember(id=member_aggregate_id(event.member_id), member_id=event.member_id,
                            name=event.name, roles=list(event.roles),
                            team_ids=list(event.team_ids), active=event.active, meta=meta,
                            manager_id=event.manager_id)
    else:
        member.update(event.name, list(event.roles), list(event.team_ids), event.active, meta,
                      manager_id=event.manager_id)
    processing_event.collect_events(member)


def on_team_registered(app: ExecutionApplication, inbound: InboundEvent,
                       processing_event: ProcessingEvent[UUID]) -> None:
    """The queues a team owns and its manager: who may claim from a queue, and who
    manages the team's work."""
    event = inbound.event
    assert isinstance(event, planning.TeamRegistered)
    meta = app.meta_caused_by(inbound)
    team = app.team(event.team_id)
    if team is None:
        team = Team(id=team_aggregate_id(event.team_id), team_id=event.team_id,
                    name=event.name, queues=list(event.queues), manager_id=event.manager_id,
                    meta=meta)
    else:
        team.update(event.name, list(event.queues), event.manager_id, meta)
    processing_event.collect_events(team)


def on_absence_recorded(app: ExecutionApplication, inbound: InboundEvent,
                        processing_event: ProcessingEvent[UUID]) -> None:
    """Record the absence; if it has already begun, hand the work over right away (later
    ones are started by the service's absence clock)."""
    event = inbound.event
    assert isinstance(event, planning.AbsenceRecorded)
    if app.exists(event.absence_id):
        return
    meta = app.meta_caused_by(inbound)
    backup = event.backup_member_id if event.backup_member_id != event.member_id else None
    absence = Absence(id=event.absence_id, member_id=event.member_id,
                      starts_on=event.starts_on, ends_on=event.ends_on,
                      backup_member_id=backup, reason=event.reason, meta=meta,
                      spread_by_capacity=event.spread_by_capacity)
    if absence.due(app.today()):
        processing_event.collect_events(*app.hand_over(absence, meta))
    else:
        processing_event.collect_events(absence)


def on_absence_cancelled(app: ExecutionApplication, inbound: InboundEvent,
                         processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, planning.AbsenceCancelled)
    if not app.exists(event.absence_id):
        return
    absence = app.load(event.absence_id, Absence)
    absence.cancel(app.meta_caused_by(inbound))
    processing_event.collect_events(absence)


HANDLERS: Handlers = {
    planning.CampaignPlanned: on_campaign_planned,
    planning.CampaignTasksRevised: on_campaign_tasks_revised,
    planning.CampaignCancelled: on_campaign_cancelled,
    planning.MemberRegistered: on_member_registered,
    planning.TeamRegistered: on_team_registered,
    planning.AbsenceRecorded: on_absence_recorded,
    planning.AbsenceCancelled: on_absence_cancelled,
}
