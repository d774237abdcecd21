"""How planning reacts to other systems' events: it follows execution's task progress,
and records KPI measurements a CRM (or any other system) reports."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import IntegrationEvent, execution, planning
from services.planning.application import PlanningApplication
from services.planning.domain import Campaign, Goal, Measurement
from services.planning.domain.campaign import TaskHolder
from shared.application import Handlers
from shared.cloudevents import InboundEvent


def _record_progress(app: PlanningApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID], task_id: UUID,
                     campaign_id: UUID, status: str) -> None:
    campaign = app.find(campaign_id, Campaign)
    if campaign is None:
        return  # a task of a campaign planned elsewhere: not ours to follow
    if not campaign.has_task(task_id) or campaign.task_status[task_id] == status:
        return
    campaign.record_task_progress(task_id, status, meta=app.meta_caused_by(inbound))
    processing_event.collect_events(campaign)


# What each of execution's task events means for the campaign's plan.
TASK_PROGRESS: dict[type[IntegrationEvent], str] = {
    execution.TaskOpened: "open",
    # Work has begun: a move to a new playbook version must leave the task alone.
    execution.TaskStarted: "in_progress",
    execution.TaskCompleted: "done",
    execution.TaskCancelled: "cancelled",
}


def on_task_progress(app: PlanningApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, tuple(TASK_PROGRESS))
    _record_progress(app, inbound, processing_event, event.task_id,  # type: ignore[attr-defined]
                     event.campaign_id, TASK_PROGRESS[type(event)])  # type: ignore[attr-defined]


def on_task_holder(app: PlanningApplication, inbound: InboundEvent,
                   processing_event: ProcessingEvent[UUID]) -> None:
    """The calendar and the feeds show who does the work now, not who was planned."""
    event = inbound.event
    if isinstance(event, execution.TaskAssigned):
        holder, via = TaskHolder(assignee_id=event.assignee_id), str(event.via)
    else:
        assert isinstance(event, execution.TaskReturnedToQueue)
        holder, via = TaskHolder(assignee_id=None, queue=event.queue), "returned_to_queue"
    campaign = app.find(event.campaign_id, Campaign)
    if campaign is None:
        return  # a task of a campaign planned elsewhere: not ours to follow
    if campaign.has_task(event.task_id) and campaign.record_task_holder(
            event.task_id, holder, via, meta=app.meta_caused_by(inbound)):
        processing_event.collect_events(campaign)


def on_kpi_measurement_reported(app: PlanningApplication, inbound: InboundEvent,
                                processing_event: ProcessingEvent[UUID]) -> None:
    """Validated like the HTTP command; a refusal (unknown goal, date outside the KPI
    period) raises and the inbox dead-letters the message with the reason."""
    event = inbound.event
    assert isinstance(event, planning.KpiMeasurementReported)
    goal = app.load(event.goal_id, Goal, label="goal")
    measurement = Measurement(value=event.value, measured_on=event.measured_on,
                              source=event.source, external_id=event.external_id)
    if measurement in goal.measurements:
        return  # the reporter sent the same measurement again
    goal.record_measurement(measurement, meta=app.meta_caused_by(inbound),
                            today=dt.date.today())
    processing_event.collect_events(goal)


HANDLERS: Handlers = {
    **dict.fromkeys(TASK_PROGRESS, on_task_progress),
    execution.TaskAssigned: on_task_holder,
    execution.TaskReturnedToQueue: on_task_holder,
    planning.KpiMeasurementReported: on_kpi_measurement_reported,
}
