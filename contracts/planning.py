"""Events published by the planning service on ``marketflow.planning.events``.

Additive evolution only within a version: new fields must be optional with a default.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Self
from uuid import UUID

from pydantic import Field, model_validator

from contracts.base import Contract, IntegrationEvent


class PlaybookTaskTemplate(Contract):
    key: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64)
    offset_days: int = Field(description="days relative to the campaign's launch date")
    phase: str | None = None
    description: str = ""
    deliverable: str | None = None
    duration_days: int | None = Field(default=None, ge=0, description="working days")
    depends_on: list[str] = Field(default_factory=list, description="keys of predecessors")
    anchored: bool | None = Field(
        default=None,
        description="true: due offset_days working days from the launch by rule; false: "
                    "follows its predecessors (offset_days is then where the backward plan "
                    "puts it)")
    approval_roles: list[str] = Field(default_factory=list,
                                      description="accountable roles, in approval order")
    consulted_roles: list[str] = Field(default_factory=list)
    informed_roles: list[str] = Field(default_factory=list)
    complete_on_approval: bool = Field(
        default=True, description="done when the approval chain completes (default)")
    reminder_days: int | None = Field(
        default=None, ge=0, le=365,
        description="remind the assignee this many working days before the due date; "
                    "null: notification's default")


class PlaybookDefined(IntegrationEvent):
    event_type = "marketflow.planning.playbook.defined.v1"

    playbook_id: UUID
    name: str
    version: int = Field(ge=1)
    tasks: list[PlaybookTaskTemplate]
    description: str = ""
    roles: list[str] = Field(default_factory=list)


class ApprovalStep(Contract):
    """One step of a deliverable's approval chain: a role or a named member, N of M."""

    role: str | None = Field(default=None, description="any member holding this role")
    member_id: str | None = Field(default=None, description="or exactly this member")
    required_approvals: int = Field(default=1, ge=1, description="N of the M eligible")

    @model_validator(mode="after")
    def _one_approver_kind(self) -> Self:
        if (self.role is None) == (self.member_id is None):
            raise ValueError("an approval step names either a role or a member_id")
        return self


class PlannedTask(Contract):
    task_id: UUID
    key: str
    title: str
    role: str
    due_date: date
    assignee_id: str | None = Field(description="member holding the role; null: unassigned")
    description: str = ""
    deliverable: str | None = Field(default=None, description="deliverable type, if any")
    effort_hours: float | None = Field(default=None, ge=0)
    start_date: date | None = None
    depends_on: list[UUID] = Field(default_factory=list, description="task ids")
    queue: str | None = Field(default=None,
                              description="team queue the task lands in when unassigned")
    approval_chain: list[ApprovalStep] = Field(default_factory=list)
    consulted_roles: list[str] = Field(default_factory=list)
    informed_roles: list[str] = Field(default_factory=list)
    role_members: dict[str, list[str]] = Field(
        default_factory=dict,
        description="role -> members holding it in this campaign (approvers, consulted)",
    )
    phase: str | None = None
    duration_days: int | None = Field(default=None, ge=0, description="working days")
    complete_on_approval: bool = Field(
        default=True,
        description="true: the task is done when its approval chain completes; false: "
                    "its assignee completes it after the last approval. Absent in events "
                    "published before it existed: read as true.")
    reminder_days: int | None = Field(
        default=None, ge=0, le=365,
        description="the playbook task's reminder lead in working days before the due "
                    "date; null: notification's default")


class CampaignPlanned(IntegrationEvent):
    event_type = "marketflow.planning.campaign.planned.v1"

    campaign_id: UUID
    name: str
    playbook_id: UUID
    playbook_version: int = Field(ge=1)
    launch_date: date
    tasks: list[PlannedTask]
    team_id: str | None = None
    start_date: date | None = Field(default=None, description="set when planned forward")
    critical_path: list[str] = Field(default_factory=list, description="task keys")
    unfit_tasks: list[str] = Field(
        default_factory=list, description="keys of tasks that cannot fit before the launch")
    goal_ids: list[UUID] = Field(default_factory=list)
    routine_id: UUID | None = Field(default=None, description="the recurring routine, if any")


class CampaignTasksRevised(IntegrationEvent):
    """Rescheduling or a move to a new playbook version. Tasks already done keep their
    dates; ``updated`` lists tasks whose dates or definition changed."""

    event_type = "marketflow.planning.campaign.tasks_revised.v1"

    campaign_id: UUID
    reason: str
    added: list[PlannedTask] = Field(default_factory=list)
    updated: list[PlannedTask] = Field(default_factory=list)
    removed: list[UUID] = Field(default_factory=list)
    launch_date: date | None = Field(default=None, description="the new launch date, if moved")
    playbook_version: int | None = Field(default=None, ge=1,
                                         description="the new playbook version, if migrated")


