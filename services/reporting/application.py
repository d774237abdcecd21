"""Reporting's use cases: archiving, and audit reads of the archive."""

from __future__ import annotations

import datetime as dt

from services.reporting.domain import ArchivedEvent, Timeline, timeline_id
from shared.application import ServiceApplication


class ReportingApplication(ServiceApplication):
    def history(self, subject: str, as_of: dt.datetime | None = None) -> list[ArchivedEvent]:
        timeline = self.load(timeline_id(subject), Timeline, label=f"history of {subject}:")
        return timeline.as_of(as_of) if as_of else list(timeline.entries)
