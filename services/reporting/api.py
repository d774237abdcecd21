"""Reporting's HTTP API: progress and audit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.reporting.application import ReportingApplication
from services.reporting.representations import (
    HISTORY_ORDER,
    ArchivedEventOut,
    ArchiveTotalsOut,
    CampaignHistoryOut,
    ProgressOut,
    TaskHistoryOut,
    archived_event_out,
    history_rows,
)
from services.reporting.views import ProgressView
from shared.auth import Member, current_member
from shared.domain import InvalidCommand, NotFound
from shared.paging import Paging, page_in_memory, paged

Actor = Annotated[Member, Depends(current_member)]
AsOf = Annotated[dt.datetime | None, Query(
    description="only what had happened by this time (ISO 8601 with a UTC offset)")]


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise InvalidCommand("as_of: give a time zone, e.g. 2026-01-31T12:00:00+00:00")
    return moment


def build_router(app: ReportingApplication, progress: ProgressView) -> APIRouter:
    router = APIRouter()

    def history_page(subject: UUID, as_of: dt.datetime | None, page: Paging,
                     request: Request, response: Response) -> list[ArchivedEventOut]:
        """One page of a subject's history; the next page's address in ``Link``."""
        rows = history_rows(app.numbered_history(str(subject), _aware(as_of) if as_of
                                                 else None))
        return [archived_event_out(row["entry"]) for row in paged(
            page_in_memory(rows, HISTORY_ORDER, page), request, response)]

    @router.get("/campaigns/{campaign_id}/progress", tags=["reports"])
    def campaign_progress(campaign_id: UUID, member: Actor, as_of: AsOf = None
                          ) -> ProgressOut:
        if as_of is not None:
            return ProgressOut.model_validate(
                app.campaign_progress_as_of(str(campaign_id), _aware(as_of)))
        report = progress.progress(str(campaign_id))
        if report is None:
            raise NotFound(f"no events archived for campaign {campaign_id}")
        return ProgressOut.model_validate(report)

    @router.get("/campaigns/{campaign_id}/history", tags=["audit"])
    def campaign_history(campaign_id: UUID, member: Actor, page: Paging, request: Request,
                         response: Response, as_of: AsOf = None) -> CampaignHistoryOut:
        """Everything that happened to the campaign and its tasks, oldest first, paged."""
        return CampaignHistoryOut(campaign_id=campaign_id, events=history_page(
            campaign_id, as_of, page, request, response))

    @router.get("/tasks/{task_id}/history", tags=["audit"])
    def task_history(task_id: UUID, member: Actor, page: Paging, request: Request,
                     response: Response, as_of: AsOf = None) -> TaskHistoryOut:
        """Everything that happened to the task, oldest first, paged."""
        return TaskHistoryOut(task_id=task_id, events=history_page(
            task_id, as_of, page, request, response))

    @router.get("/archive", tags=["audit"])
    def archive_totals(member: Actor) -> ArchiveTotalsOut:
        return ArchiveTotalsOut(archived_by_type=progress.totals())

    return router
