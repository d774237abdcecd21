"""A year of an organization's archive, for the report benchmarks: members and goals,
then campaigns of 20 tasks in four phases, each task opened, assigned, made ready,
started, submitted (a third of them twice after changes were requested), approved and
completed, some late. Events are built from the contracts (the archive holds what the
services publish) and filed as the inbox files them: under the subject and under the
campaign, saved directly (no broker: this measures the reports, not the pipeline)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from contracts import IntegrationEvent
from contracts import execution as task_contract
from contracts import planning as plan_contract
from services.reporting.application import ReportingApplication
from services.reporting.domain import ArchivedEvent, Timeline, timeline_id
from shared.domain import EventMeta

ARCHIVIST = EventMeta(actor="system:reporting")
START = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
TASKS_PER_CAMPAIGN = 20
PHASES = ("prepare", "create", "review", "launch")
MEMBERS = [f"member-{n:03d}" for n in range(60)]
TEAMS = ["brand", "social", "events", "content", "product"]
APPROVERS = ["lee", "mia", "olu"]


@dataclass
class ArchiveGrowth:
    """Grows one reporting store's archive; remembers what a benchmark asks about."""

    app: ReportingApplication
    random: random.Random = field(default_factory=lambda: random.Random(11))
    campaigns: list[str] = field(default_factory=list)
    playbooks: list[str] = field(default_factory=lambda: [
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-playbook-{n}")) for n in range(8)])
    goals: list[str] = field(default_factory=list)
    events: int = 0

    def _entry(self, source: str, subject: str, version: int, moment: dt.datetime,
               actor: str, event: IntegrationEvent) -> ArchivedEvent:
        self.events += 1
        return ArchivedEvent(
            id=f"{subject}:{version}", source=f"/marketflow/{source}", type=event.event_type,
            time=moment, subject=subject, actor=actor, aggregate_version=version,
            data=event.model_dump(mode="json"))

    def _timeline(self, entries: list[ArchivedEvent], subject: str,
                  timeline: Timeline | None = None) -> Timeline:
        for entry in entries:
            if timeline is None:
                timeline = Timeline(id=timeline_id(subject), subject=subject, first=entry,
                                    meta=ARCHIVIST)
            else:
                timeline.archive(entry, ARCHIVIST)
        assert timeline is not None
        return timeline

    def directory(self) -> None:
        """Members (with teams and capacities) and goals, once."""
        timelines = []
        for n, member_id in enumerate([*MEMBERS, *APPROVERS]):
            subject = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-member-{member_id}"))
            event = plan_contract.MemberRegistered(
                member_id=member_id, name=member_id, team_ids=[TEAMS[n % len(TEAMS)]],
                weekly_capacity_hours=float(24 + 8 * (n % 3)))
            timelines.append(self._timeline(
                [self._entry("planning", subject, 1, START, "anna", event)], subject))
        for n in range(10):
            goal_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-goal-{n}"))
            self.goals.append(goal_id)
            goal = plan_contract.GoalDefined(
                goal_id=uuid.UUID(goal_id), name=f"Goal {n}", kind="awareness",
                weight=1.0 + n % 3, kpi_name="signups", kpi_target=1000.0,
                period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31))
            timelines.append(self._timeline(
                [self._entry("planning", goal_id, 1, START, "anna", goal)], goal_id))
        self.app.save(*timelines)

    def campaign(self) -> None:
        """One campaign: planned, then each of its tasks worked to done."""
        rnd = self.random
        number = len(self.campaigns)
        campaign_id = str(uuid.uuid4())
        self.campaigns.append(campaign_id)
        planned_at = START + dt.timedelta(hours=2 * number)
        launch = (planned_at + dt.timedelta(days=40)).date()
        team = TEAMS[number % len(TEAMS)]
        tasks = []
        for n in range(TASKS_PER_CAMPAIGN):
            tasks.append(plan_contract.PlannedTask(
                task_id=uuid.uuid4(), key=f"step-{n:02d}", title=f"Step {n}", role="writer",
                due_date=launch - dt.timedelta(days=2 * (TASKS_PER_CAMPAIGN - n)),
                assignee_id=rnd.choice(MEMBERS), phase=PHASES[n * len(PHASES)
                                                             // TASKS_PER_CAMPAIGN],
                effort_hours=float(rnd.choice((2, 4, 8, 16))),
                approval_chain=[plan_contract.ApprovalStep(member_id=rnd.choice(APPROVERS))]))
        plan = plan_contract.CampaignPlanned(
            campaign_id=uuid.UUID(campaign_id), name=f"Campaign {number}",
            playbook_id=uuid.UUID(self.playbooks[number % len(self.playbooks)]),
            playbook_version=1, launch_date=launch, tasks=tasks, team_id=team,
            goal_ids=[uuid.UUID(self.goals[number % len(self.goals)])] if self.goals else [])
        campaign_entries = [self._entry("planning", campaign_id, 1, planned_at, "anna", plan)]
        task_timelines = []
        for planned in tasks:
            entries = self._task_life(campaign_id, planned, planned_at)
            task_timelines.append(self._timeline(entries, str(planned.task_id)))
            campaign_entries += entries
        campaign_entries.sort(key=lambda entry: entry.time)
        self.app.save(self._timeline(campaign_entries, campaign_id), *task_timelines)

    def _task_life(self, campaign_id: str, planned: plan_contract.PlannedTask,
                   planned_at: dt.datetime) -> list[ArchivedEvent]:
        rnd = self.random
        task_id, campaign = str(planned.task_id), uuid.UUID(campaign_id)
        assignee = planned.assignee_id or MEMBERS[0]
        approver = planned.approval_chain[0].member_id or APPROVERS[0]
        moment = planned_at + dt.timedelta(minutes=5)
        due = planned.due_date
        entries: list[ArchivedEvent] = []

        def emit(event: IntegrationEvent, actor: str, hours: float = 0) -> None:
            nonlocal moment
            moment += dt.timedelta(hours=hours)
            entries.append(self._entry("execution", task_id, len(entries) + 1, moment, actor,
                                       event))

        common: dict[str, Any] = {"task_id": planned.task_id, "campaign_id": campaign}
        emit(task_contract.TaskOpened(**common, title=planned.title, role=planned.role,
                                      due_date=due, queue="writer"), "system:execution")
        emit(task_contract.TaskAssigned(**common, title=planned.title, assignee_id=assignee,
                                        due_date=due), "system:execution")
        emit(task_contract.TaskReady(**common), "system:execution", rnd.uniform(1, 200))
        emit(task_contract.TaskStarted(**common, assignee_id=assignee), assignee,
             rnd.uniform(1, 48))
        rounds = 2 if rnd.random() < 0.33 else 1
        for submission in range(1, rounds + 1):
            emit(task_contract.TaskSubmitted(**common, submission_version=submission,
                                             reference="https://drive.example/x",
                                             note="draft", pending_approvers=[approver]),
                 assignee, rnd.uniform(4, 96))
            if submission < rounds:
                emit(task_contract.TaskChangesRequested(
                    **common, step=1, submission_version=submission,
                    revision_round=submission, comment="tighten it"), approver,
                    rnd.uniform(1, 30))
        emit(task_contract.ApprovalGiven(**common, step=1, submission_version=rounds,
                                         step_completed=True), approver, rnd.uniform(1, 30))
        emit(task_contract.TaskApproved(**common, submission_version=rounds),
             "system:execution")
        emit(task_contract.TaskCompleted(**common, on_approval=True), "system:execution")
        return entries

    def grow_to(self, target: int) -> None:
        """Archive campaigns until ``target`` events are archived (each once)."""
        if not self.goals:
            self.directory()
        while self.events < target:
            self.campaign()
