"""Reporting's HTTP API: progress and audit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.reporting.application import ReportingApplication
from services.reporting.views import ProgressView
from shared.auth import Member, current_member
from shared.domain import InvalidCommand, NotFound

Actor = Annotated[Member, Depends(current_member)]
AsOf = Annotated[dt.datetime | None, Query(
    description="only what had happened by this time (ISO 8601 with a UTC offset)")]


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise InvalidCommand("as_of: give a time zone, e.g. 2026-01-31T12:00:00+00:00")
    return moment


def build_router(app: ReportingApplication, progress: ProgressView) -> APIRouter:
    router = APIRouter()

    @router.get("/campaigns/{campaign_id}/progress", tags=["reports"])
    def campaign_progress(campaign_id: UUID, member: Actor, as_of: AsOf = None
                          ) -> dict[str, Any]:
        if as_of is not None:
            return app.campaign_progress_as_of(str(campaign_id), _aware(as_of))
        report = progress.progress(str(campaign_id))
        if report is None:
            raise NotFound(f"no events archived for campaign {campaign_id}")
        return report

    @router.get("/campaigns/{campaign_id}/history", tags=["audit"])
    def campaign_history(campaign_id: UUID, member: Actor, as_of: AsOf = None
                         ) -> dict[str, Any]:
        entries = app.history(str(campaign_id), _aware(as_of) if as_of else None)
        return {"campaign_id": str(campaign_id),
                "events": [entry.model_dump(mode="json") for entry in entries]}

    @router.get("/tasks/{task_id}/history", tags=["audit"])
    def task_history(task_id: UUID, member: Actor, as_of: AsOf = None) -> dict[str, Any]:
        entries = app.history(str(task_id), _aware(as_of) if as_of else None)
        return {"task_id": str(task_id),
                "events": [entry.model_dump(mode="json") for entry in entries]}

    @router.get("/archive", tags=["audit"])
    def archive_totals(member: Actor) -> dict[str, Any]:
        return {"archived_by_type": progress.totals()}

    return router
