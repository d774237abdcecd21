"""The people reports' HTTP routes and what they return: ``GET /reports/approvals``,
``/reports/workload`` and ``/reports/goals``, each live or ``as_of`` a past instant and
narrowed by period, campaign, playbook, team and member (``ReportFilter``). Wired in with
``people_reports(app)`` (its router and the projections it reads)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.application import ReportingApplication
from services.reporting.approval_facts import ApprovalFactsView
from services.reporting.goal_facts import GoalFactsView
from services.reporting.report_filter import ReportFilter
from services.reporting.reports_people import DEFAULT_EFFORT_HOURS, PeopleReports
from shared.auth import current_caller
from shared.policy import Caller, action
from shared.projections import Projection

Actor = Annotated[Caller, Depends(current_caller)]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- approvals ---------------------------------------------------------------------------

class Turnaround(Out):
    decisions: int
    median_hours: float | None = Field(description="nearest-rank median")
    p90_hours: float | None = Field(description="nearest-rank 90th percentile")


class StepTurnaroundOut(Turnaround):
    step: int


class ApproverTurnaroundOut(Turnaround):
    approver: str


class RoundsCountOut(Out):
    rounds: int
    tasks: int


class RevisionRoundsOut(Out):
    tasks: int = Field(description="tasks submitted in the period")
    mean: float | None
    max: int | None
    distribution: list[RoundsCountOut]


class FirstTimeApprovalOut(Out):
    tasks_approved: int
    approved_first_time: int
    share_percent: float | None


class HandoverOut(Out):
    task_id: str
    kind: Literal["approvals", "task"]
    from_member: str | None
    to_member: str | None = Field(description="none: the step's other approvers")
    absence_id: str | None
    at: dt.datetime


class DelegationsOut(Out):
    count: int
    handovers: list[HandoverOut]


class ApprovalsReportOut(Out):
    as_of: dt.datetime | None
    turnaround_by_step: list[StepTurnaroundOut]
    turnaround_by_approver: list[ApproverTurnaroundOut]
    revision_rounds: RevisionRoundsOut
    first_time_approval: FirstTimeApprovalOut
    delegations: DelegationsOut


# --- workload ----------------------------------------------------------------------------

class WeekLoadOut(Out):
    week: str = Field(description="ISO week, e.g. 2026-W02")
    starts_on: dt.date
    tasks_due: int
    effort_hours: float
    over_capacity: bool


class MemberLoadOut(Out):
    member_id: str
    name: str | None
    team_ids: list[str]
    weekly_capacity_hours: float
    open_tasks: int
    overdue_tasks: int
    weeks: list[WeekLoadOut]
    over_capacity_now: bool
    over_capacity_next_four_weeks: bool


class QueueDepthOut(Out):
    queue: str
    open_unassigned: int


class WorkloadReportOut(Out):
    as_of: dt.datetime | None
    day: dt.date
    default_effort_hours: float = Field(
        default=DEFAULT_EFFORT_HOURS, description="effort of a task whose plan gives none")
    members: list[MemberLoadOut]
    queues: list[QueueDepthOut]


# --- goals -------------------------------------------------------------------------------

class LinkedCampaignOut(Out):
    campaign_id: str
    name: str | None
    status: str | None
    tasks_total: int
    tasks_done: int
    percent_done: float


class GoalOut(Out):
    goal_id: str
    name: str
    weight: float
    kpi_name: str | None
    kpi_unit: str | None
    kpi_target: float
    kpi_aggregation: str
    period_start: dt.date | None
    period_end: dt.date | None
    measurements: int
    achieved: float | None
    attainment_percent: float | None
    campaigns: list[LinkedCampaignOut]


class GoalsReportOut(Out):
    as_of: dt.datetime | None
    goals: list[GoalOut]
    weighted_attainment_percent: float | None
    goals_unmeasured: int


# --- routes ------------------------------------------------------------------------------

def report_filter(
        as_of: Annotated[dt.datetime | None, Query(
            description="only what had happened by this time (ISO 8601 with a UTC "
                        "offset)")] = None,
        start: Annotated[dt.date | None, Query(alias="from", description=(
            "first day of the period (inclusive)"))] = None,
        end: Annotated[dt.date | None, Query(alias="to", description=(
            "last day of the period (inclusive)"))] = None,
        campaign_id: str | None = None, playbook_id: str | None = None,
        team_id: str | None = None, member_id: str | None = None) -> ReportFilter:
    """The query's filter; a time without a zone or a period ending before it starts is
    refused (400) before anything is read."""
    return ReportFilter(as_of=as_of, start=start, end=end, campaign_id=campaign_id,
                        playbook_id=playbook_id, team_id=team_id, member_id=member_id)


Filter = Annotated[ReportFilter, Depends(report_filter)]


@dataclass(frozen=True)
class PeopleReportsParts:
    router: APIRouter
    views: list[Projection]
    reports: PeopleReports


def people_reports(app: ReportingApplication) -> PeopleReportsParts:
    """The people reports' routes and the projections they read (besides ``app.facts``)."""
    reports = PeopleReports(app.facts, ApprovalFactsView(app), GoalFactsView(app),
                            app._campaign_resource)  # who may read a campaign: one rule
    router = APIRouter(tags=["reports"])

    @router.get("/reports/approvals", openapi_extra=action("report.approvals.read"))
    def approvals_report(caller: Actor, report: Filter) -> ApprovalsReportOut:
        """Approval turnaround per step and approver, revision rounds, first-time
        approvals and absence hand-overs (contributors: name a campaign, team or
        yourself)."""
        return ApprovalsReportOut.model_validate(reports.approvals(caller, report))

    @router.get("/reports/workload", openapi_extra=action("report.workload.read"))
    def workload_report(caller: Actor, report: Filter) -> WorkloadReportOut:
        """Each member's open tasks, what falls due in the coming four ISO weeks and its
        effort against their capacity; queue depths (contributors: member_id=yourself)."""
        return WorkloadReportOut.model_validate(reports.workload(caller, report))

    @router.get("/reports/goals", openapi_extra=action("report.goals.read"))
    def goals_report(caller: Actor, report: Filter) -> GoalsReportOut:
        """Each goal's KPI against its target, weighted attainment, and the linked
        campaigns' progress (contributors: name a campaign, team or yourself)."""
        return GoalsReportOut.model_validate(reports.goals(caller, report))

    return PeopleReportsParts(router, [reports.approval_facts, reports.goal_facts], reports)
