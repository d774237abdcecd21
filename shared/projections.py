"""Read models persisted beside the event store: one pattern for every service.

A projection is a set of tables in the service's own database (the SQLite file or the
PostgreSQL schema of its event store), folded from the service's own notification log.
Its position is recorded in ``projection_positions`` in the same transaction as the rows
it changes, so a crash never leaves the rows and the position apart, and a restart
resumes where it stopped: nothing is refolded. (The same pattern as the eventsourcing
library's ``Projection``/``Tracking``; the library's runner needs subscriptions, which
its SQLite recorder does not have, so the log is read in pages here.)

Queries first catch the projection up (read-your-writes: a command's effect is visible
to the next query), then read indexed SQL. Several replicas on one PostgreSQL schema share
one projection: each page is applied under a row lock on the position, and a replica that
finds the position moved re-reads instead of applying anything twice.

A projection whose ``version`` differs from the recorded one (its fold or tables changed)
is rebuilt into fresh tables at start-up and swapped in; ``marketflow projections
rebuild`` and ``verify`` do the same on demand.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import singledispatchmethod
from typing import Any, ClassVar

import orjson
from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic

from shared.application import ServiceApplication
from shared.domain import DomainError, InvalidCommand

log = logging.getLogger(__name__)

PAGE_SIZE = 500
SKIP_WRITE_DISTANCE = 10 * PAGE_SIZE
SHARED_LOG_WINDOW = 8 * PAGE_SIZE
LIVE_PREFIX = "rm_"
REBUILD_PREFIX = "rb_"
POSITIONS_TABLE = "projection_positions"

_SQL_TYPES = {
    "sqlite": {"text": "TEXT", "int": "INTEGER", "real": "REAL", "json": "TEXT"},
    "postgres": {"text": "TEXT", "int": "BIGINT", "real": "DOUBLE PRECISION", "json": "TEXT"},
}


@dataclass(frozen=True)
class Table:
    """A read-model table: columns as (name, type) with type one of text, int, real,
    json (stored as text, decoded on read); ``indexes`` list the queried column tuples."""

    name: str
    columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def json_columns(self) -> frozenset[str]:
        return frozenset(name for name, kind in self.columns if kind == "json")


class Sql:
    """One transaction on the service's database, in either dialect. Statements use
    ``?`` placeholders; table names come from ``Projection.table``."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _statement(self, statement: str) -> str:
        if self.dialect == "postgres":
            return statement.replace("%", "%%").replace("?", "%s")
        return statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Returns the number of rows changed (outside a pipeline)."""
        self._cursor.execute(self._statement(statement), tuple(params))
        # The library wraps SQLite's cursor; psycopg's is used as it is.
        cursor = getattr(self._cursor, "sqlite_cursor", self._cursor)
        return int(cursor.rowcount)

    def another(self) -> Sql:
        """The same transaction through a cursor of its own (in a PostgreSQL pipeline, a
        cursor fetches the results of its own statements only)."""
        if self.dialect != "postgres":
            return self
        return Sql(self._cursor.connection.cursor(), self.dialect)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._statement(statement), [tuple(r) for r in rows])

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.execute(statement, params)
        found = self._cursor.fetchall()
        if found and type(found[0]) is dict:  # psycopg's rows are dicts already
            return list(found)
        return [dict(row) for row in found]

    def one(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        found = self.rows(statement, params)
        return found[0] if found else None


class ReadStore:
    """The service's own database, reached through its event store's connection pool."""

    def __init__(self, app: ServiceApplication) -> None:
        self.datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
        self.dialect = "postgres" if app.settings.store == "postgres" else "sqlite"
        self.schema: str | None = (
            app.settings.postgres_schema if self.dialect == "postgres" else None)

    def qualified(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.schema else f'"{name}"'

    @contextlib.contextmanager
    def transaction(self, *, commit: bool, pipelined: bool = False) -> Iterator[Sql]:
        """``pipelined``: on PostgreSQL, statements are sent without waiting for each
        answer (a fold's writes cost one round trip, not one each); reading a result
        still waits for it."""
        if pipelined and self.dialect == "postgres":
            with (self.datastore.get_connection() as connection, connection.pipeline(),
                  connection.transaction(force_rollback=not commit)):
                yield Sql(connection.cursor(), self.dialect)
            return
        if not commit and self.dialect == "postgres":
            # Reads on the pool's autocommit connection, without BEGIN and ROLLBACK (two
            # round trips of three): at READ COMMITTED each statement takes its own
            # snapshot inside a transaction too, so nothing is less consistent.
            with self.datastore.get_connection() as connection:
                yield Sql(connection.cursor(), self.dialect)
            return
        with self.datastore.transaction(commit=commit) as cursor:
            yield Sql(cursor, self.dialect)

    def sql_type(self, kind: str) -> str:
        return _SQL_TYPES[self.dialect][kind]


@dataclass
class CatchUp:
    """What one catch-up did (for progress bars and logs)."""

    applied: int = 0
    position: int = 0
    seconds: float = 0.0


@dataclass
class TableDifference:
    table: str
    only_live: list[dict[str, Any]] = field(default_factory=list)
    only_rebuilt: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.only_live) + len(self.only_rebuilt) + len(self.changed)


Progress = Callable[[int, int], None]
"""Called with (position reached, head of the log) after each page."""


class Projection:
    """A read model: tables, a fold from domain events to rows, and queries.

    Subclasses set ``name``, ``version`` and ``tables``, and register handlers on
    ``apply`` (a ``singledispatchmethod`` taking the event and an ``Sql``). Events no
    handler is registered for are skipped without decoding more than their topic.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]]
    fed_by_other_services: ClassVar[bool] = False
    """Its events come only from other services' (applied by the inbox), never from a
    user's command here, so read-your-writes asks nothing of it across replicas: a query
    catches it up only when this process committed one of its events since it last did
    (an inbound batch, then a command relying on it); otherwise it answers from its
    tables, which the follower keeps current (what another replica applied shows within
    ``READ_MODEL_POLL_SECONDS``). Saves a round trip per query on the command path."""

    def __init__(self, app: ServiceApplication, *, prefix: str = LIVE_PREFIX) -> None:
        self.app = app
        self.store = ReadStore(app)
        self.prefix = prefix
        self.position = 0
        """Caught up to here: what lies between the recorded position and this had
        nothing to fold (a skip is not written at once, see ``_skip_page``)."""
        self._written_position = 0
        """The position in ``projection_positions`` as this process last saw it."""
        self._checked_commit = -1
        """``app.local_commits`` when this projection last caught up."""
        self.generation = 0
        """Changes whenever the tables may have (a fold here, another replica's, a
        rebuild): what was read from them before may be kept until it does."""
        self.loaded_position: int | None = None
        """Where the projection stood when this process first read it (restart tests)."""
        self._lock = threading.RLock()
        self._handled_topics: dict[str, bool] = {}
        self._handled_classes: dict[type, bool] = {}
        self._opened = False

    # --- the fold ----------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Fold one domain event into the tables; subclasses register per event type."""

    def prepare(self, domain_events: Sequence[Any]) -> None:
        """Before a page's transaction: prefetch what its events need (no writes)."""

    def finish(self, sql: Sql) -> None:
        """At the end of a page, inside its transaction (flush what ``apply`` gathered)."""

    def forget(self) -> None:
        """Drop anything prepared for a page that was not applied (a lost race)."""

    @classmethod
    def _dispatcher(cls) -> Any:
        """``apply``'s registry (``self.apply`` builds a new bound wrapper per access)."""
        return inspect.getattr_static(cls, "apply").dispatcher

    def handles_class(self, event_class: type) -> bool:
        known = self._handled_classes.get(event_class)
        if known is None:
            dispatcher = self._dispatcher()
            known = dispatcher.dispatch(event_class) is not dispatcher.dispatch(object)
            self._handled_classes[event_class] = known
        return known

    def handles(self, topic: str) -> bool:
        known = self._handled_topics.get(topic)
        if known is None:
            dispatcher = self._dispatcher()
            default = dispatcher.dispatch(object)
            try:
                event_class = resolve_topic(topic)
            except Exception:  # an event class that no longer exists: nothing to fold
                known = False
            else:
                known = dispatcher.dispatch(event_class) is not default
            self._handled_topics[topic] = known
        return known

    # --- tables ------------------------------------------------------------------------

    def table(self, name: str) -> str:
        return self.store.qualified(self.prefix + name)

    @property
    def position_name(self) -> str:
        return f"{self.prefix}{self.name}"

    def _index_name(self, table: Table, columns: tuple[str, ...]) -> str:
        return f"{self.prefix}{table.name}__{'_'.join(columns)}"

    def _create_positions_table(self, sql: Sql) -> None:
        sql.execute(
            f"CREATE TABLE IF NOT EXISTS {self.store.qualified(POSITIONS_TABLE)} ("
            "name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL)")

    def create_tables(self, sql: Sql) -> None:
        self._create_positions_table(sql)
        for table in self.tables:
            columns = ", ".join(f'"{name}" {self.store.sql_type(kind)}'
                                for name, kind in table.columns)
            key = ", ".join(f'"{name}"' for name in table.primary_key)
            sql.execute(f"CREATE TABLE IF NOT EXISTS {self.table(table.name)} "
                        f"({columns}, PRIMARY KEY ({key}))")
            self._create_indexes(sql, table)

    def _create_indexes(self, sql: Sql, table: Table) -> None:
        for columns in table.indexes:
            quoted = ", ".join(f'"{name}"' for name in columns)
            sql.execute(f'CREATE INDEX IF NOT EXISTS "{self._index_name(table, columns)}" '
                        f"ON {self.table(table.name)} ({quoted})")

    def drop_tables(self, sql: Sql) -> None:
        for table in self.tables:
            sql.execute(f"DROP TABLE IF EXISTS {self.table(table.name)}")
        sql.execute(f"DELETE FROM {self.store.qualified(POSITIONS_TABLE)} WHERE name = ?",
                    (self.position_name,))

    # --- queries -----------------------------------------------------------------------

    def select_page(self, sql: Sql, table: str, order: Sequence[str], page: PageRequest, *,
                    where: str = "1=1", params: Sequence[Any] = (),
                    descending: bool = False) -> Page:
        """One page of a table's rows in ``order`` (a unique key), after the cursor."""
        after, after_params = keyset(order, page.after(order), descending=descending)
        direction = " DESC" if descending else ""
        ordering = ", ".join(f'"{name}"{direction}' for name in order)
        rows = sql.rows(f"SELECT * FROM {self.table(table)} WHERE ({where}) AND {after} "
                        f"ORDER BY {ordering} LIMIT ?",
                        [*params, *after_params, page.limit + 1])
        return page_of(rows, order, page.limit)

    # --- position ----------------------------------------------------------------------

    def _read_position(self, sql: Sql, *, lock: bool) -> tuple[int, int] | None:
        suffix = " FOR UPDATE" if lock and self.store.dialect == "postgres" else ""
        row = sql.one(f"SELECT position, version FROM {self.store.qualified(POSITIONS_TABLE)}"
                      f" WHERE name = ?{suffix}", (self.position_name,))
        return (int(row["position"]), int(row["version"])) if row else None

    def _write_position(self, sql: Sql, position: int) -> None:
        sql.execute(
            f"INSERT INTO {self.store.qualified(POSITIONS_TABLE)} (name, position, version) "
            "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET position = excluded.position, version = excluded.version",
            (self.position_name, position, self.version))

    def open(self) -> bool:
        """Create the tables if needed and load the recorded position. Returns False when
        the recorded version differs from this code's: the caller rebuilds."""
        with self.store.transaction(commit=True) as sql:
            self._create_positions_table(sql)
            recorded = self._read_position(sql, lock=True)
            if recorded is None or recorded[1] == self.version:
                # Tables of another version are left alone: the rebuild replaces them.
                self.create_tables(sql)
            if recorded is None:
                self._write_position(sql, 0)
                recorded = (0, self.version)
        self.position = self._written_position = recorded[0]
        if self.loaded_position is None:
            self.loaded_position = self.position
        # Tables of another version are not this code's to fold into: open once rebuilt.
        self._opened = recorded[1] == self.version
        return self._opened

    def ensure_open(self) -> None:
        """Open once; a projection whose code changed is rebuilt first."""
        if self._opened:
            return
        with self._lock:
            if not self._opened and not self.open():
                log.warning("read model changed since it was built; rebuilding",
                            extra={"projection": self.name, "version": self.version})
                self.rebuild()
                self._opened = True

    # --- catching up -------------------------------------------------------------------

    def refresh(self) -> None:
        """Before a query: catch up, unless ``fed_by_other_services`` says it need not."""
        if (self.fed_by_other_services and self._opened
                and not self.app.committed_since(self._checked_commit, self.handles_class)):
            return
        self.catch_up()

    def catch_up(self, progress: Progress | None = None, *,
                 log: SharedLog | None = None) -> CatchUp:
        """Apply everything committed since the recorded position, a page per transaction
        (``log``: pages read and decoded once for several projections)."""
        started = time.monotonic()
        self.ensure_open()
        result = CatchUp(position=self.position)
        log = log or SharedLog(self.app)
        with self._lock:
            local_commits = self.app.local_commits  # before reading: a later one is unseen
            head = self.app.recorder.max_notification_id() or 0 if progress else 0
            while True:
                notifications = log.read(self.position + 1, PAGE_SIZE)
                if not notifications:
                    break
                try:
                    result.applied += self._apply_page(notifications, log)
                except Exception as error:
                    raise ReadModelUnavailable(
                        f"read model {self.name} cannot fold notifications "
                        f"{notifications[0].id}-{notifications[-1].id}: "
                        f"{type(error).__name__}: {error}; see /health/status") from error
                if progress:
                    progress(self.position, max(head, self.position))
                if len(notifications) < PAGE_SIZE:
                    break
            self._checked_commit = local_commits
        result.position = self.position
        result.seconds = time.monotonic() - started
        return result

    def _prepared(self, notifications: Sequence[Notification],
                  log: SharedLog | None = None) -> list[Any]:
        """The page's events this projection folds, with what they need prefetched."""
        decode = log.decode if log else self.app.mapper.to_domain_event
        events = [decode(n) for n in notifications if self.handles(n.topic)]
        self.prepare(events)
        return events

    def _fold(self, sql: Sql, events: Sequence[Any], last: int) -> None:
        """Apply a prepared page and record ``last`` as the position, in ``sql``."""
        dispatch = self._dispatcher().dispatch
        for domain_event in events:
            dispatch(type(domain_event))(self, domain_event, sql)
        self.finish(sql)
        self._write_position(sql, last)

    def _apply_page(self, notifications: Sequence[Notification],
                    log: SharedLog | None = None) -> int:
        events = self._prepared(notifications, log)
        if not events:
            return self._skip_page(notifications[-1].id)
        moved = _fold_together(self.store, [(self, events, notifications[-1].id)])
        return 0 if moved else len(events)

    def _commit_without_waiting_for_disk(self, sql: Sql) -> None:
        """A fold's commit does not wait for its WAL flush (PostgreSQL's asynchronous
        commit): a crash of the server may lose the last few folds, but never part of
        one, and rows and position go together, so the projection is only behind and
        folds them again. Its source, the event store, commits synchronously."""
        if self.store.dialect == "postgres":
            sql.execute("SET LOCAL synchronous_commit TO OFF")

    def _skip_page(self, last: int) -> int:
        """A page with nothing to fold moves the position in memory only: it is written
        with the next fold, or once ``SKIP_WRITE_DISTANCE`` notifications were skipped
        (a restart re-reads at most that many, by topic, without decoding them). The
        write is conditional: if another replica moved the position meanwhile, the
        page is re-read from there."""
        if last - self._written_position < SKIP_WRITE_DISTANCE:
            self.position = last
            return 0
        with self.store.transaction(commit=True) as sql:
            self._commit_without_waiting_for_disk(sql)
            moved = sql.execute(
                f"UPDATE {self.store.qualified(POSITIONS_TABLE)} SET position = ? "
                "WHERE name = ? AND position = ? AND version = ?",
                (last, self.position_name, self._written_position, self.version)) == 0
            recorded = self._read_position(sql, lock=False) if moved else None
        self.position = self._written_position = (recorded[0] if recorded else 0) if moved else last
        if moved:
            self.generation += 1
        return 0

    # --- rebuild and verify ------------------------------------------------------------

    def fresh(self) -> Projection:
        """An empty copy of this projection in rebuild tables."""
        copy = type(self)(self.app, prefix=REBUILD_PREFIX)
        with copy.store.transaction(commit=True) as sql:
            copy._create_positions_table(sql)  # drop_tables forgets its row there
            copy.drop_tables(sql)
            copy.create_tables(sql)
            copy._write_position(sql, 0)
        copy.position = copy._written_position = 0
        copy._opened = True
        return copy

    def rebuild(self, progress: Progress | None = None) -> CatchUp:
        """Fold the whole log into fresh tables, then swap them in atomically."""
        rebuilt = self.fresh()
        result = rebuilt.catch_up(progress)
        with self._lock:
            rebuilt.catch_up()  # what was committed meanwhile
            with self.store.transaction(commit=True) as sql:
                self._read_position(sql, lock=True)  # replicas wait for the swap
                rebuilt._catch_up_in(sql)
                for table in self.tables:
                    for columns in table.indexes:
                        sql.execute(f'DROP INDEX IF EXISTS '
                                    f'{self.store.qualified(rebuilt._index_name(table, columns))}')
                    sql.execute(f"DROP TABLE IF EXISTS {self.table(table.name)}")
                    sql.execute(f"ALTER TABLE {rebuilt.table(table.name)} "
                                f'RENAME TO "{self.prefix}{table.name}"')
                    self._create_indexes(sql, table)
                sql.execute(f"DELETE FROM {self.store.qualified(POSITIONS_TABLE)} "
                            "WHERE name = ?", (rebuilt.position_name,))
                self._write_position(sql, rebuilt.position)
            self.position = self._written_position = rebuilt.position
            self.generation += 1
            self.forget()
        result.position = self.position
        return result

    def _catch_up_in(self, sql: Sql) -> None:
        """Apply, inside the caller's transaction, whatever is left (a few events)."""
        while True:
            notifications = self.app.recorder.select_notifications(
                start=self.position + 1, limit=PAGE_SIZE)
            if not notifications:
                return
            self._fold(sql, self._prepared(notifications), notifications[-1].id)
            self.position = self._written_position = notifications[-1].id

    def verify(self, progress: Progress | None = None) -> list[TableDifference]:
        """Rebuild into fresh tables and compare them with the live ones row by row
        (both caught up to the same position); the fresh tables are dropped after."""
        rebuilt = self.fresh()
        try:
            rebuilt.catch_up(progress)
            for _ in range(10):
                self.catch_up()
                rebuilt.catch_up()
                if rebuilt.position == self.position:
                    break
            else:
                raise RuntimeError(f"{self.name}: the log keeps moving; verify when quieter")
            with self.store.transaction(commit=False) as sql:
                return [self._compare(sql, rebuilt, table) for table in self.tables]
        finally:
            with self.store.transaction(commit=True) as sql:
                rebuilt.drop_tables(sql)

    def _compare(self, sql: Sql, rebuilt: Projection, table: Table) -> TableDifference:
        order = ", ".join(f'"{name}"' for name in table.primary_key)
        live = {self._key(table, row): row for row in sql.rows(
            f"SELECT * FROM {self.table(table.name)} ORDER BY {order}")}
        fresh = {self._key(table, row): row for row in sql.rows(
            f"SELECT * FROM {rebuilt.table(table.name)} ORDER BY {order}")}
        difference = TableDifference(self.prefix + table.name)
        for key, row in live.items():
            other = fresh.get(key)
            if other is None:
                difference.only_live.append(row)
            elif other != row:
                difference.changed.append((row, other))
        difference.only_rebuilt = [row for key, row in fresh.items() if key not in live]
        return difference

    @staticmethod
    def _key(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in table.primary_key)


