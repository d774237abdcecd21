"""Execution's events as planning's inbox hands them to its use cases."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from contracts import IntegrationEvent
from shared.cloudevents import Envelope, InboundEvent

_sequence = itertools.count(1)


def from_execution(event: IntegrationEvent, subject: uuid.UUID, actor: str = "anna"
                   ) -> InboundEvent:
    number = next(_sequence)
    return InboundEvent(Envelope(
        id=f"{subject}:{number}", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(subject), actor=actor,
        aggregate_version=number, sequence=number), event)
