"""The calendar and the ICS feeds show who does the work now: after a claim, a
reassignment or an absence hand-over, not the assignee planned at the start."""

from __future__ import annotations

import datetime as dt

from contracts import execution
from services.planning import commands
from services.planning.application import PlanningApplication
from services.planning.calendar_feed import ics_feed
from services.planning.domain import Campaign, MemberProfile, PlaybookSpec
from services.planning.views import CalendarView
from shared.policy import Caller, Role
from tests.harness import LAUNCH_PLAYBOOK
from tests.unit.planning.inbound import from_execution

ANNA = Caller.person("anna", Role.ADMIN, Role.PLANNER)
LAUNCH = dt.date(2027, 3, 1)
WINDOW = (dt.date(2027, 1, 1), dt.date(2027, 4, 1))


def planned(app: PlanningApplication) -> Campaign:
    for member_id in ("ben", "carla", "erin"):
        profile = MemberProfile(name=member_id.title())
        app.register_member(commands.RegisterMember(member_id, profile), ANNA)
    playbook = app.define(PlaybookSpec.model_validate(LAUNCH_PLAYBOOK), ANNA)
    return app.plan_campaign(commands.PlanCampaign(playbook.id, "Launch", launch_date=LAUNCH,
                                                 assignments={"writer": "ben"}), ANNA)


def keys_of(calendar: CalendarView, member_id: str) -> set[str]:
    return {row["key"] for row in calendar.entries(*WINDOW, member_id=member_id)}


def test_claims_reassignments_and_returns_to_the_queue_reach_the_calendar(
        planning_app: PlanningApplication) -> None:
    app = planning_app
    calendar = CalendarView(app)
    campaign = planned(app)
    visuals, brief = campaign.task("visuals"), campaign.task("brief")
    assert visuals.assignee_id is None  # the designer role was not assigned
    assert keys_of(calendar, "ben") == {"brief", "post"}

    claimed = execution.TaskAssigned(task_id=visuals.task_id, campaign_id=campaign.id,
                                     title=visuals.title, assignee_id="carla",
                                     due_date=visuals.due_date, via="claimed")
    assert app.process_inbound(from_execution(claimed, visuals.task_id, actor="carla"))
    away = execution.TaskAssigned(task_id=brief.task_id, campaign_id=campaign.id,
                                  title=brief.title, assignee_id="erin", due_date=brief.due_date,
                                  previous_assignee_id="ben", via="absence")
    assert app.process_inbound(from_execution(away, brief.task_id, actor="system:absences"))
    assert keys_of(calendar, "carla") == {"visuals"}
    assert keys_of(calendar, "erin") == {"brief"}
    assert keys_of(calendar, "ben") == {"post"}
    feed = ics_feed("erin", calendar.entries(*WINDOW, member_id="erin")).decode()
    assert "Assignee: erin" in feed

    back = execution.TaskReturnedToQueue(task_id=visuals.task_id, campaign_id=campaign.id,
                                         previous_assignee_id="carla", queue="design")
    assert app.process_inbound(from_execution(back, visuals.task_id))
    row = next(r for r in calendar.entries(*WINDOW) if r.get("key") == "visuals")
    assert (row["assignee_id"], row["queue"]) == (None, "design")

    assert app.campaign(campaign.id).holder_of(brief.task_id).assignee_id == "erin"


def test_the_same_assignment_again_records_nothing(planning_app: PlanningApplication) -> None:
    app = planning_app
    campaign = planned(app)
    brief = campaign.task("brief")
    as_planned = execution.TaskAssigned(task_id=brief.task_id, campaign_id=campaign.id,
                                        title=brief.title, assignee_id="ben",
                                        due_date=brief.due_date)
    before = app.recorder.max_notification_id()
    app.process_inbound(from_execution(as_planned, brief.task_id))
    assert app.campaign(campaign.id).version == campaign.version
    assert app.recorder.max_notification_id() == before


def test_a_reschedule_keeps_the_current_holder_on_the_calendar(
        planning_app: PlanningApplication) -> None:
    app = planning_app
    calendar = CalendarView(app)
    campaign = planned(app)
    brief = campaign.task("brief")
    reassigned = execution.TaskAssigned(task_id=brief.task_id, campaign_id=campaign.id,
                                        title=brief.title, assignee_id="erin",
                                        due_date=brief.due_date, via="reassigned")
    app.process_inbound(from_execution(reassigned, brief.task_id))
    app.reschedule_campaign(commands.RescheduleCampaign(
        campaign.id, dt.date(2027, 3, 15), not_before=dt.date(2027, 1, 1)), ANNA)
    assert keys_of(calendar, "erin") == {"brief"}
