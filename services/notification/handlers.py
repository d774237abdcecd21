"""Who hears what: for each event elsewhere, the people concerned by their part in the work.

A rule runs before the copies learn the event (``work.then_remember``), so it sees the
task as it was (e.g. the due date a reschedule moved).

Every rule tells through one ``Telling`` per event, which keeps three promises: nobody
hears twice of one event (the first, most specific message wins: a member both
accountable and planner gets one), the member who acted is never told of their own action
(a planner reassigning, a contributor claiming), and a member the directory marks inactive
is told nothing. Every message names the task and the campaign and links to it.

The table (also in the README, "Who hears what"):

========================== ============================================ ====================
event                      who                                          kind
========================== ============================================ ====================
TaskAssigned               the new assignee                             task.assigned
TaskAssigned via absence   the backup who now holds it                  task.taken_over
TaskAssigned (previous)    the previous assignee                        task.reassigned_away
TaskReturnedToQueue        the previous assignee                        task.reassigned_away
TaskReady                  the assignee (of a task that had predecessors) task.ready
TaskSubmitted              step 1's approvers                           approval.requested
TaskSubmitted              the consulted roles' members                 comment.requested
ApprovalGiven (step done)  the next step's approvers                    approval.requested
TaskChangesRequested       the assignee (comment, who asked)            task.changes_requested
TaskApproved               the assignee                                 task.approved
TaskCompleted              the informed roles' members                  task.done
TaskBlocked                the accountable and the campaign's planner   task.blocked
CampaignTasksRevised       each assignee whose task's due date moved    task.dates_moved
CampaignTasksRevised       the planner and the accountable of moved     campaign.dates_moved
                           open tasks (and the planner when the launch
                           date moved)
ApprovalStepEscalated      the member it was escalated to               approval.escalated
ApprovalsDelegated         the backup approving for an absent approver  approval.taken_over
========================== ============================================ ====================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import execution, planning
from services.notification.application import NotificationApplication
from services.notification.notify import Message
from services.notification.work import CampaignCopy, TaskCopy
from shared.application import Handlers
from shared.cloudevents import InboundEvent


def cause_of(inbound: InboundEvent) -> str:
    """The event behind a notification, as it identifies it (source and id)."""
    return f"{inbound.envelope.source}:{inbound.envelope.id}"


def task_names(app: NotificationApplication, task_id: UUID, title: str | None = None,
               campaign_id: UUID | None = None) -> tuple[str, str, UUID | None]:
    """The task's title and its campaign's name, as the copies know them."""
    task: TaskCopy | None = app.work.task(task_id)
    campaign_id = campaign_id or (task.campaign_id if task else None)
    campaign = app.work.campaign(campaign_id)
    return (title or (task.title if task else f"task {task_id}"),
            campaign.name if campaign else f"campaign {campaign_id}", campaign_id)


@dataclass(frozen=True)
class About:
    """What a message is about, named as people know it, with its link."""

    subject_id: UUID
    task: str
    campaign: str
    campaign_id: UUID | None
    link: str

    @classmethod
    def task_of(cls, app: NotificationApplication, task_id: UUID, title: str | None = None,
                campaign_id: UUID | None = None) -> About:
        task, campaign, campaign_id = task_names(app, task_id, title, campaign_id)
        return cls(task_id, task, campaign, campaign_id,
                   app.notification_settings.task_link(task_id))

    @property
    def named(self) -> str:
        return f"'{self.task}' in {self.campaign}"


class Telling:
    """One event's notifications: nobody twice, never the actor, never an inactive member.

    Rules call ``tell`` most specific first: a member already told of this event is not
    told again under another kind."""

    def __init__(self, app: NotificationApplication, inbound: InboundEvent,
                 processing_event: ProcessingEvent[UUID]) -> None:
        self.app = app
        self.inbound = inbound
        self.processing_event = processing_event
        self.actor = inbound.envelope.actor
        self.told: set[str] = set()

    def name(self, member_id: str | None) -> str:
        member = self.app.work.member(member_id)
        return member.name if member is not None else (member_id or "someone")

    def concerned(self, recipients: Iterable[str | None]) -> list[str]:
        """Who of ``recipients`` may still be told of this event (in a stable order)."""
        found: list[str] = []
        for recipient in sorted({who for who in recipients if who}):
            if recipient == self.actor or recipient in self.told:
                continue
            member = self.app.work.member(recipient)
            if member is not None and not member.active:
                continue
            found.append(recipient)
        return found

    def tell(self, recipients: Iterable[str | None], kind: str, about: About, title: str,
             text: str) -> None:
        for recipient in self.concerned(recipients):
            self.told.add(recipient)
            self.app.notifier.tell(self.processing_event, cause_of(self.inbound), Message(
                recipient_id=recipient, kind=kind, subject_id=about.subject_id,
                campaign_id=about.campaign_id, title=f"{title}: {about.task} "
                                                     f"({about.campaign})",
                text=f"{text} Open it: {about.link}", link=about.link),
                self.app.meta_caused_by(self.inbound))


def on_task_assigned(app: NotificationApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    """The new assignee (the backup, when it was handed over for an absence); then the
    previous one, told where it went. Who claimed it or handed it on is not told."""
    event = inbound.event
    assert isinstance(event, execution.TaskAssigned)
    telling = Telling(app, inbound, processing_event)
    about = About.task_of(app, event.task_id, event.title, event.campaign_id)
    due = event.due_date.isoformat()
    previous = event.previous_assignee_id
    if event.via == "absence":
        telling.tell([event.assignee_id], "task.taken_over", about, "Taken over for an absence",
                     f"You hold {about.named} now, due {due}, while "
                     f"{telling.name(previous)} is away.")
    else:
        telling.tell([event.assignee_id], "task.assigned", about, "Assigned to you",
                     f"You were assigned {about.named}, due {due}.")
    if previous and previous != event.assignee_id:
        telling.tell([previous], "task.reassigned_away", about, "No longer yours",
                     f"{about.named} was handed to {telling.name(event.assignee_id)}"
                     + (" while you are away." if event.via == "absence" else "."))


def on_task_returned_to_queue(app: NotificationApplication, inbound: InboundEvent,
                              processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskReturnedToQueue)
    telling = Telling(app, inbound, processing_event)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    telling.tell([event.previous_assignee_id], "task.reassigned_away", about,
                 "No longer yours", f"{about.named} went back to the {event.queue} queue"
                 + (" while you are away." if event.absence_id else "."))


def _assignee(app: NotificationApplication, task_id: UUID) -> str | None:
    task = app.work.task(task_id)
    return task.assignee_id if task is not None else None


def on_task_ready(app: NotificationApplication, inbound: InboundEvent,
                  processing_event: ProcessingEvent[UUID]) -> None:
    """Only a task that waited for others: one without predecessors is ready as it opens,
    and its assignee hears of the assignment."""
    event = inbound.event
    assert isinstance(event, execution.TaskReady)
    task = app.work.task(event.task_id)
    if task is None or not task.members("depends_on"):
        return
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    Telling(app, inbound, processing_event).tell(
        [task.assignee_id], "task.ready", about, "Ready to start",
        f"Every task before {about.named} is done: you can start it.")


def _submission(task: TaskCopy | None, version: int) -> str:
    reference = task.get("reference") if task else None
    note = task.get("note") if task else None
    return (f"version {version}" + (f": {reference}" if reference else "")
            + (f" ({note})" if note else ""))


def on_task_submitted(app: NotificationApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    """Each approver of the chain's first step is asked to review the submission; the
    consulted roles' members are asked to comment on it."""
    event = inbound.event
    assert isinstance(event, execution.TaskSubmitted)
    telling = Telling(app, inbound, processing_event)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    submission = (f"version {event.submission_version}: {event.reference}"
                  + (f" ({event.note})" if event.note else ""))
    telling.tell(event.pending_approvers, "approval.requested", about, "Approval requested",
                 f"Your approval is requested (step 1) for {about.named}, {submission}.")
    task = app.work.task(event.task_id)
    telling.tell(task.members("consulted") if task else [], "comment.requested", about,
                 "Comments requested", f"Your comments are asked on {about.named}, "
                 f"{submission}.")


