"""Execution's task rules, without I/O: lifecycle refusals, approval chains (N of M,
consulted roles, separation of duties), revisions, absences and SLA status."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.execution.domain import Absence, ApprovalStep, Task, sla_status
from shared.domain import Conflict, EventMeta, Forbidden, InvalidCommand

PIA = EventMeta(actor="pia")


def m(actor: str) -> EventMeta:
    return EventMeta(actor=actor)


def task_in_progress(chain: list[ApprovalStep] | None = None,
                     consulted: list[str] | None = None, *,
                     complete_on_approval: bool = True) -> Task:
    task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="post", title="Post",
                role="writer", due_date=dt.date(2027, 5, 1), meta=PIA,
                approval_chain=chain or [], consulted_roles=consulted or [],
                role_members={"brand": ["bea", "bo", "bix"], "legal": ["lee"],
                              "writer": ["ben"]},
                complete_on_approval=complete_on_approval)
    task.make_ready_if_free(PIA)
    task.assign("ben", PIA)
    task.start(m("ben"))
    return task


def test_illegal_transitions_name_the_transition_and_state() -> None:
    task = task_in_progress([ApprovalStep(member_id="lee")])
    with pytest.raises(Conflict, match=r"cannot start task .*: transition in_progress -> "
                                       r"in_progress is not allowed"):
        task.start(m("ben"))
    with pytest.raises(Conflict, match="transition in_progress -> in_review"):
        task.approve("", m("lee"))
    with pytest.raises(Conflict, match="before its approval chain approved"):
        task.complete(m("ben"))
    task.cancel("campaign dropped", PIA)
    with pytest.raises(Conflict, match=r"cannot submit task .*: transition cancelled -> "
                                       "submitted is not allowed"):
        task.submit("doc", "", m("ben"))


def test_predecessors_gate_readiness() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="k", title="T", role="writer",
                due_date=dt.date(2027, 1, 1), meta=PIA, depends_on=[first, second])
    task.make_ready_if_free(PIA)
    assert task.status == "planned"
    task.predecessor_finished(first, PIA)
    assert task.status == "planned"
    task.predecessor_finished(second, PIA)
    assert task.status == "ready"


def test_n_of_m_step_then_named_member_with_consulted_role() -> None:
    chain = [ApprovalStep(role="brand", required_approvals=2), ApprovalStep(member_id="lee")]
    task = task_in_progress(chain, consulted=["legal"], complete_on_approval=False)
    task.submit("https://docs/post-v1", "first draft", m("ben"))
    assert task.pending_approvers() == {"bea", "bo", "bix"}
    task.approve("nice", m("bea"))
    assert (task.status, task.current_step) == ("in_review", 0)
    with pytest.raises(Conflict, match="consulted roles legal have not commented"):
        task.approve("", m("bo"))
    task.comment("legal has no objections", m("lee"))
    task.approve("", m("bo"))
    assert task.current_step == 1 and task.pending_approvers() == {"lee"}
    task.approve("", m("lee"))
    assert task.status == "approved"
    task.complete(m("ben"))
    assert task.status == "done"


def test_separation_of_duties() -> None:
    chain = [ApprovalStep(role="brand"), ApprovalStep(role="brand")]
    task = task_in_progress(chain)
    task.role_members["brand"].append("ben")
    task.submit("doc", "", m("ben"))
    with pytest.raises(Forbidden, match=r"ben submitted version 1 .* cannot review it"):
        task.approve("", m("ben"))
    task.approve("", m("bea"))
    with pytest.raises(Forbidden, match=r"bea already approved step 1 .* cannot act on step 2"):
        task.approve("", m("bea"))
    with pytest.raises(Forbidden, match="zed is not an approver of step 2"):
        task.approve("", m("zed"))
    task.approve("", m("bo"))
    assert task.status == "done"


def test_changes_requested_count_rounds_and_a_new_submission_restarts_the_chain() -> None:
    chain = [ApprovalStep(role="brand"), ApprovalStep(member_id="lee")]
    task = task_in_progress(chain)
    task.submit("v1", "", m("ben"))
    task.approve("", m("bea"))
    with pytest.raises(InvalidCommand, match="say what should change"):
        task.request_changes(" ", m("lee"))
    task.request_changes("tone it down", m("lee"))
    assert (task.status, task.revision_round) == ("in_progress", 1)
    task.submit("v2", "calmer", m("ben"))
    assert task.current_step == 0 and task.submission is not None
    assert task.submission.version == 2
    assert task.pending_approvers() == {"bea", "bo", "bix"}  # bea may approve v2 again


def test_block_keeps_the_state_to_resume() -> None:
    task = task_in_progress()
    with pytest.raises(InvalidCommand, match="what blocks"):
        task.block("", m("ben"))
    task.block("waiting for product photos", m("ben"))
    assert (task.status, task.blocked_reason) == ("blocked", "waiting for product photos")
    with pytest.raises(Conflict, match="transition blocked -> submitted"):
        task.submit("doc", "", m("ben"))
    task.unblock(m("ben"))
    assert task.status == "in_progress"


def test_delegated_approvals_go_to_the_backup() -> None:
    task = task_in_progress([ApprovalStep(member_id="lee")])
    task.delegate_approvals("lee", "lou", PIA)
    task.submit("doc", "", m("ben"))
    assert task.pending_approvers() == {"lou"}
    with pytest.raises(Forbidden, match="lee is not an approver"):
        task.approve("", m("lee"))
    task.approve("", m("lou"))
    assert task.status == "done"


def test_claims_and_reassignments() -> None:
    task = task_in_progress()
    with pytest.raises(Conflict, match="already assigned to ben"):
        task.claim(m("bo"))
    with pytest.raises(InvalidCommand, match="needs a reason"):
        task.reassign("bo", PIA)
    task.reassign("bo", PIA.model_copy(update={"reason": "ben moved to events"}))
    task.return_to_queue(PIA)
    assert task.assignee_id is None
    task.claim(m("ben"))
    assert task.assignee_id == "ben"


def test_absence_is_due_only_within_its_days() -> None:
    absence = Absence(id=uuid.uuid4(), member_id="ben", starts_on=dt.date(2027, 1, 4),
                      ends_on=dt.date(2027, 1, 8), backup_member_id=None, reason=None,
                      meta=PIA)
    assert not absence.due(dt.date(2027, 1, 3))
    assert absence.due(dt.date(2027, 1, 4))
    assert not absence.due(dt.date(2027, 1, 9))
    absence.start(PIA)
    assert not absence.due(dt.date(2027, 1, 5))


@pytest.mark.parametrize(("state", "today", "finished", "expected"), [
    ("ready", dt.date(2027, 4, 1), None, "on_time"),
    ("in_progress", dt.date(2027, 4, 29), None, "at_risk"),
    ("blocked", dt.date(2027, 4, 1), None, "at_risk"),
    ("ready", dt.date(2027, 4, 20), None, "at_risk"),  # should have started on the 10th
    ("in_review", dt.date(2027, 5, 2), None, "late"),
    ("done", dt.date(2027, 6, 1), dt.date(2027, 4, 30), "on_time"),
    ("done", dt.date(2027, 6, 1), dt.date(2027, 5, 3), "late"),
    ("cancelled", dt.date(2027, 6, 1), None, None),
])
def test_sla_status(state: str, today: dt.date, finished: dt.date | None,
                    expected: str | None) -> None:
    assert sla_status(state, dt.date(2027, 5, 1), dt.date(2027, 4, 10), today,
                      finished) == expected


def test_a_revision_that_drops_the_chain_approves_the_submission() -> None:
    task = task_in_progress([ApprovalStep(member_id="lee")], complete_on_approval=False)
    task.submit("doc", "", m("ben"))
    later = dt.date(2027, 5, 8)
    task.revise(title="Post", description="", role="writer", due_date=later, start_date=None,
                depends_on=[], queue=None, approval_chain=[], consulted_roles=[],
                role_members={}, deliverable=None, meta=PIA, complete_on_approval=False)
    assert (task.status, task.due_date) == ("approved", later)
    with pytest.raises(Conflict, match="transition approved -> in_review"):
        task.approve("", m("lee"))


def test_a_consulted_role_nobody_holds_does_not_hold_the_approval_up() -> None:
    task = task_in_progress([ApprovalStep(member_id="lee")], consulted=["legal", "sales"],
                            complete_on_approval=False)
    task.submit("https://docs/post-v1", "first draft", m("ben"))
    with pytest.raises(Conflict, match="consulted roles legal have not commented"):
        task.approve("", m("lee"))  # legal has a holder: asked; sales has none
    task.comment("fine by legal", m("lee"))
    task.approve("", m("lee"))
    assert task.status == "approved"
