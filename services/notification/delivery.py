"""Delivering notifications outside the app: the deliveries read model and the loop that
sends what is due.

``DeliveriesView`` (``notification.deliveries``) has one row per (notification, channel,
target), folded from the deliveries a notification planned when it was recorded and from
each ``DeliveryAttempted``: its state and when it is due next (indexed). The loop
(``Deliverer``, a background job woken by every commit and polling every
``poll_seconds``) catches the view up, sends what is due by the application's clock, and
records each attempt as an event on the notification: channel, outcome, response code,
next attempt.

Order: send, then record. A crash in between sends again on restart (never zero times);
the second send carries the same ``Message-ID`` / ``webhook-id`` (derived from the
notification, the channel and the target), so receivers can drop it. With several
replicas on one PostgreSQL schema only the holder of an advisory lock delivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.notification import digest
from services.notification.domain import Notification
from services.notification.email_channel import (
    Item,
    MailError,
    SmtpMailer,
    compose,
    message_id,
)
from services.notification.webhooks import (
    WebhookSender,
    WebhookSubscriptions,
    payload,
    subscriptions_id,
    webhook_id,
)
from shared.application import ServiceApplication
from shared.domain import EventMeta
from shared.leadership import RelayLeadership
from shared.metrics import record_delivery
from shared.projections import Projection, Sql, Table
from shared.waiting import wait_for_event

log = logging.getLogger(__name__)

FIRST_RETRY = dt.timedelta(seconds=30)
MAX_RETRY = dt.timedelta(hours=8)
MAX_ATTEMPTS = 13
"""30 s doubling, capped at 8 h: the 13th attempt is about a day after the first."""
BATCH = 100
ACTOR = "system:notification-delivery"
DUE_NOW = ""
"""``due_at`` of a delivery due at once (sorts before every time)."""


def at(moment: dt.datetime) -> str:
    """A time as the view stores it: UTC, fixed width, so text order is time order."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (1-based)."""
    wait: dt.timedelta = FIRST_RETRY * 2 ** (attempt - 1)
    return min(wait, MAX_RETRY)


