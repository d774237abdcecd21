"""Planning's HTTP API: translates requests into use cases, nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Self, TypeVar
from uuid import UUID

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
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
from services.planning.domain.team import ID_PATTERN, Day
from services.planning.domain.text import FIRST_DATE, LAST_DATE
from services.planning.playbook_files import playbook_from_yaml, playbook_to_yaml
from services.planning.representations import (
    AbsenceOut,
    CalendarEntry,
    CampaignOut,
    CampaignSummary,
    ClosedDay,
    GoalOut,
    GoalSummary,
    MemberOut,
    MemberSummary,
    PlaybookDiffOut,
    PlaybookOut,
    PlaybookSummary,
    RoutineOut,
    RoutinesRun,
    RoutineSummary,
    TeamDetail,
    TeamOut,
    TeamSummary,
)
from services.planning.views import CalendarView, CatalogView, DirectoryView
from shared.auth import Member as AuthenticatedMember
from shared.auth import current_member
from shared.domain import EventMeta, InvalidCommand, NotFound, PreconditionRequired
from shared.http_conventions import IfMatch, created, etag, if_match_version, precondition, set_etag
from shared.http_conventions import expected_version as version_acted_on
from shared.paging import Paging, page_in_memory, paged

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
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the feed (RFC 5545); its ETag changes with its content",
          "content": {ICS_MEDIA_TYPE: {"schema": {"type": "string"}}}},
    304: {"description": "unchanged since the ETag given in If-None-Match"},
}


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

    @router.post("/playbooks", status_code=status.HTTP_201_CREATED, tags=["playbooks"])
    def define_playbook(body: PlaybookSpec, member: Actor, response: Response) -> PlaybookOut:
        playbook = app.define(body, attributed(member))
        created(response, f"/playbooks/{playbook.id}")
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook)

    @router.post(
        "/playbooks/import", status_code=status.HTTP_201_CREATED, tags=["playbooks"],
        openapi_extra={"requestBody": {"required": True, "content": {
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
        meta = attributed(member)
        if playbook_id is None:
            playbook = await run_in_threadpool(app.define, spec, meta)
        else:
            command = commands.RevisePlaybook(playbook_id, spec, version)
            with precondition(if_match):
                playbook = await run_in_threadpool(app.revise_playbook, command, meta)
        created(response, f"/playbooks/{playbook.id}")
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook)

    @router.get("/playbooks", tags=["playbooks"])
    def list_playbooks(member: Actor, page: Paging, request: Request,
                       response: Response) -> list[PlaybookSummary]:
        return [PlaybookSummary.of(row)
                for row in paged(catalog.playbooks(page), request, response)]

    @router.get("/playbooks/{playbook_id}", tags=["playbooks"])
    def get_playbook(playbook_id: UUID, member: Actor, response: Response,
                     version: Annotated[int | None, Query(ge=1)] = None) -> PlaybookOut:
        playbook = app.playbook(playbook_id)
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook, version)

    @router.post("/playbooks/{playbook_id}/revisions", tags=["playbooks"])
    def revise_playbook(playbook_id: UUID, body: PlaybookSpec, member: Actor,
                        response: Response, if_match: IfMatch = None,
                        expected_version: Annotated[int | None, Query(ge=1)] = None,
                        ) -> PlaybookOut:
        """A new version; campaigns keep the version they were planned with."""
        command = commands.RevisePlaybook(playbook_id, body,
                                          version_acted_on(if_match, expected_version))
        with precondition(if_match):
            playbook = app.revise_playbook(command, attributed(member))
        set_etag(response, playbook.version)
        return PlaybookOut.of(playbook)

    @router.get("/playbooks/{playbook_id}/export", tags=["playbooks"],
                response_class=Response,
                responses={200: {"content": {YAML_MEDIA_TYPE: {"schema": PLAYBOOK_FILE_SCHEMA}},
                                 "description": "the playbook as a YAML file"}})
    def export_playbook(playbook_id: UUID, member: Actor,
                        version: Annotated[int | None, Query(ge=1)] = None) -> Response:
        playbook = app.playbook(playbook_id)
        spec = playbook.spec_at(version or playbook.latest_version)
        return Response(playbook_to_yaml(spec), media_type=YAML_MEDIA_TYPE,
                        headers={"ETag": etag(playbook.version)})

    @router.get("/playbooks/{playbook_id}/diff", tags=["playbooks"])
    def diff_playbook(
        playbook_id: UUID, member: Actor,
        from_version: Annotated[int, Query(alias="from", ge=1)],
        to_version: Annotated[int, Query(alias="to", ge=1)],
    ) -> PlaybookDiffOut:
        return PlaybookDiffOut.of(app.playbook_diff(playbook_id, from_version, to_version))

    # --- campaigns -------------------------------------------------------------------

    @router.post("/campaigns", status_code=status.HTTP_201_CREATED, tags=["campaigns"])
    def plan_campaign(body: PlanCampaign, member: Actor, response: Response) -> CampaignOut:
        campaign = app.plan_campaign(body.command(), attributed(member))
        created(response, f"/campaigns/{campaign.id}")
        set_etag(response, campaign.version)
        return CampaignOut.of(campaign)

    @router.get("/campaigns", tags=["campaigns"])
    def list_campaigns(member: Actor, page: Paging, request: Request,
                       response: Response) -> list[CampaignSummary]:
        return [CampaignSummary.of(row)
                for row in paged(catalog.campaigns(page), request, response)]

    @router.get("/campaigns/{campaign_id}", tags=["campaigns"])
    def get_campaign(campaign_id: UUID, member: Actor, response: Response) -> CampaignOut:
        campaign = app.campaign(campaign_id)
        set_etag(response, campaign.version)
        return CampaignOut.of(campaign)

    def campaign_command(use_case: Callable[[C, EventMeta], Campaign], command: C,
                         meta: EventMeta, if_match: str | None,
                         response: Response) -> CampaignOut:
        """A command on a campaign version: 412 when If-Match named a stale one."""
        with precondition(if_match):
            campaign = use_case(command, meta)
        set_etag(response, campaign.version)
        return CampaignOut.of(campaign)

    @router.post("/campaigns/{campaign_id}/reschedule", tags=["campaigns"])
    def reschedule(campaign_id: UUID, body: Reschedule, member: Actor, response: Response,
                   if_match: IfMatch = None) -> CampaignOut:
        """Move the launch: every task not yet done is rescheduled; done tasks stay."""
        command = commands.RescheduleCampaign(campaign_id, body.launch_date, body.not_before,
                                              if_match_version(if_match))
        return campaign_command(app.reschedule_campaign, command, attributed(member),
                                if_match, response)

    @router.post("/campaigns/{campaign_id}/migrate", tags=["campaigns"])
    def migrate(campaign_id: UUID, body: Migrate, member: Actor, response: Response,
                if_match: IfMatch = None) -> CampaignOut:
        """Follow another playbook version: only tasks not started change."""
        command = commands.MigrateCampaign(campaign_id, body.playbook_version,
                                           if_match_version(if_match))
        return campaign_command(app.migrate_campaign, command, attributed(member),
                                if_match, response)

    @router.post("/campaigns/{campaign_id}/cancel", tags=["campaigns"])
    def cancel(campaign_id: UUID, body: Cancel, member: Actor, response: Response,
               if_match: IfMatch = None) -> CampaignOut:
        command = commands.CancelCampaign(campaign_id, body.reason,
                                          if_match_version(if_match))
        return campaign_command(app.cancel_campaign, command,
                                attributed(member, body.reason), if_match, response)

    @router.post("/campaigns/{campaign_id}/complete", tags=["campaigns"])
    def complete(campaign_id: UUID, member: Actor, response: Response,
                 if_match: IfMatch = None) -> CampaignOut:
        command = commands.CompleteCampaign(campaign_id, if_match_version(if_match))
        return campaign_command(app.complete_campaign, command, attributed(member),
                                if_match, response)

    @router.post("/campaigns/{campaign_id}/goals", tags=["campaigns"])
    def link_goals(campaign_id: UUID, body: LinkGoals, member: Actor, response: Response,
                   if_match: IfMatch = None) -> CampaignOut:
        command = commands.LinkGoals(campaign_id, body.goal_ids,
                                     if_match_version(if_match))
        return campaign_command(app.link_goals, command, attributed(member),
                                if_match, response)

    # --- the year calendar -------------------------------------------------------------

    @router.post("/routines", status_code=status.HTTP_201_CREATED, tags=["calendar"])
    def define_routine(body: RoutineDefinition, member: Actor,
                       response: Response) -> RoutineOut:
        """A recurring routine; campaigns within its horizon are planned right away."""
        routine, _ = app.define_routine(body, attributed(member))
        created(response, f"/routines/{routine.id}")
        set_etag(response, routine.version)
        return RoutineOut.of(routine)

    @router.get("/routines", tags=["calendar"])
    def list_routines(member: Actor, page: Paging, request: Request,
                      response: Response) -> list[RoutineSummary]:
        return [RoutineSummary.of(row)
                for row in paged(catalog.routines(page), request, response)]

    @router.get("/routines/{routine_id}", tags=["calendar"])
    def get_routine(routine_id: UUID, member: Actor, response: Response) -> RoutineOut:
        routine = app.routine(routine_id)
        set_etag(response, routine.version)
        return RoutineOut.of(routine)

    @router.post("/routines/{routine_id}/stop", tags=["calendar"])
    def stop_routine(routine_id: UUID, member: Actor, response: Response,
                     if_match: IfMatch = None) -> RoutineOut:
        command = commands.StopRoutine(routine_id, if_match_version(if_match))
        with precondition(if_match):
            routine = app.stop_routine(command, attributed(member))
        set_etag(response, routine.version)
        return RoutineOut.of(routine)

    @router.post("/routines/run", tags=["calendar"])
    def run_routines(member: Actor) -> RoutinesRun:
        """Plan occurrences that entered their horizon (the service also does this
        hourly by itself); safe to call any time."""
        return RoutinesRun.of(
            app.run_routines(meta=attributed(member, "routines run on request")))

    @router.get("/calendar", tags=["calendar"])
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
        entries = calendar.entries(first, last, team_id=team_id, goal_id=goal_id,
                                   member_id=member_id)
        return [CalendarEntry.of(row) for row in paged(
            page_in_memory(entries, CALENDAR_ORDER, page), request, response)]

    for path, feed, label in (
            ("/calendar/teams/{team_id}.ics", team_feed_of, "team"),
            ("/calendar/members/{member_id}.ics", member_feed_of, "member")):
        # GET and HEAD as two operations: one operation id each in the OpenAPI document.
        for method in ("GET", "HEAD"):
            router.add_api_route(
                path, feed(app, calendar), methods=[method], tags=["calendar"],
                response_class=Response, name=f"{label}_feed_{method.lower()}",
                summary=f"{label.title()} feed (iCalendar)"
                        + (", headers only" if method == "HEAD" else ""),
                responses=FEED_RESPONSES)

    # --- goals and KPIs -----------------------------------------------------------------

    @router.post("/goals", status_code=status.HTTP_201_CREATED, tags=["goals"])
    def define_goal(body: GoalDefinition, member: Actor, response: Response) -> GoalOut:
        goal = app.define_goal(body, attributed(member))
        created(response, f"/goals/{goal.id}")
        set_etag(response, goal.version)
        return GoalOut.of(goal)

    @router.get("/goals", tags=["goals"])
    def list_goals(member: Actor, page: Paging, request: Request,
                   response: Response) -> list[GoalSummary]:
        return [GoalSummary.of(row) for row in paged(catalog.goals(page), request, response)]

    @router.get("/goals/{goal_id}", tags=["goals"])
    def get_goal(goal_id: UUID, member: Actor, response: Response) -> GoalOut:
        goal = app.goal(goal_id)
        set_etag(response, goal.version)
        return GoalOut.of(goal)

    @router.post("/goals/{goal_id}/measurements", status_code=status.HTTP_201_CREATED,
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
            goal = app.record_measurement(command, attributed(member))
        created(response, f"/goals/{goal.id}")
        set_etag(response, goal.version)
        return GoalOut.of(goal)

    # --- team directory ------------------------------------------------------------

    @router.put("/teams/{team_id}", tags=["directory"])
    def register_team(team_id: TeamId, body: TeamProfile, member: Actor, response: Response,
                      if_match: IfMatch = None) -> TeamOut:
        """Register a team, or change it (the body is its full new state)."""
        command = commands.RegisterTeam(team_id, body, if_match_version(if_match))
        with precondition(if_match):
            team = app.register_team(command, attributed(member))
        set_etag(response, team.version)
        return TeamOut.of_team(team)

    @router.get("/teams", tags=["directory"])
    def list_teams(member: Actor, page: Paging, request: Request,
                   response: Response) -> list[TeamSummary]:
        return [TeamSummary.of(row) for row in paged(directory.teams(page), request, response)]

    @router.get("/teams/{team_id}", tags=["directory"])
    def get_team(team_id: TeamId, member: Actor, response: Response) -> TeamDetail:
        team = app.team(team_id)
        set_etag(response, team.version)
        return TeamDetail.of_team_with(team, directory.team_members(team_id))

    @router.get("/teams/{team_id}/closed-days", tags=["directory"])
    def closed_days(
        team_id: TeamId, member: Actor, page: Paging, request: Request, response: Response,
        first: Annotated[dt.date, Query(alias="from")],
        last: Annotated[dt.date, Query(alias="to")],
    ) -> list[ClosedDay]:
        """Days in the period nobody in the team works, and why (weekend, public
        holiday, team closed day): what the scheduler skips."""
        check_period(first, last)
        working = app.team(team_id).calendar()
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        rows = [{"date": day.isoformat(), "reason": reason} for day in days
                if (reason := working.why_closed(day)) is not None]
        return [ClosedDay.model_validate(row) for row in paged(
            page_in_memory(rows, ("date",), page), request, response)]

    @router.put("/members/{member_id}", tags=["directory"])
    def register_member(member_id: MemberId, body: MemberProfile, member: Actor,
                        response: Response, if_match: IfMatch = None) -> MemberOut:
        """Register a member, or change them (the body is their full new state)."""
        command = commands.RegisterMember(member_id, body, if_match_version(if_match))
        with precondition(if_match):
            registered = app.register_member(command, attributed(member))
        set_etag(response, registered.version)
        return MemberOut.of_member(registered)

    @router.get("/members", tags=["directory"])
    def list_members(member: Actor, page: Paging, request: Request,
                     response: Response) -> list[MemberSummary]:
        return [MemberSummary.of(row)
                for row in paged(directory.members(page), request, response)]

    @router.get("/members/{member_id}", tags=["directory"])
    def get_member(member_id: MemberId, member: Actor, response: Response) -> MemberOut:
        found = app.member(member_id)
        set_etag(response, found.version)
        return MemberOut.of_member(found)

    @router.post("/members/{member_id}/absences", status_code=status.HTTP_201_CREATED,
                 tags=["directory"])
    def record_absence(member_id: MemberId, body: RecordAbsence, member: Actor,
                       response: Response, if_match: IfMatch = None) -> AbsenceOut:
        command = commands.RecordAbsence(
            member_id, body.starts_on, body.ends_on, body.backup_member_id, body.reason,
            body.spread_by_capacity, if_match_version(if_match))
        with precondition(if_match):
            absence = app.record_absence(command, attributed(member, body.reason))
        created(response, f"/members/{member_id}/absences/{absence.absence_id}")
        return AbsenceOut.of_absence(member_id, absence)

    @router.get("/members/{member_id}/absences/{absence_id}", tags=["directory"])
    def get_absence(member_id: MemberId, absence_id: UUID, member: Actor,
                    response: Response) -> AbsenceOut:
        """One absence (what ``Location`` names after recording it); the ETag is the
        member's version, which ``If-Match`` on cancelling it takes."""
        found = app.member(member_id)
        if absence_id not in found.absences:
            raise NotFound(f"absence {absence_id} of member '{member_id}' not found")
        set_etag(response, found.version)
        return AbsenceOut.of_absence(member_id, found.absences[absence_id])

    @router.delete("/members/{member_id}/absences/{absence_id}", tags=["directory"])
    def cancel_absence(member_id: MemberId, absence_id: UUID, member: Actor,
                       response: Response, if_match: IfMatch = None) -> MemberOut:
        command = commands.CancelAbsence(member_id, absence_id, if_match_version(if_match))
        with precondition(if_match):
            changed = app.cancel_absence(command, attributed(member))
        set_etag(response, changed.version)
        return MemberOut.of_member(changed)

    return router


