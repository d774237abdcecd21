"""Reporting's domain: the archive of every integration event, one timeline per subject.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
import functools
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict

from shared.domain import Aggregate, EventMeta, event


class ArchivedEvent(BaseModel):
    """An integration event exactly as it was received: envelope and payload."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    type: str
    time: dt.datetime
    subject: str
    actor: str
    aggregate_version: int
    correlation_id: str | None = None
    causation_id: str | None = None
    reason: str | None = None
    data: dict[str, Any]


@functools.lru_cache(maxsize=65536)  # every fold asks it of every archived event
def timeline_id(subject: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"marketflow:timeline:{subject}")


class Timeline(Aggregate):
    """Everything that happened to one subject (a task, a campaign, ...), in order.

    The entries live in the stored events only: appending must not cost more as a
    timeline grows (a campaign's holds every event of all its tasks), so the aggregate
    keeps no copy of them. Exactly-once archiving is the inbox's tracking's job."""

    @event("Started")
    def __init__(self, id: UUID, subject: str, first: ArchivedEvent, meta: EventMeta) -> None:
        self.subject = subject
        self.size = 1

    @event("Appended")
    def archive(self, entry: ArchivedEvent, meta: EventMeta) -> None:
        self.size += 1


def entry_of(timeline_event: object) -> ArchivedEvent | None:
    """The archived event a timeline event carries."""
    entry = getattr(timeline_event, "first", None) or getattr(timeline_event, "entry", None)
    return entry if isinstance(entry, ArchivedEvent) else None


def archived_once(timeline_event: Any) -> ArchivedEvent | None:
    """The archived event, from its subject's timeline only: an event is filed on its
    subject's timeline and again on its campaign's, and counts, exports and leaves take
    it once."""
    entry = entry_of(timeline_event)
    if entry is None or timeline_event.originator_id != timeline_id(entry.subject):
        return None
    return entry
