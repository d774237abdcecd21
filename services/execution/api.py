"""Execution's HTTP API: commands attributed to the authenticated member, and the
queries people work from (my tasks, my approvals, team queues, campaign boards, a task's
detail with its full history)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.execution.application import ExecutionApplication
from services.execution.domain import Task, TaskState, sla_status
from shared.auth import Member, current_member
from shared.domain import EventMeta, NotFound
from shared.paging import Paging, paged

Actor = Annotated[Member, Depends(current_member)]
MAX_ID_LENGTH = 200
"""Member ids, queue names: as long as planning lets them be."""
LINE_BREAKS = frozenset("\t\n\r")


def storable_text(text: str) -> str:
    """Refuse what no store or read model can hold faithfully: NUL and other control
    characters (PostgreSQL's text refuses NUL) and lone surrogates (not UTF-8)."""
    for position, character in enumerate(text):
        kind = unicodedata.category(character)
        if (kind == "Cc" and character not in LINE_BREAKS) or kind == "Cs":
            raise ValueError(f"must not contain control characters or lone surrogates "
                             f"(U+{ord(character):04X} at position {position})")
    return text


Text = Annotated[str, AfterValidator(storable_text)]
MemberIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH),
                         AfterValidator(storable_text)]
QueuePath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH),
                      AfterValidator(storable_text)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1,
        description="the task version the member acted on; a newer one is a 409")


class Submit(Command):
    reference: Text = Field(min_length=1, max_length=2000,
                            description="where the deliverable is (URL, document id)")
    note: Text = Field(default="", max_length=5000)


class Review(Command):
    comment: Text = Field(default="", max_length=5000)


class RequestChanges(Command):
    comment: Text = Field(min_length=1, max_length=5000)


class CommentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=5000)


class Reason(Command):
    reason: Text = Field(min_length=1, max_length=2000)


class Reassign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee_id: Text = Field(min_length=1, max_length=MAX_ID_LENGTH)
    reason: Text = Field(min_length=1, max_length=2000)


class WipLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(ge=1, le=1000)


def meta_of(member: Member, reason: str | None = None) -> EventMeta:
    return EventMeta(actor=member.member_id, reason=reason)


def event_json(event: Any) -> dict[str, Any]:
    data = event.model_dump(mode="json", exclude={"originator_id", "originator_version",
                                                  "timestamp", "meta", "originator_topic"})
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "time": event.timestamp.isoformat(),
        "actor": event.meta.actor,
        "reason": event.meta.reason,
        "correlation_id": event.meta.correlation_id,
        "causation_id": event.meta.causation_id,
        "data": data,
    }


COMMENTING_EVENTS = ("Commented", "ApprovalGiven", "ChangesRequested")
FINISHING_EVENTS = ("Completed", "Cancelled")


def comments_from(history: list[Any]) -> list[dict[str, Any]]:
    """Every comment with its author and time (approvals and change requests included)."""
    return [{"author": event.meta.actor, "at": event.timestamp.isoformat(),
             "text": getattr(event, "text", None) or event.comment,
             "submission_version": event.submission_version, "kind": type(event).__name__}
            for event in history if type(event).__name__ in COMMENTING_EVENTS
            and (getattr(event, "text", None) or getattr(event, "comment", None))]


