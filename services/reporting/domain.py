"""Reporting's domain: the archive of every integration event, one timeline per subject.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
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


def timeline_id(subject: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"marketflow:timeline:{subject}")


class Timeline(Aggregate):
    """Everything that happened to one subject (a task, a campaign, ...), in order."""

    @event("Started")
    def __init__(self, id: UUID, subject: str, first: ArchivedEvent, meta: EventMeta) -> None:
        self.subject = subject
        self.entries = [first]
        self.entry_ids = {first.id}

    def archive(self, entry: ArchivedEvent, meta: EventMeta) -> None:
        if entry.id not in self.entry_ids:
            self._appended(entry, meta)

    @event("Appended")
    def _appended(self, entry: ArchivedEvent, meta: EventMeta) -> None:
        self.entries.append(entry)
        self.entry_ids.add(entry.id)

    def as_of(self, moment: dt.datetime) -> list[ArchivedEvent]:
        return [entry for entry in self.entries if entry.time <= moment]
