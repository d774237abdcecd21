"""``GET /archive/export``: the archive streamed as JSON Lines, CSV or OCEL 2.0."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from services.reporting.application import ReportingApplication
from services.reporting.export import COLUMNS, ExportFilter, csv_lines, jsonl
from services.reporting.ocel import OcelLogOut, ocel
from shared.auth import current_caller
from shared.policy import Caller, action

JSONL_MEDIA_TYPE = "application/x-ndjson"
CSV_MEDIA_TYPE = "text/csv"
OCEL_MEDIA_TYPE = "application/json"

Format = Literal["jsonl", "csv", "ocel"]
FORMATS: dict[str, tuple[Callable[[Iterator[dict[str, Any]]], Iterator[bytes]], str, str]] = {
    "jsonl": (jsonl, JSONL_MEDIA_TYPE, "archive.jsonl"),
    "csv": (csv_lines, f"{CSV_MEDIA_TYPE}; charset=utf-8", "archive.csv"),
    "ocel": (ocel, OCEL_MEDIA_TYPE, "archive.jsonocel"),
}
FIELDS = ", ".join(COLUMNS)
RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "model": OcelLogOut,
    "description": "the selected archived events, each once, oldest first, streamed",
    "content": {
        JSONL_MEDIA_TYPE: {"schema": {
            "type": "string", "description": f"format=jsonl: one JSON object per line "
                                             f"with {FIELDS} (as an archived event)"}},
        CSV_MEDIA_TYPE: {"schema": {
            "type": "string", "description": f"format=csv: a header row, then a row per "
                                             f"event: {FIELDS} (data: JSON text; empty: "
                                             f"none)"}},
    },
}}


def add_export_route(router: APIRouter, app: ReportingApplication) -> None:
    @router.get("/archive/export", tags=["audit"], openapi_extra=action("report.export"),
                response_class=StreamingResponse, responses=RESPONSES)
    def export_archive(
        caller: Annotated[Caller, Depends(current_caller)],
        format: Annotated[Format, Query(
            description="jsonl (JSON Lines), csv, or ocel (OCEL 2.0 JSON, an object-"
                        "centric event log for process mining)")] = "jsonl",
        start: Annotated[dt.datetime | None, Query(
            alias="from", description="events from this time on (ISO 8601 with a UTC "
                                      "offset)")] = None,
        end: Annotated[dt.datetime | None, Query(
            alias="to", description="events before this time (ISO 8601 with a UTC "
                                    "offset)")] = None,
        subject: Annotated[str | None, Query(
            max_length=200, description="only events about this subject (a task's, a "
                                        "campaign's, a member's id, ...)")] = None,
        actor: Annotated[str | None, Query(
            max_length=200, description="only events this member or system did")] = None,
    ) -> StreamingResponse:
        """The archive for auditors and analysts, streamed (admins, planners, auditors).
        Filters combine; a bad one is a 422 before anything is sent."""
        selection = ExportFilter(start, end, subject, actor)
        encode, media_type, filename = FORMATS[format]
        rows = app.export_rows(caller, selection)
        return StreamingResponse(encode(rows), media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