def on_approval_given(app: NotificationApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    """A completed step with another after it: that step's approvers are asked."""
    event = inbound.event
    assert isinstance(event, execution.ApprovalGiven)
    if not event.step_completed or not event.next_step_approvers:
        return
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    submission = _submission(app.work.task(event.task_id), event.submission_version)
    Telling(app, inbound, processing_event).tell(
        event.next_step_approvers, "approval.requested", about, "Approval requested",
        f"Your approval is requested (step {event.step + 1}) for {about.named}, "
        f"{submission}.")


def on_changes_requested(app: NotificationApplication, inbound: InboundEvent,
                         processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskChangesRequested)
    telling = Telling(app, inbound, processing_event)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    telling.tell([_assignee(app, event.task_id)], "task.changes_requested", about,
                 "Changes requested",
                 f"{telling.name(telling.actor)} asked for changes to {about.named} "
                 f"(version {event.submission_version}, step {event.step}): "
                 f"{event.comment}")


def on_task_approved(app: NotificationApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskApproved)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    Telling(app, inbound, processing_event).tell(
        [_assignee(app, event.task_id)], "task.approved", about, "Approved",
        f"Version {event.submission_version} of {about.named} is approved.")


def on_task_completed(app: NotificationApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskCompleted)
    task = app.work.task(event.task_id)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    informed = task.members("informed") if task else []
    if event.on_approval and task is not None:
        # Its assignee was just told it is approved, which is what completed it.
        informed = [member for member in informed if member != task.assignee_id]
    Telling(app, inbound, processing_event).tell(informed, "task.done", about, "Done",
                                                 f"{about.named} is done.")


def _planner(app: NotificationApplication, campaign_id: UUID | None) -> str | None:
    campaign = app.work.campaign(campaign_id)
    return campaign.planner_id if campaign is not None else None


def on_task_blocked(app: NotificationApplication, inbound: InboundEvent,
                    processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskBlocked)
    telling = Telling(app, inbound, processing_event)
    task = app.work.task(event.task_id)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    telling.tell([*(task.members("accountable") if task else []),
                  _planner(app, about.campaign_id)], "task.blocked", about, "Blocked",
                 f"{about.named} is blocked ({telling.name(telling.actor)}): {event.reason}")


def on_approval_escalated(app: NotificationApplication, inbound: InboundEvent,
                          processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.ApprovalStepEscalated)
    telling = Telling(app, inbound, processing_event)
    about = About.task_of(app, event.task_id, campaign_id=event.campaign_id)
    others = ", ".join(telling.name(who) for who in event.eligible_approvers) or "nobody"
    telling.tell([event.escalated_to], "approval.escalated", about, "Approval escalated",
                 f"Step {event.step} of the approval of {about.named} (version "
                 f"{event.submission_version}) cannot be completed by its approvers (left: "
                 f"{others}); it is yours to decide.")


def on_approvals_delegated(app: NotificationApplication, inbound: InboundEvent,
                           processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.ApprovalsDelegated)
    telling = Telling(app, inbound, processing_event)
    task = app.work.task(event.task_id)
    about = About.task_of(app, event.task_id)
    waiting = (task is not None and event.member_id in task.members("pending_approvers"))
    telling.tell([event.backup_id], "approval.taken_over", about, "Approvals taken over",
                 f"You approve {about.named} for {telling.name(event.member_id)} while they "
                 "are away" + ("; a submission waits for your approval now." if waiting
                               else "."))


@dataclass(frozen=True)
class Moved:
    task: TaskCopy
    before: dt.date
    after: dt.date

    def line(self) -> str:
        return f"'{self.task.title}' {self.before.isoformat()} → {self.after.isoformat()}"


def on_tasks_revised(app: NotificationApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    """A reschedule: each assignee hears of their own tasks' new due dates (one message
    for all of theirs); the campaign's planner and the accountable of the moved tasks hear
    what moved in the campaign."""
    event = inbound.event
    assert isinstance(event, planning.CampaignTasksRevised)
    telling = Telling(app, inbound, processing_event)
    campaign: CampaignCopy | None = app.work.campaign(event.campaign_id)
    campaign_name = campaign.name if campaign else f"campaign {event.campaign_id}"
    moved: list[Moved] = []
    for planned in event.updated:
        task = app.work.task(planned.task_id)
        if task is None or task.finished:
            continue
        # The plan's own last due date: execution's echo (TaskRevised) may have reached
        # the copy first.
        known = task.get("planned_due_date") or task.get("due_date")
        before = dt.date.fromisoformat(known) if known else None
        if before is not None and before != planned.due_date:
            moved.append(Moved(task, before, planned.due_date))
    by_assignee: dict[str, list[Moved]] = {}
    for move in moved:
        if move.task.assignee_id:
            by_assignee.setdefault(move.task.assignee_id, []).append(move)
    for assignee, theirs in sorted(by_assignee.items()):
        if len(theirs) == 1:
            about = About(theirs[0].task.task_id, theirs[0].task.title, campaign_name,
                          event.campaign_id,
                          app.notification_settings.task_link(theirs[0].task.task_id))
            text = f"The due date of {about.named} moved: {theirs[0].line()}."
        else:
            about = _campaign_about(app, event.campaign_id, campaign_name,
                                    f"{len(theirs)} of your tasks")
            text = (f"The due dates of {len(theirs)} of your tasks in {campaign_name} "
                    f"moved: {'; '.join(move.line() for move in theirs)}.")
        text += f" ({event.reason})" if event.reason else ""
        telling.tell([assignee], "task.dates_moved", about, "Due date moved", text)

    launch_before = campaign.get("launch_date") if campaign else None
    launch_moved = (event.launch_date is not None and launch_before is not None
                    and launch_before != event.launch_date.isoformat())
    if not moved and not launch_moved:
        return
    lines = [move.line() for move in moved]
    if launch_moved:
        assert event.launch_date is not None
        lines.insert(0, f"launch {launch_before} → {event.launch_date.isoformat()}")
    named = (f"'{moved[0].task.title}'" if len(moved) == 1
             else f"{len(moved)} tasks" if moved else "the launch")
    about = _campaign_about(app, event.campaign_id, campaign_name, named.strip("'"))
    accountable = [who for move in moved for who in move.task.members("accountable")]
    telling.tell([_planner(app, event.campaign_id), *accountable], "campaign.dates_moved",
                 about, "Dates moved",
                 f"Dates moved in {campaign_name}: {'; '.join(lines)}."
                 + (f" ({event.reason})" if event.reason else ""))


def _campaign_about(app: NotificationApplication, campaign_id: UUID, campaign: str,
                    what: str) -> About:
    return About(campaign_id, what, campaign, campaign_id,
                 app.notification_settings.campaign_link(campaign_id))


HANDLERS: Handlers = {
    execution.TaskAssigned: on_task_assigned,
    execution.TaskReturnedToQueue: on_task_returned_to_queue,
    execution.TaskReady: on_task_ready,
    execution.TaskSubmitted: on_task_submitted,
    execution.ApprovalGiven: on_approval_given,
    execution.TaskChangesRequested: on_changes_requested,
    execution.TaskApproved: on_task_approved,
    execution.TaskCompleted: on_task_completed,
    execution.TaskBlocked: on_task_blocked,
    execution.ApprovalStepEscalated: on_approval_escalated,
    execution.ApprovalsDelegated: on_approvals_delegated,
    planning.CampaignTasksRevised: on_tasks_revised,
}
