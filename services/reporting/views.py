"""Reporting's read models, folded from the archive."""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.reporting.domain import ArchivedEvent, Timeline
from services.reporting.progress import CampaignProgress, campaign_of
from shared.views import View


class ProgressView(View):
    """Campaign progress (tasks open/done) and archive totals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaigns: dict[str, CampaignProgress] = {}
        self.archived_by_type: Counter[str] = Counter()
        self.seen: set[str] = set()

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Timeline.Started):  # type: ignore[attr-defined]
            self._archived(domain_event.first)
        elif isinstance(domain_event, Timeline.Appended):  # type: ignore[attr-defined]
            self._archived(domain_event.entry)

    def _archived(self, entry: ArchivedEvent) -> None:
        # One integration event is stored on its subject's and its campaign's timelines.
        if entry.id in self.seen:
            return
        self.seen.add(entry.id)
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
