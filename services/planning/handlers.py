"""How planning reacts to other systems' events: it follows execution's task progress,
and records KPI measurements a CRM (or any other system) reports."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import execution, planning
from services.planning.application import PlanningApplication
from services.planning.domain import Campaign, Goal, Measurement
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


def on_task_started(app: PlanningApplication, inbound: InboundEvent,
                    processing_event: ProcessingEvent[UUID]) -> None:
    """Work has begun: a move to a new playbook version must leave this task alone."""
    event = inbound.event
    assert isinstance(event, execution.TaskStarted)
    _record_progress(app, inbound, processing_event, event.task_id, event.campaign_id,
                     "in_progress")


def on_task_completed(app: PlanningApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskCompleted)
    _record_progress(app, inbound, processing_event, event.task_id, event.campaign_id, "done")


def on_task_cancelled(app: PlanningApplication, inbound: InboundEvent,
                      processing_event: ProcessingEvent[UUID]) -> None:
    event = inbound.event
    assert isinstance(event, execution.TaskCancelled)
    _record_progress(app, inbound, processing_event, event.task_id, event.campaign_id,
                     "cancelled")


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
    goal.record_measurement(measurement, meta=app.meta_caused_by(inbound))
    processing_event.collect_events(goal)


HANDLERS: Handlers = {
    execution.TaskOpened: on_task_opened,
    execution.TaskStarted: on_task_started,
    execution.TaskCompleted: on_task_completed,
    execution.TaskCancelled: on_task_cancelled,
    planning.KpiMeasurementReported: on_kpi_measurement_reported,
}
