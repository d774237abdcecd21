"""What a service's store remembers about the upstream events it has applied.

Deduplication is exact membership, not a high-water mark: the table ``inbox`` holds one
row per applied integration event, keyed by its CloudEvents identity (``ce_id`` and
``ce_source``, unique together by the CloudEvents spec and stable across the producer's
relay re-publishing). The rows are written by the process recorder inside the same
transaction as the events the handling produced (``_insert_events``), so an event is
either applied and recorded, or neither. A forged or corrupt message can at worst occupy
its own identity; it can never make later events look applied.

Each row also keeps a digest of what was applied (type, subject, version, payload): a
second message with the same identity but different content is not a duplicate but a
conflict, and is dead-lettered rather than dropped in silence.

``SQLiteInboxRecorder`` is here; ``PostgresInboxRecorder`` (same tables, in the service's
schema) in ``shared/inbox_store_postgres.py``.

Stores written before this table existed tracked a per-partition position of the
producer's ``ce_sequence`` (``inbox:<topic>:<partition>`` in the tracking table). When the
table is created those positions are copied once to ``inbox_legacy_marks`` with the time of
the copy: a message is still taken as applied when it was created before that time and
its ``ce_sequence`` is at or below the old mark (what the old code would have dropped), so
redeliveries across the upgrade stay exactly-once, while events created after the upgrade
never consult the old marks.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder

INBOX_TABLE = "inbox"
LEGACY_MARKS_TABLE = "inbox_legacy_marks"
LEGACY_PREFIX = "inbox:"
# SQLite's default limit on bound parameters is 32766 (999 before 3.32): stay well below.
_SQLITE_CHUNK = 500


@dataclass(frozen=True)
class Delivery:
    """Where a message was read: kept with the inbox row, for whoever investigates."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class InboxEntry:
    """One applied upstream event, recorded with the events its handling produced."""

    event_id: str
    source: str
    digest: bytes
    delivery: Delivery | None = None


@dataclass(frozen=True)
class LegacyMark:
    position: int
    recorded_before: dt.datetime


class InboxRecorder(ABC):
    """What the application needs from its process recorder to apply events once."""

    legacy_marks: dict[str, LegacyMark]

    @abstractmethod
    def select_inbox(self, event_ids: Collection[str]) -> dict[tuple[str, str], bytes]:
        """Digests of the applied events among ``event_ids``, by (event id, source):
        one query for a whole batch."""

    @abstractmethod
    def select_existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        """Those of ``aggregate_ids`` that have stored events: one query for a batch."""

    @abstractmethod
    def record_position(self, tracking: Tracking) -> None:
        """A position recorded without waiting for the disk, where the store can: one
        lost in a crash of the server only means the work after the older one is done
        again, and whatever is done again is dropped by its consumers (the relay's)."""


def recorder_topic(persistence_module: str) -> str:
    """The process recorder class to configure for the library's persistence module
    (as a topic: psycopg is imported only where PostgreSQL is used)."""
    return {
        "eventsourcing.sqlite": f"{__name__}:SQLiteInboxRecorder",
        "eventsourcing.postgres": "shared.inbox_store_postgres:PostgresInboxRecorder",
    }[persistence_module]


def inbox_entries(kwargs: dict[str, Any]) -> Sequence[InboxEntry]:
    entries: Sequence[InboxEntry] = kwargs.get("inbox") or ()
    return entries


def inbox_row(entry: InboxEntry, applied_at: Any) -> tuple[Any, ...]:
    delivery = entry.delivery
    return (entry.event_id, entry.source, entry.digest,
            delivery.topic if delivery else None,
            delivery.partition if delivery else None,
            delivery.offset if delivery else None,
            applied_at)


class SQLiteInboxRecorder(SQLiteProcessRecorder, InboxRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.legacy_marks = {}

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position_name, position, recorded_before FROM {LEGACY_MARKS_TABLE}")
            self.legacy_marks = {
                row[0]: LegacyMark(row[1], dt.datetime.fromisoformat(row[2]))
                for row in c.fetchall()
            }

    def _create_table(self, c: SQLiteCursor) -> None:
        c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (INBOX_TABLE,))
        existed = c.fetchone() is not None
        super()._create_table(c)
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {INBOX_TABLE} ("
            "event_id TEXT NOT NULL, source TEXT NOT NULL, digest BLOB NOT NULL, "
            "topic TEXT, kafka_partition INTEGER, kafka_offset INTEGER, "
            "applied_at TEXT NOT NULL, "
            "PRIMARY KEY (event_id, source)) WITHOUT ROWID"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {LEGACY_MARKS_TABLE} ("
            "position_name TEXT PRIMARY KEY, position INTEGER NOT NULL, "
            "recorded_before TEXT NOT NULL) WITHOUT ROWID"
        )
        if not existed:
            c.execute(
                f"INSERT OR IGNORE INTO {LEGACY_MARKS_TABLE} "
                "SELECT application_name, MAX(notification_id), ? FROM tracking "
                "WHERE application_name LIKE ? GROUP BY application_name",
                (now().isoformat(), LEGACY_PREFIX + "%"),
            )

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        entries = inbox_entries(kwargs)
        if entries:
            # A plain INSERT: an identity recorded concurrently fails the whole transaction.
            applied_at = now().isoformat()
            c.executemany(f"INSERT INTO {INBOX_TABLE} VALUES (?,?,?,?,?,?,?)",
                          [inbox_row(entry, applied_at) for entry in entries])
        return returning

    def select_inbox(self, event_ids: Collection[str]) -> dict[tuple[str, str], bytes]:
        found: dict[tuple[str, str], bytes] = {}
        ids = list(event_ids)
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(ids, _SQLITE_CHUNK):
                c.execute(f"SELECT event_id, source, digest FROM {INBOX_TABLE} "
                          f"WHERE event_id IN ({','.join('?' * len(chunk))})", chunk)
                found.update({(row[0], row[1]): bytes(row[2]) for row in c.fetchall()})
        return found


    def select_existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            # The library stores SQLite's ids as hex, without dashes.
            for chunk in _chunks([i.hex for i in aggregate_ids], _SQLITE_CHUNK):
                c.execute(f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                          f"WHERE originator_id IN ({','.join('?' * len(chunk))})", chunk)
                found.update(UUID(row[0]) for row in c.fetchall())
        return found

    def record_position(self, tracking: Tracking) -> None:
        self.insert_tracking(tracking)  # SQLite: its own durability settings, as ever


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
