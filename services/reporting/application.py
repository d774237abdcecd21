"""Reporting's use cases: archiving, and the reports and audit reads of the archive, each
checking the access policy first (``policy.py``)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

from services.reporting.domain import ArchivedEvent, Timeline, entry_of, timeline_id
from services.reporting.export import ArchiveView, ExportFilter
from services.reporting.facts import FactsView
from services.reporting.policy import POLICY
from services.reporting.progress import CampaignProgress
from services.reporting.reports_delivery import DeliveryReports
from services.reporting.views import ProgressView
from shared.application import Handlers, ServiceApplication
from shared.cloudevents import InboundEvent
from shared.config import Settings
from shared.domain import NotFound
from shared.policy import Caller, Resource, Scope

KNOWN_TIMELINES = 20_000
"""Timelines remembered as last saved here (a few hundred bytes each)."""


class ReportingApplication(ServiceApplication):
    def __init__(self, settings: Settings, handlers: Handlers | None = None) -> None:
        super().__init__(settings, handlers)
        self._known_timelines: OrderedDict[UUID, Timeline] = OrderedDict()
        self._known_lock = threading.Lock()
        self.progress = ProgressView(self)
        self.archive = ArchiveView(self)
        self.facts = FactsView(self)

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

    def prefetch(self, batch: Sequence[InboundEvent]) -> None:
        """The timelines the batch files under (each event's subject and campaign) that do
        not exist yet, in one query: most events of a new task start its timeline."""
        subjects = {inbound.envelope.subject for inbound in batch} | {
            str(campaign_id) for inbound in batch
            if (campaign_id := getattr(inbound.event, "campaign_id", None))}
        with self._known_lock:
            unknown = [aggregate_id for aggregate_id in map(timeline_id, subjects)
                       if aggregate_id not in self._known_timelines]
        self.remember_missing(unknown)

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

    # --- reports, as the access policy allows ---------------------------------------

    def campaign_report(self, campaign_id: str, caller: Caller,
                        as_of: dt.datetime | None = None) -> dict[str, Any]:
        """The campaign's progress now, or as it stood at ``as_of``."""
        self._authorize_campaign("report.progress.read", caller, campaign_id)
        if as_of is not None:
            report = self.campaign_progress_as_of(campaign_id, as_of)
        else:
            found = self.progress.progress(campaign_id)
            if found is None:
                raise NotFound(f"no events archived for campaign {campaign_id}")
            report = found
        return {**report, **delivery_progress(self, campaign_id, as_of)}

    def campaign_history(self, campaign_id: str, caller: Caller,
                         as_of: dt.datetime | None = None) -> list[tuple[int, ArchivedEvent]]:
        """Everything that happened to the campaign and its tasks (see
        ``numbered_history``)."""
        self._authorize_campaign("report.campaign_history.read", caller, campaign_id)
        return self.numbered_history(campaign_id, as_of)

    def task_history(self, task_id: str, caller: Caller,
                     as_of: dt.datetime | None = None) -> list[tuple[int, ArchivedEvent]]:
        """Everything that happened to the task; who may read it goes with its campaign."""
        action = "report.task_history.read"
        if POLICY.scope(action, caller) is Scope.ALL:
            POLICY.authorize(action, caller)
        else:
            campaign_id = self.progress.campaign_of_task(task_id)
            resource = (self._campaign_resource(campaign_id) if campaign_id is not None
                        else Resource())
            POLICY.authorize(action, caller, Resource.of(
                owners=resource.owners, teams=resource.teams,
                description=f"task {task_id}" + (f" of campaign {campaign_id}"
                                                 if campaign_id else "")))
        return self.numbered_history(task_id, as_of)

    def archive_totals(self, caller: Caller) -> dict[str, int]:
        """How many events of each type the archive holds."""
        POLICY.authorize("report.archive.read", caller)
        return self.progress.totals()

    def _authorize_campaign(self, action: str, caller: Caller, campaign_id: str) -> None:
        # Who may read everything is not made to wait for the campaign's participants.
        if POLICY.scope(action, caller) is Scope.ALL:
            POLICY.authorize(action, caller)
        else:
            POLICY.authorize(action, caller, self._campaign_resource(campaign_id))

    def _campaign_resource(self, campaign_id: str) -> Resource:
        """A campaign as the policy sees it: its participants own it, its team has it.
        One reporting knows nothing of is nobody's (only readers of everything pass)."""
        access = self.progress.campaign_access(campaign_id)
        if access is None:
            return Resource.of(description=f"campaign {campaign_id}")
        return Resource.of(owners=access.participants, teams=access.team_id or (),
                           description=f"campaign {campaign_id}")

    # --- audit reads (unchecked: the use cases above check first) -------------------

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

    # --- export ----------------------------------------------------------------------

    def export_rows(self, caller: Caller, selection: ExportFilter
                    ) -> Iterator[dict[str, Any]]:
        """The archived events ``selection`` picks, each once, oldest first, read as the
        iterator is consumed (``export.ArchiveView.rows``); checked before any is read."""
        POLICY.authorize("report.export", caller)
        return self.archive.rows(selection)


def delivery_progress(app: ReportingApplication, campaign_id: str,
                      as_of: dt.datetime | None) -> dict[str, Any]:
    """The campaign's current dates, status, days to launch and phases (the delivery
    progress report's), to add to its progress; nothing while its plan is not in the
    facts."""
    found = DeliveryReports(app).campaign_progress(campaign_id, as_of)
    if found is None:
        return {}
    return {name: found[name] for name in ("status", "start_date", "end_date",
                                           "days_to_launch", "tasks_by_state", "phases")}