def check_period(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise InvalidCommand("to: must be on or after from")
    if (last - first).days > MAX_CALENDAR_DAYS:
        raise InvalidCommand(f"to: ask for at most {MAX_CALENDAR_DAYS} days at a time")


def team_feed_of(app: PlanningApplication, calendar: CalendarView
                 ) -> Callable[..., Response]:
    def team_feed(team_id: TeamId, reader: FeedReader,
                  if_none_match: IfNoneMatch = None) -> Response:
        """The team's launches and tasks, a year back and two ahead."""
        team = app.team(team_id)
        first, last = _feed_window()
        return _ics(f"{team.profile.name} (Marketflow)",
                    calendar.entries(first, last, team_id=team_id), if_none_match)
    return team_feed


def member_feed_of(app: PlanningApplication, calendar: CalendarView
                   ) -> Callable[..., Response]:
    def member_feed(member_id: MemberId, reader: FeedReader,
                    if_none_match: IfNoneMatch = None) -> Response:
        """The member's tasks, a year back and two ahead."""
        app.member(member_id)  # 404 for someone the directory does not know
        first, last = _feed_window()
        return _ics(f"{member_id}'s tasks (Marketflow)",
                    calendar.entries(first, last, member_id=member_id), if_none_match)
    return member_feed


def _feed_window() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    return today - dt.timedelta(days=FEED_PAST_DAYS), today + dt.timedelta(days=FEED_FUTURE_DAYS)


def _ics(title: str, entries: list[dict[str, Any]], if_none_match: str | None) -> Response:
    """The feed, or a 304 when the client's copy (If-None-Match) is still the feed:
    calendar clients poll, and most polls find nothing new. HEAD gets the same headers
    (the server leaves the body out)."""
    feed = ics_feed(title, entries)
    tag = feed_etag(feed)
    if none_match(if_none_match, tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
    return Response(feed, media_type=f"{ICS_MEDIA_TYPE}; charset=utf-8",
                    headers={"ETag": tag})
