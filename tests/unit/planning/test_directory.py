"""The directory as the source of who exists: people named in commands must be members,
and PUT-style registration is idempotent."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from contracts import planning as contract
from services.planning import commands
from services.planning.application import PlanningApplication
from services.planning.domain import Absence, MemberProfile, RoutineDefinition, TeamProfile
from services.planning.integration import translate
from services.planning.playbook_files import shipped_playbooks
from shared.domain import InvalidCommand
from shared.policy import Caller, Role

ANNA = Caller.person("anna", Role.ADMIN, Role.PLANNER)
LAUNCH = dt.date(2027, 3, 1)


def blog(playbook_id: uuid.UUID, writer: str) -> commands.PlanCampaign:
    return commands.PlanCampaign(playbook_id, "Blog", launch_date=LAUNCH,
                                 assignments={"writer": writer})


def head(app: PlanningApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_campaign_assigning_a_role_to_an_unknown_member_is_refused_naming_the_id(
        planning_app: PlanningApplication) -> None:
    app = planning_app
    app.register_member(commands.RegisterMember("ben", MemberProfile(name="Ben")), ANNA)
    app.register_member(commands.RegisterMember("old", MemberProfile(name="Old", active=False)),
                        ANNA)
    playbook = app.define(shipped_playbooks()["blog-article"], ANNA)
    before = head(app)
    with pytest.raises(InvalidCommand, match=r"assignments\.writer: unknown member 'benn'"):
        app.plan_campaign(blog(playbook.id, "benn"), ANNA)
    with pytest.raises(InvalidCommand, match=r"assignments\.writer: member 'old' is not active"):
        app.plan_campaign(blog(playbook.id, "old"), ANNA)
    routine = RoutineDefinition(name="Weekly", playbook_id=playbook.id, rule="FREQ=WEEKLY",
                                starts_on=LAUNCH, assignments={"writer": "benn"})
    with pytest.raises(InvalidCommand, match="unknown member 'benn'"):
        app.define_routine(routine, ANNA, today=LAUNCH)
    assert head(app) == before
    campaign = app.plan_campaign(blog(playbook.id, "ben"), ANNA)
    assert {task.assignee_id for task in campaign.tasks if task.role == "writer"} == {"ben"}


def test_an_absence_backup_must_be_a_known_active_member(
        planning_app: PlanningApplication) -> None:
    app = planning_app
    app.register_member(commands.RegisterMember("ben", MemberProfile(name="Ben")), ANNA)
    with pytest.raises(InvalidCommand, match="backup_member_id: unknown member 'ghost'"):
        app.record_absence(commands.RecordAbsence("ben", LAUNCH, LAUNCH, "ghost"), ANNA)


def test_putting_the_same_member_or_team_again_records_nothing(
        planning_app: PlanningApplication) -> None:
    app = planning_app
    team = TeamProfile(name="Content Denmark", country="DK", queues=["content"])
    member = MemberProfile(name="Ben", roles=["writer"])
    first_team = app.register_team(commands.RegisterTeam("content-dk", team), ANNA)
    first_member = app.register_member(commands.RegisterMember("ben", member), ANNA)
    before = head(app)
    again_team = app.register_team(commands.RegisterTeam("content-dk", team), ANNA)
    again_member = app.register_member(commands.RegisterMember("ben", member), ANNA)
    assert again_team.version == first_team.version
    assert again_member.version == first_member.version
    assert head(app) == before
    changed = app.register_member(
        commands.RegisterMember("ben", member.model_copy(update={"name": "Ben B."})), ANNA)
    assert changed.version == first_member.version + 1


def test_the_planner_chooses_to_spread_an_absence_by_capacity(
        planning_app: PlanningApplication) -> None:
    """Execution spreads a hand-over by capacity only when the absence says so; planning,
    which records absences, must let the planner say it (it always published false)."""
    app = planning_app
    app.register_member(commands.RegisterMember("ben", MemberProfile(name="Ben")), ANNA)
    app.register_member(commands.RegisterMember("carla", MemberProfile(name="Carla")), ANNA)
    spread = app.record_absence(commands.RecordAbsence(
        "ben", LAUNCH, LAUNCH, "carla", "holiday", spread_by_capacity=True), ANNA)
    plain = app.record_absence(commands.RecordAbsence(
        "ben", LAUNCH + dt.timedelta(days=7), LAUNCH + dt.timedelta(days=7), "carla"), ANNA)
    member = app.member("ben")
    published = [translate(event) for event in app.repository.event_store.get(member.id)]
    recorded = {event.absence_id: event.spread_by_capacity for event in published
                if isinstance(event, contract.AbsenceRecorded)}
    assert recorded == {spread.absence_id: True, plain.absence_id: False}
    with pytest.raises(ValidationError, match="spread_by_capacity"):
        Absence(absence_id=uuid.uuid4(), starts_on=LAUNCH, ends_on=LAUNCH,
                spread_by_capacity=1)  # type: ignore[arg-type]
