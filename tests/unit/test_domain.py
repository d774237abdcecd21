"""Domain rules, without any I/O."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from services.execution.domain import Task
from services.planning.domain import TaskTemplate, define_playbook, plan_campaign
from shared.domain import Conflict, EventMeta, Forbidden, InvalidCommand

ANNA = EventMeta(actor="anna")
BEN = EventMeta(actor="ben")


def template(key: str, role: str = "writer", offset: int = 0) -> TaskTemplate:
    return TaskTemplate(key=key, title=key.title(), role=role, offset_days=offset)


def test_campaign_dates_and_assignees_come_from_playbook_and_mapping() -> None:
    playbook = define_playbook("Launch", [template("brief", offset=-10),
                                          template("visual", "designer", -3)], ANNA)
    campaign_id = uuid.uuid4()
    campaign = plan_campaign(campaign_id, playbook, "Q1", dt.date(2027, 3, 1),
                             {"writer": "ben"}, ANNA)
    assert campaign.id == campaign_id
    assert [(t.key, t.due_date, t.assignee_id) for t in campaign.tasks] == [
        ("brief", dt.date(2027, 2, 19), "ben"), ("visual", dt.date(2027, 2, 26), None)]
    # Task ids are derived, so execution names the same tasks after any redelivery.
    assert campaign.tasks[0].task_id == uuid.uuid5(campaign_id, "brief")


def test_playbook_validation_names_the_problem() -> None:
    with pytest.raises(InvalidCommand, match="at least one task"):
        define_playbook("Empty", [], ANNA)
    with pytest.raises(InvalidCommand, match="duplicate task keys a"):
        define_playbook("Dup", [template("a"), template("a")], ANNA)
    playbook = define_playbook("Ok", [template("a")], ANNA)
    with pytest.raises(InvalidCommand, match="roles legal are not in playbook"):
        plan_campaign(uuid.uuid4(), playbook, "C", dt.date(2027, 1, 1), {"legal": "x"}, ANNA)


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
