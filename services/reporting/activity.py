"""Who did what: every archived event a member did, or that concerns them, across all
services (``reporting.activity``), and the archive read subject by subject.

An event concerns a member when their id is in one of the payload's member fields
(``members_named``): a task assigned to them because someone is away, approvals delegated
to them, a step escalated to them, a notification for them. The read model keeps one row
per (member, archived event): the archive's ordering key (``at``, ``seq``) and whether
they did it (``actor``) or it was done to or for them (``on_behalf``); the entry's body is
the archive's row (``export.ArchiveView``), joined on ``seq``. Pages are keyset queries
on the index (member_id, at, seq): a member's whole history is never read at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from services.reporting.archive_fold import ArchiveProjection
from services.reporting.domain import ArchivedEvent
from services.reporting.export import ArchiveView, micros
from shared.projections import Page, PageRequest, Sql, Table, keyset, page_of

ACTIVITY_ORDER = ("at", "seq")
"""A member's activity, oldest first: when it happened (µs), then arrival in the archive."""

MEMBER_FIELDS = frozenset({
    # execution
    "assignee_id", "previous_assignee_id", "role_holders",   # task assigned / returned
    "pending_approvers", "eligible_approvers", "escalated_to",  # approvals
    "next_step_approvers",
    "member_id", "backup_id",                                  # approvals delegated
    # planning
    "backup_member_id", "manager_id", "role_members",  # absences, directory, plans
    "principal_id",                                    # API tokens
    # notification
    "recipient_id",
})
"""Payload fields (at any depth: a planned campaign's tasks name theirs) whose values are
member ids: a string, a list of them, or a mapping to lists of them (``role_members``).
From the contracts (``contracts/*.py``); ``tests/unit/test_audit_activity.py`` fails when a
contract gains an id-like field this list does not classify."""

SYSTEM_PREFIX = "system:"
Role = Literal["actor", "on_behalf"]
Include = Literal["own", "on_behalf", "all"]


def members_named(data: Any) -> set[str]:
    """The member ids an event's payload names in its member fields (``MEMBER_FIELDS``),
    looked for at any depth of nested objects and lists."""
    found: set[str] = set()
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            for key, inner in value.items():
                if key in MEMBER_FIELDS:
                    found.update(_ids(inner))
                elif isinstance(inner, dict | list):
                    stack.append(inner)
    return found


def _ids(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item)
    elif isinstance(value, dict):  # role -> members
        for item in value.values():
            yield from _ids(item)


def roles_in(actor: str, data: Any) -> list[tuple[str, Role]]:
    """(member, role) for everyone an archived event belongs in the activity of: its
    actor (not the services' own ``system:*`` actors, which are nobody's activity) and the
    members it names besides them."""
    rows: list[tuple[str, Role]] = []
    if actor and not actor.startswith(SYSTEM_PREFIX):
        rows.append((actor, "actor"))
    rows.extend((member, "on_behalf") for member in sorted(members_named(data) - {actor})
                if not member.startswith(SYSTEM_PREFIX))
    return rows


@dataclass(frozen=True)
class Period:
    """``start`` inclusive, ``end`` exclusive, both aware (checked by ``ExportFilter``)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None


class ActivityView(ArchiveProjection):
    """One row per (member, archived event) the member did or that concerns them.

    ``seq`` is the archive's: both read models number archived events in log order with
    the same rule (``archived_once``), so the n-th archived event is n in both; the count
    so far is kept here (``activity_archived``) because not every event has a row. The
    event's id is kept too, and the join checks it: a numbering that ever drifted would
    show nothing rather than someone else's event."""

    name = "reporting.activity"
    version = 1
    tables = (
        Table("activity", (("member_id", "text"), ("at", "int"), ("seq", "int"),
                           ("role", "text"), ("event_id", "text")),
              ("member_id", "seq"),
              indexes=(("member_id", "at", "seq"), ("member_id", "role", "at", "seq"))),
        Table("activity_archived", (("name", "text"), ("archived", "int")), ("name",)),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._archived: int | None = None
        self._rows: list[tuple[Any, ...]] = []

    def archived(self, entry: ArchivedEvent, sql: Sql) -> None:
        if self._archived is None:
            self._archived = self._count(sql)
        self._archived += 1
        at = micros(entry.time)
        self._rows.extend((member, at, self._archived, role, entry.id)
                          for member, role in roles_in(entry.actor, entry.data))

    def _count(self, sql: Sql) -> int:
        row = sql.one(f"SELECT archived FROM {self.table('activity_archived')} "
                      "WHERE name = 'archive'")
        return int(row["archived"]) if row else 0

    def finish(self, sql: Sql) -> None:
        if self._archived is None:
            return
        sql.executemany(f"INSERT INTO {self.table('activity')} "
                        '("member_id", "at", "seq", "role", "event_id") '
                        "VALUES (?, ?, ?, ?, ?)", self._rows)
        sql.execute(f"INSERT INTO {self.table('activity_archived')} (name, archived) "
                    "VALUES ('archive', ?) ON CONFLICT (name) DO UPDATE "
                    "SET archived = excluded.archived", (self._archived,))
        self.forget()

    def forget(self) -> None:
        self._archived = None
        self._rows = []

    # --- queries ---------------------------------------------------------------------

    def member_page(self, archive: ArchiveView, member_id: str, period: Period,
                    include: Include, page: PageRequest) -> Page:
        """One page of the member's activity, oldest first: archive rows (``data`` as JSON
        text) with ``role``. An unknown member has none."""
        # The archive at least as far as this read model, so every row finds its body.
        self.catch_up()
        archive.catch_up()
        clauses: list[str] = ['act."member_id" = ?']
        params: list[Any] = [member_id]
        if include != "all":
            clauses.append('act."role" = ?')
            params.append("actor" if include == "own" else "on_behalf")
        if period.start is not None:
            clauses.append('act."at" >= ?')
            params.append(micros(period.start))
        if period.end is not None:
            clauses.append('act."at" < ?')
            params.append(micros(period.end))
        after, after_params = keyset(ACTIVITY_ORDER, page.after(ACTIVITY_ORDER), alias="act")
        with self.store.transaction(commit=False) as sql:
            # The page is picked from the member's index first, then joined: joining
            # first lets the planner join all of a busy member's rows before the limit.
            rows = sql.rows(
                'SELECT act."role" AS "role", a.* FROM ('
                f'SELECT "seq", "event_id", "role", "at" FROM {self.table("activity")} act '
                f'WHERE {" AND ".join(clauses)} AND {after} '
                'ORDER BY act."at", act."seq" LIMIT ?) act '
                f'JOIN {archive.table("archive_events")} a '
                'ON a."seq" = act."seq" AND a."id" = act."event_id" '
                'ORDER BY act."at", act."seq"',
                [*params, *after_params, page.limit + 1])
        return page_of(rows, ACTIVITY_ORDER, page.limit)


def subject_page(archive: ArchiveView, subject: str, as_of: dt.datetime | None,
                 page: PageRequest) -> Page:
    """One page of everything archived about ``subject`` (its own copies), oldest first,
    from the archive's (subject, at, seq) index; with ``as_of``, only what had happened
    by then."""
    archive.catch_up()
    where = '"subject" = ?'
    params: list[Any] = [subject]
    if as_of is not None:
        where += ' AND "at" <= ?'
        params.append(micros(as_of))
    with archive.store.transaction(commit=False) as sql:
        return archive.select_page(sql, "archive_events", ACTIVITY_ORDER, page,
                                   where=where, params=params)

