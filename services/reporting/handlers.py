"""Reporting archives every integration event it receives."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import ProcessingEvent

from contracts import EVENT_TYPES
from services.reporting.application import ReportingApplication
from services.reporting.domain import ArchivedEvent, Timeline, timeline_id
from services.reporting.progress import campaign_of
from shared.application import Handlers
from shared.cloudevents import InboundEvent
from shared.domain import EventMeta

ARCHIVIST = "system:reporting"


def archive(app: ReportingApplication, inbound: InboundEvent,
            processing_event: ProcessingEvent[UUID]) -> None:
    envelope = inbound.envelope
    entry = ArchivedEvent(
        id=envelope.id, source=envelope.source, type=envelope.type, time=envelope.time,
        subject=envelope.subject, actor=envelope.actor,
        aggregate_version=envelope.aggregate_version, correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id, reason=envelope.reason,
        data=inbound.event.model_dump(mode="json"),
    )
    meta = EventMeta(actor=ARCHIVIST, correlation_id=envelope.correlation_id or envelope.id,
                     causation_id=envelope.id)
    # Filed under its subject, and under its campaign so that a campaign's whole story
    # (and its state at any past moment) is one read.
    subjects = [envelope.subject]
    campaign_id = campaign_of(entry)
    if campaign_id is not None and campaign_id != envelope.subject:
        subjects.append(campaign_id)
    for subject in subjects:
        processing_event.collect_events(_archived_on(app, subject, entry, meta))


def _archived_on(app: ReportingApplication, subject: str, entry: ArchivedEvent,
                 meta: EventMeta) -> Timeline:
    aggregate_id = timeline_id(subject)
    timeline = app.timeline_to_append(aggregate_id)
    if timeline is None:
        return Timeline(id=aggregate_id, subject=subject, first=entry, meta=meta)
    timeline.archive(entry, meta)
    return timeline


HANDLERS: Handlers = {model: archive for model in EVENT_TYPES.values()}
