"""Planning's HTTP API: translates requests into use cases, nothing more."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from starlette.concurrency import run_in_threadpool

from services.planning.application import PlanningApplication
from services.planning.calendar_feed import ics_feed
from services.planning.domain import (
    Campaign,
    Goal,
    GoalDefinition,
    Measurement,
    Member,
    MemberProfile,
    Playbook,
    PlaybookSpec,
    Routine,
    RoutineDefinition,
    Team,
    TeamProfile,
)
from services.planning.domain.team import ID_PATTERN, Day
from services.planning.domain.text import FIRST_DATE, LAST_DATE
from services.planning.playbook_files import playbook_from_yaml, playbook_to_yaml
from services.planning.views import CalendarView, CatalogView, DirectoryView
from shared.auth import Member as AuthenticatedMember
from shared.auth import current_member
from shared.domain import EventMeta, InvalidCommand, PreconditionRequired
from shared.paging import Paging, paged

Actor = Annotated[AuthenticatedMember, Depends(current_member)]
TeamId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
# Role, member and queue names in request bodies; bounded like the directory's ids.
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_ROLES = 100
# A date in a command: written as a date, within what plans support.
PlanDate = Annotated[Day, Field(ge=FIRST_DATE, le=LAST_DATE)]
MAX_GOALS = 50
YAML_MEDIA_TYPE = "application/yaml"
ICS_MEDIA_TYPE = "text/calendar"
MAX_CALENDAR_DAYS = 800
FEED_PAST_DAYS = 365
FEED_FUTURE_DAYS = 2 * 365


def feed_member(
    request: Request,
    token: Annotated[str | None, Query(
        description="for calendar clients that cannot send an Authorization header")] = None,
) -> AuthenticatedMember:
    """Bearer token, or the same token as a query parameter (calendar subscriptions)."""
    if token is None:
        return current_member(request)
    member = request.app.state.tokens.member_for(token)
    if member is None:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED,
                            detail="unknown or revoked token")
    return member  # type: ignore[no-any-return]


FeedReader = Annotated[AuthenticatedMember, Depends(feed_member)]


def attributed(member: AuthenticatedMember, reason: str | None = None) -> EventMeta:
    return EventMeta(actor=member.member_id, reason=reason)


class PlanCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    playbook_id: UUID
    playbook_version: int | None = Field(default=None, ge=1,
                                         description="default: the latest version")
    name: str = Field(min_length=1, max_length=200)
    launch_date: PlanDate | None = Field(
        default=None, description="the anchor: schedule backward from it")
    start_date: PlanDate | None = Field(
        default=None, description="or schedule forward from this date; the launch follows")
    team_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN,
                                description="whose calendar (holidays, closed days) to use")
    assignments: dict[Name, Name] = Field(
        default_factory=dict, max_length=MAX_ROLES,
        description="role -> member id holding it in this campaign"
    )
    queues: dict[Name, Name] = Field(
        default_factory=dict, max_length=MAX_ROLES,
        description="role -> team queue its tasks land in"
    )
    goal_ids: list[UUID] = Field(default_factory=list, max_length=MAX_GOALS)
    not_before: PlanDate | None = Field(
        default=None, description="report tasks that would start earlier (default: today)")

    @model_validator(mode="after")
    def _one_anchor(self) -> Self:
        if (self.launch_date is None) == (self.start_date is None):
            raise ValueError("give launch_date (schedule backward from the launch) or "
                             "start_date (schedule forward from it), not both or neither")
        return self

    @property
    def mode(self) -> Literal["backward", "forward"]:
        return "backward" if self.launch_date is not None else "forward"


class Reschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    launch_date: PlanDate
    not_before: PlanDate | None = None


class Migrate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    playbook_version: int = Field(ge=1)


class Cancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class LinkGoals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal_ids: list[UUID] = Field(min_length=1, max_length=MAX_GOALS)


class RecordMeasurement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float = Field(allow_inf_nan=False)
    measured_on: PlanDate
    external_id: str | None = Field(default=None, max_length=200)


class RecordAbsence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: PlanDate
    ends_on: PlanDate
    backup_member_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    reason: str | None = Field(default=None, max_length=500)
    spread_by_capacity: StrictBool = Field(
        default=False, description="the backup takes work up to their WIP limit, then the "
                                   "team's holders of each task's role with room, then the "
                                   "queue (false: all to the backup, or the queue without one)")


def playbook_json(playbook: Playbook, version: int | None = None) -> dict[str, Any]:
    version = version or playbook.latest_version
    spec = playbook.spec_at(version)
    return {
        "id": str(playbook.id),
        "name": spec.name,
        "version": version,
        "latest_version": playbook.latest_version,
        "description": spec.description,
        "roles": spec.all_roles,
        "phases": [phase.model_dump(mode="json") for phase in spec.phases],
        "tasks": [task.model_dump(mode="json") for task in spec.tasks],
        "defined_by": playbook.defined_by,
        "defined_at": playbook.created_on.isoformat(),
        "revised_by": playbook.revised_by,
        "revised_at": playbook.modified_on.isoformat(),
    }


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "status": campaign.status,
        "status_reason": campaign.status_reason,
        "playbook_id": str(campaign.playbook_id),
        "playbook_version": campaign.playbook_version,
        "launch_date": campaign.launch_date.isoformat(),
        "mode": campaign.mode,
        "start_date": campaign.start_date.isoformat() if campaign.start_date else None,
        "team_id": campaign.team_id,
        "goal_ids": [str(goal_id) for goal_id in campaign.goal_ids],
        "routine_id": str(campaign.routine_id) if campaign.routine_id else None,
        "planned_by": campaign.planned_by,
        "version": campaign.version,
        "critical_path": campaign.critical_path,
        "unfit": [unfit.model_dump() for unfit in campaign.unfit],
        "tasks": [
            {**task.model_dump(mode="json"), "status": campaign.task_status[task.task_id],
             "current_assignee_id": campaign.holder_of(task.task_id).assignee_id,
             "current_queue": campaign.holder_of(task.task_id).queue}
            for task in campaign.tasks
        ],
    }


def goal_json(goal: Goal) -> dict[str, Any]:
    return {
        "id": str(goal.id),
        **goal.definition.model_dump(mode="json"),
        "defined_by": goal.defined_by,
        "measurements": [m.model_dump(mode="json") for m in
                         sorted(goal.measurements, key=lambda m: m.measured_on)],
        "attainment_percent": goal.attainment_percent,
    }


def routine_json(routine: Routine) -> dict[str, Any]:
    return {
        "id": str(routine.id),
        **routine.definition.model_dump(mode="json"),
        "active": routine.active,
        "defined_by": routine.defined_by,
        "planned": [{"occurrence": day.isoformat(), "campaign_id": str(campaign_id)}
                    for day, campaign_id in sorted(routine.planned.items())],
    }


def team_json(team: Team) -> dict[str, Any]:
    return {"team_id": team.team_id, **team.profile.model_dump(mode="json"),
            "version": team.version}


def member_json(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.member_id,
        **member.profile.model_dump(mode="json"),
        "absences": [absence.model_dump(mode="json") for absence in
                     sorted(member.absences.values(), key=lambda a: a.starts_on)],
        "version": member.version,
    }


def build_router(app: PlanningApplication, catalog: CatalogView, directory: DirectoryView,
                 calendar: CalendarView) -> APIRouter:
    router = APIRouter()

    # --- playbooks ---------------------------------------------------------------

    @router.post("/playbooks", status_code=status.HTTP_201_CREATED, tags=["playbooks"])
    def define_playbook(body: PlaybookSpec, member: Actor) -> dict[str, Any]:
        return playbook_json(app.define(body, attributed(member)))

    @router.post(
        "/playbooks/import", status_code=status.HTTP_201_CREATED, tags=["playbooks"],
        openapi_extra={"requestBody": {"required": True, "content": {
            YAML_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
    )
    async def import_playbook(
        request: Request, member: Actor,
        playbook_id: Annotated[UUID | None, Query(
            description="revise this playbook instead of defining a new one")] = None,
        expected_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """A playbook YAML file as the request body. Revising needs the version the
        file was based on: an import must not silently overwrite someone's revision."""
        if playbook_id is not None and expected_version is None:
            raise PreconditionRequired(
                "expected_version: give the version this file revises "
                "(?playbook_id=…&expected_version=N); see GET /playbooks/{id}")
        spec = playbook_from_yaml(await request.body())
        meta = attributed(member)
        if playbook_id is None:
            playbook = await run_in_threadpool(app.define, spec, meta)
        else:
            playbook = await run_in_threadpool(app.revise_playbook, playbook_id, spec, meta,
                                               expected_version)
        return playbook_json(playbook)

    @router.get("/playbooks", tags=["playbooks"])
    def list_playbooks(member: Actor, page: Paging, request: Request,
                       response: Response) -> list[dict[str, Any]]:
        return paged(catalog.playbooks(page), request, response)

    @router.get("/playbooks/{playbook_id}", tags=["playbooks"])
    def get_playbook(playbook_id: UUID, member: Actor,
                     version: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
        return playbook_json(app.playbook(playbook_id), version)

    @router.post("/playbooks/{playbook_id}/revisions", tags=["playbooks"])
    def revise_playbook(playbook_id: UUID, body: PlaybookSpec, member: Actor,
                        expected_version: Annotated[int | None, Query(ge=1)] = None,
                        ) -> dict[str, Any]:
        """A new version; campaigns keep the version they were planned with."""
        return playbook_json(app.revise_playbook(playbook_id, body, attributed(member),
                                                 expected_version))

    @router.get("/playbooks/{playbook_id}/export", tags=["playbooks"],
                response_class=Response,
                responses={200: {"content": {YAML_MEDIA_TYPE: {}}}})
    def export_playbook(playbook_id: UUID, member: Actor,
                        version: Annotated[int | None, Query(ge=1)] = None) -> Response:
        playbook = app.playbook(playbook_id)
        spec = playbook.spec_at(version or playbook.latest_version)
        return Response(playbook_to_yaml(spec), media_type=YAML_MEDIA_TYPE)

    @router.get("/playbooks/{playbook_id}/diff", tags=["playbooks"])
    def diff_playbook(
        playbook_id: UUID, member: Actor,
        from_version: Annotated[int, Query(alias="from", ge=1)],
        to_version: Annotated[int, Query(alias="to", ge=1)],
    ) -> dict[str, Any]:
        return app.playbook_diff(playbook_id, from_version, to_version).model_dump(mode="json")

    # --- campaigns -------------------------------------------------------------------

    @router.post("/campaigns", status_code=status.HTTP_201_CREATED, tags=["campaigns"])
    def plan_campaign(body: PlanCampaign, member: Actor) -> dict[str, Any]:
        campaign = app.plan_campaign(
            body.playbook_id, body.name, body.launch_date, body.assignments,
            attributed(member), playbook_version=body.playbook_version, team_id=body.team_id,
            queues=body.queues, mode=body.mode, start_date=body.start_date,
            goal_ids=body.goal_ids, not_before=body.not_before,
        )
        return campaign_json(campaign)

    @router.get("/campaigns", tags=["campaigns"])
    def list_campaigns(member: Actor, page: Paging, request: Request,
                       response: Response) -> list[dict[str, Any]]:
        return paged(catalog.campaigns(page), request, response)

    @router.get("/campaigns/{campaign_id}", tags=["campaigns"])
    def get_campaign(campaign_id: UUID, member: Actor) -> dict[str, Any]:
        return campaign_json(app.campaign(campaign_id))

    @router.post("/campaigns/{campaign_id}/reschedule", tags=["campaigns"])
    def reschedule(campaign_id: UUID, body: Reschedule, member: Actor) -> dict[str, Any]:
        """Move the launch: every task not yet done is rescheduled; done tasks stay."""
        return campaign_json(app.reschedule_campaign(
            campaign_id, body.launch_date, attributed(member), body.not_before))

    @router.post("/campaigns/{campaign_id}/migrate", tags=["campaigns"])
    def migrate(campaign_id: UUID, body: Migrate, member: Actor) -> dict[str, Any]:
        """Follow another playbook version: only tasks not started change."""
        return campaign_json(app.migrate_campaign(campaign_id, body.playbook_version,
                                                  attributed(member)))

    @router.post("/campaigns/{campaign_id}/cancel", tags=["campaigns"])
    def cancel(campaign_id: UUID, body: Cancel, member: Actor) -> dict[str, Any]:
        return campaign_json(app.cancel_campaign(campaign_id, body.reason,
                                                 attributed(member, body.reason)))

    @router.post("/campaigns/{campaign_id}/complete", tags=["campaigns"])
    def complete(campaign_id: UUID, member: Actor) -> dict[str, Any]:
        return campaign_json(app.complete_campaign(campaign_id, attributed(member)))

    @router.post("/campaigns/{campaign_id}/goals", tags=["campaigns"])
    def link_goals(campaign_id: UUID, body: LinkGoals, member: Actor) -> dict[str, Any]:
        return campaign_json(app.link_goals(campaign_id, body.goal_ids, attributed(member)))

    # --- the year calendar -------------------------------------------------------------

    @router.post("/routines", status_code=status.HTTP_201_CREATED, tags=["calendar"])
    def define_routine(body: RoutineDefinition, member: Actor) -> dict[str, Any]:
        """A recurring routine; campaigns within its horizon are planned right away."""
        routine, _ = app.define_routine(body, attributed(member))
        return routine_json(routine)

    @router.get("/routines", tags=["calendar"])
    def list_routines(member: Actor, page: Paging, request: Request,
                      response: Response) -> list[dict[str, Any]]:
        return paged(catalog.routines(page), request, response)

    @router.get("/routines/{routine_id}", tags=["calendar"])
    def get_routine(routine_id: UUID, member: Actor) -> dict[str, Any]:
        return routine_json(app.routine(routine_id))

    @router.post("/routines/{routine_id}/stop", tags=["calendar"])
    def stop_routine(routine_id: UUID, member: Actor) -> dict[str, Any]:
        return routine_json(app.stop_routine(routine_id, attributed(member)))

    @router.post("/routines/run", tags=["calendar"])
    def run_routines(member: Actor) -> dict[str, Any]:
        """Plan occurrences that entered their horizon (the service also does this
        hourly by itself); safe to call any time."""
        campaigns = app.run_routines(meta=attributed(member, "routines run on request"))
        return {"planned": [campaign_json(campaign) for campaign in campaigns]}

    @router.get("/calendar", tags=["calendar"])
    def calendar_query(
        member: Actor,
        first: Annotated[dt.date, Query(alias="from")],
        last: Annotated[dt.date, Query(alias="to")],
        team_id: Annotated[str | None, Query(max_length=64)] = None,
        goal_id: UUID | None = None,
        member_id: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        """Launches and tasks in a period, by team, goal and member."""
        if last < first:
            raise InvalidCommand("to: must be on or after from")
        if (last - first).days > MAX_CALENDAR_DAYS:
            raise InvalidCommand(f"to: ask for at most {MAX_CALENDAR_DAYS} days at a time")
        return calendar.entries(first, last, team_id=team_id, goal_id=goal_id,
                                member_id=member_id)

    @router.get("/calendar/teams/{team_id}.ics", tags=["calendar"], response_class=Response,
                responses={200: {"content": {ICS_MEDIA_TYPE: {}}}})
    def team_feed(team_id: TeamId, reader: FeedReader) -> Response:
        team = app.team(team_id)
        first, last = _feed_window()
        return _ics(f"{team.profile.name} (Marketflow)",
                    calendar.entries(first, last, team_id=team_id))

    @router.get("/calendar/members/{member_id}.ics", tags=["calendar"],
                response_class=Response, responses={200: {"content": {ICS_MEDIA_TYPE: {}}}})
    def member_feed(member_id: MemberId, reader: FeedReader) -> Response:
        app.member(member_id)  # 404 for someone the directory does not know
        first, last = _feed_window()
        return _ics(f"{member_id}'s tasks (Marketflow)",
                    calendar.entries(first, last, member_id=member_id))

    # --- goals and KPIs -----------------------------------------------------------------

    @router.post("/goals", status_code=status.HTTP_201_CREATED, tags=["goals"])
    def define_goal(body: GoalDefinition, member: Actor) -> dict[str, Any]:
        return goal_json(app.define_goal(body, attributed(member)))

    @router.get("/goals", tags=["goals"])
    def list_goals(member: Actor, page: Paging, request: Request,
                   response: Response) -> list[dict[str, Any]]:
        return paged(catalog.goals(page), request, response)

    @router.get("/goals/{goal_id}", tags=["goals"])
    def get_goal(goal_id: UUID, member: Actor) -> dict[str, Any]:
        return goal_json(app.goal(goal_id))

    @router.post("/goals/{goal_id}/measurements", status_code=status.HTTP_201_CREATED,
                 tags=["goals"])
    def record_measurement(goal_id: UUID, body: RecordMeasurement,
                           member: Actor) -> dict[str, Any]:
        measurement = Measurement(value=body.value, measured_on=body.measured_on,
                                  source="api", external_id=body.external_id)
        return goal_json(app.record_measurement(goal_id, measurement, attributed(member)))

    # --- team directory ------------------------------------------------------------

    @router.put("/teams/{team_id}", tags=["directory"])
    def register_team(team_id: TeamId, body: TeamProfile, member: Actor) -> dict[str, Any]:
        """Register a team, or change it (the body is its full new state)."""
        return team_json(app.register_team(team_id, body, attributed(member)))

    @router.get("/teams", tags=["directory"])
    def list_teams(member: Actor, page: Paging, request: Request,
                   response: Response) -> list[dict[str, Any]]:
        return paged(directory.teams(page), request, response)

    @router.get("/teams/{team_id}", tags=["directory"])
    def get_team(team_id: TeamId, member: Actor) -> dict[str, Any]:
        return {**team_json(app.team(team_id)), "members": directory.team_members(team_id)}

    @router.get("/teams/{team_id}/closed-days", tags=["directory"])
    def closed_days(
        team_id: TeamId, member: Actor,
        first: Annotated[dt.date, Query(alias="from")],
        last: Annotated[dt.date, Query(alias="to")],
    ) -> list[dict[str, str]]:
        """Days in the period nobody in the team works, and why (weekend, public
        holiday, team closed day): what the scheduler skips."""
        if last < first:
            raise InvalidCommand("to: must be on or after from")
        if (last - first).days > MAX_CALENDAR_DAYS:
            raise InvalidCommand(f"to: ask for at most {MAX_CALENDAR_DAYS} days at a time")
        working = app.team(team_id).calendar()
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        return [{"date": day.isoformat(), "reason": reason} for day in days
                if (reason := working.why_closed(day)) is not None]

    @router.put("/members/{member_id}", tags=["directory"])
    def register_member(member_id: MemberId, body: MemberProfile,
                        member: Actor) -> dict[str, Any]:
        """Register a member, or change them (the body is their full new state)."""
        return member_json(app.register_member(member_id, body, attributed(member)))

    @router.get("/members", tags=["directory"])
    def list_members(member: Actor, page: Paging, request: Request,
                     response: Response) -> list[dict[str, Any]]:
        return paged(directory.members(page), request, response)

    @router.get("/members/{member_id}", tags=["directory"])
    def get_member(member_id: MemberId, member: Actor) -> dict[str, Any]:
        return member_json(app.member(member_id))

    @router.post("/members/{member_id}/absences", status_code=status.HTTP_201_CREATED,
                 tags=["directory"])
    def record_absence(member_id: MemberId, body: RecordAbsence,
                       member: Actor) -> dict[str, Any]:
        absence = app.record_absence(member_id, body.starts_on, body.ends_on,
                                     body.backup_member_id, body.reason,
                                     attributed(member, body.reason),
                                     spread_by_capacity=body.spread_by_capacity)
        return {"member_id": member_id, **absence.model_dump(mode="json")}

    @router.delete("/members/{member_id}/absences/{absence_id}", tags=["directory"])
    def cancel_absence(member_id: MemberId, absence_id: UUID,
                       member: Actor) -> dict[str, Any]:
        return member_json(app.cancel_absence(member_id, absence_id, attributed(member)))

    return router


def _feed_window() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    return today - dt.timedelta(days=FEED_PAST_DAYS), today + dt.timedelta(days=FEED_FUTURE_DAYS)


def _ics(title: str, entries: list[dict[str, Any]]) -> Response:
    return Response(ics_feed(title, entries), media_type=f"{ICS_MEDIA_TYPE}; charset=utf-8")
