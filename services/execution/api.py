"""Execution's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.execution.application import ExecutionApplication
from services.execution.domain import Task
from services.execution.views import TaskBoardView
from shared.auth import Member, current_member
from shared.domain import EventMeta

Actor = Annotated[Member, Depends(current_member)]


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "campaign_id": str(task.campaign_id),
        "key": task.key,
        "title": task.title,
        "role": task.role,
        "due_date": task.due_date.isoformat(),
        "status": task.status,
        "assignee_id": task.assignee_id,
        "completed_by": task.completed_by,
        "version": task.version,
    }


def build_router(app: ExecutionApplication, board: TaskBoardView) -> APIRouter:
    router = APIRouter(tags=["tasks"])

    @router.get("/tasks")
    def list_tasks(
        member: Actor,
        assignee: Annotated[str | None, Query(description="member id, or 'me'")] = None,
        campaign_id: UUID | None = None,
    ) -> list[dict[str, Any]]:
        assignee_id = member.member_id if assignee == "me" else assignee
        return board.query(assignee_id=assignee_id, campaign_id=campaign_id)

    @router.get("/tasks/{task_id}")
    def get_task(task_id: UUID, member: Actor) -> dict[str, Any]:
        return task_json(app.task(task_id))

    @router.post("/tasks/{task_id}/complete")
    def complete_task(task_id: UUID, member: Actor) -> dict[str, Any]:
        return task_json(app.complete_task(task_id, EventMeta(actor=member.member_id)))

    return router
