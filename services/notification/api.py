"""Notification's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from services.notification.application import NotificationApplication
from services.notification.views import InboxView
from shared.auth import Member, current_member
from shared.domain import EventMeta
from shared.paging import Paging, paged

Actor = Annotated[Member, Depends(current_member)]


def build_router(app: NotificationApplication, inbox: InboxView) -> APIRouter:
    router = APIRouter(tags=["notifications"])

    @router.get("/notifications")
    def my_notifications(member: Actor, page: Paging, request: Request,
                         response: Response) -> list[dict[str, Any]]:
        """Newest first."""
        return paged(inbox.for_member(member.member_id, page), request, response)

    @router.post("/notifications/{notification_id}/read")
    def mark_read(notification_id: UUID, member: Actor) -> dict[str, Any]:
        notification = app.mark_read(notification_id, EventMeta(actor=member.member_id))
        return {"id": str(notification.id), "read": notification.read}

    return router
