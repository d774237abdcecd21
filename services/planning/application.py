"""Planning's use cases."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Literal
from uuid import UUID, uuid4

from services.planning.domain import (
    Absence,
    Campaign,
    Goal,
    GoalDefinition,
    Measurement,
    Member,
    MemberProfile,
    Playbook,
    PlaybookDiff,
    PlaybookSpec,
    Routine,
    RoutineDefinition,
    Staffing,
    TaskTemplate,
    Team,
    TeamProfile,
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
from shared.domain import DomainError, EventMeta, InvalidCommand, NotFound

if TYPE_CHECKING:
    from services.planning.views import CatalogView, DirectoryView

log = logging.getLogger(__name__)
ROUTINE_ACTOR = "system:planning-routines"

Mode = Literal["backward", "forward"]


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

    def revise_playbook(self, playbook_id: UUID, spec: PlaybookSpec, meta: EventMeta,
                        expected_version: int | None = None) -> Playbook:
        playbook = self.playbook(playbook_id)
        playbook.revise(spec, meta, expected_version)
        self.save_or_conflict(playbook)
        return playbook

    def playbook(self, playbook_id: UUID) -> Playbook:
        return self.load(playbook_id, Playbook)

    def playbook_diff(self, playbook_id: UUID, from_version: int,
                      to_version: int) -> PlaybookDiff:
        return self.playbook(playbook_id).diff(from_version, to_version)

    # --- campaigns -------------------------------------------------------------------

    def plan_campaign(
        self,
        playbook_id: UUID,
        name: str,
        launch_date: dt.date | None,
        assignments: dict[str, str],
        meta: EventMeta,
        *,
        playbook_version: int | None = None,
        team_id: str | None = None,
        queues: dict[str, str] | None = None,
        mode: Mode = "backward",
        start_date: dt.date | None = None,
        goal_ids: list[UUID] | None = None,
        not_before: dt.date | None = None,
        campaign_id: UUID | None = None,
        routine_id: UUID | None = None,
    ) -> Campaign:
        campaign = self.prepare_campaign(
            playbook_id, name, launch_date, assignments, meta,
            playbook_version=playbook_version, team_id=team_id, queues=queues, mode=mode,
            start_date=start_date, goal_ids=goal_ids, not_before=not_before,
            campaign_id=campaign_id, routine_id=routine_id)
        self.save_or_conflict(campaign)
        return campaign

    def prepare_campaign(
        self,
        playbook_id: UUID,
        name: str,
        launch_date: dt.date | None,
        assignments: dict[str, str],
        meta: EventMeta,
        *,
        playbook_version: int | None = None,
        team_id: str | None = None,
        queues: dict[str, str] | None = None,
        mode: Mode = "backward",
        start_date: dt.date | None = None,
        goal_ids: list[UUID] | None = None,
        not_before: dt.date | None = None,
        campaign_id: UUID | None = None,
        routine_id: UUID | None = None,
    ) -> Campaign:
        """The campaign, planned but not saved (a routine saves it with itself)."""
        playbook = self.playbook(playbook_id)
        version = playbook_version or playbook.latest_version
        spec = playbook.spec_at(version)
        team = self._team_for(team_id)
        calendar = team.calendar() if team else WorkingCalendar()
        if mode == "backward" and launch_date is None:
            raise InvalidCommand("launch_date: needed to schedule backward from the launch")
        if mode == "forward" and start_date is None:
            raise InvalidCommand("start_date: needed to schedule forward from a start")
        for goal_id in goal_ids or []:
            self._require_goal(goal_id)
        plan = self._schedule(
            spec, calendar, mode=mode, anchor_date=launch_date if mode == "backward" else None,
            start_date=start_date, not_before=not_before or dt.date.today())
        staffing = Staffing(assignments=assignments, queues=queues or {},
                            directory=self._role_holders(team_id))
        campaign = plan_campaign(
            campaign_id or uuid4(), playbook.id, version, spec, name, plan, meta,
            staffing=staffing, team_id=team_id,
            team_queues=team.profile.queues if team else None, mode=mode,
            start_date=start_date, goal_ids=goal_ids, routine_id=routine_id,
        )
        for role, member_id in sorted(assignments.items()):
            self._require_member(f"assignments.{role}", member_id)
        return campaign

    @retry_lost_races
    def reschedule_campaign(self, campaign_id: UUID, launch_date: dt.date, meta: EventMeta,
                            not_before: dt.date | None = None) -> Campaign:
        campaign = self.campaign(campaign_id)
        spec = self.playbook(campaign.playbook_id).spec_at(campaign.playbook_version)
        plan = self._schedule(spec, self._calendar_of(campaign), mode=campaign.mode,
                              anchor_date=launch_date, keep=campaign.done_dates(),
                              not_before=not_before or dt.date.today())
        campaign.reschedule(launch_date, plan, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def migrate_campaign(self, campaign_id: UUID, playbook_version: int,
                         meta: EventMeta) -> Campaign:
        campaign = self.campaign(campaign_id)
        spec = self.playbook(campaign.playbook_id).spec_at(playbook_version)
        plan = self._schedule(spec, self._calendar_of(campaign), mode=campaign.mode,
                              anchor_date=campaign.launch_date, keep=campaign.started_dates())
        target = planned_tasks(campaign.id, spec, plan, campaign.staffing)
        campaign.migrate(playbook_version, target, plan.critical_path, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def cancel_campaign(self, campaign_id: UUID, reason: str, meta: EventMeta) -> Campaign:
        campaign = self.campaign(campaign_id)
        campaign.cancel(reason, meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def complete_campaign(self, campaign_id: UUID, meta: EventMeta) -> Campaign:
        campaign = self.campaign(campaign_id)
        campaign.complete(meta)
        self.save_or_conflict(campaign)
        return campaign

    @retry_lost_races
    def link_goals(self, campaign_id: UUID, goal_ids: list[UUID], meta: EventMeta) -> Campaign:
        campaign = self.campaign(campaign_id)
        for goal_id in goal_ids:
            self._require_goal(goal_id)
        campaign.link_goals(goal_ids, meta)
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
        self.prepare_campaign(
            definition.playbook_id, definition.name, definition.starts_on,
            definition.assignments, meta, team_id=definition.team_id,
            queues=definition.queues, goal_ids=definition.goal_ids)
        campaigns = self._plan_occurrences(routine, today or dt.date.today(), meta)
        self.save_or_conflict(routine, *campaigns)
        return routine, campaigns

    def routine(self, routine_id: UUID) -> Routine:
        return self.load(routine_id, Routine)

    def stop_routine(self, routine_id: UUID, meta: EventMeta) -> Routine:
        routine = self.routine(routine_id)
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
            campaign = self.prepare_campaign(
                definition.playbook_id, routine.campaign_name(occurrence), occurrence,
                definition.assignments, occurrence_meta, team_id=definition.team_id,
                queues=definition.queues, goal_ids=definition.goal_ids, not_before=today,
                campaign_id=routine.campaign_id_for(occurrence), routine_id=routine.id)
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

    def record_measurement(self, goal_id: UUID, measurement: Measurement,
                           meta: EventMeta) -> Goal:
        goal = self.goal(goal_id)
        goal.record_measurement(measurement, meta, today=dt.date.today())
        self.save_or_conflict(goal)
        return goal

    # --- team directory ------------------------------------------------------------

    def register_team(self, team_id: str, profile: TeamProfile, meta: EventMeta) -> Team:
        """Register the team, or change it to this profile."""
        if profile.manager_id is not None and not self.exists(
                member_aggregate_id(profile.manager_id)):
            raise InvalidCommand(f"manager_id: unknown member '{profile.manager_id}'")
        if self.exists(team_aggregate_id(team_id)):
            team = self.team(team_id)
            team.change(profile, meta)
        else:
            team = register_team(team_id, profile, meta)
        self.save_or_conflict(team)
        return team

    def team(self, team_id: str) -> Team:
        return self.load(team_aggregate_id(team_id), Team, label=f"team '{team_id}'")

    def register_member(self, member_id: str, profile: MemberProfile,
                        meta: EventMeta) -> Member:
        """Register the member, or change them to this profile."""
        for team_id in profile.team_ids:
            if not self.exists(team_aggregate_id(team_id)):
                raise InvalidCommand(f"team_ids: unknown team '{team_id}'")
        if profile.manager_id is not None:
            self._require_manager(member_id, profile.manager_id)
        if self.exists(member_aggregate_id(member_id)):
            member = self.member(member_id)
            member.change(profile, meta)
        else:
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

    def record_absence(self, member_id: str, starts_on: dt.date, ends_on: dt.date,
                       backup_member_id: str | None, reason: str | None,
                       meta: EventMeta, *, spread_by_capacity: bool = False) -> Absence:
        member = self.member(member_id)
        if backup_member_id is not None and backup_member_id != member_id:
            backup = self._require_member("backup_member_id", backup_member_id)
            if any(a.overlaps(starts_on, ends_on) for a in backup.absences.values()):
                raise InvalidCommand(
                    f"backup_member_id: {backup_member_id} is away during that time too")
        absence = Absence(absence_id=uuid4(), starts_on=starts_on, ends_on=ends_on,
                          backup_member_id=backup_member_id, reason=reason,
                          spread_by_capacity=spread_by_capacity)
        member.record_absence(absence, meta)
        self.save_or_conflict(member)
        return absence

    def cancel_absence(self, member_id: str, absence_id: UUID, meta: EventMeta) -> Member:
        member = self.member(member_id)
        member.cancel_absence(absence_id, meta)
        self.save_or_conflict(member)
        return member
