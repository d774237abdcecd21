"""Notification's use cases; each checks the access policy first (``policy.py``)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.application import ProcessingEvent

from services.notification.domain import (
    Notification,
    Preferences,
    check_channels,
    preferences_id,
)
from services.notification.notify import Clock, HowToReach, Message, Notifier, utc_now
from services.notification.policy import POLICY
from services.notification.settings import NotificationSettings
from services.notification.timers import TIMERS_ACTOR, TimersView, what_is_due
from services.notification.views import InboxView
from services.notification.work import CampaignCopy, TaskCopy, Work, copy_id
from shared.application import Handlers, LostRace, ServiceApplication
from shared.cloudevents import InboundEvent
from shared.config import Settings
from shared.domain import EventMeta, InvalidCommand, NotFound, StaleVersion
from shared.policy import Caller, Resource
from shared.projections import Page, PageRequest

log = logging.getLogger(__name__)

CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True)
class SetPreferences:
    """How a member wants to hear (``PUT /notifications/preferences``)."""

    time_zone: str = "UTC"
    channels: dict[str, list[str]] = field(default_factory=dict)
    quiet_hours: list[str] | None = None
    digest: bool = False

    def check(self) -> None:
        """Refuses what could not be applied, naming it (a 422)."""
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidCommand(f"time_zone: {self.time_zone[:64]!r} is not a known time "
                                 "zone (an IANA name such as Europe/Helsinki)") from None
        for kind in self.channels:
            if not kind.strip():
                raise InvalidCommand("channels: a kind of notification is empty")
        check_channels(self.channels)
        if self.quiet_hours is not None:
            if len(self.quiet_hours) != 2:
                raise InvalidCommand('quiet_hours: give a start and an end, ["22:00", '
                                     '"07:00"]')
            for value in self.quiet_hours:
                if not CLOCK_TIME.match(value):
                    raise InvalidCommand(f"quiet_hours: {value[:16]!r} is not a time of day "
                                         "as HH:MM (00:00 to 23:59)")
            if self.quiet_hours[0] == self.quiet_hours[1]:
                raise InvalidCommand("quiet_hours: the start and the end are the same time")


def _own(caller: Caller, what: str) -> Resource:
    return Resource.of(owners=caller.member_id, description=f"{caller.member_id}'s {what}")


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

    def prefetch(self, batch: Sequence[InboundEvent]) -> None:
        """The copies of tasks and campaigns the batch names that do not exist yet, in one
        query (a new task's first events would each look its copy up)."""
        self.remember_missing(
            {copy_id(TaskCopy, task_id) for inbound in batch
             if (task_id := getattr(inbound.event, "task_id", None))}
            | {copy_id(CampaignCopy, campaign_id) for inbound in batch
               if (campaign_id := getattr(inbound.event, "campaign_id", None))})

    def my_notifications(self, caller: Caller, page: PageRequest | None = None) -> Page:
        """The caller's own notifications, newest first."""
        POLICY.authorize("notification.list", caller, _own(caller, "notifications"))
        return self.inbox.for_member(caller.member_id, page)

    def unread_count(self, caller: Caller) -> int:
        POLICY.authorize("notification.unread_count", caller, _own(caller, "notifications"))
        return self.inbox.unread_count(caller.member_id)

    def mark_all_read(self, caller: Caller) -> int:
        """Marks each of the caller's unread notifications read, as the caller, in one
        transaction; how many it marked."""
        POLICY.authorize("notification.mark_all_read", caller,
                         _own(caller, "notifications"))
        marked: list[Notification] = []
        for notification_id in self.inbox.unread_ids(caller.member_id):
            notification = self.load(notification_id, Notification)
            if notification.recipient_id != caller.member_id or notification.read:
                continue
            notification.mark_read(caller.meta())
            marked.append(notification)
        if marked:
            self.save_or_conflict(*marked)
        return len(marked)

    def preferences(self, caller: Caller) -> tuple[HowToReach, int]:
        """The caller's preferences and their version (0: never set, the defaults)."""
        POLICY.authorize("notification.preferences.read", caller,
                         _own(caller, "notification preferences"))
        aggregate_id = preferences_id(caller.member_id)
        if not self.exists(aggregate_id):
            return HowToReach(), 0
        found = self.load(aggregate_id, Preferences)
        return (HowToReach(found.time_zone, found.channels, found.quiet_hours, found.digest),
                found.version)

    def set_preferences(self, command: SetPreferences, caller: Caller) -> None:
        POLICY.authorize("notification.preferences.write", caller,
                         _own(caller, "notification preferences"))
        command.check()
        aggregate_id = preferences_id(caller.member_id)
        if self.exists(aggregate_id):
            preferences = self.load(aggregate_id, Preferences)
            preferences.change(command.time_zone, command.channels, command.quiet_hours,
                               command.digest, caller.meta())
        else:
            preferences = Preferences(id=aggregate_id, member_id=caller.member_id,
                                      time_zone=command.time_zone, channels=command.channels,
                                      quiet_hours=command.quiet_hours, digest=command.digest,
                                      meta=caller.meta())
        self.save_or_conflict(preferences)

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
