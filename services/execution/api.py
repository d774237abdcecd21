"""Execution's HTTP API: commands attributed to the authenticated caller, and the
queries people work from (my tasks, my approvals, team queues, campaign boards, a task's
detail with its full history). Every route names the policy action it takes
(``services/execution/policy.py``); the use cases check it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.execution.application import ExecutionApplication
from services.execution.commands import (
    ApproveTask,
    BlockTask,
    CancelTask,
    ClaimTask,
    CommentOnTask,
    CompleteTask,
    ReassignTask,
    SetWipLimit,
    StartTask,
    SubmitTask,
    UnblockTask,
)
from services.execution.commands import RequestChanges as RequestChangesCommand
from services.execution.domain import Task, TaskState
from services.execution.representations import (
    AbsenceOut,
    ApprovalInboxItemOut,
    BoardOut,
    CommentOut,
    TaskDetailOut,
    TaskOut,
    TaskSummaryOut,
    WipLimitOut,
    comments_of,
    task_detail_out,
    task_out,
)
from shared.auth import current_caller
from shared.domain import NotFound
from shared.http_conventions import (
    IfMatch,
    created,
    expected_version,
    if_match_version,
    precondition,
    set_etag,
)
from shared.paging import Paging, page_in_memory, paged
from shared.policy import Caller, action

Actor = Annotated[Caller, Depends(current_caller)]
C = TypeVar("C")
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
        description="the task version the member acted on; a newer one is a 409 "
                    "(prefer If-Match: a 412)")


class Submit(Command):
    reference: Text = Field(min_length=1, max_length=2000,
                            description="where the deliverable is (URL, document id)")
    note: Text = Field(default="", max_length=5000)


class Review(Command):
    comment: Text = Field(default="", max_length=5000)


# Bodies that may be left out (the defaults then): optional, but not nullable, so that the
# document does not offer JSON null, which generated clients cannot leave out.
OptionalCommand = Annotated[Command, Body(default_factory=Command)]
OptionalReview = Annotated[Review, Body(default_factory=Review)]


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


def build_router(app: ExecutionApplication) -> APIRouter:
    router = APIRouter(tags=["tasks"])
    board = app.board

    def answer(task: Task, response: Response) -> TaskOut:
        """A command's answer: the task as it stands now, its version as the ETag."""
        set_etag(response, task.version)
        return task_out(task, app.today())

    def task_command(use_case: Callable[[C, Caller], Task], command: C, member: Caller,
                     if_match: str | None, response: Response) -> TaskOut:
        """A command on a task version: 412 when If-Match named a stale one."""
        with precondition(if_match):
            task = use_case(command, member)
        return answer(task, response)

    # --- queries ----------------------------------------------------------------------

    @router.get("/tasks", openapi_extra=action("task.read"))
    def list_tasks(
        member: Actor, page: Paging, request: Request, response: Response,
        assignee: Annotated[str | None, Query(description="member id, or 'me'",
                                              min_length=1, max_length=MAX_ID_LENGTH),
                            AfterValidator(storable_text)] = None,
        campaign_id: UUID | None = None,
        status: Annotated[TaskState | None, Query(description="one state only")] = None,
    ) -> list[TaskSummaryOut]:
        """My tasks (``assignee=me``), anyone's, a campaign's; optionally one state.
        Only the tasks the caller may see: their own, their teams', those asking them to
        approve (all for planners, admins and auditors)."""
        assignee_id = member.member_id if assignee == "me" else assignee
        return paged(app.list_tasks(member, assignee_id=assignee_id, campaign_id=campaign_id,
                                    status=status.value if status else None, page=page),
                     request, response)

    @router.get("/tasks/{task_id}", openapi_extra=action("task.read"))
    def get_task(task_id: UUID, member: Actor, response: Response) -> TaskDetailOut:
        """The task, its approval chain, submissions, comments and full history."""
        task, history = app.read_task(member, task_id)
        set_etag(response, task.version)
        return task_detail_out(task, history, app.today())

    @router.get("/tasks/{task_id}/comments", openapi_extra=action("task.read"))
    def task_comments(task_id: UUID, member: Actor, page: Paging, request: Request,
                      response: Response) -> list[CommentOut]:
        """The task's comments, oldest first (approvals' and change requests' included)."""
        _, history = app.read_task(member, task_id)
        rows = [comment.model_dump() for comment in comments_of(history)]
        return paged(page_in_memory(rows, ("id",), page), request, response)

    @router.get("/tasks/{task_id}/comments/{comment_id}", openapi_extra=action("task.read"))
    def task_comment(task_id: UUID, comment_id: Annotated[int, Path(ge=1)],
                     member: Actor) -> CommentOut:
        """One comment: ``comment_id`` is the task version that recorded it (a comment
        never changes, so it has no ETag of its own)."""
        _, history = app.read_task(member, task_id)
        for found in comments_of(history):
            if found.id == comment_id:
                return found
        raise NotFound(f"task {task_id} has no comment {comment_id}")

    @router.get("/approvals", openapi_extra=action("approval.inbox"))
    def approvals_inbox(
        member: Actor, page: Paging, request: Request, response: Response,
        approver: Annotated[str, Query(description="member id, or 'me'", min_length=1,
                                       max_length=MAX_ID_LENGTH),
                            AfterValidator(storable_text)] = "me",
    ) -> list[ApprovalInboxItemOut]:
        """Submissions waiting for this approver at their current step."""
        approver_id = member.member_id if approver == "me" else approver
        return paged(app.approvals_inbox(member, approver_id, page), request, response)

    @router.get("/queues/{queue}", tags=["queues"], openapi_extra=action("queue.read"))
    def team_queue(queue: QueuePath, member: Actor, page: Paging, request: Request,
                   response: Response) -> list[TaskSummaryOut]:
        """Unassigned open tasks waiting in a team queue."""
        return paged(app.queue(member, queue, page), request, response)

    @router.get("/campaigns/{campaign_id}/board", tags=["boards"],
                openapi_extra=action("campaign.board"))
    def campaign_board(campaign_id: UUID, member: Actor) -> BoardOut:
        """The campaign's tasks by state (404 for a campaign execution has no task of)."""
        return BoardOut.model_validate(app.campaign_board(member, campaign_id))

    @router.get("/absences", tags=["absences"], openapi_extra=action("absence.read"))
    def absences(member: Actor, page: Paging, request: Request, response: Response,
                 member_id: Annotated[str | None, Query(min_length=1,
                                                        max_length=MAX_ID_LENGTH),
                                      AfterValidator(storable_text)] = None
                 ) -> list[AbsenceOut]:
        """Absences and what moved because of each (nothing moves back on return). The
        reason is shown to the member, their managers, planners and auditors; others see
        'away'."""
        return paged(app.list_absences(member, member_id, page), request, response)

    @router.get("/absences/{absence_id}", tags=["absences"], openapi_extra=action("absence.read"))
    def absence(absence_id: UUID, member: Actor, response: Response) -> AbsenceOut:
        found = app.absence(member, absence_id)
        set_etag(response, found["version"])
        return AbsenceOut.model_validate(found)

    # --- commands ------------------------------------------------------------------------
    # Each takes the version the member acted on from If-Match (412 when stale) or the
    # body's expected_version (409 when stale, as before If-Match existed).

    @router.post("/tasks/{task_id}/start", openapi_extra=action("task.start"))
    def start(task_id: UUID, member: Actor, response: Response, body: OptionalCommand,
              if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.start_task, StartTask(task_id=task_id,
                                                      expected_version=version),
                            member, if_match, response)

    @router.post("/tasks/{task_id}/submit", openapi_extra=action("task.submit"))
    def submit(task_id: UUID, body: Submit, member: Actor, response: Response,
               if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.submit_task, SubmitTask(
            task_id=task_id, reference=body.reference, note=body.note,
            expected_version=version), member, if_match, response)

    @router.post("/tasks/{task_id}/approve", tags=["approvals"],
                 openapi_extra=action("task.approve"))
    def approve(task_id: UUID, member: Actor, response: Response, body: OptionalReview,
                if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.approve_task, ApproveTask(
            task_id=task_id, comment=body.comment, expected_version=version),
            member, if_match, response)

    @router.post("/tasks/{task_id}/request-changes", tags=["approvals"],
                 openapi_extra=action("task.request_changes"))
    def request_changes(task_id: UUID, body: RequestChanges, member: Actor,
                        response: Response, if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.request_changes, RequestChangesCommand(
            task_id=task_id, comment=body.comment, expected_version=version),
            member, if_match, response)

    @router.post("/tasks/{task_id}/comments", status_code=201, openapi_extra=action("task.comment"))
    def comment(task_id: UUID, body: CommentBody, member: Actor, response: Response,
                if_match: IfMatch = None) -> TaskOut:
        """The task with the new comment; ``Location`` names the comment."""
        answered = task_command(app.comment_task, CommentOnTask(
            task_id=task_id, text=body.text, expected_version=if_match_version(if_match)),
            member, if_match, response)
        created(response, f"/tasks/{task_id}/comments/{answered.version}")
        return answered

    @router.post("/tasks/{task_id}/block", openapi_extra=action("task.block"))
    def block(task_id: UUID, body: Reason, member: Actor, response: Response,
              if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.block_task, BlockTask(
            task_id=task_id, reason=body.reason, expected_version=version),
            member, if_match, response)

    @router.post("/tasks/{task_id}/unblock", openapi_extra=action("task.unblock"))
    def unblock(task_id: UUID, member: Actor, response: Response, body: OptionalCommand,
                if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.unblock_task, UnblockTask(task_id=task_id,
                                                          expected_version=version),
                            member, if_match, response)

    @router.post("/tasks/{task_id}/complete", openapi_extra=action("task.complete"))
    def complete(task_id: UUID, member: Actor, response: Response, body: OptionalCommand,
                 if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.complete_task, CompleteTask(task_id=task_id,
                                                            expected_version=version),
                            member, if_match, response)

    @router.post("/tasks/{task_id}/cancel", openapi_extra=action("task.cancel"))
    def cancel(task_id: UUID, body: Reason, member: Actor, response: Response,
               if_match: IfMatch = None) -> TaskOut:
        version = expected_version(if_match, body.expected_version)
        return task_command(app.cancel_task, CancelTask(
            task_id=task_id, reason=body.reason, expected_version=version),
            member, if_match, response)

    @router.post("/tasks/{task_id}/claim", tags=["queues"], openapi_extra=action("task.claim"))
    def claim(task_id: UUID, member: Actor, response: Response,
              if_match: IfMatch = None) -> TaskOut:
        return task_command(app.claim_task, ClaimTask(
            task_id=task_id, expected_version=if_match_version(if_match)),
            member, if_match, response)

    @router.post("/tasks/{task_id}/reassign", openapi_extra=action("task.reassign"))
    def reassign(task_id: UUID, body: Reassign, member: Actor, response: Response,
                 if_match: IfMatch = None) -> TaskOut:
        return task_command(app.reassign_task, ReassignTask(
            task_id=task_id, assignee_id=body.assignee_id, reason=body.reason,
            expected_version=if_match_version(if_match)), member, if_match, response)

    @router.put("/members/{member_id}/wip-limit", tags=["members"],
                openapi_extra=action("member.set_wip_limit"))
    def set_wip_limit(member_id: MemberIdPath, body: WipLimit, member: Actor) -> WipLimitOut:
        updated = app.set_wip_limit(SetWipLimit(member_id=member_id, limit=body.limit),
                                    member)
        return WipLimitOut(member_id=updated.member_id, wip_limit=updated.wip_limit,
                           work_in_progress=board.work_in_progress(member_id))

    return router
