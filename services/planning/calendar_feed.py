"""iCalendar (RFC 5545) feeds of the year calendar, for standard calendar clients."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from icalendar import Calendar, Event

PRODUCT_ID = "-//Marketflow//Planning//EN"


def ics_feed(title: str, entries: Iterable[Mapping[str, Any]]) -> bytes:
    """One all-day VEVENT per launch and task (DTEND is exclusive: the day after)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", title)
    for entry in entries:
        item = Event()
        item.add("uid", f"{entry['uid']}@marketflow")
        item.add("dtstamp", entry["updated_at"].astimezone(dt.UTC))
        item.add("dtstart", entry["start_date"])
        item.add("dtend", entry["due_date"] + dt.timedelta(days=1))
        item.add("summary", f"{entry['title']} ({entry['campaign']})"
                 if entry["kind"] == "task" else entry["title"])
        lines = [f"Campaign: {entry['campaign']}"]
        if entry["kind"] == "task":
            lines += [f"Role: {entry['role']}",
                      f"Assignee: {entry['assignee_id'] or 'queue ' + str(entry['queue'])}",
                      f"Status: {entry['status']}", f"Due: {entry['due_date'].isoformat()}"]
            if entry["phase"]:
                item.add("categories", [entry["phase"]])
        item.add("description", "\n".join(lines))
        item.add("transp", "TRANSPARENT")
        calendar.add_component(item)
    feed: bytes = calendar.to_ical()
    return feed


def feed_etag(feed: bytes) -> str:
    """A strong entity tag of the feed's bytes (they are deterministic: DTSTAMP is when
    the campaign last changed, not when the feed was made)."""
    return f'"{hashlib.sha256(feed).hexdigest()[:32]}"'


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, RFC 9110 13.1.2)."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque
               for candidate in if_none_match.split(","))