class DeliveriesView(Projection):
    """Every planned delivery with its state and when it is due next."""

    name = "notification.deliveries"
    version = 1
    tables = (
        Table("deliveries", (
            ("notification_id", "text"), ("channel", "text"), ("target", "text"),
            ("recipient_id", "text"), ("owner", "text"), ("state", "text"),
            ("attempts", "int"), ("due_at", "text"), ("slot", "text"),
            ("response_code", "int"), ("error", "text"), ("recorded_at", "text"),
        ), ("notification_id", "channel", "target"), indexes=(("due_at",),)),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events plan or attempt no delivery."""

    @apply.register(Notification.Recorded)  # type: ignore[attr-defined]
    def _recorded(self, domain_event: Any, sql: Sql) -> None:
        for planned in domain_event.deliveries or []:
            not_before = planned.get("not_before")
            due = at(dt.datetime.fromisoformat(not_before)) if not_before else DUE_NOW
            sql.execute(
                f"INSERT INTO {self.table('deliveries')} (notification_id, channel, target, "
                "recipient_id, owner, state, attempts, due_at, slot, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT DO NOTHING",
                (str(domain_event.originator_id), planned["channel"], planned["target"],
                 domain_event.recipient_id, planned.get("owner"), due,
                 due if planned["channel"] == "digest" else None,
                 at(domain_event.timestamp)))

    @apply.register(Notification.DeliveryAttempted)  # type: ignore[attr-defined]
    def _attempted(self, domain_event: Any, sql: Sql) -> None:
        next_at = domain_event.next_attempt_at
        sql.execute(
            f"UPDATE {self.table('deliveries')} SET state = ?, attempts = ?, due_at = ?, "
            "response_code = ?, error = ? WHERE notification_id = ? AND channel = ? "
            "AND target = ?",
            (domain_event.outcome, domain_event.attempt,
             at(next_at) if domain_event.outcome == "retrying" and next_at else None,
             domain_event.response_code, domain_event.error,
             str(domain_event.originator_id), domain_event.channel, domain_event.target))

    def due(self, now: dt.datetime, limit: int = BATCH) -> list[dict[str, Any]]:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return sql.rows(f"SELECT * FROM {self.table('deliveries')} WHERE due_at IS NOT NULL"
                            " AND due_at <= ? ORDER BY due_at, notification_id LIMIT ?",
                            (at(now), limit))

    def of_notification(self, notification_id: UUID) -> list[dict[str, Any]]:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return sql.rows(f"SELECT * FROM {self.table('deliveries')} "
                            "WHERE notification_id = ? ORDER BY channel, target",
                            (str(notification_id),))


Outcome = tuple[str, int | None, str | None, dt.timedelta | None]
"""(delivered | retry | failed | gone, response code, error, Retry-After)."""


class Deliverer:
    """Sends what is due and records each attempt. ``deliver_due`` is one round (tests
    call it with their clock); ``notification_deliveries`` is the background job."""

    def __init__(self, app: ServiceApplication, view: DeliveriesView, *,
                 mailer: SmtpMailer | None = None, sender: WebhookSender | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.app = app
        self.view = view
        self.settings = app.notification_settings  # type: ignore[attr-defined]
        self.clock: Callable[[], dt.datetime] = clock or app.clock  # type: ignore[attr-defined]
        self.mailer = mailer or SmtpMailer(self.settings.smtp)
        self.sender = sender or WebhookSender(
            private_addresses=self.settings.webhook_private_addresses)
        self.leadership = RelayLeadership(
            app.settings, f"{app.settings.topic()}:notification-deliveries")
        self.crash_after_send: Callable[[], None] | None = None
        """Tests: called between sending and recording (to inject a crash there)."""

    # --- the background job ------------------------------------------------------------

    async def notification_deliveries(self) -> None:
        """The background job (named so on ``/health/status``)."""
        wakeup = asyncio.Event()
        loop = asyncio.get_running_loop()
        running = True

        def woken() -> None:
            if running:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    loop.call_soon_threadsafe(wakeup.set)

        self.app.add_commit_listener(woken)
        try:
            while True:
                wakeup.clear()
                try:
                    if await asyncio.to_thread(self.leadership.try_acquire):
                        await asyncio.to_thread(self.deliver_due)
                except Exception:
                    log.exception("delivery round failed; trying again at the next poll")
                await wait_for_event(wakeup, self.settings.poll_seconds)
        finally:
            running = False
            self.leadership.release()

    # --- one round ---------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Send every delivery due now; returns how many attempts were made."""
        now = self.clock()
        rows = self.view.due(now)
        made = 0
        digests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if row["channel"] == "digest":
                digests[row["target"]].append(row)
                continue
            try:
                made += self._deliver(row, now)
            except Exception:
                log.exception("delivery failed unexpectedly", extra={
                    "notification_id": row["notification_id"], "channel": row["channel"]})
        for address, due in digests.items():
            try:
                made += self._deliver_digest(address, due, now)
            except Exception:
                log.exception("digest failed unexpectedly", extra={"address": address})
        return made

    def _deliver(self, row: dict[str, Any], now: dt.datetime) -> int:
        notification = self.app.load(UUID(row["notification_id"]), Notification)
        channel, target = row["channel"], row["target"]
        if notification.settled(channel, target):
            return 0  # the view has not seen the last attempt yet
        attempt = len(notification.attempts.get(f"{channel}:{target}", [])) + 1
        subscriptions: WebhookSubscriptions | None = None
        if channel == "email":
            result = self._send_email(notification, target)
        elif channel == "webhook":
            subscriptions, result = self._send_webhook(notification, row, now)
        else:
            result = ("failed", None, f"unknown channel {channel!r}", None)
        self._after_send()
        self._record(notification.id, channel, target, result, attempt, now, subscriptions)
        return 1

    def _send_email(self, notification: Notification, target: str) -> Outcome:
        message = compose(self.settings, target, notification.title or notification.text,
                          [Item(notification.title or notification.kind, notification.text,
                                notification.link)],
                          message_id(notification.id, "email", target),
                          date=notification.created_on)
        try:
            return ("delivered", self.mailer.send(message), None, None)
        except MailError as error:
            return ("retry" if error.temporary else "failed", error.code, str(error), None)

    def _send_webhook(self, notification: Notification, row: dict[str, Any],
                      now: dt.datetime) -> tuple[WebhookSubscriptions | None, Outcome]:
        owner, target = row["owner"], row["target"]
        aggregate_id = subscriptions_id(owner or "")
        if not owner or not self.app.exists(aggregate_id):
            return None, ("failed", None, "the webhook subscription no longer exists", None)
        subscriptions = self.app.load(aggregate_id, WebhookSubscriptions)
        endpoint = subscriptions.endpoints.get(target)
        if endpoint is None:
            return None, ("failed", None, "the webhook subscription was deleted", None)
        if not endpoint["active"]:
            return None, ("gone", None, f"the endpoint is disabled: "
                                        f"{endpoint['disabled_reason']}", None)
        sent = self.sender.send(endpoint["url"], subscriptions.signing_secrets(target, now),
                                webhook_id(notification.id, target), payload(notification))
        return subscriptions, (sent.outcome, sent.status_code, sent.error, sent.retry_after)

    def _deliver_digest(self, address: str, rows: list[dict[str, Any]],
                        now: dt.datetime) -> int:
        notifications = []
        for row in rows:
            notification = self.app.load(UUID(row["notification_id"]), Notification)
            if not notification.settled("digest", address):
                notifications.append(notification)
        if not notifications:
            return 0
        notifications.sort(key=lambda n: (n.created_on, str(n.id)))
        slot = max(row["slot"] or row["due_at"] for row in rows)
        time_zone = self._time_zone(notifications[0].recipient_id)
        slot_time = dt.datetime.strptime(slot, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        message = compose(
            self.settings, address, digest.subject(len(notifications), slot_time, time_zone),
            [Item(n.title or n.kind, n.text, n.link) for n in notifications],
            digest.digest_message_id(address, slot),
            intro="What happened in Marketflow since your last digest:", date=slot_time)
        try:
            result: Outcome = ("delivered", self.mailer.send(message), None, None)
        except MailError as error:
            result = ("retry" if error.temporary else "failed", error.code, str(error), None)
        self._after_send()
        for notification in notifications:
            attempt = len(notification.attempts.get(f"digest:{address}", [])) + 1
            self._record(notification.id, "digest", address, result, attempt, now, None)
        return len(notifications)

    def _time_zone(self, member_id: str) -> str:
        notifier = self.app.notifier  # type: ignore[attr-defined]
        return str(notifier.preferences(member_id).time_zone)

    def _after_send(self) -> None:
        if self.crash_after_send is not None:
            self.crash_after_send()

    # --- recording ---------------------------------------------------------------------

    def _record(self, notification_id: UUID, channel: str, target: str, result: Outcome,
                attempt: int, now: dt.datetime,
                subscriptions: WebhookSubscriptions | None) -> None:
        outcome, code, error, wait = result
        next_at: dt.datetime | None = None
        if outcome == "retry":
            if attempt >= MAX_ATTEMPTS:
                outcome, error = "failed", f"gave up after {attempt} attempts: {error}"
            else:
                outcome, next_at = "retrying", now + (wait if wait is not None
                                                      else backoff(attempt))
        elif outcome == "gone":
            outcome = "disabled"
        meta = EventMeta(actor=ACTOR, causation_id=f"{notification_id}",
                         reason=f"{channel} delivery attempt {attempt}")
        for _ in range(5):
            notification = self.app.load(notification_id, Notification)
            notification.attempted(channel, target, outcome, meta, response_code=code,
                                   error=error, next_attempt_at=next_at)
            changed: list[Any] = [notification]
            if outcome == "disabled" and subscriptions is not None:
                subscriptions = self.app.load(subscriptions.id, WebhookSubscriptions)
                subscriptions.disable(target, error or "410 Gone", code, meta)
                changed.append(subscriptions)
            try:
                self.app.save(*changed)
            except IntegrityError:  # e.g. marked read meanwhile: record on the new version
                continue
            record_delivery(channel, outcome)
            log.info("delivery attempted", extra={
                "notification_id": str(notification_id), "channel": channel,
                "outcome": outcome, "response_code": code, "attempt": attempt})
            return
        raise RuntimeError(f"could not record the {channel} attempt on {notification_id}")
