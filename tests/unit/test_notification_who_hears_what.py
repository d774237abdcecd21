"""Who hears what: one test per row of the table (``services/notification/handlers.py``
and the README), on a scripted campaign through the real (SQLite) store. Each checks the
recipients and kinds, and (``Script.kinds``) that everyone is told once, the actor never,
every message names the task, the campaign and its link, and a redelivery records nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from contracts import execution, planning
from contracts.notification import NotificationRecorded
from services.notification.domain import Notification
from services.notification.integration import translate
from tests.unit.notification_script import (
    DUE,
    LAUNCH,
    OTHER_DUE,
    OTHER_TITLE,
    TASK_TITLE,
    WEB,
    script,
)


def test_the_assignee_hears_of_a_planned_assignment_and_nobody_else(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        assigned = s.assigned("ben", actor="anna")
        assert s.kinds(assigned) == {"ben": "task.assigned"}
        row = s.only(assigned, "ben")
        assert TASK_TITLE in row["title"] and TASK_TITLE in row["text"]
        assert DUE.isoformat() in row["text"]
        assert row["link"] == f"{WEB}/tasks/{s.task_id}"
        assert row["subject_id"] == str(s.task_id)


def test_a_member_who_claims_a_task_is_not_told_of_it(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        assert s.kinds(s.assigned("carla", actor="carla", via="claimed")) == {}


def test_a_reassignment_tells_the_new_and_the_previous_assignee_not_the_planner(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        moved = s.assigned("carla", actor="anna", via="reassigned", previous="ben")
        assert s.kinds(moved) == {"carla": "task.assigned", "ben": "task.reassigned_away"}
        assert "Carla Designer" in s.only(moved, "ben")["text"]


def test_a_planner_reassigning_their_own_task_away_is_not_told(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        moved = s.assigned("carla", actor="anna", via="reassigned", previous="anna")
        assert s.kinds(moved) == {"carla": "task.assigned"}


def test_the_backup_hears_what_they_took_over_for_an_absence(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        handed = s.assigned("erin", actor="system:absence", via="absence", previous="ben")
        assert s.kinds(handed) == {"erin": "task.taken_over", "ben": "task.reassigned_away"}
        taken = s.only(handed, "erin")["text"]
        assert "Ben Writer" in taken and "away" in taken and TASK_TITLE in taken


def test_the_backup_hears_of_approvals_delegated_to_them(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        s.submitted(["dave"])
        delegated = s.execution(execution.ApprovalsDelegated(
            task_id=s.task_id, member_id="dave", backup_id="erin"), "system:absence")
        assert s.kinds(delegated) == {"erin": "approval.taken_over"}
        text = s.only(delegated, "erin")["text"]
        assert "Dave Brand" in text and "waits for your approval" in text


def test_the_previous_assignee_hears_their_task_went_back_to_the_queue(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        returned = s.execution(execution.TaskReturnedToQueue(
            task_id=s.task_id, campaign_id=s.campaign_id, previous_assignee_id="ben",
            queue="writers"), "anna")
        assert s.kinds(returned) == {"ben": "task.reassigned_away"}
        assert "writers" in s.only(returned, "ben")["text"]


def test_the_assignee_hears_their_task_is_ready_once_its_predecessors_are_done(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        ready = s.execution(execution.TaskReady(task_id=s.task_id,
                                                campaign_id=s.campaign_id), "system:flow")
        assert s.kinds(ready) == {"ben": "task.ready"}
        s.assigned("ben", task_id=s.other_task_id)
        free = s.execution(execution.TaskReady(task_id=s.other_task_id,
                                               campaign_id=s.campaign_id), "system:flow")
        assert s.kinds(free) == {}  # no predecessors: ready as it opened, no news


def test_a_submission_asks_step_one_approvers_to_approve_and_consulted_to_comment(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan(consulted=["carla", "dave"])  # dave is consulted and approves: one message
        s.assigned("ben")
        submitted = s.submitted(["dave", "ben"])  # ben submits: never told of it
        assert s.kinds(submitted) == {"dave": "approval.requested",
                                      "carla": "comment.requested"}
        approval = s.only(submitted, "dave")["text"]
        assert "step 1" in approval and "https://drive.example/blog-v1" in approval
        assert "first draft" in approval and TASK_TITLE in approval
        assert "https://drive.example/blog-v1" in s.only(submitted, "carla")["text"]


def test_the_next_steps_approvers_are_asked_when_a_step_completes(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        s.submitted(["dave"])
        step_done = s.execution(execution.ApprovalGiven(
            task_id=s.task_id, campaign_id=s.campaign_id, step=1, submission_version=1,
            step_completed=True, next_step_approvers=["lee", "dave"]), "dave")
        assert s.kinds(step_done) == {"lee": "approval.requested"}
        text = s.only(step_done, "lee")["text"]
        assert "step 2" in text and "https://drive.example/blog-v1" in text
        not_done = s.execution(execution.ApprovalGiven(
            task_id=s.task_id, campaign_id=s.campaign_id, step=2, submission_version=1,
            step_completed=False), "lee")
        assert s.kinds(not_done) == {}


def test_the_assignee_hears_changes_requested_with_the_comment_and_who(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        s.submitted(["dave"])
        sent_back = s.execution(execution.TaskChangesRequested(
            task_id=s.task_id, campaign_id=s.campaign_id, step=1, submission_version=1,
            revision_round=1, comment="The intro needs our claim"), "dave")
        assert s.kinds(sent_back) == {"ben": "task.changes_requested"}
        text = s.only(sent_back, "ben")["text"]
        assert "The intro needs our claim" in text and "Dave Brand" in text


def test_the_assignee_hears_their_work_is_approved(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        approved = s.execution(execution.TaskApproved(
            task_id=s.task_id, campaign_id=s.campaign_id, submission_version=1), "lee")
        assert s.kinds(approved) == {"ben": "task.approved"}


def test_informed_roles_hear_the_task_is_done_but_not_inactive_members(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()  # sales: ivy and otto, who has left
        s.assigned("ben")
        done = s.execution(execution.TaskCompleted(
            task_id=s.task_id, campaign_id=s.campaign_id, on_approval=True), "lee")
        assert s.kinds(done) == {"ivy": "task.done"}


def test_an_informed_assignee_hears_approved_not_also_done_when_approval_completes_it(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan(informed=["ivy", "ben"])
        s.assigned("ben")
        approved = s.execution(execution.TaskApproved(
            task_id=s.task_id, campaign_id=s.campaign_id, submission_version=1), "lee")
        done = s.execution(execution.TaskCompleted(
            task_id=s.task_id, campaign_id=s.campaign_id, on_approval=True), "lee")
        assert s.kinds(approved) == {"ben": "task.approved"}
        assert s.kinds(done) == {"ivy": "task.done"}


def test_a_blocked_task_tells_the_accountable_and_the_planner_once_each(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan(brand=["dave", "anna"])  # anna plans and is accountable: told once
        s.assigned("ben")
        blocked = s.execution(execution.TaskBlocked(
            task_id=s.task_id, campaign_id=s.campaign_id, reason="waiting for the logo"),
            "ben")
        assert s.kinds(blocked) == {"dave": "task.blocked", "lee": "task.blocked",
                                    "anna": "task.blocked"}
        assert "waiting for the logo" in s.only(blocked, "anna")["text"]


def test_a_reschedule_tells_each_assignee_old_and_new_dates_and_the_accountable(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        moved_to = DUE + dt.timedelta(days=4)
        unchanged = s.planned_task(s.other_task_id, OTHER_TITLE, OTHER_DUE, s.roles)
        revised = s.planning(planning.CampaignTasksRevised(
            campaign_id=s.campaign_id, reason="the printer is late",
            updated=[s.planned_task(s.task_id, TASK_TITLE, moved_to, s.roles), unchanged]),
            actor="anna")
        assert s.kinds(revised) == {"ben": "task.dates_moved",
                                    "dave": "campaign.dates_moved",
                                    "lee": "campaign.dates_moved"}
        text = s.only(revised, "ben")["text"]
        assert f"{DUE.isoformat()} → {moved_to.isoformat()}" in text
        assert "the printer is late" in text and OTHER_TITLE not in text
        summary = s.only(revised, "dave")
        assert TASK_TITLE in summary["text"]
        assert summary["link"] == f"{WEB}/campaigns/{s.campaign_id}"


def test_a_reschedule_is_heard_even_when_executions_echo_arrived_first(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        moved_to = DUE + dt.timedelta(days=2)
        other_to = OTHER_DUE + dt.timedelta(days=2)
        s.execution(execution.TaskRevised(task_id=s.task_id, campaign_id=s.campaign_id,
                                          title=TASK_TITLE, due_date=moved_to), "anna")
        revised = s.planning(planning.CampaignTasksRevised(
            campaign_id=s.campaign_id, reason="", launch_date=LAUNCH + dt.timedelta(days=2),
            updated=[s.planned_task(s.task_id, TASK_TITLE, moved_to, s.roles),
                     s.planned_task(s.other_task_id, OTHER_TITLE, other_to, s.roles)]),
            actor="system:planning")
        kinds = s.kinds(revised)
        assert kinds == {"ben": "task.dates_moved", "dave": "campaign.dates_moved",
                         "lee": "campaign.dates_moved", "anna": "campaign.dates_moved"}
        both = s.only(revised, "ben")["text"]  # one message for both of ben's tasks
        assert TASK_TITLE in both and OTHER_TITLE in both
        assert f"launch {LAUNCH.isoformat()}" in s.only(revised, "anna")["text"]


def test_an_escalated_approval_step_tells_whom_it_went_to(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        s.assigned("ben")
        escalated = s.execution(execution.ApprovalStepEscalated(
            task_id=s.task_id, campaign_id=s.campaign_id, step=1, submission_version=1,
            escalated_to="anna", eligible_approvers=[]), "system:execution")
        assert s.kinds(escalated) == {"anna": "approval.escalated"}
        assert "step 1" in s.only(escalated, "anna")["text"].lower()


def test_inactive_members_hear_nothing(tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        assert s.kinds(s.assigned("otto")) == {}


def test_an_event_before_the_plan_still_names_the_task(tmp_path: Path) -> None:
    """Execution's topic may deliver before planning's: the assignment names its own
    task and links to it; the campaign is named by id until planning's copy arrives."""
    with script(tmp_path) as s:
        task_id = uuid.uuid4()
        assigned = s.execution(execution.TaskAssigned(
            task_id=task_id, campaign_id=s.campaign_id, title="Press kit",
            assignee_id="ben", due_date=DUE), "anna")
        [row] = s.told(assigned)["ben"]
        assert "Press kit" in row["text"] and row["link"] == f"{WEB}/tasks/{task_id}"


def test_the_readme_table_names_every_kind_the_rules_tell() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    section = readme.split("## Notification: who hears what", 1)[1].split("\n## ", 1)[0]
    documented = {row.rsplit("|", 2)[-2].strip(" `") for row in section.splitlines()
                  if row.startswith("| `")}
    rules = (root / "services" / "notification" / "handlers.py").read_text()
    told = set(re.findall(r'"([a-z]+\.[a-z_]+)",\s+about', rules))
    assert documented == told and len(told) >= 14


def test_the_published_notification_names_its_campaign_title_and_link(
        tmp_path: Path) -> None:
    with script(tmp_path) as s:
        s.plan()
        assigned = s.assigned("ben")
        [row] = s.told(assigned)["ben"]
        notification = s.app.load(uuid.UUID(row["id"]), Notification)
        [recorded] = [event for event in s.app.repository.event_store.get(notification.id)]
        published = translate(recorded)
        assert isinstance(published, NotificationRecorded)
        assert published.campaign_id == s.campaign_id
        assert published.link == f"{WEB}/tasks/{s.task_id}"
        assert TASK_TITLE in published.title and published.link in published.text
