"""Domain rules, without any I/O."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from services.execution.domain import Task
from services.planning.domain import (
    Campaign,
    Playbook,
    PlaybookSpec,
    Staffing,
    TaskTemplate,
    define_playbook,
    plan_campaign,
)
from services.planning.domain.calendar import WorkingCalendar
from services.planning.domain.scheduling import schedule
from shared.domain import Conflict, EventMeta, Forbidden, InvalidCommand

ANNA = EventMeta(actor="anna")
BEN = EventMeta(actor="ben")


def template(key: str, role: str = "writer", offset: int = 0) -> TaskTemplate:
    return TaskTemplate(key=key, title=key.title(), role=role, offset_days=offset)


def planned(playbook: Playbook, launch: dt.date, assignments: dict[str, str]) -> Campaign:
    plan = schedule([t.scheduling() for t in playbook.tasks], WorkingCalendar(),
                    anchor_date=launch)
    return plan_campaign(uuid.uuid4(), playbook.id, 1, playbook.spec, "Q1", plan, ANNA,
                         staffing=Staffing(assignments=assignments))


def test_campaign_dates_and_assignees_come_from_playbook_and_mapping() -> None:
    playbook = define_playbook(PlaybookSpec(name="Launch", tasks=[
        template("brief", offset=-10), template("visual", "designer", -3)]), ANNA)
    campaign = planned(playbook, dt.date(2027, 3, 1), {"writer": "ben"})
    # offset_days counts working days: 2027-03-01 is a Monday.
    assert [(t.key, t.due_date, t.assignee_id) for t in campaign.tasks] == [
        ("brief", dt.date(2027, 2, 15), "ben"), ("visual", dt.date(2027, 2, 24), None)]
    # Task ids are derived, so execution names the same tasks after any redelivery.
    assert campaign.tasks[0].task_id == uuid.uuid5(campaign.id, "brief")


def test_playbook_validation_names_the_problem() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        PlaybookSpec(name="Empty", tasks=[])
    with pytest.raises(InvalidCommand, match="duplicate task keys a"):
        define_playbook(PlaybookSpec(name="Dup", tasks=[template("a"), template("a")]), ANNA)
    playbook = define_playbook(PlaybookSpec(name="Ok", tasks=[template("a")]), ANNA)
    with pytest.raises(InvalidCommand, match="roles legal are not in playbook"):
        planned(playbook, dt.date(2027, 1, 1), {"legal": "x"})


def opened_task() -> Task:
    task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="brief", title="Brief",
                role="writer", due_date=dt.date(2027, 1, 1), meta=ANNA)
    task.make_ready_if_free(ANNA)
    task.assign("ben", ANNA)
    task.start(BEN)
    return task


def test_only_the_assignee_completes_and_only_once() -> None:
    task = opened_task()
    with pytest.raises(Forbidden, match="only the assignee"):
        task.complete(ANNA)
    task.complete(BEN)
    assert (task.status, task.completed_by) == ("done", "ben")
    with pytest.raises(Conflict, match="done -> done"):
        task.complete(BEN)
    with pytest.raises(Conflict, match="cannot assign"):
        task.assign("carla", ANNA)


def test_every_event_carries_its_actor() -> None:
    task = opened_task()
    task.complete(BEN)
    assert [event.meta.actor for event in task.collect_events()] == [  # type: ignore[attr-defined]
        "anna", "anna", "anna", "ben", "ben"]
    with pytest.raises(ValidationError):
        EventMeta(actor="")
