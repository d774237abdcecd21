"""Execution's use cases against its real (SQLite) store, planning's events applied through
the inbox: roles resolved at the time of need, escalation of stuck approval steps, N-of-M
approvals that commute, members validated against the directory, team managers managing
their team's work, absences that respect capacity, and approval that completes a task."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.execution.application import ExecutionApplication
from services.execution.commands import (
    ApproveTask,
    CancelTask,
    ClaimTask,
    ReassignTask,
    SetWipLimit,
    StartTask,
    SubmitTask,
)
from services.execution.domain import ApprovalStep, Task
from shared.domain import Conflict, EventMeta, Forbidden, InvalidCommand, NotFound
from tests.unit.execution_support import Planning, execution, history, kinds, planned, step


def m(actor: str) -> EventMeta:
    return EventMeta(actor=actor)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ExecutionApplication]:
    application = execution(tmp_path)
    yield application
    application.close()


@pytest.fixture
def planning(app: ExecutionApplication) -> Planning:
    return Planning(app)


def submitted(app: ExecutionApplication, task_id: uuid.UUID, by: str = "ben") -> Task:
    app.start_task(StartTask(task_id=task_id), app.caller(by))
    return app.submit_task(SubmitTask(task_id=task_id, reference="doc://v1"), app.caller(by))


# --- 1. role holders resolved at the time of need -----------------------------------------


def test_a_role_given_later_in_the_directory_reaches_a_running_campaign(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("ben", "writer")
    planning.member("lee", "legal")
    post = planned("post", approval_chain=[step(role="legal")],
                   role_members={"legal": ["lee"]})
    planning.campaign(post)
    task = submitted(app, post.task_id)
    assert task.pending_approvers() == {"lee"}

    planning.member("lou", "legal")  # lou becomes a lawyer after the campaign was planned
    approved = app.approve_task(ApproveTask(task_id=post.task_id), app.caller("lou"))
    assert approved.step_approvals[0] == ["lou"] and approved.status == "done"
    resolved = [e for e in history(app, post.task_id) if type(e).__name__ ==
                "RoleHoldersResolved"][-1]
    assert resolved.role_members["legal"] == ["lee", "lou"]
    assert resolved.meta.actor == "lou" and "at approval" in (resolved.meta.reason or "")


def test_a_member_who_left_no_longer_holds_the_role(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("ben", "writer")
    planning.member("lee", "legal")
    planning.member("lou", "legal")
    post = planned("post", approval_chain=[step(role="legal")],
                   role_members={"legal": ["lee", "lou"]})
    planning.campaign(post)
    planning.member("lou", "legal", active=False)
    submitted(app, post.task_id)
    with pytest.raises(Forbidden, match=r"lou may not task\.approve"):
        app.approve_task(ApproveTask(task_id=post.task_id), app.caller("lou"))


def test_an_unassigned_task_goes_to_the_only_holder_of_its_role_and_says_so(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("ben", "writer")
    brief = planned("brief", assignee=None)
    several = planned("visual", assignee=None, role="designer")
    planning.member("carla", "designer")
    planning.member("dave", "designer")
    planning.campaign(brief, several)
    assert app.task(brief.task_id).assignee_id == "ben"
    assigned = next(e for e in history(app, brief.task_id) if type(e).__name__ == "Assigned")
    assert assigned.role_holders == ["ben"]
    assert "only holder of role 'writer'" in (assigned.meta.reason or "")
    assert app.task(several.task_id).assignee_id is None  # two designers: it waits
    assert [row["key"] for row in app.board.queue("designer", app.today()).rows] == ["visual"]


def test_a_member_of_the_team_owning_a_queue_claims_without_the_role(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.team("marketing-fi", queues=("content",))
    planning.member("ben", "writer", teams=("marketing-fi",))
    planning.member("olga", "writer", teams=("sales",))
    launch = planned("launch-copy", assignee=None, role="product-marketer", queue="content")
    planning.campaign(launch)
    with pytest.raises(Forbidden, match=r"olga may not task\.claim"):
        app.claim_task(ClaimTask(task_id=launch.task_id), app.caller("olga"))
    claimed = app.claim_task(ClaimTask(task_id=launch.task_id), app.caller("ben"))
    assert claimed.assignee_id == "ben"
    assigned = history(app, launch.task_id)[-1]
    assert "team marketing-fi, which owns queue 'content'" in assigned.meta.reason


# --- 2. a step nobody can satisfy is escalated to the campaign's planner -------------------


def test_a_step_only_the_submitter_could_approve_is_escalated_to_the_planner(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("anna", "marketing-manager", teams=("marketing-dk",))
    planning.member("max", "product-marketer", "marketing-manager", teams=("marketing-se",))
    sheet = planned("sheet", assignee="max", role="product-marketer",
                    approval_chain=[step(role="marketing-manager")],
                    role_members={"marketing-manager": ["max"]})
    planning.campaign(sheet, team_id="marketing-se", actor="pia")  # anna: another team
    task = submitted(app, sheet.task_id, by="max")
    escalated = history(app, sheet.task_id)[-1]
    assert type(escalated).__name__ == "ApprovalStepEscalated"
    assert (escalated.escalated_to, escalated.step_index, escalated.meta.actor) == (
        "pia", 0, "max")
    assert "max submitted it" in escalated.meta.reason
    assert task.pending_approvers() == {"pia"}
    app.approve_task(ApproveTask(task_id=sheet.task_id, comment="ok for launch"), app.caller("pia"))
    assert app.task(sheet.task_id).status == "done"


def test_an_n_of_m_step_left_with_too_few_approvers_is_escalated(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("ben", "writer", "legal")
    planning.member("lee", "legal")
    post = planned("post", approval_chain=[step(role="legal", required=2)],
                   role_members={"legal": ["ben", "lee"]})
    planning.campaign(post)
    submitted(app, post.task_id)  # ben submits: only lee is left for 2 approvals
    assert kinds(history(app, post.task_id))[-1] == "ApprovalStepEscalated"
    assert app.task(post.task_id).escalated_to(0) == "anna"


def test_a_planner_who_submitted_the_work_does_not_decide_it_the_team_manager_does(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.team("marketing-dk", manager_id="mette")
    planning.member("mette", "planner", teams=("marketing-dk",))
    planning.member("anna", "marketing-manager", teams=("marketing-dk",))
    sheet = planned("sheet", assignee="anna", role="marketing-manager",
                    approval_chain=[step(role="marketing-manager")])
    planning.campaign(sheet, team_id="marketing-dk", actor="anna")
    submitted(app, sheet.task_id, by="anna")  # anna planned, did and would approve it
    assert app.task(sheet.task_id).escalated_to(0) == "mette"


# --- 3. approvals of one N-of-M step commute -------------------------------------------------


def two_of_three(app: ExecutionApplication, planning: Planning) -> uuid.UUID:
    planning.member("ben", "writer")
    visual = planned("visual", approval_chain=[step(role="brand", required=2)],
                     role_members={"brand": ["bea", "bo", "bix"]})
    planning.campaign(visual)
    submitted(app, visual.task_id)
    return visual.task_id


def test_two_approvals_of_a_2_of_3_step_at_once_both_succeed(
        app: ExecutionApplication, planning: Planning, monkeypatch: pytest.MonkeyPatch) -> None:
    task_id = two_of_three(app, planning)
    loads = 0
    original = ExecutionApplication.task

    def task_with_a_concurrent_approver(self: Any, wanted: uuid.UUID,
                                        expected_version: int | None = None) -> Task:
        nonlocal loads
        loads += 1
        stale = original(self, wanted, expected_version)
        if loads == 2:  # bo's approval lands between bea's load and save
            fresh = original(self, wanted)
            fresh.approve("", m("bo"))
            self.save(fresh)
        return stale

    monkeypatch.setattr(ExecutionApplication, "task", task_with_a_concurrent_approver)
    approved = app.approve_task(ApproveTask(task_id=task_id), app.caller("bea"))
    assert sorted(approved.step_approvals[0]) == ["bea", "bo"]
    assert approved.status == "done"


def test_an_approval_on_the_version_seen_still_counts_after_another_approval(
        app: ExecutionApplication, planning: Planning) -> None:
    task_id = two_of_three(app, planning)
    seen = app.task(task_id).version
    app.approve_task(ApproveTask(task_id=task_id, expected_version=seen), app.caller("bea"))
    app.approve_task(ApproveTask(task_id=task_id, expected_version=seen), app.caller("bo"))
    assert app.task(task_id).status == "done"


def test_true_conflicts_stay_409(app: ExecutionApplication, planning: Planning) -> None:
    task_id = two_of_three(app, planning)
    seen = app.task(task_id).version
    app.approve_task(ApproveTask(task_id=task_id), app.caller("bea"))
    with pytest.raises(Conflict, match="bea already approved step 1 of submission 1"):
        app.approve_task(ApproveTask(task_id=task_id), app.caller("bea"))
    app.approve_task(ApproveTask(task_id=task_id), app.caller("bo"))
    before = app.max_notification_id()
    with pytest.raises(Conflict):  # the step (and chain) completed meanwhile
        app.approve_task(ApproveTask(task_id=task_id, expected_version=seen), app.caller("bix"))
    with pytest.raises(Conflict, match=r"version \d+ \(it is at version"):
        app.approve_task(ApproveTask(task_id=task_id, expected_version=999), app.caller("bix"))
    assert app.max_notification_id() == before


def test_a_step_completed_meanwhile_is_a_conflict_for_the_approver_who_saw_it() -> None:
    """Domain: an approval names the step it saw; a step completed meanwhile refuses it."""
    task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="k", title="T", role="writer",
                due_date=planned("x").due_date, meta=m("pia"),
                approval_chain=[ApprovalStep(role="brand"), ApprovalStep(role="legal")],
                role_members={"brand": ["bea", "bo"], "legal": ["lee"]})
    task.make_ready_if_free(m("pia"))
    task.assign("ben", m("pia"))
    task.start(m("ben"))
    task.submit("doc", "", m("ben"))
    seen = task.review_target()
    task.approve("", m("bea"))
    with pytest.raises(Conflict, match=r"cannot approve step 1 of submission 1 .* meanwhile"):
        task.approve("", m("bo"), seen)


# --- 5. people named in execution are in its directory ---------------------------------------


def test_reassigning_to_an_unknown_or_departed_member_is_a_422_naming_them(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("anna", "planner")
    planning.member("ben", "writer")
    planning.member("old", "writer", active=False)
    brief = planned("brief")
    planning.campaign(brief)
    before = app.max_notification_id()
    with pytest.raises(InvalidCommand, match="assignee_id: member 'ghost' is not in the team "
                                             "directory"):
        app.reassign_task(ReassignTask(task_id=brief.task_id, assignee_id="ghost",
                                       reason="ben is ill"), app.caller("anna"))
    with pytest.raises(InvalidCommand, match="'old' is no longer active"):
        app.reassign_task(ReassignTask(task_id=brief.task_id, assignee_id="old",
                                       reason="ben is ill"), app.caller("anna"))
    with pytest.raises(NotFound, match="member 'ghost' is not in the team directory"):
        app.set_wip_limit(SetWipLimit(member_id="ghost", limit=3), app.caller("anna"))
    assert app.max_notification_id() == before


# --- 13. the team's manager manages the team's work -------------------------------------------


def test_the_team_manager_reassigns_cancels_and_sets_wip_limits(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.team("marketing-fi", queues=("content",), manager_id="anna")
    planning.member("anna", "marketing-manager", "editor", teams=("marketing-fi",))
    planning.member("ben", "writer", teams=("marketing-fi",), manager_id="anna")
    planning.member("carla", "designer", teams=("marketing-fi",), manager_id="anna")
    brief, post = planned("brief"), planned("post")
    planning.campaign(brief, post, team_id="marketing-fi", actor="pia")

    moved = app.reassign_task(ReassignTask(task_id=brief.task_id, assignee_id="carla",
                                           reason="ben is on the webinar"), app.caller("anna"))
    assert moved.assignee_id == "carla"
    anna = app.caller("anna")
    cancelled = app.cancel_task(CancelTask(task_id=post.task_id, reason="dropped"), anna)
    assert cancelled.status == "cancelled"
    assert app.set_wip_limit(SetWipLimit(member_id="ben", limit=2), anna).wip_limit == 2
    with pytest.raises(Forbidden, match=r"carla may not task\.reassign"):
        app.reassign_task(ReassignTask(task_id=brief.task_id, assignee_id="ben",
                                       reason="mine"), app.caller("carla"))
    with pytest.raises(Forbidden, match=r"carla may not member\.set_wip_limit"):
        app.set_wip_limit(SetWipLimit(member_id="ben", limit=9), app.caller("carla"))


# --- 8. absences respect capacity ---------------------------------------------------------------


def test_a_backup_over_their_limit_is_warned_about(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("anna", "planner")
    planning.member("ben", "writer", teams=("content",))
    planning.member("erin", "writer", teams=("content",))
    app.set_wip_limit(SetWipLimit(member_id="erin", limit=2), app.caller("anna"))
    planning.campaign(*(planned(f"post-{n}") for n in range(3)), planned("mine", "erin"))
    absence_id = planning.absence("ben", "erin")
    summary = app.absences.get(absence_id)
    assert summary is not None
    assert summary["receivers"] == [{
        "member_id": "erin", "queue": None, "tasks_received": 3, "work_in_progress": 4,
        "wip_limit": 2, "over_capacity": True}]
    assert summary["warnings"] == [
        "erin now has 4 tasks in progress, over their work-in-progress limit of 2"]


def test_a_hand_over_spread_by_capacity_fills_backup_then_team_then_queue(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("anna", "planner")
    for member in ("ben", "erin", "finn"):
        planning.member(member, "writer", teams=("content",))
    planning.member("gus", "writer", teams=("sales",))  # not ben's team
    app.set_wip_limit(SetWipLimit(member_id="erin", limit=2), app.caller("anna"))
    app.set_wip_limit(SetWipLimit(member_id="finn", limit=2), app.caller("anna"))
    planning.campaign(*(planned(f"post-{n}") for n in range(5)), planned("finns", "finn"))
    absence_id = planning.absence("ben", "erin", spread=True)
    summary = app.absences.get(absence_id)
    assert summary is not None
    assert [(r["member_id"], r["queue"], r["tasks_received"], r["work_in_progress"])
            for r in summary["receivers"]] == [
        ("erin", None, 2, 2), ("finn", None, 1, 2), (None, "writer", 2, None)]
    assert summary["warnings"] == []
    assert app.board.work_in_progress("gus") == 0


# --- 9. approved is done --------------------------------------------------------------------------


def test_the_approval_that_completes_the_chain_completes_the_task_and_frees_successors(
        app: ExecutionApplication, planning: Planning) -> None:
    planning.member("ben", "writer")
    post = planned("post", approval_chain=[step(member_id="lee")])
    publish = planned("publish", depends_on=[post.task_id])
    kept = planned("kept", approval_chain=[step(member_id="lee")], complete_on_approval=False)
    planning.campaign(post, publish, kept)
    submitted(app, post.task_id)
    done = app.approve_task(ApproveTask(task_id=post.task_id), app.caller("lee"))
    assert done.status == "done"
    completed = history(app, post.task_id)[-1]
    assert type(completed).__name__ == "Completed" and completed.on_approval
    assert completed.meta.actor == "lee"
    assert "completes the task" in completed.meta.reason
    assert app.task(publish.task_id).status == "ready"

    submitted(app, kept.task_id)
    kept_done = app.approve_task(ApproveTask(task_id=kept.task_id), app.caller("lee"))
    assert kept_done.status == "approved"
