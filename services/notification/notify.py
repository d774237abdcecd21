"""Telling one member one thing: the message, its link, and where it goes.

Every rule (``handlers.py``) and timer ends here. A notification's id derives from its
cause, recipient and kind, so telling twice (a redelivered event, a timer firing again
after a restart) records nothing the second time. Its deliveries are planned now, from
the member's preferences now, and written into the notification's event: what was decided
is on the record, and the delivery loop needs nothing else to send it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import ProcessingEvent

from services.notification.digest import next_slot
from services.notification.domain import (
    Notification,
    Preferences,
    notification_id,
    preferences_id,
)
from services.notification.settings import NotificationSettings
from services.notification.webhooks import WebhookSubscriptions, owner_of, subscriptions_id
from services.notification.work import MemberCopy, Work
from shared.application import ServiceApplication
from shared.domain import EventMeta

DEFAULT_CHANNELS = ("in_app", "email", "webhook")
"""A member who chose nothing hears in the app, by email and on their webhooks."""

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Message:
    recipient_id: str
    kind: str
    subject_id: UUID
    title: str
    text: str
    link: str
    campaign_id: UUID | None = None


@dataclass(frozen=True)
class HowToReach:
    """A member's preferences as they apply now (defaults for one who set none)."""

    time_zone: str = "UTC"
    channels: dict[str, list[str]] | None = None
    quiet_hours: list[str] | None = None
    digest: bool = False

    def chosen(self, kind: str) -> list[str]:
        """The channels for ``kind``: its own choice, else the member's choice for every
        kind (``*``), else the defaults. In-app always."""
        channels = self.channels or {}
        chosen = channels.get(kind, channels.get("*", list(DEFAULT_CHANNELS)))
        return ["in_app", *(channel for channel in chosen if channel != "in_app")]

    def quiet_until(self, now: dt.datetime) -> dt.datetime | None:
        """When quiet hours end, if ``now`` falls in them (``["22:00", "07:00"]``)."""
        if not self.quiet_hours:
            return None
        zone = ZoneInfo(self.time_zone)
        local = now.astimezone(zone)
        start, end = (dt.time.fromisoformat(value) for value in self.quiet_hours)
        clock = local.timetz().replace(tzinfo=None)
        if start == end:
            return None
        inside = start <= clock < end if start < end else clock >= start or clock < end
        if not inside:
            return None
        day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, end, zone).astimezone(dt.UTC)


class Notifier:
    def __init__(self, app: ServiceApplication, settings: NotificationSettings,
                 clock: Clock = utc_now) -> None:
        self.app = app
        self.settings = settings
        self.clock = clock
        self.work = Work(app)

    def preferences(self, member_id: str) -> HowToReach:
        found = self.app.find(preferences_id(member_id), Preferences)
        if found is None:
            return HowToReach()
        return HowToReach(found.time_zone, found.channels, found.quiet_hours, found.digest)

    def tell(self, processing_event: ProcessingEvent[UUID], cause: str, message: Message,
             meta: EventMeta, *, timer_key: str | None = None) -> Notification | None:
        """Records the notification once per (cause, recipient, kind); None if it was."""
        identity = notification_id(cause, message.recipient_id, message.kind)
        if self.app.exists(identity):
            return None
        notification = Notification(
            id=identity, recipient_id=message.recipient_id, kind=message.kind,
            subject_id=message.subject_id, text=message.text, meta=meta,
            campaign_id=message.campaign_id, title=message.title, link=message.link,
            deliveries=self.plan(message.recipient_id, message.kind), timer_key=timer_key)
        processing_event.collect_events(notification)
        return notification

    def plan(self, recipient_id: str, kind: str) -> list[dict[str, Any]]:
        """Where the notification goes besides the inbox, and not before when."""
        reach = self.preferences(recipient_id)
        chosen = reach.chosen(kind)
        member: MemberCopy | None = self.work.member(recipient_id)
        deliveries: list[dict[str, Any]] = []
        if "email" in chosen and member is not None and member.email:
            if reach.digest:
                slot = next_slot(self.clock(), reach.time_zone, self.settings.digest_hour)
                deliveries.append({"channel": "digest", "target": member.email,
                                   "not_before": slot.isoformat()})
            else:
                quiet_until = reach.quiet_until(self.clock())
                deliveries.append({"channel": "email", "target": member.email,
                                   "not_before": quiet_until.isoformat() if quiet_until
                                   else None})
        if "webhook" in chosen:
            deliveries += self.webhook_deliveries(recipient_id, kind, member)
        return deliveries

    def webhook_deliveries(self, recipient_id: str, kind: str, member: MemberCopy | None
                           ) -> list[dict[str, Any]]:
        """The member's own and their teams' active subscriptions that take ``kind``
        (each owner's subscriptions are one aggregate, loaded by id)."""
        owners = [owner_of("member", recipient_id),
                  *(owner_of("team", team) for team in (member.team_ids if member else []))]
        deliveries: list[dict[str, Any]] = []
        for owner in owners:
            subscriptions = self.app.find(subscriptions_id(owner), WebhookSubscriptions)
            if subscriptions is None:
                continue
            deliveries += [{"channel": "webhook", "target": subscription_id, "owner": owner,
                            "not_before": None}
                           for subscription_id in subscriptions.matching(kind)]
        return deliveries
