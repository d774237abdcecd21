"""What reporting's HTTP API returns, shaped in one place."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain import ArchivedEvent

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
HISTORY_ORDER = ("at", "position")
"""A history's page key: when it happened (µs since the epoch), then arrival order, which
never changes for an archived event (times alone tie)."""


class Representation(BaseModel):
    model_config = ConfigDict(frozen=True)


class PhaseProgressOut(Representation):
    """One phase of a campaign's plan: its tasks by state (``reports_delivery.py``)."""

    phase: str | None = Field(description="from the plan; null: tasks without a phase")
    tasks_total: int
    tasks_by_state: dict[str, int] = Field(
        description="execution's task states; planned but not yet opened: planned")
    tasks_done: int
    percent_done: float = Field(ge=0, le=100, description="done / (total - cancelled)")


class ProgressOut(Representation):
    """A campaign's progress: tasks by outcome, from the archive."""

    campaign_id: UUID
    name: str | None = Field(description="none until the campaign's planning is archived")
    launch_date: dt.date | None
    tasks_total: int = Field(description="tasks opened, or planned if more")
    tasks_open: int
    tasks_cancelled: int
    tasks_done: int
    percent_done: float = Field(ge=0, le=100)
    # From the versioned facts (``reports_delivery.py``); empty while the campaign's
    # planning is not in them.
    status: str | None = Field(default=None, description="planned | cancelled | completed")
    start_date: dt.date | None = Field(
        default=None, description="earliest start (or due) date of the current plan")
    end_date: dt.date | None = Field(default=None,
                                     description="latest due date of the current plan")
    days_to_launch: int | None = Field(
        default=None, description="calendar days from the report's day to the launch date "
                                  "(as rescheduled); negative after")
    tasks_by_state: dict[str, int] = Field(
        default_factory=dict, description="execution's task states; planned but not yet "
                                          "opened: planned")
    phases: list[PhaseProgressOut] = Field(
        default_factory=list, description="per phase of the plan (null: no phase)")


class ArchivedEventOut(Representation):
    """An integration event exactly as reporting received it: envelope and payload."""

    id: str = Field(description="the CloudEvents id (ce_id)")
    source: str
    type: str = Field(description="the CloudEvents type, e.g. "
                                  "marketflow.execution.task.opened.v1")
    time: dt.datetime
    subject: str = Field(description="the aggregate the event is about")
    actor: str
    aggregate_version: int
    correlation_id: str | None
    causation_id: str | None
    reason: str | None
    data: dict[str, Any] = Field(
        description="the event's payload; its JSON Schema is the published contract of "
                    "its type (open here: the archive keeps every type, old and new)")


class CampaignHistoryOut(Representation):
    campaign_id: UUID
    events: list[ArchivedEventOut] = Field(
        description="in the order things happened; one page (Link header: the next)")


class TaskHistoryOut(Representation):
    task_id: UUID
    events: list[ArchivedEventOut] = Field(
        description="in the order things happened; one page (Link header: the next)")


class ArchiveTotalsOut(Representation):
    archived_by_type: dict[str, int] = Field(description="event type -> events archived")


def history_rows(numbered: list[tuple[int, ArchivedEvent]]) -> list[dict[str, Any]]:
    """A history's entries as rows to page (see ``HISTORY_ORDER``)."""
    return [{"at": (entry.time - EPOCH) // dt.timedelta(microseconds=1), "position": position,
             "entry": entry} for position, entry in numbered]


def archived_event_out(entry: ArchivedEvent) -> ArchivedEventOut:
    return ArchivedEventOut.model_validate(entry.model_dump())
