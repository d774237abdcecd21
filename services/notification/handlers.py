"""Who hears what: for each event elsewhere, the people concerned by their part in the work.

A rule runs before the copies learn the event (``work.then_remember``), so it sees the
task as it was (e.g. the due date a reschedule moved).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import execution
from services.notification.application import NotificationApplication
from services.notification.notify import Message
from services.notification.work import TaskCopy
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


def on_task_assigned(app: NotificationApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskAssigned)
    title, campaign, campaign_id = task_names(app, event.task_id, event.title,
                                              event.campaign_id)
    app.notifier.tell(processing_event, cause_of(inbound), Message(
        recipient_id=event.assignee_id, kind="task.assigned", subject_id=event.task_id,
        campaign_id=campaign_id, title=f"Assigned to you: {title} ({campaign})",
        text=f"You were assigned '{title}' in {campaign}, due "
             f"{event.due_date.isoformat()}.",
        link=app.notification_settings.task_link(event.task_id)),
        app.meta_caused_by(inbound))


def on_task_submitted(app: NotificationApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    """Each approver of the chain's first step is asked to review the submission."""
    event = inbound.event
    assert isinstance(event, execution.TaskSubmitted)
    title, campaign, campaign_id = task_names(app, event.task_id,
                                              campaign_id=event.campaign_id)
    for approver in sorted(set(event.pending_approvers)):
        app.notifier.tell(processing_event, cause_of(inbound), Message(
            recipient_id=approver, kind="approval.requested", subject_id=event.task_id,
            campaign_id=campaign_id, title=f"Approval requested: {title} ({campaign})",
            text=f"Your approval is requested (step 1) for version {event.submission_version} "
                 f"of '{title}' in {campaign}: {event.reference}"
                 + (f" ({event.note})" if event.note else ""),
            link=app.notification_settings.task_link(event.task_id)),
            app.meta_caused_by(inbound))


HANDLERS: Handlers = {
    execution.TaskAssigned: on_task_assigned,
    execution.TaskSubmitted: on_task_submitted,
}
