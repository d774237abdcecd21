"""A playbook task says whether approval completes it; the planned campaign carries that
to execution, and events published before the field existed read as 'true'."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from contracts import planning as contract
from services.planning.domain import PlaybookSpec, define_playbook, plan_campaign
from services.planning.domain.calendar import WorkingCalendar
from services.planning.domain.scheduling import schedule
from services.planning.integration import translate
from shared.domain import EventMeta

ANNA = EventMeta(actor="anna")


def spec() -> PlaybookSpec:
    return PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "draft", "title": "Draft", "role": "writer",
         "approval_chain": [{"role": "editor"}]},
        {"key": "print", "title": "Print", "role": "writer", "depends_on": ["draft"],
         "approval_chain": [{"role": "editor"}], "complete_on_approval": False}]})


def test_the_flag_defaults_to_true_and_travels_in_the_campaign_planned_event() -> None:
    playbook = define_playbook(spec(), ANNA)
    plan = schedule([t.scheduling() for t in spec().tasks], WorkingCalendar(),
                    anchor_date=dt.date(2027, 3, 1))
    campaign = plan_campaign(uuid.uuid4(), playbook.id, 1, spec(), "C", plan, ANNA)
    published = translate(campaign.collect_events()[0])
    assert isinstance(published, contract.CampaignPlanned)
    assert {task.key: task.complete_on_approval for task in published.tasks} == {
        "draft": True, "print": False}
    defined = translate(playbook.collect_events()[0])
    assert isinstance(defined, contract.PlaybookDefined)
    assert [task.complete_on_approval for task in defined.tasks] == [True, False]


def test_a_task_published_before_the_flag_existed_reads_as_complete_on_approval() -> None:
    old = {"task_id": str(uuid.uuid4()), "key": "a", "title": "A", "role": "w",
           "due_date": "2027-03-01", "assignee_id": None}
    assert contract.PlannedTask.model_validate(old).complete_on_approval is True


def test_the_flag_is_a_boolean_not_a_number() -> None:
    with pytest.raises(ValidationError, match="complete_on_approval"):
        PlaybookSpec.model_validate({"name": "P", "tasks": [
            {"key": "a", "title": "A", "role": "w", "complete_on_approval": 0}]})
