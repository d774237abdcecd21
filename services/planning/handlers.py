"""How planning reacts to other services' events: it follows task progress."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import execution
from services.planning.application import PlanningApplication
from services.planning.domain import Campaign
from shared.application import Handlers
from shared.cloudevents import InboundEvent


def _record_progress(app: PlanningApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID], task_id: UUID,
                     campaign_id: UUID, status: str) -> None:
    if not app.exists(campaign_id):
        return  # a task of a campaign planned elsewhere: not ours to follow
    campaign = app.load(campaign_id, Campaign)
    if not campaign.has_task(task_id) or campaign.task_status[task_id] == status:
        return
    campaign.record_task_progress(task_id, status, meta=app.meta_caused_by(inbound))
    processing_event.collect_events(campaign)


def on_task_opened(app: PlanningApplication, inbound: InboundEvent,
                   processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskOpened)
    _record_progress(app, inbound, processing_event, event.task_id, event.campaign_id, "open")


def on_task_completed(app: PlanningApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskCompleted)
    _record_progress(app, inbound, processing_event, event.task_id, event.campaign_id, "done")


HANDLERS: Handlers = {
    execution.TaskOpened: on_task_opened,
    execution.TaskCompleted: on_task_completed,
}
