"""Planning's use cases."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from services.planning import commands
from services.planning.domain import (
    Absence,
    Campaign,
    Goal,
    GoalDefinition,
    Member,
    Playbook,
    PlaybookDiff,
    PlaybookSpec,
    Routine,
    RoutineDefinition,
    Staffing,
    TaskTemplate,
    Team,
    define_goal,
    define_playbook,
    define_routine,
    member_aggregate_id,
    plan_campaign,
    planned_tasks,
    register_member,
    register_team,
    team_aggregate_id,
)
from services.planning.domain.calendar import WorkingCalendar
from services.planning.domain.credentials import ApiToken, CalendarFeed, FeedTarget, check_expiry
from services.planning.domain.scheduling import Schedule, ScheduleError, schedule
from services.planning.domain.team import AWAY
from services.planning.policy import POLICY
from shared.access import token_hash
from shared.application import ServiceApplication, retry_lost_races
from shared.domain import Aggregate, DomainError, EventMeta, InvalidCommand, NotFound, StaleVersion
from shared.policy import Caller, Resource, access_roles
from shared.projections import Page, PageRequest

if TYPE_CHECKING:
    from services.planning.views import CalendarView, CatalogView, DirectoryView, PlanningAccessView

log = logging.getLogger(__name__)
ROUTINE_ACTOR = "system:planning-routines"
TOKEN_PREFIX = "mfat_"
FEED_KEY_PREFIX = "mfcal_"


def require_version(aggregate: Aggregate | None, expected_version: int | None,
                    what: str) -> None:
    """The caller acted on ``expected_version``; anything else is a lost update."""
    if expected_version is None:
        return
    if aggregate is None:
        raise StaleVersion(f"expected_version: {what} does not exist yet, so it has no "
                           f"version {expected_version}")
    if aggregate.version != expected_version:
        raise StaleVersion(f"expected_version: {what} is at version {aggregate.version}, "
                           f"not {expected_version}; reload, review the changes and retry")


class PlanningApplication(ServiceApplication):
    directory: DirectoryView | None = None
    """Set by the wiring: who holds which role in which team (for approvers)."""
    catalog: CatalogView | None = None
    """Set by the wiring: which routines exist."""
    access: PlanningAccessView | None = None
    """Set by the wiring: API tokens and calendar feed addresses."""
    calendar: CalendarView | None = None

    # --- who may ------------------------------------------------------------------

    def campaign_resource(self, campaign: Campaign) -> Resource:
        """A campaign as the policy sees it: its team's, and its own to whoever holds
        one of its tasks now (the calendar's ``taking_part`` answers the same for lists)."""
        people = {campaign.holder_of(task.task_id).assignee_id for task in campaign.tasks}
        return Resource.of(owners=people, teams=[campaign.team_id] if campaign.team_id else [],
                           description=f"campaign {campaign.id}")

    def member_resource(self, member: Member) -> Resource:
        return Resource.of(owners=[member.member_id], teams=member.profile.team_ids,
                           description=f"member '{member.member_id}'")

    # --- playbooks ---------------------------------------------------------------

    def define_playbook(self, name: str, tasks: list[TaskTemplate], caller: Caller) -> Playbook:
        """A playbook of one phase (the first API's shape)."""
        return self.define(PlaybookSpec(name=name, phases=[
            {"key": "main", "title": "Main", "tasks": tasks}]), caller)

    def define(self, spec: PlaybookSpec, caller: Caller) -> Playbook:
        POLICY.authorize("playbook.define", caller)
        playbook = define_playbook(spec, caller.meta())
        self.save_or_conflict(playbook)
        return playbook

    def revise_playbook(self, command: commands.RevisePlaybook, caller: Caller) -> Playbook:
        POLICY.authorize("playbook.revise", caller)
        playbook = self.playbook(command.playbook_id)
        # The domain checks the version: a playbook's version is its revision number.
        playbook.revise(command.spec, caller.meta(), command.expected_version)
        self.save_or_conflict(playbook)
        return playbook

    def playbook(self, playbook_id: UUID) -> Playbook:
        return self.load(playbook_id, Playbook)

    def read_playbook(self, playbook_id: UUID, caller: Caller) -> Playbook:
        POLICY.authorize("playbook.read", caller)
        return self.playbook(playbook_id)

    def playbooks(self, caller: Caller, page: PageRequest) -> Page:
        POLICY.authorize("playbook.read", caller)
        assert self.catalog is not None
        return self.catalog.playbooks(page)

    def playbook_diff(self, playbook_id: UUID, from_version: int,
                      to_version: int, caller: Caller) -> PlaybookDiff:
        return self.read_playbook(playbook_id, caller).diff(from_version, to_version)

    # --- campaigns -------------------------------------------------------------------

    def plan_campaign(self, command: commands.PlanCampaign, caller: Caller) -> Campaign:
        POLICY.authorize("campaign.plan", caller, Resource.of(
            teams=[command.team_id] if command.team_id else [],
            description=f"team '{command.team_id}'" if command.team_id else "no team"))
        campaign = self.prepare_campaign(command, caller.meta())
        self.save_or_conflict(campaign)
        return campaign

    def prepare_campaign(self, command: commands.PlanCampaign, meta: EventMeta) -> Campaign:
        """The campaign, planned but not saved (a routine saves it with itself)."""
        playbook = self.playbook(command.playbook_id)
        version = command.playbook_version or playbook.latest_version
        spec = playbook.spec_at(version)
        team = self._team_for(command.team_id)
        calendar = team.calendar() if team else WorkingCalendar()
        goal_ids = list(command.goal_ids)
        for goal_id in goal_ids:
            self._require_goal(goal_id)
        plan = self._schedule(
            spec, calendar, mode=command.mode, anchor_date=command.launch_date,
            start_date=command.start_date, not_before=command.not_before or dt.date.today())
        staffing = Staffing(assignments=dict(command.assignments),
                            queues=dict(command.queues),
                            directory=self._role_holders(command.team_id))
        campaign = plan_campaign(
            command.campaign_id or uuid4(), playbook.id, version, spec, command.name, plan,
            meta, staffing=staffing, team_id=command.team_id,
            team_queues=team.profile.queues if team else None, mode=command.mode,
            start_date=command.start_date, goal_ids=goal_ids, routine_id=command.routine_id,
        )
        for role, member_id in sorted(command.assignments.items()):
            self._require_member(f"assignments.{role}", member_id)
        return campaign

    def _campaign_at(self, campaign_id: UUID, expected_version: int | None,
                     caller: Caller) -> Campaign:
        campaign = self.campaign(campaign_id)
        POLICY.authorize("campaign.change", caller, self.campaign_resource(campaign))
        require_version(campaign, expected_version, f"campaign {campaign_id}")
        return campaign

    @retry_lost_races
    def reschedule_campaign(self, command: commands.RescheduleCampaign,
                            caller: Caller) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version,
                                     caller)
        meta = caller.meta()
        spec = self.playbook(campaign.playbook_id).spec_at(campaign.playbook_version)
        plan = self._schedule(spec, self._calendar_of(campaign), mode=campaign.mode,
                              anchor_date=command.launch_date, keep=campaign.done_dates(),
                              not_before=command.not_before or dt.date.today())
        campaign.reschedule(command.launch_date, plan, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def migrate_campaign(self, command: commands.MigrateCampaign, caller: Caller) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version,
                                     caller)
        meta = caller.meta()
        spec = self.playbook(campaign.playbook_id).spec_at(command.playbook_version)
        plan = self._schedule(spec, self._calendar_of(campaign), mode=campaign.mode,
                              anchor_date=campaign.launch_date, keep=campaign.started_dates())
        target = planned_tasks(campaign.id, spec, plan, campaign.staffing)
        campaign.migrate(command.playbook_version, target, plan.critical_path, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def cancel_campaign(self, command: commands.CancelCampaign, caller: Caller) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version,
                                     caller)
        meta = caller.meta(command.reason)
        campaign.cancel(command.reason, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def complete_campaign(self, command: commands.CompleteCampaign,
                          caller: Caller) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version,
                                     caller)
        meta = caller.meta()
        campaign.complete(meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def link_goals(self, command: commands.LinkGoals, caller: Caller) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version,
                                     caller)
        meta = caller.meta()
        for goal_id in command.goal_ids:
            self._require_goal(goal_id)
        campaign.link_goals(list(command.goal_ids), meta)
        self.save_or_conflict(campaign)
        return campaign

    def campaign(self, campaign_id: UUID) -> Campaign:
        return self.load(campaign_id, Campaign)

    def read_campaign(self, campaign_id: UUID, caller: Caller) -> Campaign:
        campaign = self.campaign(campaign_id)
        POLICY.authorize("campaign.read", caller, self.campaign_resource(campaign))
        return campaign

    def campaigns(self, caller: Caller, page: PageRequest) -> Page:
        """Contributors and managers see the campaigns of their teams and those that
        assign them work; a page may then hold fewer rows than asked (its cursor goes on)."""
        scope = POLICY.authorize_listing("campaign.read", caller)
        assert self.catalog is not None and self.calendar is not None
        found = self.catalog.campaigns(page)
        if scope == "all":
            return found
        visible = self.calendar.taking_part(caller.member_id, caller.reports,
                                            caller.teams | caller.managed_teams)
        return Page([row for row in found.rows if str(row["id"]) in visible],
                    found.next_cursor)

    def _schedule(self, spec: PlaybookSpec, calendar: WorkingCalendar, **options: object
                  ) -> Schedule:
        try:
            return schedule([task.scheduling() for task in spec.tasks], calendar,
                            **options)  # type: ignore[arg-type]
        except ScheduleError as error:
            raise InvalidCommand(str(error)) from None

    def _calendar_of(self, campaign: Campaign) -> WorkingCalendar:
        team = self._team_for(campaign.team_id, field="team")
        return team.calendar() if team else WorkingCalendar()

    def _team_for(self, team_id: str | None, field: str = "team_id") -> Team | None:
        if team_id is None:
            return None
        if not self.exists(team_aggregate_id(team_id)):
            raise InvalidCommand(f"{field}: unknown team '{team_id}'")
        return self.load(team_aggregate_id(team_id), Team)

    def _role_holders(self, team_id: str | None) -> dict[str, list[str]]:
        if team_id is None or self.directory is None:
            return {}
        return self.directory.role_holders(team_id)

    def _require_goal(self, goal_id: UUID) -> None:
        try:
            self.load(goal_id, Goal)
        except NotFound:
            raise InvalidCommand(f"goal_ids: unknown goal {goal_id}") from None

    # --- recurring routines (the year calendar) ------------------------------------

    def define_routine(self, definition: RoutineDefinition, caller: Caller,
                       today: dt.date | None = None) -> tuple[Routine, list[Campaign]]:
        """The routine, and the campaigns it plans right away within its horizon."""
        POLICY.authorize("routine.define", caller, Resource.of(
            teams=[definition.team_id] if definition.team_id else [],
            description=f"team '{definition.team_id}'" if definition.team_id else "no team"))
        meta = caller.meta()
        if not self.exists(definition.playbook_id):
            raise InvalidCommand(f"playbook_id: unknown playbook {definition.playbook_id}")
        routine = define_routine(definition, meta)
        # Refuse now what would make every occurrence fail (team, queues, roles, goals).
        self.prepare_campaign(commands.PlanCampaign(
            playbook_id=definition.playbook_id, name=definition.name,
            launch_date=definition.starts_on, assignments=definition.assignments,
            team_id=definition.team_id, queues=definition.queues,
            goal_ids=definition.goal_ids), meta)
        campaigns = self._plan_occurrences(routine, today or dt.date.today(), meta)
        self.save_or_conflict(routine, *campaigns)
        return routine, campaigns

    def routine(self, routine_id: UUID) -> Routine:
        return self.load(routine_id, Routine)

    def read_routine(self, routine_id: UUID, caller: Caller) -> Routine:
        POLICY.authorize("routine.read", caller)
        return self.routine(routine_id)

    def routines(self, caller: Caller, page: PageRequest) -> Page:
        POLICY.authorize("routine.read", caller)
        assert self.catalog is not None
        return self.catalog.routines(page)

    def stop_routine(self, command: commands.StopRoutine, caller: Caller) -> Routine:
        routine = self.routine(command.routine_id)
        team_id = routine.definition.team_id
        POLICY.authorize("routine.define", caller, Resource.of(
            teams=[team_id] if team_id else [], description=f"routine {routine.id}"))
        meta = caller.meta()
        require_version(routine, command.expected_version, f"routine {command.routine_id}")
        routine.stop(meta)
        self.save_or_conflict(routine)
        return routine

    def run_routines(self, today: dt.date | None = None,
                     caller: Caller | None = None) -> list[Campaign]:
        """Plan every routine's occurrences that entered its horizon (idempotent: an
        occurrence's campaign id is derived from the routine and the date). Without a
        caller, the service's own clock runs them."""
        meta = None
        if caller is not None:
            POLICY.authorize("routine.run", caller)
            meta = caller.meta("routines run on request")
        today = today or dt.date.today()
        planned: list[Campaign] = []
        routine_ids = list(self.catalog.routine_ids()) if self.catalog else []
        for routine_id in routine_ids:
            routine = self.routine(routine_id)
            try:
                campaigns = self._plan_occurrences(
                    routine, today, meta or EventMeta(actor=ROUTINE_ACTOR))
                if campaigns:
                    self.save_or_conflict(routine, *campaigns)
                    planned.extend(campaigns)
            except DomainError as error:
                log.warning("routine could not plan its occurrences",
                            extra={"routine_id": str(routine_id), "problem": str(error)})
        return planned

    def _plan_occurrences(self, routine: Routine, today: dt.date,
                          meta: EventMeta) -> list[Campaign]:
        definition = routine.definition
        campaigns = []
        for occurrence in routine.due(today):
            occurrence_meta = meta.model_copy(update={
                "reason": f"routine '{definition.name}': occurrence {occurrence.isoformat()}",
                "correlation_id": meta.correlation_id or str(routine.id)})
            campaign = self.prepare_campaign(commands.PlanCampaign(
                playbook_id=definition.playbook_id, name=routine.campaign_name(occurrence),
                launch_date=occurrence, assignments=definition.assignments,
                team_id=definition.team_id, queues=definition.queues,
                goal_ids=definition.goal_ids, not_before=today,
                campaign_id=routine.campaign_id_for(occurrence), routine_id=routine.id),
                occurrence_meta)
            routine.record_occurrence(occurrence, campaign.id, occurrence_meta)
            campaigns.append(campaign)
        return campaigns

    # --- goals and KPIs --------------------------------------------------------------

    def define_goal(self, definition: GoalDefinition, caller: Caller) -> Goal:
        POLICY.authorize("goal.define", caller)
        goal = define_goal(definition, caller.meta())
        self.save_or_conflict(goal)
        return goal

    def goal(self, goal_id: UUID) -> Goal:
        return self.load(goal_id, Goal)

    def read_goal(self, goal_id: UUID, caller: Caller) -> Goal:
        POLICY.authorize("goal.read", caller)
        return self.goal(goal_id)

    def goals(self, caller: Caller, page: PageRequest) -> Page:
        POLICY.authorize("goal.read", caller)
        assert self.catalog is not None
        return self.catalog.goals(page)

    def record_measurement(self, command: commands.RecordMeasurement,
                           caller: Caller) -> Goal:
        POLICY.authorize("goal.measure", caller)
        meta = caller.meta()
        goal = self.goal(command.goal_id)
        require_version(goal, command.expected_version, f"goal {command.goal_id}")
        goal.record_measurement(command.measurement, meta, today=dt.date.today())
        self.save_or_conflict(goal)
        return goal

    # --- team directory ------------------------------------------------------------

    def register_team(self, command: commands.RegisterTeam, caller: Caller) -> Team:
        """Register the team, or change it to this profile."""
        POLICY.authorize("team.register", caller)
        meta = caller.meta()
        team_id, profile = command.team_id, command.profile
        if profile.manager_id is not None and not self.exists(
                member_aggregate_id(profile.manager_id)):
            raise InvalidCommand(f"manager_id: unknown member '{profile.manager_id}'")
        if self.exists(team_aggregate_id(team_id)):
            team = self.team(team_id)
            require_version(team, command.expected_version, f"team '{team_id}'")
            team.change(profile, meta)
        else:
            require_version(None, command.expected_version, f"team '{team_id}'")
            team = register_team(team_id, profile, meta)
        self.save_or_conflict(team)
        return team

    def team(self, team_id: str) -> Team:
        return self.load(team_aggregate_id(team_id), Team, label=f"team '{team_id}'")

    def read_team(self, team_id: str, caller: Caller) -> Team:
        POLICY.authorize("team.read", caller)
        return self.team(team_id)

    def teams(self, caller: Caller, page: PageRequest) -> Page:
        POLICY.authorize("team.read", caller)
        assert self.directory is not None
        return self.directory.teams(page)

    def register_member(self, command: commands.RegisterMember, caller: Caller) -> Member:
        """Register the member, or change them to this profile. Managers change their
        teams' members and their reports; only admins give or take access roles."""
        member_id, profile = command.member_id, command.profile
        known = self.member(member_id) if self.exists(member_aggregate_id(member_id)) else None
        if known is not None:
            POLICY.authorize("member.register", caller, self.member_resource(known))
        else:
            POLICY.authorize("member.register", caller, Resource.of(
                owners=[member_id], teams=profile.team_ids,
                description=f"new member '{member_id}' of teams "
                            f"{', '.join(profile.team_ids) or '(none)'}"))
        before = access_roles(known.profile.roles if known else [])
        if access_roles(profile.roles) != before:
            POLICY.authorize("member.grant_access", caller, Resource.of(
                description=f"the access roles of '{member_id}'"))
        meta = caller.meta()
        for team_id in profile.team_ids:
            if not self.exists(team_aggregate_id(team_id)):
                raise InvalidCommand(f"team_ids: unknown team '{team_id}'")
        if profile.manager_id is not None:
            self._require_manager(member_id, profile.manager_id)
        if self.exists(member_aggregate_id(member_id)):
            member = self.member(member_id)
            require_version(member, command.expected_version, f"member '{member_id}'")
            member.change(profile, meta)
        else:
            require_version(None, command.expected_version, f"member '{member_id}'")
            member = register_member(member_id, profile, meta)
        self.save_or_conflict(member)
        return member

    def _require_member(self, field: str, member_id: str) -> Member:
        """A person named in a command is an active member of the directory."""
        if not self.exists(member_aggregate_id(member_id)):
            raise InvalidCommand(f"{field}: unknown member '{member_id}'")
        member = self.member(member_id)
        if not member.profile.active:
            raise InvalidCommand(f"{field}: member '{member_id}' is not active")
        return member

    def _require_manager(self, member_id: str, manager_id: str) -> None:
        """The manager is registered, and the chain of managers never loops back."""
        seen = [member_id]
        current: str | None = manager_id
        while current is not None:
            if current in seen:
                chain = " -> ".join([*seen, current])
                raise InvalidCommand(f"manager_id: the chain of managers loops: {chain}")
            if not self.exists(member_aggregate_id(current)):
                raise InvalidCommand(f"manager_id: unknown member '{current}'")
            seen.append(current)
            current = self.member(current).profile.manager_id

    def member(self, member_id: str) -> Member:
        try:
            return self.load(member_aggregate_id(member_id), Member,
                             label=f"member '{member_id}'")
        except NotFound:
            raise NotFound(f"member '{member_id}' not found") from None

    def read_member(self, member_id: str, caller: Caller) -> tuple[Member, bool]:
        """The member, and whether the caller may see why they are away."""
        POLICY.authorize("member.read", caller)
        member = self.member(member_id)
        return member, POLICY.allows("absence.read_reason", caller,
                                     self.member_resource(member))

    def members(self, caller: Caller, page: PageRequest) -> Page:
        """The directory; absence reasons only where the caller may see them."""
        POLICY.authorize("member.read", caller)
        assert self.directory is not None
        found = self.directory.members(page)
        return Page([self.without_reasons(row, caller) for row in found.rows],
                    found.next_cursor)

    def without_reasons(self, row: dict[str, Any], caller: Caller) -> dict[str, Any]:
        resource = Resource.of(owners=[row["member_id"]], teams=row.get("team_ids", []))
        if POLICY.allows("absence.read_reason", caller, resource):
            return row
        return {**row, "absences": [{**a, "reason": AWAY if a.get("reason") else None}
                                    for a in row.get("absences", [])]}

    def record_absence(self, command: commands.RecordAbsence, caller: Caller) -> Absence:
        member = self.member(command.member_id)
        POLICY.authorize("absence.record", caller, self.member_resource(member))
        meta = caller.meta()
        require_version(member, command.expected_version, f"member '{command.member_id}'")
        starts_on, ends_on, backup_id = command.starts_on, command.ends_on, \
            command.backup_member_id
        if backup_id is not None and backup_id != command.member_id:
            backup = self._require_member("backup_member_id", backup_id)
            if any(a.overlaps(starts_on, ends_on) for a in backup.absences.values()):
                raise InvalidCommand(
                    f"backup_member_id: {backup_id} is away during that time too")
        absence = Absence(absence_id=uuid4(), starts_on=starts_on, ends_on=ends_on,
                          backup_member_id=backup_id, reason=command.reason,
                          spread_by_capacity=command.spread_by_capacity)
        member.record_absence(absence, meta)
        self.save_or_conflict(member)
        return absence

    def cancel_absence(self, command: commands.CancelAbsence, caller: Caller) -> Member:
        member = self.member(command.member_id)
        POLICY.authorize("absence.record", caller, self.member_resource(member))
        meta = caller.meta()
        require_version(member, command.expected_version, f"member '{command.member_id}'")
        member.cancel_absence(command.absence_id, meta)
        self.save_or_conflict(member)
        return member

    # --- credentials: API tokens and calendar feed addresses -----------------------------

    def issue_token(self, command: commands.IssueApiToken,
                    caller: Caller) -> tuple[ApiToken, str]:
        """The token, and its secret: shown this once, stored only as a hash."""
        POLICY.authorize("api_token.issue", caller)
        check_expiry(command.expires_at, dt.datetime.now(dt.UTC))
        if command.service_account:
            if self.exists(member_aggregate_id(command.principal_id)):
                raise InvalidCommand(f"principal_id: '{command.principal_id}' is a member; a "
                                     "service account needs a name of its own")
        else:
            self._require_member("principal_id", command.principal_id)
            if command.roles:
                raise InvalidCommand("roles: a member's token acts with the member's own "
                                     "roles; roles are for service accounts")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(id=uuid4(), token_hash=token_hash(secret),
                         principal_id=command.principal_id,
                         service_account=command.service_account, roles=list(command.roles),
                         label=command.label, expires_at=command.expires_at,
                         meta=caller.meta())
        self.save_or_conflict(token)
        return token, secret

    def revoke_token(self, token_id: UUID, caller: Caller) -> ApiToken:
        POLICY.authorize("api_token.revoke", caller)
        token = self.load(token_id, ApiToken, label="API token")
        token.revoke(caller.meta())
        self.save_or_conflict(token)
        return token

    def tokens(self, caller: Caller, page: PageRequest) -> Page:
        POLICY.authorize("api_token.read", caller)
        assert self.access is not None
        return self.access.tokens(page)

    def _feed_owner(self, member_id: str, caller: Caller) -> Member:
        member = self.member(member_id)
        POLICY.authorize("calendar_feed.manage", caller, self.member_resource(member))
        return member

    def create_feed(self, member_id: str, target: FeedTarget,
                    caller: Caller) -> tuple[CalendarFeed, str]:
        """A secret address for one feed, for ``member_id``'s calendar client; it opens
        that feed only, and only while its owner may read it."""
        self._feed_owner(member_id, caller)
        owner = self.access.caller(member_id, member_id, frozenset(), False) \
            if self.access else Caller.person(member_id)
        self.authorize_feed(target, owner)
        secret = FEED_KEY_PREFIX + secrets.token_urlsafe(32)
        feed = CalendarFeed(id=uuid4(), member_id=member_id, target=target,
                            secret_hash=token_hash(secret), meta=caller.meta())
        self.save_or_conflict(feed)
        return feed, secret

    def rotate_feed(self, member_id: str, feed_id: UUID,
                    caller: Caller) -> tuple[CalendarFeed, str]:
        self._feed_owner(member_id, caller)
        feed = self._feed(member_id, feed_id)
        secret = FEED_KEY_PREFIX + secrets.token_urlsafe(32)
        feed.rotate(token_hash(secret), caller.meta())
        self.save_or_conflict(feed)
        return feed, secret

    def revoke_feed(self, member_id: str, feed_id: UUID, caller: Caller) -> CalendarFeed:
        self._feed_owner(member_id, caller)
        feed = self._feed(member_id, feed_id)
        feed.revoke(caller.meta())
        self.save_or_conflict(feed)
        return feed

    def feeds(self, member_id: str, caller: Caller) -> list[dict[str, Any]]:
        self._feed_owner(member_id, caller)
        assert self.access is not None
        return self.access.feeds_of(member_id)

    def _feed(self, member_id: str, feed_id: UUID) -> CalendarFeed:
        feed = self.load(feed_id, CalendarFeed, label="calendar feed")
        if feed.member_id != member_id:
            raise NotFound(f"calendar feed {feed_id} not found")
        return feed

    def feed_reader(self, key: str, path: str) -> Caller:
        """Who a secret feed address reads as: its owner, for its own feed only."""
        assert self.access is not None
        feed = self.access.feed_for(token_hash(key))
        if feed is None or feed["path"] != path:
            raise NotFound("unknown, rotated or revoked calendar feed address")
        facts = self.access.member(feed["member_id"])
        if facts is not None and not facts.active:
            raise NotFound("unknown, rotated or revoked calendar feed address")
        return self.access.caller(feed["member_id"], feed["member_id"], frozenset(), False)

    def authorize_feed(self, target: FeedTarget, caller: Caller) -> None:
        if target.kind == "team":
            resource = Resource.of(teams=[target.id], description=f"team '{target.id}'")
        else:
            known = self.exists(member_aggregate_id(target.id))
            resource = self.member_resource(self.member(target.id)) if known else \
                Resource.of(owners=[target.id], description=f"member '{target.id}'")
        POLICY.authorize("calendar.feed", caller, resource)

    # --- the calendar ---------------------------------------------------------------------

    def calendar_entries(self, caller: Caller, first: dt.date, last: dt.date, *,
                         team_id: str | None = None, goal_id: UUID | None = None,
                         member_id: str | None = None) -> list[dict[str, Any]]:
        """Launches and tasks in a period; contributors and managers see their teams'
        campaigns and their own tasks."""
        scope = POLICY.authorize_listing("calendar.read", caller)
        assert self.calendar is not None
        entries = self.calendar.entries(first, last, team_id=team_id, goal_id=goal_id,
                                        member_id=member_id)
        if scope == "all":
            return entries
        return [entry for entry in entries if POLICY.allows("calendar.read", caller, Resource.of(
            owners=[entry.get("assignee_id") or ""], teams=[entry.get("team_id") or ""]))]

    def feed_entries(self, target: FeedTarget, caller: Caller, first: dt.date,
                     last: dt.date) -> tuple[str, list[dict[str, Any]]]:
        """A feed's title and entries, for a reader the policy lets read it."""
        assert self.calendar is not None
        if target.kind == "team":
            team = self.team(target.id)
            self.authorize_feed(target, caller)
            return (f"{team.profile.name} (Marketflow)",
                    self.calendar.entries(first, last, team_id=target.id))
        self.member(target.id)  # 404 for someone the directory does not know
        self.authorize_feed(target, caller)
        return (f"{target.id}'s tasks (Marketflow)",
                self.calendar.entries(first, last, member_id=target.id))
