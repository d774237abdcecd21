"""Planning's HTTP API: translates requests into use cases, nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Literal, Self, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from fastapi import (
    APIRouter,
    Depends,
    Header,
    Path,
    Query,
    Request,
    Response,
    status,
)
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from starlette.concurrency import run_in_threadpool

from services.planning import commands
from services.planning.application import PlanningApplication
from services.planning.calendar_feed import feed_etag, ics_feed, none_match
from services.planning.domain import (
    Campaign,
    GoalDefinition,
    Measurement,
    MemberProfile,
    PlaybookSpec,
    RoutineDefinition,
    TeamProfile,
)
from services.planning.domain.credentials import CalendarFeed, FeedTarget
from services.planning.domain.team import ID_PATTERN, Day
from services.planning.domain.text import FIRST_DATE, LAST_DATE
from services.planning.playbook_files import playbook_from_yaml, playbook_to_yaml
from services.planning.representations import (
    AbsenceOut,
    ApiTokenOut,
    CalendarEntry,
    CalendarFeedAddress,
    CalendarFeedOut,
    CampaignOut,
    CampaignSummary,
    ClosedDay,
    GoalOut,
    GoalSummary,
    IssuedApiToken,
    MemberOut,
    MemberSummary,
    PlaybookDiffOut,
    PlaybookOut,
    PlaybookSummary,
    RoutineOut,
    RoutinesRun,
    RoutineSummary,
    Row,
    TeamDetail,
    TeamOut,
    TeamSummary,
)
from services.planning.views import CalendarView, CatalogView, DirectoryView
from shared.auth import current_caller, unauthorized
from shared.domain import InvalidCommand, NotFound, PreconditionRequired
from shared.http_conventions import IfMatch, created, etag, if_match_version, precondition, set_etag
from shared.http_conventions import expected_version as version_acted_on
from shared.paging import Paging, page_in_memory, paged
from shared.policy import Caller, action

Actor = Annotated[Caller, Depends(current_caller)]
TeamId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
# Role, member and queue names in request bodies; bounded like the directory's ids.
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_ROLES = 100
# A date in a command: written as a date, within what plans support.
PlanDate = Annotated[Day, Field(ge=FIRST_DATE, le=LAST_DATE)]
MAX_GOALS = 50
YAML_MEDIA_TYPE = "application/yaml"
# A playbook file holds a playbook spec, written in YAML rather than JSON: its schema is
# the spec's, so that what a client parses (and a fuzzer sends) is described, not "a string".
PLAYBOOK_FILE_SCHEMA = {"$ref": "#/components/schemas/PlaybookSpec"}
ICS_MEDIA_TYPE = "text/calendar"
MAX_CALENDAR_DAYS = 800
FEED_PAST_DAYS = 365
FEED_FUTURE_DAYS = 2 * 365
# The calendar query's order: what its cursors hold.
CALENDAR_ORDER = ("start_date", "due_date", "uid")
C = TypeVar("C")
IfNoneMatch = Annotated[str | None, Header(
    description="the feed's ETag from an earlier answer: 304 while it is unchanged")]




class IssueApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    principal_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN,
                              description="the member it acts as, or a service account's "
                                          "name (e.g. crm-sync)")
    label: str = Field(min_length=1, max_length=200, description="what it is for")
    service_account: StrictBool = False
    roles: list[Literal["integration", "auditor"]] = Field(
        default_factory=list, max_length=2,
        description="a service account's roles (a member's token has the member's)")
    expires_at: dt.datetime | None = Field(default=None,
                                           description="at most a year ahead; with offset")

    def command(self) -> commands.IssueApiToken:
        return commands.IssueApiToken(
            principal_id=self.principal_id, label=self.label,
            service_account=self.service_account, roles=tuple(self.roles),
            expires_at=self.expires_at)


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

    def command(self) -> commands.PlanCampaign:
        return commands.PlanCampaign(
            playbook_id=self.playbook_id, name=self.name, launch_date=self.launch_date,
            start_date=self.start_date, assignments=self.assignments, queues=self.queues,
            playbook_version=self.playbook_version, team_id=self.team_id,
            goal_ids=self.goal_ids, not_before=self.not_before)


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


def build_router(app: PlanningApplication, catalog: CatalogView, directory: DirectoryView,
                 calendar: CalendarView) -> APIRouter:
    router = APIRouter()

    # --- playbooks ---------------------------------------------------------------

    @router.post("/playbooks",
                 openapi_extra=action("playbook.define"),
                 status_code=status.HTTP_201_CREATED, tags=["playbooks"])
    def define_playbook(body: PlaybookSpec, member: Actor, response: Response) -> PlaybookOut:
        playbook = app.define(body, member)
        created(response, f"/playbooks/{playbook.id}")
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook)

    @router.post(
        "/playbooks/import", status_code=status.HTTP_201_CREATED, tags=["playbooks"],
        openapi_extra={**action("playbook.define"), "requestBody": {"required": True, "content": {
            YAML_MEDIA_TYPE: {"schema": PLAYBOOK_FILE_SCHEMA}}}},
    )
    async def import_playbook(
        request: Request, response: Response, member: Actor,
        playbook_id: Annotated[UUID | None, Query(
            description="revise this playbook instead of defining a new one")] = None,
        expected_version: Annotated[int | None, Query(
            ge=1, description="the version this file revises (or If-Match)")] = None,
        if_match: IfMatch = None,
    ) -> PlaybookOut:
        """A playbook YAML file as the request body. Revising needs the version the
        file was based on: an import must not silently overwrite someone's revision."""
        version = version_acted_on(if_match, expected_version)
        if playbook_id is not None and version is None:
            raise PreconditionRequired(
                "expected_version: give the version this file revises (If-Match: \"N\", "
                "or ?playbook_id=…&expected_version=N); see GET /playbooks/{id}")
        spec = playbook_from_yaml(await request.body())
        meta = member
        if playbook_id is None:
            playbook = await run_in_threadpool(app.define, spec, meta)
        else:
            command = commands.RevisePlaybook(playbook_id, spec, version)
            with precondition(if_match):
                playbook = await run_in_threadpool(app.revise_playbook, command, meta)
        created(response, f"/playbooks/{playbook.id}")
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook)

    @router.get("/playbooks", openapi_extra=action("playbook.read"), tags=["playbooks"])
    def list_playbooks(member: Actor, page: Paging, request: Request,
                       response: Response) -> list[PlaybookSummary]:
        return [PlaybookSummary.of(row)
                for row in paged(app.playbooks(member, page), request, response)]

    @router.get("/playbooks/{playbook_id}",
                openapi_extra=action("playbook.read"), tags=["playbooks"])
    def get_playbook(playbook_id: UUID, member: Actor, response: Response,
                     version: Annotated[int | None, Query(ge=1)] = None) -> PlaybookOut:
        playbook = app.read_playbook(playbook_id, member)
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook, version)

    @router.post("/playbooks/{playbook_id}/revisions",
                 openapi_extra=action("playbook.revise"), tags=["playbooks"])
    def revise_playbook(playbook_id: UUID, body: PlaybookSpec, member: Actor,
                        response: Response, if_match: IfMatch = None,
                        expected_version: Annotated[int | None, Query(ge=1)] = None,
                        ) -> PlaybookOut:
        """A new version; campaigns keep the version they were planned with."""
        command = commands.RevisePlaybook(playbook_id, body,
                                          version_acted_on(if_match, expected_version))
        with precondition(if_match):
            playbook = app.revise_playbook(command, member)
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook)

    @router.get("/playbooks/{playbook_id}/export",
                openapi_extra=action("playbook.read"), tags=["playbooks"],
                response_class=Response,
                responses={200: {"content": {YAML_MEDIA_TYPE: {"schema": PLAYBOOK_FILE_SCHEMA}},
                                 "description": "the playbook as a YAML file"}})
    def export_playbook(playbook_id: UUID, member: Actor,
                        version: Annotated[int | None, Query(ge=1)] = None) -> Response:
        playbook = app.read_playbook(playbook_id, member)
        spec = playbook.spec_at(version or playbook.latest_version)
        return Response(playbook_to_yaml(spec), media_type=YAML_MEDIA_TYPE,
                        headers={"ETag": etag(playbook.version)})

    @router.get("/playbooks/{playbook_id}/diff",
                openapi_extra=action("playbook.read"), tags=["playbooks"])
    def diff_playbook(
        playbook_id: UUID, member: Actor,
        from_version: Annotated[int, Query(alias="from", ge=1)],
        to_version: Annotated[int, Query(alias="to", ge=1)],
    ) -> PlaybookDiffOut:
        return PlaybookDiffOut.of(app.playbook_diff(playbook_id, from_version, to_version, member))

    # --- campaigns -------------------------------------------------------------------

    @router.post("/campaigns",
                 openapi_extra=action("campaign.plan"),
                 status_code=status.HTTP_201_CREATED, tags=["campaigns"])
    def plan_campaign(body: PlanCampaign, member: Actor, response: Response) -> CampaignOut:
        campaign = app.plan_campaign(body.command(), member)
        created(response, f"/campaigns/{campaign.id}")
        set_etag(response, campaign.version)
        return CampaignOut.of(campaign)

    @router.get("/campaigns", openapi_extra=action("campaign.read"), tags=["campaigns"])
    def list_campaigns(member: Actor, page: Paging, request: Request,
                       response: Response) -> list[CampaignSummary]:
        return [CampaignSummary.of(row)
                for row in paged(app.campaigns(member, page), request, response)]

    @router.get("/campaigns/{campaign_id}",
                openapi_extra=action("campaign.read"), tags=["campaigns"])
    def get_campaign(campaign_id: UUID, member: Actor, response: Response) -> CampaignOut:
        campaign = app.read_campaign(campaign_id, member)
        set_etag(response, campaign.version)
        return CampaignOut.of(campaign)

    def campaign_command(use_case: Callable[[C, Caller], Campaign], command: C,
                         caller: Caller, if_match: str | None,
                         response: Response) -> CampaignOut:
        """A command on a campaign version: 412 when If-Match named a stale one."""
        with precondition(if_match):
            campaign = use_case(command, caller)
        set_etag(response, campaign.version)
        return CampaignOut.of(campaign)

    @router.post("/campaigns/{campaign_id}/reschedule",
                 openapi_extra=action("campaign.change"), tags=["campaigns"])
    def reschedule(campaign_id: UUID, body: Reschedule, member: Actor, response: Response,
                   if_match: IfMatch = None) -> CampaignOut:
        """Move the launch: every task not yet done is rescheduled; done tasks stay."""
        command = commands.RescheduleCampaign(campaign_id, body.launch_date, body.not_before,
                                              if_match_version(if_match))
        return campaign_command(app.reschedule_campaign, command, member,
                                if_match, response)

    @router.post("/campaigns/{campaign_id}/migrate",
                 openapi_extra=action("campaign.change"), tags=["campaigns"])
    def migrate(campaign_id: UUID, body: Migrate, member: Actor, response: Response,
                if_match: IfMatch = None) -> CampaignOut:
        """Follow another playbook version: only tasks not started change."""
        command = commands.MigrateCampaign(campaign_id, body.playbook_version,
                                           if_match_version(if_match))
        return campaign_command(app.migrate_campaign, command, member,
                                if_match, response)

    @router.post("/campaigns/{campaign_id}/cancel",
                 openapi_extra=action("campaign.change"), tags=["campaigns"])
    def cancel(campaign_id: UUID, body: Cancel, member: Actor, response: Response,
               if_match: IfMatch = None) -> CampaignOut:
        command = commands.CancelCampaign(campaign_id, body.reason,
                                          if_match_version(if_match))
        return campaign_command(app.cancel_campaign, command,
                                member, if_match, response)

    @router.post("/campaigns/{campaign_id}/complete",
                 openapi_extra=action("campaign.change"), tags=["campaigns"])
    def complete(campaign_id: UUID, member: Actor, response: Response,
                 if_match: IfMatch = None) -> CampaignOut:
        command = commands.CompleteCampaign(campaign_id, if_match_version(if_match))
        return campaign_command(app.complete_campaign, command, member,
                                if_match, response)

    @router.post("/campaigns/{campaign_id}/goals",
                 openapi_extra=action("campaign.change"), tags=["campaigns"])
    def link_goals(campaign_id: UUID, body: LinkGoals, member: Actor, response: Response,
                   if_match: IfMatch = None) -> CampaignOut:
        command = commands.LinkGoals(campaign_id, body.goal_ids,
                                     if_match_version(if_match))
        return campaign_command(app.link_goals, command, member,
                                if_match, response)

    # --- the year calendar -------------------------------------------------------------

    @router.post("/routines",
                 openapi_extra=action("routine.define"),
                 status_code=status.HTTP_201_CREATED, tags=["calendar"])
    def define_routine(body: RoutineDefinition, member: Actor,
                       response: Response) -> RoutineOut:
        """A recurring routine; campaigns within its horizon are planned right away."""
        routine, _ = app.define_routine(body, member)
        created(response, f"/routines/{routine.id}")
        set_etag(response, routine.version)
        return RoutineOut.of(routine)

    @router.get("/routines", openapi_extra=action("routine.read"), tags=["calendar"])
    def list_routines(member: Actor, page: Paging, request: Request,
                      response: Response) -> list[RoutineSummary]:
        return [RoutineSummary.of(row)
                for row in paged(app.routines(member, page), request, response)]

    @router.get("/routines/{routine_id}", openapi_extra=action("routine.read"), tags=["calendar"])
    def get_routine(routine_id: UUID, member: Actor, response: Response) -> RoutineOut:
        routine = app.read_routine(routine_id, member)
        set_etag(response, routine.version)
        return RoutineOut.of(routine)

    @router.post("/routines/{routine_id}/stop",
                 openapi_extra=action("routine.define"), tags=["calendar"])
    def stop_routine(routine_id: UUID, member: Actor, response: Response,
                     if_match: IfMatch = None) -> RoutineOut:
        command = commands.StopRoutine(routine_id, if_match_version(if_match))
        with precondition(if_match):
            routine = app.stop_routine(command, member)
        set_etag(response, routine.version)
        return RoutineOut.of(routine)

    @router.post("/routines/run", openapi_extra=action("routine.run"), tags=["calendar"])
    def run_routines(member: Actor) -> RoutinesRun:
        """Plan occurrences that entered their horizon (the service also does this
        hourly by itself); safe to call any time."""
        return RoutinesRun.of(
            app.run_routines(caller=member))

    @router.get("/calendar", openapi_extra=action("calendar.read"), tags=["calendar"])
    def calendar_query(
        member: Actor, page: Paging, request: Request, response: Response,
        first: Annotated[dt.date, Query(alias="from")],
        last: Annotated[dt.date, Query(alias="to")],
        team_id: Annotated[str | None, Query(max_length=64)] = None,
        goal_id: UUID | None = None,
        member_id: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[CalendarEntry]:
        """Launches and tasks in a period, by team, goal and member."""
        check_period(first, last)
        entries = app.calendar_entries(member, first, last, team_id=team_id, goal_id=goal_id,
                                       member_id=member_id)
        return [CalendarEntry.of(row) for row in paged(
            page_in_memory(entries, CALENDAR_ORDER, page), request, response)]

    for path, feed, label in (
            ("/calendar/teams/{team_id}.ics", team_feed_of, "team"),
            ("/calendar/members/{member_id}.ics", member_feed_of, "member")):
        # GET and HEAD as two operations: one operation id each in the OpenAPI document.
        for method in ("GET", "HEAD"):
            router.add_api_route(
                path, feed(app), methods=[method], tags=["calendar"],
                openapi_extra=action("calendar.feed"),
                response_class=Response, name=f"{label}_feed_{method.lower()}",
                summary=f"{label.title()} feed (iCalendar)"
                        + (", headers only" if method == "HEAD" else ""),
                responses={
                    200: {"description": "the feed (RFC 5545); its ETag changes with its "
                                         "content",
                          "content": {ICS_MEDIA_TYPE: {"schema": {"type": "string"}}}},
                    304: {"description": "unchanged since the ETag given in If-None-Match"},
                })

    # --- goals and KPIs -----------------------------------------------------------------

    @router.post("/goals",
                 openapi_extra=action("goal.define"),
                 status_code=status.HTTP_201_CREATED, tags=["goals"])
    def define_goal(body: GoalDefinition, member: Actor, response: Response) -> GoalOut:
        goal = app.define_goal(body, member)
        created(response, f"/goals/{goal.id}")
        set_etag(response, goal.version)
        return GoalOut.of(goal)

    @router.get("/goals", openapi_extra=action("goal.read"), tags=["goals"])
    def list_goals(member: Actor, page: Paging, request: Request,
                   response: Response) -> list[GoalSummary]:
        return [GoalSummary.of(row) for row in paged(app.goals(member, page), request, response)]

    @router.get("/goals/{goal_id}", openapi_extra=action("goal.read"), tags=["goals"])
    def get_goal(goal_id: UUID, member: Actor, response: Response) -> GoalOut:
        goal = app.read_goal(goal_id, member)
        set_etag(response, goal.version)
        return GoalOut.of(goal)

    @router.post("/goals/{goal_id}/measurements",
                 openapi_extra=action("goal.measure"), status_code=status.HTTP_201_CREATED,
                 tags=["goals"])
    def record_measurement(goal_id: UUID, body: RecordMeasurement, member: Actor,
                           response: Response, if_match: IfMatch = None) -> GoalOut:
        """The goal with the new measurement (which has no address of its own: the
        ``Location`` is the goal's)."""
        measurement = Measurement(value=body.value, measured_on=body.measured_on,
                                  source="api", external_id=body.external_id)
        command = commands.RecordMeasurement(goal_id, measurement,
                                             if_match_version(if_match))
        with precondition(if_match):
            goal = app.record_measurement(command, member)
        created(response, f"/goals/{goal.id}")
        set_etag(response, goal.version)
        return GoalOut.of(goal)

    # --- team directory ------------------------------------------------------------

    @router.put("/teams/{team_id}", openapi_extra=action("team.register"), tags=["directory"])
    def register_team(team_id: TeamId, body: TeamProfile, member: Actor, response: Response,
                      if_match: IfMatch = None) -> TeamOut:
        """Register a team, or change it (the body is its full new state)."""
        command = commands.RegisterTeam(team_id, body, if_match_version(if_match))
        with precondition(if_match):
            team = app.register_team(command, member)
        set_etag(response, team.version)
        return TeamOut.of_team(team)

    @router.get("/teams", openapi_extra=action("team.read"), tags=["directory"])
    def list_teams(member: Actor, page: Paging, request: Request,
                   response: Response) -> list[TeamSummary]:
        return [TeamSummary.of(row) for row in paged(app.teams(member, page), request, response)]

    @router.get("/teams/{team_id}", openapi_extra=action("team.read"), tags=["directory"])
    def get_team(team_id: TeamId, member: Actor, response: Response) -> TeamDetail:
        team = app.read_team(team_id, member)
        set_etag(response, team.version)
        return TeamDetail.of_team_with(team, [app.without_reasons(row, member) for row in
                                              directory.team_members(team_id)])

    @router.get("/teams/{team_id}/closed-days",
                openapi_extra=action("team.read"), tags=["directory"])
    def closed_days(
        team_id: TeamId, member: Actor, page: Paging, request: Request, response: Response,
        first: Annotated[dt.date, Query(alias="from")],
        last: Annotated[dt.date, Query(alias="to")],
    ) -> list[ClosedDay]:
        """Days in the period nobody in the team works, and why (weekend, public
        holiday, team closed day): what the scheduler skips."""
        check_period(first, last)
        working = app.read_team(team_id, member).calendar()
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        rows = [{"date": day.isoformat(), "reason": reason} for day in days
                if (reason := working.why_closed(day)) is not None]
        return [ClosedDay.model_validate(row) for row in paged(
            page_in_memory(rows, ("date",), page), request, response)]

    @router.put("/members/{member_id}", openapi_extra=action("member.register"), tags=["directory"])
    def register_member(member_id: MemberId, body: MemberProfile, member: Actor,
                        response: Response, if_match: IfMatch = None) -> MemberOut:
        """Register a member, or change them (the body is their full new state)."""
        command = commands.RegisterMember(member_id, body, if_match_version(if_match))
        with precondition(if_match):
            registered = app.register_member(command, member)
        set_etag(response, registered.version)
        return MemberOut.of_member(registered)

    @router.get("/members", openapi_extra=action("member.read"), tags=["directory"])
    def list_members(member: Actor, page: Paging, request: Request,
                     response: Response) -> list[MemberSummary]:
        return [MemberSummary.of(row)
                for row in paged(app.members(member, page), request, response)]

    @router.get("/members/{member_id}", openapi_extra=action("member.read"), tags=["directory"])
    def get_member(member_id: MemberId, member: Actor, response: Response) -> MemberOut:
        found, reasons = app.read_member(member_id, member)
        set_etag(response, found.version)
        return MemberOut.of_member(found, reasons=reasons)

    @router.post("/members/{member_id}/absences",
                 openapi_extra=action("absence.record"), status_code=status.HTTP_201_CREATED,
                 tags=["directory"])
    def record_absence(member_id: MemberId, body: RecordAbsence, member: Actor,
                       response: Response, if_match: IfMatch = None) -> AbsenceOut:
        command = commands.RecordAbsence(
            member_id, body.starts_on, body.ends_on, body.backup_member_id, body.reason,
            body.spread_by_capacity, if_match_version(if_match))
        with precondition(if_match):
            absence = app.record_absence(command, member)
        created(response, f"/members/{member_id}/absences/{absence.absence_id}")
        return AbsenceOut.of_absence(member_id, absence)

    @router.get("/members/{member_id}/absences/{absence_id}",
                openapi_extra=action("member.read"), tags=["directory"])
    def get_absence(member_id: MemberId, absence_id: UUID, member: Actor,
                    response: Response) -> AbsenceOut:
        """One absence (what ``Location`` names after recording it); the ETag is the
        member's version, which ``If-Match`` on cancelling it takes."""
        found, reasons = app.read_member(member_id, member)
        if absence_id not in found.absences:
            raise NotFound(f"absence {absence_id} of member '{member_id}' not found")
        set_etag(response, found.version)
        return AbsenceOut.of_absence(member_id, found.absences[absence_id], reasons=reasons)

    @router.delete("/members/{member_id}/absences/{absence_id}",
                   openapi_extra=action("absence.record"), tags=["directory"])
    def cancel_absence(member_id: MemberId, absence_id: UUID, member: Actor,
                       response: Response, if_match: IfMatch = None) -> MemberOut:
        command = commands.CancelAbsence(member_id, absence_id, if_match_version(if_match))
        with precondition(if_match):
            changed = app.cancel_absence(command, member)
        set_etag(response, changed.version)
        return MemberOut.of_member(changed, reasons=app.read_member(member_id, member)[1])

    # --- calendar feed addresses ------------------------------------------------------

    def feed_address(request: Request, feed: CalendarFeed, secret: str) -> CalendarFeedAddress:
        url = str(request.base_url).rstrip("/") + feed.target.path + "?" + urlencode(
            {"key": secret})
        return CalendarFeedAddress(feed_id=feed.id, member_id=feed.member_id,
                                   path=feed.target.path, url=url)

    @router.post("/members/{member_id}/calendar-feeds", status_code=status.HTTP_201_CREATED,
                 tags=["calendar"], openapi_extra=action("calendar_feed.manage"))
    def create_calendar_feed(member_id: MemberId, body: FeedTarget, member: Actor,
                             request: Request, response: Response) -> CalendarFeedAddress:
        """A secret address of one feed for a calendar client: it opens that feed only
        (never the API), while its owner may read the feed; rotate or revoke it any time."""
        feed, secret = app.create_feed(member_id, body, member)
        created(response, f"/members/{member_id}/calendar-feeds/{feed.id}")
        return feed_address(request, feed, secret)

    @router.get("/members/{member_id}/calendar-feeds", tags=["calendar"],
                openapi_extra=action("calendar_feed.manage"))
    def list_calendar_feeds(member_id: MemberId, member: Actor) -> list[CalendarFeedOut]:
        """The member's feed addresses (their secrets are never shown again)."""
        return [CalendarFeedOut.of(row) for row in app.feeds(member_id, member)]

    @router.post("/members/{member_id}/calendar-feeds/{feed_id}/rotate", tags=["calendar"],
                 openapi_extra=action("calendar_feed.manage"))
    def rotate_calendar_feed(member_id: MemberId, feed_id: UUID, member: Actor,
                             request: Request) -> CalendarFeedAddress:
        """A new secret for the feed; the old address stops working at once."""
        feed, secret = app.rotate_feed(member_id, feed_id, member)
        return feed_address(request, feed, secret)

    @router.delete("/members/{member_id}/calendar-feeds/{feed_id}", tags=["calendar"],
                   openapi_extra=action("calendar_feed.manage"))
    def revoke_calendar_feed(member_id: MemberId, feed_id: UUID,
                             member: Actor) -> CalendarFeedOut:
        """The address stops working at once."""
        feed = app.revoke_feed(member_id, feed_id, member)
        return CalendarFeedOut(feed_id=feed.id, member_id=feed.member_id,
                               path=feed.target.path, created_at=feed.created_on,
                               revoked=feed.revoked)

    # --- API tokens ------------------------------------------------------------------

    @router.post("/api-tokens", status_code=status.HTTP_201_CREATED, tags=["access"],
                 openapi_extra=action("api_token.issue"))
    def issue_api_token(body: IssueApiToken, member: Actor,
                        response: Response) -> IssuedApiToken:
        """A token for a script or another system, acting as a member or as a service
        account; its secret is in this answer only (stored as a hash). Every service
        accepts it within seconds, and refuses it as soon as it is revoked or expires."""
        token, secret = app.issue_token(body.command(), member)
        created(response, f"/api-tokens/{token.id}")
        return IssuedApiToken(**ApiTokenOut.of_token(token).model_dump(), token=secret)

    @router.get("/api-tokens", tags=["access"], openapi_extra=action("api_token.read"))
    def list_api_tokens(member: Actor, page: Paging, request: Request,
                        response: Response) -> list[ApiTokenOut]:
        return [ApiTokenOut.of(row) for row in paged(app.tokens(member, page), request,
                                                     response)]

    @router.delete("/api-tokens/{token_id}", tags=["access"],
                   openapi_extra=action("api_token.revoke"))
    def revoke_api_token(token_id: UUID, member: Actor) -> ApiTokenOut:
        """Every service refuses the token as soon as this reaches it (seconds)."""
        return ApiTokenOut.of_token(app.revoke_token(token_id, member))

    return router


def check_period(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise InvalidCommand("to: must be on or after from")
    if (last - first).days > MAX_CALENDAR_DAYS:
        raise InvalidCommand(f"to: ask for at most {MAX_CALENDAR_DAYS} days at a time")


FeedKey = Annotated[str | None, Query(
    min_length=1, max_length=200,
    description="the feed's secret address key (POST /members/{id}/calendar-feeds), for "
                "calendar clients that cannot send an Authorization header; it opens this "
                "feed only")]


def feed_reader(request: Request, app: PlanningApplication, target: FeedTarget,
                key: str | None) -> Caller:
    """The caller behind a bearer token, or the owner of the feed's secret address."""
    if key is None:
        return current_caller(request)
    try:
        return app.feed_reader(key, target.path)
    except NotFound as unknown:
        raise unauthorized(str(unknown)) from None


def team_feed_of(app: PlanningApplication) -> Callable[..., Response]:
    def team_feed(team_id: TeamId, request: Request, key: FeedKey = None,
                  if_none_match: IfNoneMatch = None) -> Response:
        """The team's launches and tasks, a year back and two ahead."""
        target = FeedTarget(kind="team", id=team_id)
        first, last = _feed_window()
        title, entries = app.feed_entries(target, feed_reader(request, app, target, key),
                                          first, last)
        return _ics(title, entries, if_none_match)
    return team_feed


def member_feed_of(app: PlanningApplication) -> Callable[..., Response]:
    def member_feed(member_id: MemberId, request: Request, key: FeedKey = None,
                    if_none_match: IfNoneMatch = None) -> Response:
        """The member's tasks, a year back and two ahead."""
        target = FeedTarget(kind="member", id=member_id)
        first, last = _feed_window()
        title, entries = app.feed_entries(target, feed_reader(request, app, target, key),
                                          first, last)
        return _ics(title, entries, if_none_match)
    return member_feed


def _feed_window() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    return today - dt.timedelta(days=FEED_PAST_DAYS), today + dt.timedelta(days=FEED_FUTURE_DAYS)


def _ics(title: str, entries: Sequence[Row], if_none_match: str | None) -> Response:
    """The feed, or a 304 when the client's copy (If-None-Match) is still the feed:
    calendar clients poll, and most polls find nothing new. HEAD gets the same headers
    (the server leaves the body out)."""
    feed = ics_feed(title, entries)
    tag = feed_etag(feed)
    if none_match(if_none_match, tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
    return Response(feed, media_type=f"{ICS_MEDIA_TYPE}; charset=utf-8",
                    headers={"ETag": tag})