def catch_up_together(projections: Sequence[Projection], log: SharedLog) -> None:
    """The follower's pass: each page of the log is folded, for every projection behind
    on it, in one transaction (one commit for all of them, not one each). The positions
    are read under lock in one statement and checked as ``_apply_page`` checks one: a
    projection another replica moved re-reads from there, and nothing is applied twice.
    Any error aborts the page for all; the caller then catches up one by one, which
    names the projection that cannot fold."""
    ordered = sorted(projections, key=lambda p: p.position_name)  # one lock order
    for projection in ordered:
        projection.ensure_open()
    if not ordered:
        return
    store = ordered[0].store
    while True:
        page = log.read(min(p.position for p in ordered) + 1, PAGE_SIZE)
        if not page:
            return
        ids = [notification.id for notification in page]
        with contextlib.ExitStack() as held:
            for projection in ordered:
                held.enter_context(projection._lock)
            work = []
            for projection in ordered:
                behind = page[bisect.bisect_right(ids, projection.position):]
                if not behind:
                    continue
                events = projection._prepared(behind, log)
                if events:
                    work.append((projection, events, behind[-1].id))
                else:
                    projection._skip_page(behind[-1].id)
            if work:
                _fold_together(store, work)
        if len(page) < PAGE_SIZE:
            return


