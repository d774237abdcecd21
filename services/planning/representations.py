"""What planning's HTTP API answers: one pydantic model per resource, each shaped here
from an aggregate (``CampaignOut.of(campaign)``) or a read-model row
(``CampaignSummary.of(row)``), so the OpenAPI document says exactly what comes back and
route functions only translate.

Field names and values are those the API always answered with; new fields were added
(``version`` where a resource lacked it), none renamed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from services.planning.domain import (
    Absence,
    ApprovalStepTemplate,
    Campaign,
    Goal,
    Kpi,
    Measurement,
    Member,
    Phase,
    PlannedTask,
    Playbook,
    PlaybookDiff,
    Routine,
    TaskTemplate,
    Team,
    UnfitTask,
)
from services.planning.domain.campaign import CampaignStatus
from services.planning.domain.credentials import ApiToken
from services.planning.domain.goals import GoalKind
from services.planning.domain.team import AWAY

Row = Mapping[str, Any]


class Representation(BaseModel):
    # Answers are built by the service, never parsed from clients: nothing to forbid,
    # but they must not change after they were shaped.
    model_config = ConfigDict(frozen=True)


# --- playbooks -------------------------------------------------------------------------

class PlaybookOut(Representation):
    """A playbook as of one version (by default its latest)."""

    id: UUID
    name: str
    version: int = Field(description="the version shown")
    latest_version: int = Field(description="the playbook's latest version; its ETag")
    description: str
    roles: list[str]
    phases: list[Phase]
    tasks: list[TaskTemplate] = Field(description="every phase's tasks, in order")
    defined_by: str
    defined_at: dt.datetime
    revised_by: str
    revised_at: dt.datetime

    @classmethod
    def of(cls, playbook: Playbook, version: int | None = None) -> Self:
        version = version or playbook.latest_version
        spec = playbook.spec_at(version)
        return cls(
            id=playbook.id, name=spec.name, version=version,
            latest_version=playbook.latest_version, description=spec.description,
            roles=spec.all_roles, phases=list(spec.phases), tasks=spec.tasks,
            defined_by=playbook.defined_by, defined_at=playbook.created_on,
            revised_by=playbook.revised_by, revised_at=playbook.modified_on,
        )


class PlaybookSummary(Representation):
    id: UUID
    name: str
    version: int = Field(description="the latest version")
    tasks: int = Field(description="how many tasks the latest version has")

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


class FieldChange(Representation):
    """One field's value in each of the two versions compared."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    from_: JsonValue = Field(alias="from")
    to: JsonValue


class TaskChangeOut(Representation):
    key: str
    fields: dict[str, FieldChange] = Field(description="field -> its change")


class PlaybookDiffOut(Representation):
    from_version: int
    to_version: int
    added: list[str] = Field(description="keys of tasks only the later version has")
    removed: list[str] = Field(description="keys of tasks only the earlier version has")
    changed: list[TaskChangeOut]
    other: dict[str, FieldChange] = Field(description="playbook-level field -> its change")

    @classmethod
    def of(cls, diff: PlaybookDiff) -> Self:
        return cls.model_validate(diff.model_dump(mode="json"))


# --- campaigns -------------------------------------------------------------------------

class CampaignTaskOut(Representation):
    """A planned task, with what execution reported about it since."""

    task_id: UUID
    key: str
    title: str
    role: str
    due_date: dt.date
    assignee_id: str | None = Field(description="as planned")
    start_date: dt.date | None
    phase: str | None
    description: str
    deliverable: str | None
    effort_hours: float | None
    duration_days: int
    depends_on: list[UUID]
    queue: str | None = Field(description="as planned")
    approval_chain: list[ApprovalStepTemplate]
    consulted_roles: list[str]
    informed_roles: list[str]
    role_members: dict[str, list[str]] = Field(description="role -> members holding it")
    complete_on_approval: bool
    status: str = Field(description="planned, or the latest status execution reported")
    current_assignee_id: str | None = Field(description="who holds the task now")
    current_queue: str | None = Field(description="the queue it waits in now")

    @classmethod
    def of(cls, campaign: Campaign, task: PlannedTask) -> Self:
        holder = campaign.holder_of(task.task_id)
        return cls(**dict(task), status=campaign.task_status[task.task_id],
                   current_assignee_id=holder.assignee_id, current_queue=holder.queue)


