"""Reporting's use cases: archiving, and audit reads of the archive."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.reporting.domain import ArchivedEvent, entry_of, timeline_id
from services.reporting.progress import CampaignProgress
from shared.application import ServiceApplication
from shared.domain import NotFound


class ReportingApplication(ServiceApplication):
    def history(self, subject: str, as_of: dt.datetime | None = None) -> list[ArchivedEvent]:
        entries = [entry for entry in map(entry_of, self.events.get(timeline_id(subject)))
                   if entry is not None and (as_of is None or entry.time <= as_of)]
        if not entries and not self.exists(timeline_id(subject)):
            raise NotFound(f"history of {subject}: nothing archived")
        # Archived in arrival order, which interleaves services' topics arbitrarily;
        # auditors read in the order things happened (stable: ties keep arrival order).
        return sorted(entries, key=lambda entry: entry.time)

    def campaign_progress_as_of(self, campaign_id: str, moment: dt.datetime) -> dict[str, Any]:
        """The campaign's progress as it stood at ``moment``, from the archive alone."""
        progress = CampaignProgress(campaign_id)
        for entry in self.history(campaign_id, as_of=moment):
            progress.apply(entry)
        if progress.campaign_version == 0:
            raise NotFound(f"campaign {campaign_id} had not been planned by "
                           f"{moment.isoformat()}")
        return progress.report()
