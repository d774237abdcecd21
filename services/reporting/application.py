"""Reporting's use cases: archiving, and audit reads of the archive."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

from services.reporting.domain import ArchivedEvent, Timeline, entry_of, timeline_id
from services.reporting.progress import CampaignProgress
from shared.application import Handlers, ServiceApplication
from shared.config import Settings
from shared.domain import NotFound

KNOWN_TIMELINES = 20_000
"""Timelines remembered as last saved here (a few hundred bytes each)."""


class ReportingApplication(ServiceApplication):
    def __init__(self, settings: Settings, handlers: Handlers | None = None) -> None:
        super().__init__(settings, handlers)
        self._known_timelines: OrderedDict[UUID, Timeline] = OrderedDict()
        self._known_lock = threading.Lock()

    # --- archiving -----------------------------------------------------------------

    def timeline_to_append(self, aggregate_id: UUID) -> Timeline | None:
        """The timeline to append to, without reading the store when this process saved
        it last: only reporting's inbox appends to timelines, and a copy another replica
        made stale fails its save (optimistic concurrency), which forgets it here, so the
        retry loads the stored one. None when there is no such timeline yet."""
        pending = self._pending_aggregates()
        if aggregate_id in pending:
            timeline: Timeline = pending[aggregate_id]
            return timeline
        with self._known_lock:
            known = self._known_timelines.get(aggregate_id)
        if known is not None:
            return deepcopy(known)
        try:
            return self.load(aggregate_id, Timeline)
        except NotFound:
            return None

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        try:
            recordings = super()._record(processing_event)
        except IntegrityError:
            with self._known_lock:
                for aggregate_id in processing_event.aggregates:
                    self._known_timelines.pop(aggregate_id, None)
            raise
        with self._known_lock:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                if isinstance(aggregate, Timeline):
                    self._known_timelines[aggregate_id] = aggregate
                    self._known_timelines.move_to_end(aggregate_id)
            while len(self._known_timelines) > KNOWN_TIMELINES:
                self._known_timelines.popitem(last=False)
        return recordings

    # --- audit reads ---------------------------------------------------------------

    def history(self, subject: str, as_of: dt.datetime | None = None) -> list[ArchivedEvent]:
        return [entry for _, entry in self.numbered_history(subject, as_of)]

    def numbered_history(self, subject: str, as_of: dt.datetime | None = None
                         ) -> list[tuple[int, ArchivedEvent]]:
        """The subject's archived events with their arrival position (from 1), in the
        order things happened."""
        entries = [(position, entry) for position, entry in enumerate(
                       map(entry_of, self.events.get(timeline_id(subject))), start=1)
                   if entry is not None and (as_of is None or entry.time <= as_of)]
        if not entries and not self.exists(timeline_id(subject)):
            raise NotFound(f"history of {subject}: nothing archived")
        # Archived in arrival order, which interleaves services' topics arbitrarily;
        # auditors read in the order things happened (stable: ties keep arrival order).
        return sorted(entries, key=lambda numbered: numbered[1].time)

    def campaign_progress_as_of(self, campaign_id: str, moment: dt.datetime) -> dict[str, Any]:
        """The campaign's progress as it stood at ``moment``, from the archive alone."""
        progress = CampaignProgress(campaign_id)
        for entry in self.history(campaign_id, as_of=moment):
            progress.apply(entry)
        if progress.campaign_version == 0:
            raise NotFound(f"campaign {campaign_id} had not been planned by "
                           f"{moment.isoformat()}")
        return progress.report()
