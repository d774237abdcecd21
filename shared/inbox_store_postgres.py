"""The inbox table on PostgreSQL (see ``shared/inbox_store.py``), in the service's schema;
a module of its own so that SQLite services never import psycopg."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from shared.inbox_store import (
    INBOX_TABLE,
    LEGACY_MARKS_TABLE,
    LEGACY_PREFIX,
    InboxRecorder,
    LegacyMark,
    inbox_entries,
    inbox_row,
    now,
)


class PostgresInboxRecorder(PostgresProcessRecorder, InboxRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking") -> None:
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name)
        self.legacy_marks = {}
        schema = Identifier(self.datastore.schema)
        self._inbox = SQL("{}.{}").format(schema, Identifier(INBOX_TABLE))
        self._marks = SQL("{}.{}").format(schema, Identifier(LEGACY_MARKS_TABLE))

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT position_name, position, recorded_before FROM {}")
                         .format(self._marks))
            self.legacy_marks = {
                row["position_name"]: LegacyMark(row["position"], row["recorded_before"])
                for row in curs.fetchall()
            }

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Replicas starting together: one creates and copies the old marks, the others
        # find the table there.
        curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                     (f"{self.datastore.schema}.{INBOX_TABLE}",))
        curs.execute("SELECT to_regclass(%s) IS NOT NULL AS existed",
                     (f'"{self.datastore.schema}".{INBOX_TABLE}',))
        row = curs.fetchone()
        existed = bool(row and row["existed"])
        super()._create_table(curs)
        curs.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "event_id text NOT NULL, source text NOT NULL, digest bytea NOT NULL, "
            "topic text, kafka_partition integer, kafka_offset bigint, "
            "applied_at timestamptz NOT NULL, "
            "PRIMARY KEY (event_id, source))").format(self._inbox))
        curs.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "position_name text PRIMARY KEY, position bigint NOT NULL, "
            "recorded_before timestamptz NOT NULL)").format(self._marks))
        if not existed:
            curs.execute(SQL(
                "INSERT INTO {} SELECT application_name, MAX(notification_id), %s FROM {}.{} "
                "WHERE application_name LIKE %s GROUP BY application_name "
                "ON CONFLICT DO NOTHING").format(
                    self._marks, Identifier(self.datastore.schema),
                    Identifier(self.tracking_table_name)),
                (now(), LEGACY_PREFIX + "%"))

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        entries = inbox_entries(kwargs)
        if entries:
            # A plain INSERT: an identity recorded concurrently fails the whole transaction.
            applied_at = now()
            curs.executemany(SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s,%s)")
                             .format(self._inbox),
                             [inbox_row(entry, applied_at) for entry in entries])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT DISTINCT originator_id FROM {}.{} "
                             "WHERE originator_id = ANY(%s)").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)),
                (list(aggregate_ids),))
            return {row["originator_id"] for row in curs.fetchall()}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_inbox(self, event_ids: Collection[str]) -> dict[tuple[str, str], bytes]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT event_id, source, digest FROM {} WHERE event_id = ANY(%s)")
                         .format(self._inbox), (list(event_ids),))
            return {(row["event_id"], row["source"]): bytes(row["digest"])
                    for row in curs.fetchall()}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def record_position(self, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SET LOCAL synchronous_commit TO OFF")
            self._insert_tracking(curs, tracking)
