"""Notification's HTTP API: a member's own notifications."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from services.notification.application import NotificationApplication
from services.notification.representations import NotificationOut, notification_out
from services.notification.views import InboxView
from shared.auth import Member, current_member
from shared.domain import EventMeta, NotFound
from shared.http_conventions import IfMatch, if_match_version, precondition, set_etag
from shared.paging import Paging, paged

Actor = Annotated[Member, Depends(current_member)]


def build_router(app: NotificationApplication, inbox: InboxView) -> APIRouter:
    router = APIRouter(tags=["notifications"])

    def answer(notification_id: UUID, response: Response) -> NotificationOut:
        row = inbox.get(notification_id)
        if row is None:  # recorded in the store, so the read model has it once caught up
            raise NotFound(f"notification {notification_id} not found")
        found = notification_out(row)
        set_etag(response, found.version)
        return found

    @router.get("/notifications")
    def my_notifications(member: Actor, page: Paging, request: Request,
                         response: Response) -> list[NotificationOut]:
        """Newest first."""
        return paged(inbox.for_member(member.member_id, page), request, response)

    @router.get("/notifications/{notification_id}")
    def notification(notification_id: UUID, member: Actor,
                     response: Response) -> NotificationOut:
        """One of the member's notifications (403 for someone else's)."""
        app.notification(notification_id, member.member_id)
        return answer(notification_id, response)

    @router.post("/notifications/{notification_id}/read")
    def mark_read(notification_id: UUID, member: Actor, response: Response,
                  if_match: IfMatch = None) -> NotificationOut:
        with precondition(if_match):
            app.mark_read(notification_id, EventMeta(actor=member.member_id),
                          if_match_version(if_match))
        return answer(notification_id, response)

    return router
