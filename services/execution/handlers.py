"""How execution reacts to planning: a planned campaign opens and assigns its tasks."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import planning
from services.execution.application import ExecutionApplication
from services.execution.domain import Task
from shared.application import Handlers
from shared.cloudevents import InboundEvent


def on_campaign_planned(app: ExecutionApplication, inbound: InboundEvent,
                        processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, planning.CampaignPlanned)
    meta = app.meta_caused_by(inbound)
    for planned in event.tasks:
        if app.exists(planned.task_id):
            continue
        task = Task(
            id=planned.task_id,
            campaign_id=event.campaign_id,
            key=planned.key,
            title=planned.title,
            role=planned.role,
            due_date=planned.due_date,
            meta=meta,
        )
        if planned.assignee_id:
            task.assign(planned.assignee_id, meta.model_copy(
                update={"reason": f"holds role '{planned.role}' in the campaign"}))
        processing_event.collect_events(task)


HANDLERS: Handlers = {planning.CampaignPlanned: on_campaign_planned}