def task_json(app: ExecutionApplication, task: Task,
              history: list[Any] | None = None) -> dict[str, Any]:
    finished_on = None
    if not task.is_open:  # the time of its last finishing event
        finishing = [e for e in history or [] if type(e).__name__ in FINISHING_EVENTS]
        finished_on = (finishing[-1].timestamp if finishing else task.modified_on).date()
    detail = {
        "id": str(task.id),
        "campaign_id": str(task.campaign_id),
        "key": task.key,
        "title": task.title,
        "description": task.description,
        "role": task.role,
        "queue": task.queue,
        "deliverable": task.deliverable,
        "due_date": task.due_date.isoformat(),
        "start_date": task.start_date.isoformat() if task.start_date else None,
        "status": str(task.status),
        "sla": sla_status(task.status, task.due_date, task.start_date, app.today(),
                          finished_on),
        "assignee_id": task.assignee_id,
        "completed_by": task.completed_by,
        "blocked_reason": task.blocked_reason,
        "depends_on": [str(pid) for pid in task.depends_on],
        "waiting_for": [str(pid) for pid in task.waiting_for_predecessors],
        "revision_round": task.revision_round,
        "approval_chain": [step.model_dump() for step in task.approval_chain],
        "current_step": task.current_step + 1 if task.approval_chain else None,
        "step_approvals": [list(approvers) for approvers in task.step_approvals],
        "pending_approvers": sorted(task.pending_approvers()),
        "consulted_roles": task.consulted_roles,
        "consulted_missing": task.consulted_missing() if task.submission else [],
        "submissions": [submission.model_dump() for submission in task.submissions],
        "delegations": task.delegations,
        "role_members": task.role_members,
        "escalated_to": (task.escalated_to(task.current_step)
                         if task.review_target() is not None else None),
        "complete_on_approval": task.complete_on_approval,
        "version": task.version,
    }
    if history is not None:
        detail["comments"] = comments_from(history)
        detail["history"] = [event_json(event) for event in history]
    return detail


