"""Planning refuses a campaign whose approval chain could only dead-end: every step needs
its N approvers other than the submitter, and nobody approves two steps of one chain."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.planning.domain import PlaybookSpec, Staffing, define_playbook, plan_campaign
from services.planning.domain.calendar import WorkingCalendar
from services.planning.domain.campaign import Campaign
from services.planning.domain.scheduling import schedule
from services.planning.playbook_files import shipped_playbooks
from shared.domain import EventMeta, InvalidCommand

ANNA = EventMeta(actor="anna")


def plan(spec: PlaybookSpec, staffing: Staffing, team_id: str | None = "marketing-dk"
         ) -> Campaign:
    playbook = define_playbook(spec, ANNA)
    dated = schedule([t.scheduling() for t in spec.tasks], WorkingCalendar(country="DK"),
                     anchor_date=dt.date(2027, 5, 3))
    return plan_campaign(uuid.uuid4(), playbook.id, 1, spec, "Launch", dated, ANNA,
                         staffing=staffing, team_id=team_id)


def one_task(*chain: dict[str, object]) -> PlaybookSpec:
    return PlaybookSpec.model_validate({"name": "P", "tasks": [
        {"key": "copy", "title": "Copy", "role": "writer", "approval_chain": list(chain)}]})


def test_the_submitter_as_the_only_approver_of_a_step_is_refused_naming_the_step() -> None:
    # The manager planned as both product marketer and marketing manager.
    staffing = Staffing(assignments={"product-marketer": "anna", "marketing-manager": "anna",
                                     "writer": "ben", "designer": "carla"},
                        directory={"brand": ["dave"], "legal": ["lena"]})
    with pytest.raises(InvalidCommand,
                       match=r"tasks\.positioning\.approval_chain\.1: step 1 "
                             r"\(marketing-manager\) needs 1 approver\(s\) other than the "
                             r"submitter \(anna\).*eligible: nobody"):
        plan(shipped_playbooks()["product-launch"], staffing)


def test_an_n_of_m_step_needs_n_approvers_besides_the_submitter() -> None:
    spec = one_task({"role": "legal", "required_approvals": 2})
    plan(spec, Staffing(assignments={"writer": "ben"},
                        directory={"legal": ["lena", "leo", "lee"]}))
    with pytest.raises(InvalidCommand, match=r"approval_chain\.1: .*eligible: leo"):
        plan(spec, Staffing(assignments={"writer": "lena"}, directory={"legal": ["lena", "leo"]}))


def test_nobody_approves_two_steps_of_one_chain() -> None:
    spec = one_task({"role": "editor"}, {"role": "brand"})
    with pytest.raises(InvalidCommand, match=r"tasks\.copy\.approval_chain\.2: step 2 \(brand\)"):
        plan(spec, Staffing(assignments={"writer": "ben"},
                            directory={"editor": ["anna"], "brand": ["anna"]}))
    # With a second brand approver both steps can be filled by different people.
    plan(spec, Staffing(assignments={"writer": "ben"},
                        directory={"editor": ["anna"], "brand": ["anna", "dave"]}))


def test_without_a_team_only_assigned_approver_roles_are_checked() -> None:
    spec = one_task({"role": "editor"})
    plan(spec, Staffing(assignments={"writer": "ben"}), team_id=None)  # resolved later
    with pytest.raises(InvalidCommand, match=r"approval_chain\.1: step 1 \(editor\)"):
        plan(spec, Staffing(assignments={"writer": "ben", "editor": "ben"}), team_id=None)
