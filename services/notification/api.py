"""Notification's HTTP API: a member's own notifications. Each route names its action in
the access policy (``policy.py``); the use cases check it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from services.notification.application import NotificationApplication
from services.notification.representations import NotificationOut, notification_out
from shared.auth import current_caller
from shared.http_conventions import IfMatch, if_match_version, precondition, set_etag
from shared.paging import Paging, paged
from shared.policy import Caller, action

Actor = Annotated[Caller, Depends(current_caller)]


def build_router(app: NotificationApplication) -> APIRouter:
    router = APIRouter(tags=["notifications"])

    def answer(found: NotificationOut, response: Response) -> NotificationOut:
        set_etag(response, found.version)
        return found

    @router.get("/notifications", openapi_extra=action("notification.list"))
    def my_notifications(caller: Actor, page: Paging, request: Request,
                         response: Response) -> list[NotificationOut]:
        """The caller's own notifications, newest first."""
        return paged(app.my_notifications(caller, page), request, response)

    @router.get("/notifications/{notification_id}",
                openapi_extra=action("notification.read"))
    def notification(notification_id: UUID, caller: Actor,
                     response: Response) -> NotificationOut:
        """One of the caller's notifications (403 for someone else's; admins and auditors
        may read any)."""
        return answer(notification_out(app.read(notification_id, caller)), response)

    @router.post("/notifications/{notification_id}/read",
                 openapi_extra=action("notification.mark_read"))
    def mark_read(notification_id: UUID, caller: Actor, response: Response,
                  if_match: IfMatch = None) -> NotificationOut:
        """Marks one of the caller's own notifications read (403 for anyone else's)."""
        with precondition(if_match):
            app.mark_read(notification_id, caller, if_match_version(if_match))
        return answer(notification_out(app.read(notification_id, caller)), response)

    return router
