"""Notification's HTTP API: a member's own notifications. Each route names its action in
the access policy (``policy.py``); the use cases check it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from services.notification.application import NotificationApplication, SetPreferences
from services.notification.representations import (
    MarkedReadOut,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    UnreadCountOut,
    notification_out,
)
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

    # Declared before /notifications/{notification_id}: these paths are not ids.
    @router.get("/notifications/unread-count",
                openapi_extra=action("notification.unread_count"))
    def unread_count(caller: Actor) -> UnreadCountOut:
        """How many of the caller's notifications are unread."""
        return UnreadCountOut(unread=app.unread_count(caller))

    @router.post("/notifications/read-all",
                 openapi_extra=action("notification.mark_all_read"))
    def mark_all_read(caller: Actor) -> MarkedReadOut:
        """Marks every unread notification of the caller's read (each one an event,
        attributed to the caller); how many it marked."""
        return MarkedReadOut(marked=app.mark_all_read(caller))

    def preferences_out(caller: Caller) -> PreferencesOut:
        reach, version = app.preferences(caller)
        return PreferencesOut(member_id=caller.member_id, time_zone=reach.time_zone,
                              channels=reach.channels or {}, quiet_hours=reach.quiet_hours,
                              digest=reach.digest, version=version)

    @router.get("/notifications/preferences",
                openapi_extra=action("notification.preferences.read"))
    def preferences(caller: Actor) -> PreferencesOut:
        """How the caller hears (the defaults, version 0, until they set them)."""
        return preferences_out(caller)

    @router.put("/notifications/preferences",
                openapi_extra=action("notification.preferences.write"))
    def set_preferences(body: PreferencesIn, caller: Actor) -> PreferencesOut:
        """Sets how the caller hears: channels per kind, quiet hours in their time zone,
        the daily digest. 422 names a time zone, channel or time it does not know."""
        app.set_preferences(SetPreferences(
            time_zone=body.time_zone, channels={kind: list(chosen) for kind, chosen
                                                in body.channels.items()},
            quiet_hours=list(body.quiet_hours) if body.quiet_hours is not None else None,
            digest=body.digest), caller)
        return preferences_out(caller)

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
