"""The delivery reports' HTTP routes and what they return (definitions:
docs/reports.md). Every report takes the one report filter: ``as_of``, the
period (``from``, ``to``) and ``campaign_id``, ``playbook_id``, ``team_id``,
``member_id``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.application import ReportingApplication
from services.reporting.report_filter import ReportFilter
from services.reporting.reports_delivery import ATTENTION_ORDER, DeliveryReports
from services.reporting.representations import PhaseProgressOut
from shared.auth import current_caller
from shared.paging import Paging, page_in_memory, paged
from shared.policy import Caller, action

Actor = Annotated[Caller, Depends(current_caller)]


def report_filter(
    as_of: Annotated[dt.datetime | None, Query(
        description="the report as it stood at this time (ISO 8601 with a UTC offset); "
                    "default: now")] = None,
    start: Annotated[dt.date | None, Query(alias="from", description=(
        "first day of the period (inclusive)"))] = None,
    end: Annotated[dt.date | None, Query(alias="to", description=(
        "last day of the period (inclusive)"))] = None,
    campaign_id: Annotated[UUID | None, Query()] = None,
    playbook_id: Annotated[UUID | None, Query()] = None,
    team_id: Annotated[str | None, Query(max_length=200)] = None,
    member_id: Annotated[str | None, Query(max_length=200)] = None,
) -> ReportFilter:
    return ReportFilter(as_of=as_of, start=start, end=end,
                        campaign_id=str(campaign_id) if campaign_id else None,
                        playbook_id=str(playbook_id) if playbook_id else None,
                        team_id=team_id, member_id=member_id)


Filter = Annotated[ReportFilter, Depends(report_filter)]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- progress -------------------------------------------------------------------------------

class CampaignProgressOut(Out):
    campaign_id: UUID
    name: str
    status: str = Field(description="planned | cancelled | completed")
    team_id: str | None
    playbook_id: str | None
    launch_date: dt.date | None = Field(description="as rescheduled")
    start_date: dt.date | None = Field(description="earliest start (or due) date of the "
                                                   "current plan")
    end_date: dt.date | None = Field(description="latest due date of the current plan")
    days_to_launch: int | None = Field(description="calendar days from the report's day "
                                                   "to the launch; negative after")
    tasks_total: int
    tasks_by_state: dict[str, int]
    tasks_done: int
    percent_done: float = Field(ge=0, le=100)
    phases: list[PhaseProgressOut]


# --- on time --------------------------------------------------------------------------------

class OnTimeFiguresOut(Out):
    tasks_done: int = Field(description="tasks done in the period")
    done_on_time: int = Field(description="done on or before their due date")
    share_on_time: float | None = Field(description="done_on_time / tasks_done; null: none")
    working_days_late_median: float | None
    working_days_late_p90: float | None


class OnTimeGroupOut(OnTimeFiguresOut):
    id: str | None = Field(description="the campaign, playbook, team or member (assignee); "
                                       "null: none")


class AttentionOut(Out):
    task_id: UUID
    kind: str = Field(description="overdue | at_risk")
    due_date: dt.date
    working_days_late: int = Field(description="overdue: working days after the due "
                                               "date up to the report's day")
    working_days_left: int = Field(description="at risk: working days to the due date")
    campaign_id: UUID
    key: str | None
    title: str | None
    state: str
    assignee_id: str | None
    queue: str | None


class OnTimeOut(Out):
    overall: OnTimeFiguresOut
    by_campaign: list[OnTimeGroupOut]
    by_playbook: list[OnTimeGroupOut]
    by_team: list[OnTimeGroupOut]
    by_member: list[OnTimeGroupOut]
    attention: list[AttentionOut] = Field(description=(
        "open tasks overdue or at risk, earliest due first; one page (limit, cursor; "
        "Link header: the next)"))


# --- flow -----------------------------------------------------------------------------------

class StatsOut(Out):
    count: int
    median: float | None
    p90: float | None


class FlowGroupOut(Out):
    key: str | None = None
    phase: str | None = None
    cycle_time_hours: StatsOut
    lead_time_hours: StatsOut


class PhaseHoursOut(Out):
    phase: str | None
    hours: dict[str, float]


class WeekOut(Out):
    week: str = Field(description="ISO week, e.g. 2026-W02")
    week_start: dt.date
    tasks_done: int


class FlowOut(Out):
    tasks_done: int
    cycle_time_hours: StatsOut = Field(description="ready -> done")
    lead_time_hours: StatsOut = Field(description="opened -> done")
    by_key: list[FlowGroupOut]
    by_phase: list[FlowGroupOut]
    hours_in_state: dict[str, float] = Field(description=(
        "queued, waiting_to_start, in_progress, in_review, blocked: hours summed over the "
        "tasks, within the period and up to the instant"))
    hours_in_state_by_phase: list[PhaseHoursOut]
    throughput: list[WeekOut]


# --- a campaign's state ---------------------------------------------------------------------

class TaskStateOut(Out):
    task_id: UUID
    key: str | None
    phase: str | None
    title: str | None
    state: str
    assignee_id: str | None
    queue: str | None
    due_date: dt.date | None
    start_date: dt.date | None
    milestones: dict[str, dt.datetime | None] = Field(
        description="when it first was opened, ready, started, submitted, done, cancelled")
    submission_version: int
    revision_rounds: int
    in_plan: bool = Field(description="false: removed from the campaign's plan")


class CampaignStateOut(Out):
    campaign_id: UUID
    name: str
    playbook_id: str | None
    playbook_version: int | None
    team_id: str | None
    status: str
    goal_ids: list[str]
    launch_date: dt.date | None
    start_date: dt.date | None
    end_date: dt.date | None
    planned_start_date: dt.date | None = Field(description="the start date the plan set")
    tasks: list[TaskStateOut]


def build_delivery_router(app: ReportingApplication) -> APIRouter:
    router = APIRouter(tags=["reports"])
    reports = DeliveryReports(app)

    @router.get("/reports/progress", openapi_extra=action("report.progress.read"))
    def progress(caller: Actor, report: Filter) -> list[CampaignProgressOut]:
        """Per campaign and phase: tasks by state, percent done, current dates, days to
        launch. Readers of everything ask freely; others name a campaign, team or
        themselves."""
        return [CampaignProgressOut.model_validate(row)
                for row in reports.progress(caller, report)]

    @router.get("/reports/on-time", openapi_extra=action("report.on_time.read"))
    def on_time(caller: Actor, report: Filter, page: Paging, request: Request,
                response: Response) -> OnTimeOut:
        """Share of tasks done by their due date and lateness in working days, per
        campaign, playbook, team and member; open tasks overdue or at risk, paged."""
        summary, attention = reports.on_time(caller, report)
        return OnTimeOut.model_validate({**summary, "attention": paged(
            page_in_memory(attention, ATTENTION_ORDER, page), request, response)})

    @router.get("/reports/flow", openapi_extra=action("report.flow.read"))
    def flow(caller: Actor, report: Filter) -> FlowOut:
        """Cycle and lead times per task key and phase, hours in each state, weekly
        throughput."""
        return FlowOut.model_validate(reports.flow(caller, report))

    @router.get("/campaigns/{campaign_id}/state",
                openapi_extra=action("report.campaign_state.read"))
    def campaign_state(campaign_id: UUID, caller: Actor,
                       as_of: Annotated[dt.datetime | None, Query(description=(
                           "as it stood at this time (ISO 8601 with a UTC offset)"))] = None
                       ) -> CampaignStateOut:
        """The campaign and each of its tasks (state, assignee, dates, milestones) as they
        stood at ``as_of`` (default: now)."""
        report = ReportFilter(as_of=as_of, campaign_id=str(campaign_id))  # checks as_of
        return CampaignStateOut.model_validate(
            reports.campaign_state(str(campaign_id), caller, report.as_of))

    return router
