"""The archive exported for auditors and analysts: every archived event once, filtered by
period, subject or actor, streamed as JSON Lines or CSV (OCEL 2.0: ``ocel.py``).

An event is filed on its subject's timeline and on its campaign's (``handlers.archive``);
the ``reporting.archive`` read model keeps one row per event (the subject's copy), with
indexes for the filters. An export reads it page by page in the order things happened
(time, then arrival), up to the position the read model had reached when the export
began: memory stays flat whatever the archive's size, and an export is a snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any

import orjson

from services.reporting.archive_fold import ArchiveProjection
from services.reporting.domain import ArchivedEvent
from shared.domain import InvalidCommand
from shared.projections import Sql, Table, keyset

EXPORT_PAGE = 1000
"""Rows read per query while streaming an export."""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
COLUMNS = ("id", "source", "type", "time", "subject", "actor", "aggregate_version",
           "correlation_id", "causation_id", "reason", "data")
"""An exported event's fields (JSON Lines keys, CSV header), as ``ArchivedEvent``'s."""
ORDER = ("at", "seq")


def micros(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class ExportFilter:
    """Which archived events to export: ``start`` inclusive, ``end`` exclusive."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    subject: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                label = "from" if name == "start" else "to"
                raise InvalidCommand(f"{label}: give a time zone, e.g. "
                                     "2026-01-31T12:00:00+00:00")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidCommand("from: must be before to")

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.start is not None:
            clauses.append('"at" >= ?')
            params.append(micros(self.start))
        if self.end is not None:
            clauses.append('"at" < ?')
            params.append(micros(self.end))
        if self.subject is not None:
            clauses.append('"subject" = ?')
            params.append(self.subject)
        if self.actor is not None:
            clauses.append('"actor" = ?')
            params.append(self.actor)
        return " AND ".join(clauses) or "1=1", params


class ArchiveView(ArchiveProjection):
    """One row per archived event (its subject's copy), for exports."""

    name = "reporting.archive"
    version = 1
    tables = (
        Table("archive_events", (
            ("seq", "int"), ("at", "int"), ("id", "text"), ("source", "text"),
            ("type", "text"), ("time", "text"), ("subject", "text"), ("actor", "text"),
            ("aggregate_version", "int"), ("correlation_id", "text"),
            ("causation_id", "text"), ("reason", "text"), ("data", "json"),
        ), ("seq",), indexes=(("at", "seq"), ("subject", "at", "seq"),
                              ("actor", "at", "seq"))),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows: list[tuple[Any, ...]] = []

    def archived(self, entry: ArchivedEvent, sql: Sql) -> None:
        dumped = entry.model_dump(mode="json")
        self._rows.append((micros(entry.time), *(
            orjson.dumps(dumped[name]).decode() if name == "data" else dumped[name]
            for name in COLUMNS)))

    def finish(self, sql: Sql) -> None:
        if not self._rows:
            return
        table = self.table("archive_events")
        last = sql.one(f'SELECT MAX("seq") AS seq FROM {table}')
        first = int(last["seq"] or 0) + 1 if last else 1
        columns = ", ".join(f'"{name}"' for name in ("seq", "at", *COLUMNS))
        marks = ", ".join("?" for _ in range(len(COLUMNS) + 2))
        sql.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                        [(first + n, *row) for n, row in enumerate(self._rows)])
        self._rows = []

    def forget(self) -> None:
        self._rows = []

    def rows(self, selection: ExportFilter, page_size: int = EXPORT_PAGE
             ) -> Iterator[dict[str, Any]]:
        """The selected events, oldest first, as stored rows (``data`` JSON text). The
        read model is caught up now (so a failure is an error before anything is sent);
        the rows are read as the iterator is consumed, a page per query."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            head = sql.one(f'SELECT MAX("seq") AS seq FROM {self.table("archive_events")}')
        return self._pages(selection, int(head["seq"] or 0) if head else 0, page_size)

    def _pages(self, selection: ExportFilter, head: int, page_size: int
               ) -> Iterator[dict[str, Any]]:
        where, params = selection.where()
        table = self.table("archive_events")
        after: tuple[Any, ...] | None = None
        while True:
            start, start_params = keyset(ORDER, after)
            with self.store.transaction(commit=False) as sql:
                page = sql.rows(
                    f'SELECT * FROM {table} WHERE ({where}) AND "seq" <= ? AND {start} '
                    'ORDER BY "at", "seq" LIMIT ?',
                    [*params, head, *start_params, page_size])
            yield from page
            if len(page) < page_size:
                return
            after = (page[-1]["at"], page[-1]["seq"])


# --- formats ------------------------------------------------------------------------------

def jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """One JSON object per line (``COLUMNS``); a chunk per page-sized batch of lines."""
    fields = itemgetter(*COLUMNS[:-1])
    while batch := list(islice(rows, EXPORT_PAGE)):
        # ``data`` is stored JSON text: embedded as it is (a Fragment), not re-parsed.
        yield b"".join(orjson.dumps(dict(zip(COLUMNS, (
            *fields(row), orjson.Fragment(row["data"])), strict=True)),
            option=orjson.OPT_APPEND_NEWLINE) for row in batch)


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """RFC 4180 CSV with a header row; ``data`` as JSON text; an absent value is empty
    (the csv module writes None so)."""
    yield (",".join(COLUMNS) + "\r\n").encode()
    envelope = itemgetter(*COLUMNS[:-1])
    while batch := list(islice(rows, EXPORT_PAGE)):
        # By hand rather than the csv module, which is several times slower on the long
        # quoted JSON of ``data``; the same RFC 4180 rules (tested against the module).
        yield "".join(
            ",".join(map(csv_cell, envelope(row))) + ',"'
            + row["data"].replace('"', '""') + '"\r\n' for row in batch).encode()


def csv_cell(value: Any) -> str:
    """One RFC 4180 field: empty for None; quoted, quotes doubled, when it holds a quote,
    a comma or a line break."""
    if value is None:
        return ""
    text = str(value)
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text