def _fold_together(store: ReadStore, work: list[tuple[Projection, list[Any], int]]
                   ) -> set[str]:
    """Each projection's prepared page folded up to its ``last``, in one transaction,
    under a lock on the positions; returns the names of those another replica (or a
    rebuild swap) had moved, which are set back to re-read from there."""
    names = [projection.position_name for projection, _, _ in work]
    moved: dict[str, int] = {}
    try:
        with store.transaction(commit=True, pipelined=True) as sql:
            work[0][0]._commit_without_waiting_for_disk(sql)
            lock = " FOR UPDATE" if store.dialect == "postgres" else ""
            marks = ", ".join("?" for _ in names)
            recorded = {row["name"]: int(row["position"]) for row in sql.rows(
                f"SELECT name, position FROM {store.qualified(POSITIONS_TABLE)} "
                f"WHERE name IN ({marks}) ORDER BY name{lock}", names)}
            for projection, events, last in work:
                position = recorded.get(projection.position_name, 0)
                if position != projection._written_position:
                    moved[projection.position_name] = position
                    continue
                projection._fold(sql.another(), events, last)
    except BaseException:
        for projection, _, _ in work:
            projection.forget()
        raise
    for projection, _, last in work:
        if projection.position_name in moved:
            projection.forget()
            projection.position = projection._written_position = moved[
                projection.position_name]
        else:
            projection.position = projection._written_position = last
        projection.generation += 1
    return set(moved)


