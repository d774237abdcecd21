"""Which replica relays a service's outbox: the holder of a PostgreSQL session advisory
lock. Every replica serves HTTP and consumes (Kafka shares the partitions out), but only
one publishes, so events are not published once per replica. If the leader dies, its
connection closes, the lock is released and a standby takes over where the recorded
position says. SQLite stores belong to one process, which always leads."""

from __future__ import annotations

import hashlib
import logging

from shared.config import Settings

log = logging.getLogger(__name__)


class RelayLeadership:
    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        digest = hashlib.sha256(f"marketflow-outbox:{name}".encode()).digest()
        self.lock_key = int.from_bytes(digest[:8], "big", signed=True)
        self._connection: object | None = None

    @property
    def exclusive(self) -> bool:
        return self.settings.store == "postgres"

    def try_acquire(self) -> bool:
        """Non-blocking; True once this replica leads."""
        if not self.exclusive:
            return True
        import psycopg

        if self._connection is None:
            self._connection = psycopg.connect(self.settings.postgres_url, autocommit=True)
        connection: psycopg.Connection[tuple[bool]] = self._connection  # type: ignore[assignment]
        try:
            row = connection.execute("SELECT pg_try_advisory_lock(%s)",
                                     (self.lock_key,)).fetchone()
        except psycopg.Error:
            # A broken connection stays broken: drop it, so the next try reconnects.
            self.release()
            raise
        return bool(row and row[0])

    def still_held(self) -> bool:
        """False when the lock's connection broke (and so the lock is gone)."""
        if not self.exclusive:
            return True
        import psycopg

        connection = self._connection
        if connection is None:
            return False
        try:
            connection.execute("SELECT 1")  # type: ignore[attr-defined]
        except psycopg.Error:
            self.release()
            return False
        return True

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()  # type: ignore[attr-defined]
            except Exception:  # closing a broken connection: nothing left to release
                log.debug("closing the leadership connection failed", exc_info=True)
