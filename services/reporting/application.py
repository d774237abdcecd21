"""Reporting's use cases: archiving, and audit reads of the archive."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.reporting.domain import ArchivedEvent, Timeline, timeline_id
from services.reporting.progress import CampaignProgress
from shared.application import ServiceApplication


class ReportingApplication(ServiceApplication):
    def history(self, subject: str, as_of: dt.datetime | None = None) -> list[ArchivedEvent]:
        timeline = self.load(timeline_id(subject), Timeline, label=f"history of {subject}:")
        return timeline.as_of(as_of) if as_of else list(timeline.entries)

    def campaign_progress_as_of(self, campaign_id: str, moment: dt.datetime) -> dict[str, Any]:
        """The campaign's progress as it stood at ``moment``, from the archive alone."""
        progress = CampaignProgress(campaign_id)
        for entry in self.history(campaign_id, as_of=moment):
            progress.apply(entry)
        return progress.report()
