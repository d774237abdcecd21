"""Whom to tell about what happened elsewhere."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import ProcessingEvent

from contracts import execution
from services.notification.application import NotificationApplication
from services.notification.domain import Notification
from shared.application import Handlers
from shared.cloudevents import InboundEvent


def notification_id_for(inbound: InboundEvent, recipient_id: str) -> UUID:
    """One notification per (cause, recipient), whatever happens to the message."""
    return uuid5(NAMESPACE_URL, f"marketflow:{inbound.envelope.source}:{inbound.envelope.id}:"
                                f"{recipient_id}")


def on_task_assigned(app: NotificationApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskAssigned)
    notification = Notification(
        id=notification_id_for(inbound, event.assignee_id),
        recipient_id=event.assignee_id,
        kind="task.assigned",
        subject_id=event.task_id,
        text=f"You were assigned '{event.title}', due {event.due_date.isoformat()}.",
        meta=app.meta_caused_by(inbound),
    )
    processing_event.collect_events(notification)


def on_task_submitted(app: NotificationApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    """Each approver of the chain's first step is asked to review the submission."""
    event = inbound.event
    assert isinstance(event, execution.TaskSubmitted)
    for approver in sorted(set(event.pending_approvers)):
        processing_event.collect_events(Notification(
            id=notification_id_for(inbound, approver),
            recipient_id=approver,
            kind="approval.requested",
            subject_id=event.task_id,
            text=f"Your approval is requested for version {event.submission_version} of a "
                 f"deliverable: {event.reference}" + (f" ({event.note})" if event.note else ""),
            meta=app.meta_caused_by(inbound),
        ))


HANDLERS: Handlers = {
    execution.TaskAssigned: on_task_assigned,
    execution.TaskSubmitted: on_task_submitted,
}
