"""Campaigns planned on a calendar: holidays, staffing, rescheduling, versions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.planning.domain import (
    Campaign,
    PlaybookSpec,
    Staffing,
    define_playbook,
    plan_campaign,
    planned_tasks,
)
from services.planning.domain.calendar import WorkingCalendar
from services.planning.domain.scheduling import schedule
from services.planning.playbook_files import shipped_playbooks
from shared.domain import Conflict, EventMeta, InvalidCommand

ANNA = EventMeta(actor="anna")
FINLAND = WorkingCalendar(country="FI")


def plan(spec: PlaybookSpec, launch: dt.date, calendar: WorkingCalendar = FINLAND,
         staffing: Staffing | None = None, not_before: dt.date | None = None) -> Campaign:
    playbook = define_playbook(spec, ANNA)
    dated = schedule([t.scheduling() for t in spec.tasks], calendar, anchor_date=launch,
                     not_before=not_before)
    return plan_campaign(uuid.uuid4(), playbook.id, 1, spec, "C", dated, ANNA,
                         staffing=staffing)


def test_finnish_holidays_and_closed_days_are_skipped() -> None:
    spec = PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "a", "title": "A", "role": "w", "duration_days": 3},
        {"key": "b", "title": "B", "role": "w", "depends_on": ["a"],
         "date_rule": {"kind": "anchor", "offset_working_days": 0}}]})
    # Launch Tuesday 2026-12-08; Independence Day (Sun 6th) and a closed Monday 7th.
    calendar = WorkingCalendar(country="FI", closed_days=[dt.date(2026, 12, 7)])
    campaign = plan(spec, dt.date(2026, 12, 8), calendar)
    assert campaign.task("b").due_date == dt.date(2026, 12, 8)
    assert (campaign.task("a").start_date, campaign.task("a").due_date) == (
        dt.date(2026, 12, 2), dt.date(2026, 12, 4))
    assert calendar.why_closed(dt.date(2026, 12, 24)) == "public holiday: Christmas Eve"


def test_the_plan_reports_its_critical_path_and_what_cannot_fit() -> None:
    spec = shipped_playbooks()["product-launch"]
    launch = dt.date(2027, 3, 15)
    campaign = plan(spec, launch, not_before=dt.date(2027, 2, 1))
    assert campaign.critical_path[0] == "positioning"
    assert campaign.critical_path[-1] == "retro"
    assert [unfit.key for unfit in campaign.unfit] == ["positioning"]
    assert "before 2027-02-01" in campaign.unfit[0].reason


def test_staffing_maps_roles_to_members_queues_and_approvers() -> None:
    spec = shipped_playbooks()["product-launch"]
    staffing = Staffing(assignments={"writer": "ben"}, queues={"designer": "design"},
                        directory={"legal": ["lena", "leo"], "marketing-manager": ["anna"]})
    playbook = define_playbook(spec, ANNA)
    dated = schedule([t.scheduling() for t in spec.tasks], FINLAND,
                     anchor_date=dt.date(2027, 5, 3))
    campaign = plan_campaign(uuid.uuid4(), playbook.id, 1, spec, "C", dated, ANNA,
                             staffing=staffing, team_queues=["design"])
    release = campaign.task("press-release")
    assert release.assignee_id == "ben"
    assert [step.role for step in release.approval_chain] == ["marketing-manager", "legal"]
    assert release.role_members == {"legal": ["lena", "leo"], "marketing-manager": ["anna"],
                                    "writer": ["ben"]}
    assert campaign.task("key-visuals").queue == "design"
    assert campaign.task("landing-page").depends_on == [
        campaign.task("key-visuals").task_id, campaign.task("press-release").task_id]
    with pytest.raises(InvalidCommand, match=r"queues.designer: the team has no queue 'design'"):
        plan_campaign(uuid.uuid4(), playbook.id, 1, spec, "C", dated, ANNA, staffing=staffing,
                      team_queues=["content"])
    with pytest.raises(InvalidCommand, match="needs a team_id"):
        plan_campaign(uuid.uuid4(), playbook.id, 1, spec, "C", dated, ANNA, staffing=staffing)


def test_moving_the_launch_moves_only_tasks_not_done() -> None:
    spec = shipped_playbooks()["blog-article"]
    campaign = plan(spec, dt.date(2027, 4, 1))
    outline = campaign.task("outline")
    campaign.record_task_progress(outline.task_id, "done", ANNA)
    moved = dt.date(2027, 4, 15)
    dated = schedule([t.scheduling() for t in spec.tasks], FINLAND, anchor_date=moved,
                     keep=campaign.done_dates())
    campaign.reschedule(moved, dated, ANNA)
    assert campaign.task("outline") == outline
    assert campaign.task("publish").due_date == dt.date(2027, 4, 15)
    event = campaign.collect_events()[-1]
    assert {task.key for task in event.updated} == {  # type: ignore[attr-defined]
        "draft", "expert-review", "edit-and-approve", "publish"}
    with pytest.raises(InvalidCommand, match="already launches on 2027-04-15"):
        campaign.reschedule(moved, dated, ANNA)


def test_migrating_to_a_new_version_changes_only_tasks_not_started() -> None:
    v1 = PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "a", "title": "A", "role": "w"},
        {"key": "b", "title": "B", "role": "w", "depends_on": ["a"]},
        {"key": "c", "title": "C", "role": "w"}]})
    v2 = PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "a", "title": "A, revised", "role": "w"},
        {"key": "b", "title": "B, revised", "role": "w", "depends_on": ["a"]},
        {"key": "d", "title": "D", "role": "w"}]})
    campaign = plan(v1, dt.date(2027, 6, 1))
    campaign.record_task_progress(campaign.task("a").task_id, "done", ANNA)
    dated = schedule([t.scheduling() for t in v2.tasks], FINLAND,
                     anchor_date=campaign.launch_date, keep=campaign.started_dates())
    campaign.migrate(2, planned_tasks(campaign.id, v2, dated, campaign.staffing), [], ANNA)
    titles = {task.key: task.title for task in campaign.tasks}
    assert titles == {"a": "A", "b": "B, revised", "d": "D"}
    assert campaign.playbook_version == 2


def test_a_task_in_progress_is_left_alone_by_a_version_move() -> None:
    v1 = PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "a", "title": "A", "role": "w"}, {"key": "c", "title": "C", "role": "w"}]})
    v2 = PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "a", "title": "A, revised", "role": "w"},
        {"key": "c", "title": "C, revised", "role": "w"}]})
    campaign = plan(v1, dt.date(2027, 6, 1))
    # What execution's task.started event records (see services/planning/handlers.py).
    campaign.record_task_progress(campaign.task("a").task_id, "in_progress", ANNA)
    dated = schedule([t.scheduling() for t in v2.tasks], FINLAND,
                     anchor_date=campaign.launch_date, keep=campaign.started_dates())
    campaign.migrate(2, planned_tasks(campaign.id, v2, dated, campaign.staffing), [], ANNA)
    assert {task.key: task.title for task in campaign.tasks} == {"a": "A", "c": "C, revised"}


def test_a_campaign_whose_open_work_was_cancelled_can_complete() -> None:
    spec = shipped_playbooks()["blog-article"]
    campaign = plan(spec, dt.date(2027, 4, 1))
    first, *rest = campaign.tasks
    campaign.record_task_progress(first.task_id, "done", ANNA)
    for task in rest:
        campaign.record_task_progress(task.task_id, "cancelled", ANNA)
    campaign.complete(ANNA)
    assert campaign.status == "completed"


def test_cancel_and_complete_are_guarded_transitions() -> None:
    spec = shipped_playbooks()["blog-article"]
    campaign = plan(spec, dt.date(2027, 4, 1))
    with pytest.raises(Conflict, match="tasks outline, draft"):
        campaign.complete(ANNA)
    with pytest.raises(InvalidCommand, match="reason"):
        campaign.cancel("  ", ANNA)
    campaign.cancel("budget cut", ANNA)
    with pytest.raises(Conflict, match="cannot cancel a cancelled campaign"):
        campaign.cancel("again", ANNA)
    done = plan(spec, dt.date(2027, 4, 1))
    for task in done.tasks:
        done.record_task_progress(task.task_id, "done", ANNA)
    done.complete(ANNA)
    assert done.status == "completed"


def test_goals_validate_kind_weight_and_kpi_period() -> None:
    from pydantic import ValidationError

    from services.planning.domain import GoalDefinition, Measurement, define_goal

    definition = GoalDefinition.model_validate({
        "name": "Awareness", "kind": "awareness", "weight": 30,
        "kpi": {"name": "visits", "target": 1000, "period_start": "2027-01-01",
                "period_end": "2027-12-31"}})
    goal = define_goal(definition, ANNA)
    goal.record_measurement(Measurement(value=250, measured_on=dt.date(2027, 5, 1),
                                        source="crm", external_id="x1"), ANNA,
                            today=dt.date(2027, 12, 31))
    assert goal.attainment_percent == 25.0
    with pytest.raises(Conflict, match="already reported x1"):
        goal.record_measurement(Measurement(value=1, measured_on=dt.date(2027, 5, 2),
                                            source="crm", external_id="x1"), ANNA,
                                today=dt.date(2027, 12, 31))
    with pytest.raises(ValidationError, match="period_end must be on or after"):
        GoalDefinition.model_validate({**definition.model_dump(), "kpi": {
            **definition.kpi.model_dump(), "period_end": "2026-01-01"}})


def test_a_playbook_tasks_reminder_lead_reaches_the_planned_task_event() -> None:
    from services.planning.integration import _campaign_planned, _playbook

    data = shipped_playbooks()["blog-article"].model_dump()
    first = data["phases"][0]["tasks"][0]
    first["reminder_days"] = 4
    spec = PlaybookSpec.model_validate(data)
    campaign = plan(spec, dt.date(2025, 9, 1))
    [planned] = [event for event in campaign.collect_events()
                 if type(event).__name__ == "Planned"]
    published = _campaign_planned(planned)
    leads = {task.key: task.reminder_days for task in published.tasks}
    assert leads[first["key"]] == 4
    assert {lead for key, lead in leads.items() if key != first["key"]} == {None}
    playbook = define_playbook(spec, ANNA)
    [defined] = playbook.collect_events()
    templates = {task.key: task.reminder_days for task in _playbook(defined).tasks}
    assert templates[first["key"]] == 4
