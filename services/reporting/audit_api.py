"""Who did what, over HTTP: a member's activity across services, and the full histories
of members, playbooks and goals (``audit_reads.py``). Each route names its action in the
access policy (``policy.py``); the use cases check it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from services.reporting.activity import ActivityView, Include, Period
from services.reporting.application import ReportingApplication
from services.reporting.audit_reads import AuditReads
from services.reporting.export import ExportFilter
from services.reporting.representations import ArchivedEventOut, Representation
from shared.access import AccessView
from shared.auth import current_caller
from shared.domain import InvalidCommand
from shared.paging import Paging, paged
from shared.policy import Caller, action
from shared.projections import Page

Actor = Annotated[Caller, Depends(current_caller)]
MemberId = Annotated[str, Path(min_length=1, max_length=200, description="a member's id")]
AsOf = Annotated[dt.datetime | None, Query(
    description="only what had happened by this time (ISO 8601 with a UTC offset)")]


class ActivityEntryOut(ArchivedEventOut):
    """An archived event in a member's activity, and how it concerns them."""

    role: Literal["actor", "on_behalf"] = Field(
        description="actor: the member did it; on_behalf: another member or the system "
                    "(system:*) did it to or for them (e.g. assigned them a task while "
                    "someone is away, delegated approvals to them, escalated to them)")


class MemberHistoryOut(Representation):
    member_id: str
    events: list[ArchivedEventOut] = Field(
        description="in the order things happened; one page (Link header: the next); an "
                    "absence's reason is 'away' except to the member")


class PlaybookHistoryOut(Representation):
    playbook_id: UUID
    events: list[ArchivedEventOut] = Field(
        description="in the order things happened; one page (Link header: the next)")


class GoalHistoryOut(Representation):
    goal_id: UUID
    events: list[ArchivedEventOut] = Field(
        description="in the order things happened; one page (Link header: the next)")


@dataclass(frozen=True)
class AuditParts:
    router: APIRouter
    view: ActivityView
    """A read model for the runtime to open and follow (``ServiceParts.views``)."""


def _period(start: dt.datetime | None, end: dt.datetime | None) -> Period:
    ExportFilter(start, end)  # the export's rules and messages: a time zone, from < to
    return Period(start, end)


def _as_of(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidCommand("as_of: give a time zone, e.g. 2026-01-31T12:00:00+00:00")
    return moment


def _events(page: Page, request: Request, response: Response) -> list[ArchivedEventOut]:
    return [ArchivedEventOut.model_validate(row) for row in paged(page, request, response)]


def audit_routes(app: ReportingApplication, access: AccessView) -> AuditParts:
    reads = AuditReads(app, access)
    router = APIRouter(tags=["audit"])

    @router.get("/audit/members/{member_id}/activity",
                openapi_extra=action("audit.activity.read"))
    def member_activity(
        member_id: MemberId, caller: Actor, page: Paging, request: Request,
        response: Response,
        start: Annotated[dt.datetime | None, Query(
            alias="from", description="from this time on (ISO 8601 with a UTC offset)")
        ] = None,
        end: Annotated[dt.datetime | None, Query(
            alias="to", description="before this time (ISO 8601 with a UTC offset)")
        ] = None,
        include: Annotated[Include, Query(
            description="own: what they did; on_behalf: what others or the system did to "
                        "or for them; all: both")] = "all",
    ) -> list[ActivityEntryOut]:
        """Everything the member did, or had done to or for them, in every service,
        oldest first (time, then arrival), paged (admins and auditors; managers: their
        reports and their teams' members; members: their own). An absence's reason is
        'away' except to the member who is away."""
        found = reads.member_activity(caller, member_id, _period(start, end), include, page)
        rows: list[dict[str, Any]] = paged(found, request, response)
        return [ActivityEntryOut.model_validate(row) for row in rows]

    @router.get("/members/{member_id}/history",
                openapi_extra=action("audit.member_history.read"))
    def member_history(member_id: MemberId, caller: Actor, page: Paging, request: Request,
                       response: Response, as_of: AsOf = None) -> MemberHistoryOut:
        """Everything that happened to the member's directory record and absences, oldest
        first, paged (who may: as for their activity)."""
        return MemberHistoryOut(member_id=member_id, events=_events(
            reads.member_history(caller, member_id, _as_of(as_of), page), request,
            response))

    @router.get("/playbooks/{playbook_id}/history",
                openapi_extra=action("audit.playbook_history.read"))
    def playbook_history(playbook_id: UUID, caller: Actor, page: Paging, request: Request,
                         response: Response, as_of: AsOf = None) -> PlaybookHistoryOut:
        """Every version of the playbook as it was published, oldest first, paged."""
        return PlaybookHistoryOut(playbook_id=playbook_id, events=_events(
            reads.playbook_history(caller, str(playbook_id), _as_of(as_of), page),
            request, response))

    @router.get("/goals/{goal_id}/history", openapi_extra=action("audit.goal_history.read"))
    def goal_history(goal_id: UUID, caller: Actor, page: Paging, request: Request,
                     response: Response, as_of: AsOf = None) -> GoalHistoryOut:
        """The goal's definition and every KPI measurement, oldest first, paged."""
        return GoalHistoryOut(goal_id=goal_id, events=_events(
            reads.goal_history(caller, str(goal_id), _as_of(as_of), page), request,
            response))

    return AuditParts(router, reads.activity)
