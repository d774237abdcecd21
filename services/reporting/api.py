"""Reporting's HTTP API: progress and audit. Each route names its action in the access
policy (``policy.py``); the use cases check it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.reporting.application import ReportingApplication
from services.reporting.domain import ArchivedEvent
from services.reporting.export_api import add_export_route
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
from shared.auth import current_caller
from shared.domain import InvalidCommand
from shared.paging import Paging, page_in_memory, paged
from shared.policy import Caller, action

Actor = Annotated[Caller, Depends(current_caller)]
AsOf = Annotated[dt.datetime | None, Query(
    description="only what had happened by this time (ISO 8601 with a UTC offset)")]


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise InvalidCommand("as_of: give a time zone, e.g. 2026-01-31T12:00:00+00:00")
    return moment


def _moment(as_of: dt.datetime | None) -> dt.datetime | None:
    return _aware(as_of) if as_of is not None else None


def build_router(app: ReportingApplication) -> APIRouter:
    router = APIRouter()

    def history_page(numbered: list[tuple[int, ArchivedEvent]], page: Paging,
                     request: Request, response: Response) -> list[ArchivedEventOut]:
        """One page of a subject's history; the next page's address in ``Link``."""
        return [archived_event_out(row["entry"]) for row in paged(
            page_in_memory(history_rows(numbered), HISTORY_ORDER, page), request, response)]

    @router.get("/campaigns/{campaign_id}/progress", tags=["reports"],
                openapi_extra=action("report.progress.read"))
    def campaign_progress(campaign_id: UUID, caller: Actor, as_of: AsOf = None
                          ) -> ProgressOut:
        """The campaign's progress (contributors: campaigns they take part in or of their
        teams)."""
        return ProgressOut.model_validate(
            app.campaign_report(str(campaign_id), caller, _moment(as_of)))

    @router.get("/campaigns/{campaign_id}/history", tags=["audit"],
                openapi_extra=action("report.campaign_history.read"))
    def campaign_history(campaign_id: UUID, caller: Actor, page: Paging, request: Request,
                         response: Response, as_of: AsOf = None) -> CampaignHistoryOut:
        """Everything that happened to the campaign and its tasks, oldest first, paged."""
        return CampaignHistoryOut(campaign_id=campaign_id, events=history_page(
            app.campaign_history(str(campaign_id), caller, _moment(as_of)), page, request,
            response))

    @router.get("/tasks/{task_id}/history", tags=["audit"],
                openapi_extra=action("report.task_history.read"))
    def task_history(task_id: UUID, caller: Actor, page: Paging, request: Request,
                     response: Response, as_of: AsOf = None) -> TaskHistoryOut:
        """Everything that happened to the task, oldest first, paged."""
        return TaskHistoryOut(task_id=task_id, events=history_page(
            app.task_history(str(task_id), caller, _moment(as_of)), page, request,
            response))

    @router.get("/archive", tags=["audit"], openapi_extra=action("report.archive.read"))
    def archive_totals(caller: Actor) -> ArchiveTotalsOut:
        """How many events of each type the archive holds (admins, planners, auditors)."""
        return ArchiveTotalsOut(archived_by_type=app.archive_totals(caller))

    add_export_route(router, app)
    return router
