"""Notification's use cases; each checks the access policy first (``policy.py``)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent

from services.notification.domain import Notification
from services.notification.notify import Clock, Message, Notifier, utc_now
from services.notification.policy import POLICY
from services.notification.settings import NotificationSettings
from services.notification.timers import TIMERS_ACTOR, TimersView, what_is_due
from services.notification.views import InboxView
from services.notification.work import Work
from shared.application import Handlers, LostRace, ServiceApplication
from shared.config import Settings
from shared.domain import EventMeta, NotFound, StaleVersion
from shared.policy import Caller, Resource
from shared.projections import Page, PageRequest

log = logging.getLogger(__name__)


def _resource(notification: Notification) -> Resource:
    return Resource.of(owners=notification.recipient_id,
                       description=f"notification {notification.id} (to "
                                   f"{notification.recipient_id})")


class NotificationApplication(ServiceApplication):
    def __init__(self, settings: Settings, handlers: Handlers | None = None, *,
                 notification_settings: NotificationSettings | None = None,
                 clock: Clock = utc_now) -> None:
        super().__init__(settings, handlers)
        self.notification_settings = notification_settings or NotificationSettings()
        # Injected so that reminders, escalations, quiet hours and retries can be tested
        # without waiting.
        self.clock = clock
        self.notifier = Notifier(self, self.notification_settings, clock)
        self.work = Work(self)
        self.inbox = InboxView(self)
        self.timers = TimersView(self)

    def my_notifications(self, caller: Caller, page: PageRequest | None = None) -> Page:
        """The caller's own notifications, newest first."""
        POLICY.authorize("notification.list", caller, Resource.of(
            owners=caller.member_id, description=f"{caller.member_id}'s notifications"))
        return self.inbox.for_member(caller.member_id, page)

    def notification(self, notification_id: UUID, caller: Caller,
                     expected_version: int | None = None,
                     action: str = "notification.read") -> Notification:
        """A notification the caller may take ``action`` on (403 otherwise), at the
        version they saw when they give one."""
        notification = self.load(notification_id, Notification)
        POLICY.authorize(action, caller, _resource(notification))
        if expected_version is not None and notification.version != expected_version:
            raise StaleVersion(f"notification {notification_id} changed since version "
                               f"{expected_version} (it is at version "
                               f"{notification.version} now); reload and retry")
        return notification

    def read(self, notification_id: UUID, caller: Caller) -> dict[str, Any]:
        """The notification as the inbox shows it, once the caller may read it."""
        self.notification(notification_id, caller)
        row = self.inbox.get(notification_id)
        if row is None:  # recorded in the store, so the read model has it once caught up
            raise NotFound(f"notification {notification_id} not found")
        return row

    def mark_read(self, notification_id: UUID, caller: Caller,
                  expected_version: int | None = None) -> Notification:
        notification = self.notification(notification_id, caller, expected_version,
                                         action="notification.mark_read")
        notification.mark_read(caller.meta())
        self.save_or_conflict(notification)
        return notification

    def fire_due_timers(self, today: dt.date | None = None) -> int:
        """Tell whoever each reminder or escalation due by ``today`` (the clock's date)
        concerns; returns how many notifications were recorded. Each timer is recorded in
        its own transaction, once: its key is the notifications' cause."""
        today = today or self.clock().date()
        recorded, after = 0, None
        while True:
            rows = self.timers.due(today, after)
            if not rows:
                return recorded
            after = (rows[-1]["fire_on"], rows[-1]["timer_key"])
            for row in rows:
                recorded += self._fire(row, today)

    def _fire(self, row: dict[str, Any], today: dt.date) -> int:
        due = what_is_due(self, row, today)
        if due is None or not due.recipients:
            return 0
        meta = EventMeta(actor=TIMERS_ACTOR, correlation_id=str(due.task_id),
                         reason=due.reason)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        told = [self.notifier.tell(processing_event, due.key, Message(
            recipient_id=recipient, kind=due.kind, subject_id=due.task_id, title=due.title,
            text=due.text, link=due.link, campaign_id=due.campaign_id), meta,
            timer_key=due.key) for recipient in due.recipients]
        if not any(told):
            return 0
        try:
            self.save_or_conflict(*processing_event.events)  # type: ignore[arg-type]
        except LostRace:  # another replica fired it first
            log.info("timer fired elsewhere", extra={"timer_key": due.key})
            return 0
        return sum(1 for notification in told if notification is not None)