class CampaignCancelled(IntegrationEvent):
    event_type = "marketflow.planning.campaign.cancelled.v1"

    campaign_id: UUID
    reason: str


class CampaignCompleted(IntegrationEvent):
    event_type = "marketflow.planning.campaign.completed.v1"

    campaign_id: UUID


class TeamRegistered(IntegrationEvent):
    """A team was registered or changed (the full current state)."""

    event_type = "marketflow.planning.team.registered.v1"

    team_id: str
    name: str
    country: str | None = None
    subdivision: str | None = None
    closed_days: list[date] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    manager_id: str | None = Field(default=None, description="the member escalations go to")


class MemberRegistered(IntegrationEvent):
    """A member joined the team directory, or changed (the full current state)."""

    event_type = "marketflow.planning.member.registered.v1"

    member_id: str
    name: str
    email: str | None = None
    team_ids: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    manager_id: str | None = None
    weekly_capacity_hours: float = Field(default=40, ge=0)
    active: bool = True


class AbsenceRecorded(IntegrationEvent):
    """A member will be away; their open work should go to the backup (or back to the
    queue) from ``starts_on`` to ``ends_on`` inclusive."""

    event_type = "marketflow.planning.member.absence_recorded.v1"

    absence_id: UUID
    member_id: str
    starts_on: date
    ends_on: date
    backup_member_id: str | None = None
    reason: str | None = None
    spread_by_capacity: bool = Field(
        default=False,
        description="the planner's choice: the backup takes tasks up to their WIP limit, "
                    "then the team's holders of each task's role with room, then the queue "
                    "(false: everything goes to the backup, or the queue without one)")


class AbsenceCancelled(IntegrationEvent):
    event_type = "marketflow.planning.member.absence_cancelled.v1"

    absence_id: UUID
    member_id: str


class ApiTokenIssued(IntegrationEvent):
    """An admin issued an API token. Only its SHA-256 travels: every service can check a
    token presented to it, none can use what it received to call another."""

    event_type = "marketflow.planning.api_token.issued.v1"

    token_id: UUID
    token_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the token, hex")
    principal_id: str = Field(min_length=1, max_length=64,
                              description="the member, or the service account, it acts as")
    service_account: bool = Field(
        default=False, description="true: acts as a machine with only ``roles``")
    roles: list[str] = Field(default_factory=list,
                             description="a service account's roles (e.g. integration)")
    expires_at: datetime | None = None


class ApiTokenRevoked(IntegrationEvent):
    """The token no longer opens anything, on every service, from when this arrives."""

    event_type = "marketflow.planning.api_token.revoked.v1"

    token_id: UUID
    token_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class KpiMeasurementReported(IntegrationEvent):
    """Inbound: another system (e.g. a CRM) reports a KPI measurement for a goal. It
    publishes this on ``marketflow.crm.events``; planning validates and records it once,
    attributed to the envelope's actor (e.g. ``system:crm``)."""

    event_type = "marketflow.planning.kpi.measurement_reported.v1"

    goal_id: UUID
    value: float = Field(allow_inf_nan=False)
    measured_on: date
    source: str = Field(min_length=1, max_length=64, description="the reporting system")
    external_id: str | None = Field(default=None, max_length=200,
                                    description="the reporter's id for this measurement")


class GoalDefined(IntegrationEvent):
    event_type = "marketflow.planning.goal.defined.v1"

    goal_id: UUID
    name: str
    kind: str
    custom_kind: str | None = None
    weight: float
    kpi_name: str
    kpi_unit: str = ""
    kpi_target: float
    period_start: date
    period_end: date
    kpi_aggregation: str = Field(
        default="sum", description="how measurements add up over the period: sum, last, "
                                   "average or max (absent in older events: sum)")


class KpiMeasured(IntegrationEvent):
    """A KPI measurement planning recorded (from a person or another system)."""

    event_type = "marketflow.planning.kpi.measured.v1"

    goal_id: UUID
    value: float
    measured_on: date
    source: str
    attainment_percent: float | None = None


class CampaignGoalsLinked(IntegrationEvent):
    event_type = "marketflow.planning.campaign.goals_linked.v1"

    campaign_id: UUID
    goal_ids: list[UUID] = Field(description="the goals linked by this change")