class CampaignOut(Representation):
    id: UUID
    name: str
    status: CampaignStatus
    status_reason: str | None
    playbook_id: UUID
    playbook_version: int
    launch_date: dt.date
    mode: Literal["backward", "forward"]
    start_date: dt.date | None
    team_id: str | None
    goal_ids: list[UUID]
    routine_id: UUID | None
    planned_by: str
    version: int = Field(description="the campaign's version; its ETag")
    critical_path: list[str] = Field(description="keys of the tasks that set the launch")
    unfit: list[UnfitTask] = Field(description="tasks that would start too early")
    tasks: list[CampaignTaskOut]

    @classmethod
    def of(cls, campaign: Campaign) -> Self:
        return cls(
            id=campaign.id, name=campaign.name, status=campaign.status,
            status_reason=campaign.status_reason, playbook_id=campaign.playbook_id,
            playbook_version=campaign.playbook_version, launch_date=campaign.launch_date,
            mode=campaign.mode, start_date=campaign.start_date, team_id=campaign.team_id,
            goal_ids=campaign.goal_ids, routine_id=campaign.routine_id,
            planned_by=campaign.planned_by, version=campaign.version,
            critical_path=campaign.critical_path, unfit=campaign.unfit,
            tasks=[CampaignTaskOut.of(campaign, task) for task in campaign.tasks],
        )


class CampaignSummary(Representation):
    id: UUID
    name: str
    launch_date: dt.date
    playbook_id: UUID
    playbook_version: int
    team_id: str | None
    goal_ids: list[UUID]
    status: CampaignStatus

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


# --- routines and the calendar -----------------------------------------------------------

class PlannedOccurrence(Representation):
    occurrence: dt.date
    campaign_id: UUID


class RoutineFields(Representation):
    """The routine's definition, as defined."""

    id: UUID
    name: str
    playbook_id: UUID
    rule: str = Field(description="RFC 5545 RRULE")
    starts_on: dt.date
    horizon_days: int
    team_id: str | None
    assignments: dict[str, str] = Field(description="role -> member id")
    queues: dict[str, str] = Field(description="role -> team queue")
    goal_ids: list[UUID]
    active: bool


class RoutineOut(RoutineFields):
    defined_by: str
    planned: list[PlannedOccurrence] = Field(description="occurrences planned so far")
    version: int = Field(description="the routine's version; its ETag")

    @classmethod
    def of(cls, routine: Routine) -> Self:
        return cls(
            id=routine.id, **dict(routine.definition), active=routine.active,
            defined_by=routine.defined_by, version=routine.version,
            planned=[PlannedOccurrence(occurrence=day, campaign_id=campaign_id)
                     for day, campaign_id in sorted(routine.planned.items())],
        )


class RoutineSummary(RoutineFields):
    planned: int = Field(description="how many occurrences were planned so far")

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


class RoutinesRun(Representation):
    planned: list[CampaignOut] = Field(description="campaigns planned by this run")

    @classmethod
    def of(cls, campaigns: list[Campaign]) -> Self:
        return cls(planned=[CampaignOut.of(campaign) for campaign in campaigns])


class CalendarEntry(Representation):
    """A launch (``kind`` launch) or a task (``kind`` task) in the year calendar; the
    task fields are null on launches."""

    kind: Literal["launch", "task"]
    uid: str = Field(description="stable across changes; the feeds' UID")
    title: str
    start_date: dt.date
    due_date: dt.date
    campaign_id: UUID
    campaign: str = Field(description="the campaign's name")
    team_id: str | None
    goal_ids: list[UUID]
    updated_at: dt.datetime = Field(description="when the campaign last changed")
    task_id: UUID | None = None
    key: str | None = None
    role: str | None = None
    assignee_id: str | None = None
    queue: str | None = None
    phase: str | None = None
    status: str | None = None

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


# --- goals -----------------------------------------------------------------------------

class GoalFields(Representation):
    id: UUID
    name: str
    kind: GoalKind
    custom_kind: str | None
    weight: float
    description: str
    kpi: Kpi


class GoalOut(GoalFields):
    defined_by: str
    measurements: list[Measurement] = Field(description="in the order they were taken")
    attainment_percent: float | None = Field(
        description="what the KPI period achieved against the target")
    version: int = Field(description="the goal's version; its ETag")

    @classmethod
    def of(cls, goal: Goal) -> Self:
        return cls(
            id=goal.id, **dict(goal.definition), defined_by=goal.defined_by,
            measurements=sorted(goal.measurements, key=lambda m: m.measured_on),
            attainment_percent=goal.attainment_percent, version=goal.version,
        )


