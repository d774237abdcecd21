"""Planning's use cases."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
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
from services.planning.domain.scheduling import Schedule, ScheduleError, schedule
from shared.application import ServiceApplication, retry_lost_races
from shared.domain import Aggregate, DomainError, EventMeta, InvalidCommand, NotFound, StaleVersion

if TYPE_CHECKING:
    from services.planning.views import CatalogView, DirectoryView

log = logging.getLogger(__name__)
ROUTINE_ACTOR = "system:planning-routines"


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

    # --- playbooks ---------------------------------------------------------------

    def define_playbook(self, name: str, tasks: list[TaskTemplate], meta: EventMeta) -> Playbook:
        """A playbook of one phase (the first API's shape)."""
        return self.define(PlaybookSpec(name=name, phases=[
            {"key": "main", "title": "Main", "tasks": tasks}]), meta)

    def define(self, spec: PlaybookSpec, meta: EventMeta) -> Playbook:
        playbook = define_playbook(spec, meta)
        self.save_or_conflict(playbook)
        return playbook

    def revise_playbook(self, command: commands.RevisePlaybook, meta: EventMeta) -> Playbook:
        playbook = self.playbook(command.playbook_id)
        # The domain checks the version: a playbook's version is its revision number.
        playbook.revise(command.spec, meta, command.expected_version)
        self.save_or_conflict(playbook)
        return playbook

    def playbook(self, playbook_id: UUID) -> Playbook:
        return self.load(playbook_id, Playbook)

    def playbook_diff(self, playbook_id: UUID, from_version: int,
                      to_version: int) -> PlaybookDiff:
        return self.playbook(playbook_id).diff(from_version, to_version)

    # --- campaigns -------------------------------------------------------------------

    def plan_campaign(self, command: commands.PlanCampaign, meta: EventMeta) -> Campaign:
        campaign = self.prepare_campaign(command, meta)
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

    def _campaign_at(self, campaign_id: UUID, expected_version: int | None) -> Campaign:
        campaign = self.campaign(campaign_id)
        require_version(campaign, expected_version, f"campaign {campaign_id}")
        return campaign

    @retry_lost_races
    def reschedule_campaign(self, command: commands.RescheduleCampaign,
                            meta: EventMeta) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version)
        spec = self.playbook(campaign.playbook_id).spec_at(campaign.playbook_version)
        plan = self._schedule(spec, self._calendar_of(campaign), mode=campaign.mode,
                              anchor_date=command.launch_date, keep=campaign.done_dates(),
                              not_before=command.not_before or dt.date.today())
        campaign.reschedule(command.launch_date, plan, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def migrate_campaign(self, command: commands.MigrateCampaign, meta: EventMeta) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version)
        spec = self.playbook(campaign.playbook_id).spec_at(command.playbook_version)
        plan = self._schedule(spec, self._calendar_of(campaign), mode=campaign.mode,
                              anchor_date=campaign.launch_date, keep=campaign.started_dates())
        target = planned_tasks(campaign.id, spec, plan, campaign.staffing)
        campaign.migrate(command.playbook_version, target, plan.critical_path, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def cancel_campaign(self, command: commands.CancelCampaign, meta: EventMeta) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version)
        campaign.cancel(command.reason, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def complete_campaign(self, command: commands.CompleteCampaign,
                          meta: EventMeta) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version)
        campaign.complete(meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def link_goals(self, command: commands.LinkGoals, meta: EventMeta) -> Campaign:
        campaign = self._campaign_at(command.campaign_id, command.expected_version)
        for goal_id in command.goal_ids:
            self._require_goal(goal_id)
        campaign.link_goals(list(command.goal_ids), meta)
        self.save_or_conflict(campaign)
        return campaign

    def campaign(self, campaign_id: UUID) -> Campaign:
        return self.load(campaign_id, Campaign)

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

    def define_routine(self, definition: RoutineDefinition, meta: EventMeta,
                       today: dt.date | None = None) -> tuple[Routine, list[Campaign]]:
        """The routine, and the campaigns it plans right away within its horizon."""
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

    def stop_routine(self, command: commands.StopRoutine, meta: EventMeta) -> Routine:
        routine = self.routine(command.routine_id)
        require_version(routine, command.expected_version, f"routine {command.routine_id}")
        routine.stop(meta)
        self.save_or_conflict(routine)
        return routine

    def run_routines(self, today: dt.date | None = None,
                     meta: EventMeta | None = None) -> list[Campaign]:
        """Plan every routine's occurrences that entered its horizon (idempotent: an
        occurrence's campaign id is derived from the routine and the date)."""
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

    def define_goal(self, definition: GoalDefinition, meta: EventMeta) -> Goal:
        goal = define_goal(definition, meta)
        self.save_or_conflict(goal)
        return goal

    def goal(self, goal_id: UUID) -> Goal:
        return self.load(goal_id, Goal)

    def record_measurement(self, command: commands.RecordMeasurement,
                           meta: EventMeta) -> Goal:
        goal = self.goal(command.goal_id)
        require_version(goal, command.expected_version, f"goal {command.goal_id}")
        goal.record_measurement(command.measurement, meta, today=dt.date.today())
        self.save_or_conflict(goal)
        return goal

    # --- team directory ------------------------------------------------------------

    def register_team(self, command: commands.RegisterTeam, meta: EventMeta) -> Team:
        """Register the team, or change it to this profile."""
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

    def register_member(self, command: commands.RegisterMember, meta: EventMeta) -> Member:
        """Register the member, or change them to this profile."""
        member_id, profile = command.member_id, command.profile
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

    def record_absence(self, command: commands.RecordAbsence, meta: EventMeta) -> Absence:
        member = self.member(command.member_id)
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

    def cancel_absence(self, command: commands.CancelAbsence, meta: EventMeta) -> Member:
        member = self.member(command.member_id)
        require_version(member, command.expected_version, f"member '{command.member_id}'")
        member.cancel_absence(command.absence_id, meta)
        self.save_or_conflict(member)
        return member
