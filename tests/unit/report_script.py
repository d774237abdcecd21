"""A scripted history for the reports' tests: integration events with chosen times, each
aggregate's versions and sequences counted for you, as reporting receives them.

    script = Script()
    script.member("ben", teams=["brand"], capacity=32)
    script.plan(CAMPAIGN, "Spring launch", launch=date(2027, 3, 1), team="brand",
                tasks=[script.task(T1, "brief", phase="prepare", due=date(2027, 2, 1))])
    script.at(day(1)).opened(T1, CAMPAIGN)
    ...
    events = script.events        # feed to ReportingApplication.process_inbound
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from itertools import count
from typing import Any

from contracts import IntegrationEvent
from contracts import execution as task_contract
from contracts import planning as plan_contract
from shared import cloudevents

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
"""A Monday."""


def day(n: float, hour: float = 0) -> dt.datetime:
    """``n`` days (and ``hour`` hours) after T0."""
    return T0 + dt.timedelta(days=n, hours=hour)


class Script:
    def __init__(self) -> None:
        self.events: list[cloudevents.InboundEvent] = []
        self.now = T0
        self.actor = "anna"
        self._versions: Counter[str] = Counter()
        self._sequence = count(1)

    def at(self, moment: dt.datetime, actor: str | None = None) -> Script:
        """What follows happens at ``moment`` (by ``actor``, default: as before)."""
        self.now = moment
        if actor is not None:
            self.actor = actor
        return self

    def emit(self, source: str, subject: object, event: IntegrationEvent,
             reason: str | None = None) -> cloudevents.InboundEvent:
        self._versions[str(subject)] += 1
        version = self._versions[str(subject)]
        envelope = cloudevents.Envelope(
            id=f"{subject}:{version}", source=f"/marketflow/{source}",
            type=event.event_type, time=self.now, subject=str(subject), actor=self.actor,
            aggregate_version=version, sequence=next(self._sequence), reason=reason)
        inbound = cloudevents.InboundEvent(envelope, event)
        self.events.append(inbound)
        return inbound

    def cut(self, moment: dt.datetime) -> list[cloudevents.InboundEvent]:
        """The archive as it stood at ``moment``: what had happened by then."""
        return [event for event in self.events if event.envelope.time <= moment]

    # --- planning ------------------------------------------------------------------------

    def member(self, member_id: str, teams: list[str] | None = None, capacity: float = 40,
               active: bool = True, manager: str | None = None) -> None:
        self.emit("planning", f"member:{member_id}", plan_contract.MemberRegistered(
            member_id=member_id, name=member_id.title(), team_ids=teams or [],
            weekly_capacity_hours=capacity, active=active, manager_id=manager))

    @staticmethod
    def task(task_id: uuid.UUID, key: str, *, due: dt.date, phase: str | None = None,
             assignee: str | None = None, effort: float | None = None,
             approvers: list[str] | None = None, queue: str | None = None,
             role: str = "writer", start: dt.date | None = None
             ) -> plan_contract.PlannedTask:
        return plan_contract.PlannedTask(
            task_id=task_id, key=key, title=key.title(), role=role, due_date=due,
            start_date=start,
            assignee_id=assignee, phase=phase, effort_hours=effort, queue=queue,
            approval_chain=[plan_contract.ApprovalStep(member_id=approver)
                            for approver in approvers or ()])

    def plan(self, campaign: uuid.UUID, name: str, *, launch: dt.date,
             tasks: list[plan_contract.PlannedTask], team: str | None = None,
             playbook: uuid.UUID | None = None, goals: list[uuid.UUID] | None = None
             ) -> None:
        self.emit("planning", campaign, plan_contract.CampaignPlanned(
            campaign_id=campaign, name=name,
            playbook_id=playbook or uuid.uuid5(uuid.NAMESPACE_URL, name),
            playbook_version=1, launch_date=launch, tasks=tasks, team_id=team,
            goal_ids=goals or []))

    def revise(self, campaign: uuid.UUID, reason: str, *, launch: dt.date | None = None,
               added: list[plan_contract.PlannedTask] | None = None,
               updated: list[plan_contract.PlannedTask] | None = None,
               removed: list[uuid.UUID] | None = None) -> None:
        self.emit("planning", campaign, plan_contract.CampaignTasksRevised(
            campaign_id=campaign, reason=reason, launch_date=launch, added=added or [],
            updated=updated or [], removed=removed or []))

    def cancel_campaign(self, campaign: uuid.UUID, reason: str) -> None:
        self.emit("planning", campaign, plan_contract.CampaignCancelled(
            campaign_id=campaign, reason=reason))

    # --- execution -----------------------------------------------------------------------

    def _task(self, event: IntegrationEvent, task_id: uuid.UUID) -> None:
        self.emit("execution", task_id, event)

    def opened(self, task_id: uuid.UUID, campaign: uuid.UUID, *, due: dt.date,
               queue: str = "writer", title: str = "Task") -> None:
        self._task(task_contract.TaskOpened(task_id=task_id, campaign_id=campaign,
                                            title=title, role="writer", due_date=due,
                                            queue=queue), task_id)

    def assigned(self, task_id: uuid.UUID, campaign: uuid.UUID, assignee: str, *,
                 due: dt.date, via: Any = "planned", previous: str | None = None) -> None:
        self._task(task_contract.TaskAssigned(
            task_id=task_id, campaign_id=campaign, title="Task", assignee_id=assignee,
            due_date=due, via=via, previous_assignee_id=previous), task_id)

    def returned(self, task_id: uuid.UUID, campaign: uuid.UUID, previous: str,
                 queue: str = "writer") -> None:
        self._task(task_contract.TaskReturnedToQueue(
            task_id=task_id, campaign_id=campaign, previous_assignee_id=previous,
            queue=queue), task_id)

    def ready(self, task_id: uuid.UUID, campaign: uuid.UUID) -> None:
        self._task(task_contract.TaskReady(task_id=task_id, campaign_id=campaign), task_id)

    def started(self, task_id: uuid.UUID, campaign: uuid.UUID, assignee: str) -> None:
        self._task(task_contract.TaskStarted(task_id=task_id, campaign_id=campaign,
                                             assignee_id=assignee), task_id)

    def submitted(self, task_id: uuid.UUID, campaign: uuid.UUID, submission: int,
                  approvers: list[str]) -> None:
        self._task(task_contract.TaskSubmitted(
            task_id=task_id, campaign_id=campaign, submission_version=submission,
            reference=f"https://drive.example/{task_id}/{submission}", note="draft",
            pending_approvers=approvers), task_id)

    def approval_given(self, task_id: uuid.UUID, campaign: uuid.UUID, step: int,
                       submission: int, step_completed: bool = True) -> None:
        self._task(task_contract.ApprovalGiven(
            task_id=task_id, campaign_id=campaign, step=step, submission_version=submission,
            step_completed=step_completed), task_id)

    def changes_requested(self, task_id: uuid.UUID, campaign: uuid.UUID, step: int,
                          submission: int, round_: int, comment: str = "tighten it") -> None:
        self._task(task_contract.TaskChangesRequested(
            task_id=task_id, campaign_id=campaign, step=step, submission_version=submission,
            revision_round=round_, comment=comment), task_id)

    def approved(self, task_id: uuid.UUID, campaign: uuid.UUID, submission: int) -> None:
        self._task(task_contract.TaskApproved(task_id=task_id, campaign_id=campaign,
                                              submission_version=submission), task_id)

    def completed(self, task_id: uuid.UUID, campaign: uuid.UUID,
                  on_approval: bool = False) -> None:
        self._task(task_contract.TaskCompleted(task_id=task_id, campaign_id=campaign,
                                               on_approval=on_approval), task_id)

    def blocked(self, task_id: uuid.UUID, campaign: uuid.UUID, reason: str) -> None:
        self._task(task_contract.TaskBlocked(task_id=task_id, campaign_id=campaign,
                                             reason=reason), task_id)

    def unblocked(self, task_id: uuid.UUID, campaign: uuid.UUID, resumed: str) -> None:
        self._task(task_contract.TaskUnblocked(task_id=task_id, campaign_id=campaign,
                                               resumed_state=resumed), task_id)

    def cancelled(self, task_id: uuid.UUID, campaign: uuid.UUID, reason: str) -> None:
        self._task(task_contract.TaskCancelled(task_id=task_id, campaign_id=campaign,
                                               reason=reason), task_id)

    def revised(self, task_id: uuid.UUID, campaign: uuid.UUID, due: dt.date) -> None:
        self._task(task_contract.TaskRevised(task_id=task_id, campaign_id=campaign,
                                             title="Task", due_date=due), task_id)

    def commented(self, task_id: uuid.UUID, text: str) -> None:
        self._task(task_contract.TaskCommented(task_id=task_id, text=text,
                                               submission_version=0), task_id)

    # --- people reports: goals, KPI measurements, delegations ------------------------------

    def goal(self, goal_id: uuid.UUID, name: str, *, weight: float, target: float,
             start: dt.date, end: dt.date, aggregation: str = "sum") -> None:
        self.emit("planning", goal_id, plan_contract.GoalDefined(
            goal_id=goal_id, name=name, kind="awareness", weight=weight, kpi_name=name,
            kpi_target=target, period_start=start, period_end=end,
            kpi_aggregation=aggregation))

    def measured(self, goal_id: uuid.UUID, value: float, on: dt.date) -> None:
        self.emit("planning", goal_id, plan_contract.KpiMeasured(
            goal_id=goal_id, value=value, measured_on=on, source="api"))

    def goals_linked(self, campaign: uuid.UUID, goals: list[uuid.UUID]) -> None:
        self.emit("planning", campaign, plan_contract.CampaignGoalsLinked(
            campaign_id=campaign, goal_ids=goals))

    def delegated(self, task_id: uuid.UUID, member: str, backup: str | None,
                  absence: uuid.UUID | None = None) -> None:
        self._task(task_contract.ApprovalsDelegated(
            task_id=task_id, member_id=member, backup_id=backup, absence_id=absence), task_id)
