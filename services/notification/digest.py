"""The daily digest: a member who chose it gets one email a day, at the digest hour in
their time zone, listing what they were told since the last one.

A notification for the digest is planned with ``not_before`` = the next digest slot (the
member's local digest hour after the notification was recorded). When slots come due the
delivery loop gathers every due digest delivery of the address into one email whose
``Message-ID`` derives from the address and the latest slot: a restart that sends it
again (a crash between sending and recording) sends the same message, never a second
digest of the day.
"""

from __future__ import annotations

import datetime as dt
from uuid import uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notification.domain import NOTIFICATIONS
from services.notification.email_channel import MESSAGE_ID_DOMAIN


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_slot(now: dt.datetime, time_zone: str | None, hour: int) -> dt.datetime:
    """The first local ``hour``:00 strictly after ``now``, in UTC."""
    local_zone = zone(time_zone)
    local = now.astimezone(local_zone)
    slot = dt.datetime.combine(local.date(), dt.time(hour % 24), local_zone)
    if slot <= local:
        slot = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(hour % 24),
                                   local_zone)
    return slot.astimezone(dt.UTC)


def digest_message_id(address: str, slot: str) -> str:
    return f"<digest-{uuid5(NOTIFICATIONS, f'digest:{address}:{slot}')}@{MESSAGE_ID_DOMAIN}>"


def subject(count: int, slot: dt.datetime, time_zone: str | None) -> str:
    day = slot.astimezone(zone(time_zone)).date().isoformat()
    return f"Your Marketflow digest for {day}: {count} notification{'s' if count != 1 else ''}"
