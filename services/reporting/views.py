"""Reporting's read models, folded from the archive."""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.reporting.domain import ArchivedEvent, entry_of, timeline_id
from services.reporting.progress import CampaignProgress, campaign_of
from shared.views import View


class ProgressView(View):
    """Campaign progress (tasks open/done) and archive totals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaigns: dict[str, CampaignProgress] = {}
        self.archived_by_type: Counter[str] = Counter()

    def apply(self, domain_event: Any) -> None:
        entry = entry_of(domain_event)
        # An event is filed on its subject's timeline and its campaign's: count it once.
        if entry is not None and domain_event.originator_id == timeline_id(entry.subject):
            self._archived(entry)

    def _archived(self, entry: ArchivedEvent) -> None:
        self.archived_by_type[entry.type] += 1
        campaign_id = campaign_of(entry)
        if campaign_id is not None:
            progress = self.campaigns.get(campaign_id)
            if progress is None:
                progress = self.campaigns[campaign_id] = CampaignProgress(campaign_id)
            progress.apply(entry)

    def progress(self, campaign_id: str) -> dict[str, Any] | None:
        self.catch_up()
        progress = self.campaigns.get(campaign_id)
        return progress.report() if progress else None

    def totals(self) -> dict[str, int]:
        self.catch_up()
        return dict(sorted(self.archived_by_type.items()))
