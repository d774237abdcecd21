"""Notification's read models: tables folded from its own notification log."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from services.notification.domain import Notification
from shared.projections import (
    EVERYTHING,
    Page,
    PageRequest,
    Projection,
    Sql,
    Table,
)

NEWEST_FIRST = ("created_at", "id")


class InboxView(Projection):
    """Each member's in-app notifications, newest first."""

    name = "notification.inbox"
    version = 3  # 2: each notification's version (its ETag); 3: campaign, title and link
    tables = (
        Table("notifications", (
            ("id", "text"), ("recipient_id", "text"), ("kind", "text"),
            ("subject_id", "text"), ("text", "text"), ("read", "int"),
            ("created_at", "text"), ("caused_by", "text"), ("version", "int"),
            ("campaign_id", "text"), ("title", "text"), ("link", "text"),
        ), ("id",), indexes=(("recipient_id", "created_at", "id"),
                             ("recipient_id", "read"))),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change no notification."""

    @apply.register(Notification.Recorded)  # type: ignore[attr-defined]
    def _recorded(self, domain_event: Any, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {self.table('notifications')} (id, recipient_id, kind, subject_id, "
            "text, read, created_at, caused_by, version, campaign_id, title, link) "
            "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (str(domain_event.originator_id), domain_event.recipient_id, domain_event.kind,
             str(domain_event.subject_id), domain_event.text,
             domain_event.timestamp.isoformat(), domain_event.meta.causation_id,
             domain_event.originator_version,
             str(domain_event.campaign_id) if domain_event.campaign_id else None,
             domain_event.title or "", domain_event.link))

    @apply.register(Notification.Read)  # type: ignore[attr-defined]
    def _read(self, domain_event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('notifications')} SET read = 1, version = ? "
                    "WHERE id = ?", (domain_event.originator_version,
                                     str(domain_event.originator_id)))

    def for_member(self, member_id: str, page: PageRequest | None = None) -> Page:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            found = self.select_page(sql, "notifications", NEWEST_FIRST, page or EVERYTHING,
                                     where="recipient_id = ?", params=[member_id],
                                     descending=True)
        return Page([{**row, "read": bool(row["read"])} for row in found.rows],
                    found.next_cursor)

    def unread_count(self, member_id: str) -> int:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            row = sql.one(f"SELECT COUNT(*) AS unread FROM {self.table('notifications')} "
                          "WHERE recipient_id = ? AND read = 0", (member_id,))
        return int(row["unread"]) if row else 0

    def unread_ids(self, member_id: str) -> list[UUID]:
        """The member's unread notifications, oldest first (what mark-all-read marks)."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(f"SELECT id FROM {self.table('notifications')} "
                           "WHERE recipient_id = ? AND read = 0 ORDER BY created_at, id",
                           (member_id,))
        return [UUID(row["id"]) for row in rows]

    def get(self, notification_id: UUID) -> dict[str, Any] | None:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            row = sql.one(f"SELECT * FROM {self.table('notifications')} WHERE id = ?",
                          (str(notification_id),))
        return {**row, "read": bool(row["read"])} if row else None