def build_router(app: ExecutionApplication) -> APIRouter:
    router = APIRouter(tags=["tasks"])
    board = app.board

    # --- queries ----------------------------------------------------------------------

    @router.get("/tasks")
    def list_tasks(
        member: Actor, page: Paging, request: Request, response: Response,
        assignee: Annotated[str | None, Query(description="member id, or 'me'",
                                              min_length=1, max_length=MAX_ID_LENGTH),
                            AfterValidator(storable_text)] = None,
        campaign_id: UUID | None = None,
        status: Annotated[TaskState | None, Query(description="one state only")] = None,
    ) -> list[dict[str, Any]]:
        """My tasks (``assignee=me``), anyone's, a campaign's; optionally one state."""
        assignee_id = member.member_id if assignee == "me" else assignee
        return paged(board.query(today=app.today(), assignee_id=assignee_id,
                                 campaign_id=campaign_id,
                                 status=status.value if status else None, page=page),
                     request, response)

    @router.get("/tasks/{task_id}")
    def get_task(task_id: UUID, member: Actor) -> dict[str, Any]:
        """The task, its approval chain, submissions, comments and full history."""
        return task_json(app, *app.task_with_history(task_id))

    @router.get("/approvals")
    def approvals_inbox(
        member: Actor, page: Paging, request: Request, response: Response,
        approver: Annotated[str, Query(description="member id, or 'me'", min_length=1,
                                       max_length=MAX_ID_LENGTH),
                            AfterValidator(storable_text)] = "me",
    ) -> list[dict[str, Any]]:
        """Submissions waiting for this approver at their current step."""
        approver_id = member.member_id if approver == "me" else approver
        return paged(board.approvals_inbox(approver_id, app.today(), page), request, response)

    @router.get("/queues/{queue}", tags=["queues"])
    def team_queue(queue: QueuePath, member: Actor, page: Paging, request: Request,
                   response: Response) -> list[dict[str, Any]]:
        """Unassigned open tasks waiting in a team queue."""
        return paged(board.queue(queue, app.today(), page), request, response)

    @router.get("/campaigns/{campaign_id}/board", tags=["boards"])
    def campaign_board(campaign_id: UUID, member: Actor) -> dict[str, Any]:
        """The campaign's tasks by state (404 for a campaign execution has no task of)."""
        if not board.campaign_tasks(campaign_id):
            raise NotFound(f"campaign {campaign_id} not found: execution has no task of it")
        return board.campaign_board(campaign_id, app.today())

    @router.get("/absences", tags=["absences"])
    def absences(member: Actor, page: Paging, request: Request, response: Response,
                 member_id: Annotated[str | None, Query(min_length=1,
                                                        max_length=MAX_ID_LENGTH),
                                      AfterValidator(storable_text)] = None
                 ) -> list[dict[str, Any]]:
        """Absences and what moved because of each (nothing moves back on return)."""
        return paged(app.absences.list_absences(member_id, page), request, response)

    @router.get("/absences/{absence_id}", tags=["absences"])
    def absence(absence_id: UUID, member: Actor) -> dict[str, Any]:
        found = app.absences.get(absence_id)
        if found is None:
            raise NotFound(f"absence {absence_id} not found")
        return found

    # --- commands ------------------------------------------------------------------------

    @router.post("/tasks/{task_id}/start")
    def start(task_id: UUID, member: Actor, body: Command | None = None) -> dict[str, Any]:
        version = body.expected_version if body else None
        return task_json(app, app.start_task(task_id, meta_of(member), version))

    @router.post("/tasks/{task_id}/submit")
    def submit(task_id: UUID, body: Submit, member: Actor) -> dict[str, Any]:
        return task_json(app, app.submit_task(task_id, body.reference, body.note,
                                              meta_of(member), body.expected_version))

    @router.post("/tasks/{task_id}/approve", tags=["approvals"])
    def approve(task_id: UUID, member: Actor, body: Review | None = None) -> dict[str, Any]:
        body = body or Review()
        return task_json(app, app.approve_task(task_id, body.comment, meta_of(member),
                                               body.expected_version))

    @router.post("/tasks/{task_id}/request-changes", tags=["approvals"])
    def request_changes(task_id: UUID, body: RequestChanges, member: Actor) -> dict[str, Any]:
        return task_json(app, app.request_changes(task_id, body.comment, meta_of(member),
                                                  body.expected_version))

    @router.post("/tasks/{task_id}/comments", status_code=201)
    def comment(task_id: UUID, body: CommentBody, member: Actor) -> dict[str, Any]:
        return task_json(app, app.comment_task(task_id, body.text, meta_of(member)))

    @router.post("/tasks/{task_id}/block")
    def block(task_id: UUID, body: Reason, member: Actor) -> dict[str, Any]:
        return task_json(app, app.block_task(task_id, body.reason,
                                             meta_of(member, body.reason),
                                             body.expected_version))

    @router.post("/tasks/{task_id}/unblock")
    def unblock(task_id: UUID, member: Actor, body: Command | None = None) -> dict[str, Any]:
        version = body.expected_version if body else None
        return task_json(app, app.unblock_task(task_id, meta_of(member), version))

    @router.post("/tasks/{task_id}/complete")
    def complete(task_id: UUID, member: Actor, body: Command | None = None) -> dict[str, Any]:
        version = body.expected_version if body else None
        return task_json(app, app.complete_task(task_id, meta_of(member), version))

    @router.post("/tasks/{task_id}/cancel")
    def cancel(task_id: UUID, body: Reason, member: Actor) -> dict[str, Any]:
        return task_json(app, app.cancel_task(task_id, body.reason, meta_of(member),
                                              body.expected_version))

    @router.post("/tasks/{task_id}/claim", tags=["queues"])
    def claim(task_id: UUID, member: Actor) -> dict[str, Any]:
        return task_json(app, app.claim_task(task_id, meta_of(member)))

    @router.post("/tasks/{task_id}/reassign")
    def reassign(task_id: UUID, body: Reassign, member: Actor) -> dict[str, Any]:
        return task_json(app, app.reassign_task(task_id, body.assignee_id, body.reason,
                                                meta_of(member)))

    @router.put("/members/{member_id}/wip-limit", tags=["members"])
    def set_wip_limit(member_id: MemberIdPath, body: WipLimit,
                      member: Actor) -> dict[str, Any]:
        updated = app.set_wip_limit(member_id, body.limit, meta_of(member))
        return {"member_id": updated.member_id, "wip_limit": updated.wip_limit,
                "work_in_progress": board.work_in_progress(member_id)}

    return router