class SharedLog:
    """The notification log as several projections read it in one pass (the follower's):
    what was read, and its events decoded, is kept (up to ``SHARED_LOG_WINDOW``) for the
    next projection, which usually starts where the first did. Domain events are
    immutable, so sharing them is safe."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self._read_from = 0
        """Everything committed from here up to the last notification kept is kept."""
        self._kept: list[Notification] = []
        self._ids: list[int] = []
        self._more = False
        """Whether the log may go on past what is kept (the last read hit its limit)."""
        self._decoded: dict[int, Any] = {}

    def read(self, start: int, limit: int) -> Sequence[Notification]:
        if self._kept and start == self._ids[-1] + 1 and self._more:
            self._extend(limit)
        elif not self._kept or not self._read_from <= start <= self._ids[-1]:
            self._kept, self._ids, self._decoded = [], [], {}
            self._read_from = start
            self._extend(limit, start)
            return self._kept
        index = bisect.bisect_left(self._ids, start)
        if self._more and len(self._kept) - index < limit:
            self._extend(limit - (len(self._kept) - index))
        return self._kept[index:index + limit]

    def _extend(self, limit: int, start: int | None = None) -> None:
        more = self.app.recorder.select_notifications(
            start=start if start is not None else self._ids[-1] + 1, limit=limit)
        self._kept += more
        self._ids += [n.id for n in more]
        self._more = len(more) == limit
        if len(self._kept) > SHARED_LOG_WINDOW:
            dropped = len(self._kept) - SHARED_LOG_WINDOW
            for notification in self._kept[:dropped]:
                self._decoded.pop(notification.id, None)
            self._kept, self._ids = self._kept[dropped:], self._ids[dropped:]
            self._read_from = self._ids[0]

    def forget_all(self) -> None:
        self._kept, self._ids, self._decoded, self._more = [], [], {}, False

    def decode(self, notification: Notification) -> Any:
        found = self._decoded.get(notification.id)
        if found is None:
            found = self._decoded[notification.id] = self.app.mapper.to_domain_event(
                notification)
        return found


class ReadModelUnavailable(DomainError):
    """A read model that cannot fold what was committed: answering from it would be
    silently stale, so queries get a 503 naming it until it catches up."""

    status_code = 503


def open_projections(projections: Sequence[Projection]) -> None:
    """At start-up: load each position (rebuilding a projection whose code changed),
    then apply what was committed while the service was down."""
    for projection in projections:
        try:
            projection.ensure_open()
            caught = projection.catch_up()
        except ReadModelUnavailable:
            # The service still starts: the follower retries, /health/status shows it.
            log.exception("read model cannot catch up", extra={"projection": projection.name})
            continue
        log.info("read model ready", extra={
            "projection": projection.name, "loaded_position": projection.loaded_position,
            "position": caught.position, "applied": caught.applied})


# --- values in rows ---------------------------------------------------------------------

def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | None) -> Any:
    return orjson.loads(text) if text is not None else None


# --- cursor pagination -------------------------------------------------------------------

MAX_PAGE = 500
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_PAGE
    cursor: str | None = None
    """Opaque: the ordering key of the last row of the previous page."""

    def after(self, order: Sequence[str]) -> tuple[Any, ...] | None:
        return decode_cursor(self.cursor, len(order))


EVERYTHING = PageRequest(limit=1_000_000)
"""For use cases that need every row (not for HTTP lists)."""


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str | None, width: int) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidCommand(
            "cursor: not a cursor this list returned; start without one") from None
    if not isinstance(key, list) or len(key) != width:
        raise InvalidCommand("cursor: not a cursor this list returned; start without one")
    return tuple(key)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def keyset(order: Sequence[str], after: tuple[Any, ...] | None, *,
           descending: bool = False, alias: str | None = None) -> tuple[str, list[Any]]:
    """The WHERE fragment (or "1=1") and params that start a page after ``after``."""
    if after is None:
        return "1=1", []
    qualifier = f"{alias}." if alias else ""
    columns = ", ".join(f'{qualifier}"{name}"' for name in order)
    marks = ", ".join("?" for _ in order)
    return f"({columns}) {'<' if descending else '>'} ({marks})", list(after)


def page_of(rows: list[dict[str, Any]], order: Sequence[str], limit: int) -> Page:
    """Rows fetched with ``LIMIT limit + 1``: the page, and a cursor if there is more."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor([rows[-1][name] for name in order]))
