"""Notification's domain: what members are told, how it reaches them, and how they want
to hear.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.domain import Aggregate, EventMeta, InvalidCommand, event

NOTIFICATIONS = uuid5(NAMESPACE_URL, "urn:marketflow:notification")

CHANNELS = ("in_app", "email", "webhook")
"""Where a member may choose to hear of a kind of notification. In-app is always kept
(the inbox is the record); email may be replaced by the daily digest."""

DELIVERY_OUTCOMES = ("delivered", "retrying", "failed", "disabled")
"""delivered: the receiver took it; retrying: it did not, another attempt is scheduled;
failed: given up (attempts exhausted, or refused for good); disabled: the endpoint said it
is gone (a webhook's 410)."""


class Notification(Aggregate):
    """One message to one member about one thing. Its deliveries (email, webhooks, the
    digest) are planned when it is recorded, from the member's preferences then, and each
    attempt is recorded on it: who was told what, where, when, and with what outcome."""

    @event("Recorded")
    def __init__(self, id: UUID, recipient_id: str, kind: str, subject_id: UUID, text: str,
                 meta: EventMeta, campaign_id: UUID | None = None, title: str = "",
                 link: str | None = None, deliveries: list[dict[str, Any]] | None = None,
                 timer_key: str | None = None) -> None:
        self.recipient_id = recipient_id
        self.kind = kind
        self.subject_id = subject_id
        self.campaign_id = campaign_id
        self.title = title
        self.text = text
        self.link = link
        self.deliveries = list(deliveries or [])
        self.timer_key = timer_key
        self.read = False
        self.attempts: dict[str, list[dict[str, Any]]] = {}

    def mark_read(self, meta: EventMeta) -> None:
        """Who may is the access policy's business (``policy.py``: the recipient)."""
        if not self.read:
            self._read(meta)

    @event("Read")
    def _read(self, meta: EventMeta) -> None:
        self.read = True

    def attempted(self, channel: str, target: str, outcome: str, meta: EventMeta, *,
                  response_code: int | None = None, error: str | None = None,
                  next_attempt_at: dt.datetime | None = None) -> None:
        """Records one delivery attempt (``target``: an email address, a webhook
        subscription id)."""
        if outcome not in DELIVERY_OUTCOMES:
            raise ValueError(f"unknown delivery outcome {outcome!r}")
        attempt = len(self.attempts.get(delivery_key(channel, target), [])) + 1
        self._attempted(channel=channel, target=target, attempt=attempt, outcome=outcome,
                        response_code=response_code, error=error,
                        next_attempt_at=next_attempt_at, meta=meta)

    @event("DeliveryAttempted")
    def _attempted(self, channel: str, target: str, attempt: int, outcome: str,
                   response_code: int | None, error: str | None,
                   next_attempt_at: dt.datetime | None, meta: EventMeta) -> None:
        self.attempts.setdefault(delivery_key(channel, target), []).append(
            {"attempt": attempt, "outcome": outcome})

    def settled(self, channel: str, target: str) -> bool:
        """Whether that delivery needs no more attempts."""
        attempts = self.attempts.get(delivery_key(channel, target), [])
        return bool(attempts) and attempts[-1]["outcome"] != "retrying"


def delivery_key(channel: str, target: str) -> str:
    return f"{channel}:{target}"


def notification_id(cause: str, recipient_id: str, kind: str) -> UUID:
    """One notification per (cause, recipient, kind), whatever happens to the message:
    a redelivered event, or a timer that fires again after a restart, finds it recorded."""
    return uuid5(NOTIFICATIONS, f"{cause}:{recipient_id}:{kind}")


class Preferences(Aggregate):
    """How a member wants to hear: channels per kind of notification, quiet hours in their
    time zone, and a daily digest instead of single emails."""

    @event("Set")
    def __init__(self, id: UUID, member_id: str, time_zone: str,
                 channels: dict[str, list[str]], quiet_hours: list[str] | None,
                 digest: bool, meta: EventMeta) -> None:
        self.member_id = member_id
        self._apply(time_zone, channels, quiet_hours, digest)

    def change(self, time_zone: str, channels: dict[str, list[str]],
               quiet_hours: list[str] | None, digest: bool, meta: EventMeta) -> None:
        if (time_zone, channels, quiet_hours, digest) != (
                self.time_zone, self.channels, self.quiet_hours, self.digest):
            self._changed(time_zone=time_zone, channels=channels, quiet_hours=quiet_hours,
                          digest=digest, meta=meta)

    @event("Changed")
    def _changed(self, time_zone: str, channels: dict[str, list[str]],
                 quiet_hours: list[str] | None, digest: bool, meta: EventMeta) -> None:
        self._apply(time_zone, channels, quiet_hours, digest)

    def _apply(self, time_zone: str, channels: dict[str, list[str]],
               quiet_hours: list[str] | None, digest: bool) -> None:
        self.time_zone = time_zone
        self.channels = {kind: list(chosen) for kind, chosen in channels.items()}
        self.quiet_hours = list(quiet_hours) if quiet_hours else None
        self.digest = digest


def preferences_id(member_id: str) -> UUID:
    return uuid5(NOTIFICATIONS, f"preferences:{member_id}")


def check_channels(channels: dict[str, list[str]]) -> None:
    for kind, chosen in channels.items():
        unknown = sorted(set(chosen) - set(CHANNELS))
        if unknown:
            raise InvalidCommand(f"channels.{kind}: unknown channel(s) {', '.join(unknown)}; "
                                 f"choose from {', '.join(CHANNELS)}")