class GoalSummary(GoalFields):
    measurements: int = Field(description="how many measurements were recorded")

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


# --- team directory --------------------------------------------------------------------

class TeamFields(Representation):
    team_id: str
    name: str
    country: str | None
    subdivision: str | None
    closed_days: list[dt.date]
    queues: list[str]
    manager_id: str | None


class TeamSummary(TeamFields):
    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


class MemberSummary(Representation):
    member_id: str
    name: str
    email: str | None
    team_ids: list[str]
    roles: list[str]
    manager_id: str | None
    weekly_capacity_hours: float
    active: bool
    absences: list[Absence] = Field(description="by start date")

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


class MemberOut(MemberSummary):
    version: int = Field(description="the member's version; its ETag")

    @classmethod
    def of_member(cls, member: Member, *, reasons: bool = True) -> Self:
        """``reasons``: whether the reader may see why the member is away (others read
        "away")."""
        absences = sorted(member.absences.values(), key=lambda a: a.starts_on)
        if not reasons:
            absences = [a.model_copy(update={"reason": AWAY if a.reason else None})
                        for a in absences]
        return cls(member_id=member.member_id, **dict(member.profile), version=member.version,
                   absences=absences)


class TeamOut(TeamFields):
    version: int = Field(description="the team's version; its ETag")

    @classmethod
    def of_team(cls, team: Team) -> Self:
        return cls(team_id=team.team_id, **dict(team.profile), version=team.version)


class TeamDetail(TeamOut):
    members: list[MemberSummary]

    @classmethod
    def of_team_with(cls, team: Team, members: Sequence[Row]) -> Self:
        return cls(team_id=team.team_id, **dict(team.profile), version=team.version,
                   members=[MemberSummary.of(row) for row in members])


class AbsenceOut(Representation):
    member_id: str
    absence_id: UUID
    starts_on: dt.date
    ends_on: dt.date
    backup_member_id: str | None
    reason: str | None = Field(description="'away' for readers who may not see why")
    spread_by_capacity: bool

    @classmethod
    def of_absence(cls, member_id: str, absence: Absence, *, reasons: bool = True) -> Self:
        shown = dict(absence)
        if not reasons and absence.reason:
            shown["reason"] = AWAY
        return cls(member_id=member_id, **shown)


class ApiTokenOut(Representation):
    token_id: UUID
    principal_id: str
    service_account: bool
    roles: list[str]
    label: str
    issued_by: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)

    @classmethod
    def of_token(cls, token: ApiToken) -> Self:
        return cls(token_id=token.id, principal_id=token.principal_id,
                   service_account=token.service_account, roles=token.roles,
                   label=token.label, issued_by=token.issued_by, issued_at=token.created_on,
                   expires_at=token.expires_at, revoked_at=token.revoked_at,
                   revoked_by=token.revoked_by)


class IssuedApiToken(ApiTokenOut):
    token: str = Field(description="the secret: shown this once, never again; send it as "
                                   "'Authorization: Bearer <token>'")


class CalendarFeedOut(Representation):
    feed_id: UUID
    member_id: str
    path: str = Field(description="the feed it opens")
    created_at: dt.datetime
    revoked: bool

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls(feed_id=row["feed_id"], member_id=row["member_id"], path=row["path"],
                   created_at=row["created_at"], revoked=bool(row["revoked"]))


class CalendarFeedAddress(Representation):
    feed_id: UUID
    member_id: str
    path: str
    url: str = Field(description="the secret address for a calendar client: shown this "
                                 "once; it opens this feed only; rotate or revoke it any time")


class ClosedDay(Representation):
    date: dt.date
    reason: str = Field(description="weekend, team closed day, or the public holiday")


__all__ = [
    "AbsenceOut",
    "CalendarEntry",
    "CampaignOut",
    "CampaignSummary",
    "ClosedDay",
    "GoalOut",
    "GoalSummary",
    "MemberOut",
    "MemberSummary",
    "PlaybookDiffOut",
    "PlaybookOut",
    "PlaybookSummary",
    "RoutineOut",
    "RoutineSummary",
    "RoutinesRun",
    "TeamDetail",
    "TeamOut",
    "TeamSummary",
]
