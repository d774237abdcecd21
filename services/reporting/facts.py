"""The facts every report is computed from, as they were at any instant.

Each fact table keeps one row per *version* of a thing (a campaign, a planned task, a
task in execution, a member), valid from the time of the archived event that made it
(``valid_from``, µs since the epoch) until the time of the next one (``valid_to``; NULL:
still current). A report reads the rows valid at its instant:

    valid_from <= T AND (valid_to IS NULL OR valid_to > T)      -- as of T
    valid_to IS NULL                                             -- now

so the live report and the report as of a past time are one query with one set of rules
(``as_of_clause``), and the report as of T equals the report computed on the archive cut
at T: a row's fields depend only on its thing's events up to it.

Each thing's events are folded in aggregate-version order (one aggregate's events reach
reporting in order; different aggregates interleave freely and do not affect each other).
An event whose version is not above the thing's latest recorded version was already
folded and is skipped; a gap (an event type that changes nothing here) is fine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.reporting.archive_fold import ArchiveProjection
from services.reporting.domain import ArchivedEvent, archived_once
from services.reporting.export import micros
from shared.projections import Sql, Table, dumps, loads

Row = dict[str, Any]
Fold = Callable[[ArchivedEvent, "Row | None"], "list[Row]"]
"""An event and the thing's latest row (None: none yet) to the new versions' fields."""

PREFETCH = 500
"""Things whose latest rows one query reads."""

VERSION_COLUMNS = (("version", "int"), ("valid_from", "int"), ("valid_to", "int"),
                   ("event_id", "text"), ("actor", "text"))
"""Every fact row's: the aggregate version and the event that made it, and its validity."""


def _versioned(name: str, key: str, columns: tuple[tuple[str, str], ...],
               indexes: tuple[tuple[str, ...], ...]) -> Table:
    return Table(name, ((key, "text"), *VERSION_COLUMNS, *columns), (key, "version"),
                 indexes=((key, "valid_to"), *indexes))


CAMPAIGNS = _versioned("fact_campaigns", "campaign_id", (
    ("name", "text"), ("playbook_id", "text"), ("playbook_version", "int"),
    ("team_id", "text"), ("launch_date", "text"), ("start_date", "text"),
    ("status", "text"), ("goal_ids", "json"),
), (("valid_to", "team_id"), ("valid_to", "playbook_id")))
"""A campaign as planned: status planned | cancelled | completed; dates as rescheduled."""

PLAN = _versioned("fact_plan", "task_id", (
    ("campaign_id", "text"), ("key", "text"), ("phase", "text"), ("role", "text"),
    ("title", "text"), ("due_date", "text"), ("start_date", "text"),
    ("effort_hours", "real"), ("queue", "text"), ("planned_assignee_id", "text"),
    ("removed", "int"),
), (("campaign_id", "valid_from"), ("planned_assignee_id", "valid_to")))
"""A task as its campaign's plan defines it (key, phase, effort). A task removed from the
plan gets a last version with ``removed`` = 1. ``version`` is the campaign's."""

TASKS = _versioned("fact_tasks", "task_id", (
    ("campaign_id", "text"), ("state", "text"), ("assignee_id", "text"),
    ("queue", "text"), ("title", "text"), ("due_date", "text"), ("start_date", "text"),
    ("opened_at", "int"), ("ready_at", "int"), ("started_at", "int"),
    ("submitted_at", "int"), ("done_at", "int"), ("cancelled_at", "int"),
    ("submission_version", "int"), ("revision_rounds", "int"),
), (("campaign_id", "valid_from"), ("assignee_id", "valid_to"), ("queue", "valid_to")))
"""A task in execution: its state (execution's task states), who holds it, its dates and
when it first reached each milestone (µs)."""

MEMBERS = _versioned("fact_members", "member_id", (
    ("name", "text"), ("team_ids", "json"), ("manager_id", "text"),
    ("weekly_capacity_hours", "real"), ("active", "int"),
), ())
"""A member as the directory registers them: teams, manager, weekly capacity."""


@dataclass(frozen=True)
class Kind:
    """One fact table and the fold that makes its rows."""

    table: Table
    subject_of: Callable[[ArchivedEvent], Sequence[str]]
    fold: Callable[[ArchivedEvent, str, Row | None], Row | None]
    """(event, thing id, latest row) -> the new version's fields, or None: no change."""

    @property
    def key(self) -> str:
        return self.table.primary_key[0]


# --- folds --------------------------------------------------------------------------------

PLANNING = "marketflow.planning."
EXECUTION = "marketflow.execution."
CAMPAIGN_PLANNED = PLANNING + "campaign.planned.v1"
CAMPAIGN_TASKS_REVISED = PLANNING + "campaign.tasks_revised.v1"
CAMPAIGN_CANCELLED = PLANNING + "campaign.cancelled.v1"
CAMPAIGN_COMPLETED = PLANNING + "campaign.completed.v1"
CAMPAIGN_GOALS_LINKED = PLANNING + "campaign.goals_linked.v1"
MEMBER_REGISTERED = PLANNING + "member.registered.v1"


def _campaign_subject(entry: ArchivedEvent) -> Sequence[str]:
    if entry.type.startswith(PLANNING + "campaign."):
        return (str(entry.data["campaign_id"]),)
    return ()


def _campaign_fold(entry: ArchivedEvent, campaign_id: str, latest: Row | None) -> Row | None:
    data = entry.data
    if entry.type == CAMPAIGN_PLANNED:
        return {"name": data["name"], "playbook_id": data.get("playbook_id"),
                "playbook_version": data.get("playbook_version"),
                "team_id": data.get("team_id"), "launch_date": data["launch_date"],
                "start_date": data.get("start_date"), "status": "planned",
                "goal_ids": sorted(map(str, data.get("goal_ids") or ()))}
    if latest is None:  # a change to a campaign whose plan is not archived: nothing to base on
        return None
    row = dict(latest)
    if entry.type == CAMPAIGN_TASKS_REVISED:
        if data.get("launch_date"):
            row["launch_date"] = data["launch_date"]
        if data.get("playbook_version"):
            row["playbook_version"] = data["playbook_version"]
    elif entry.type == CAMPAIGN_CANCELLED:
        row["status"] = "cancelled"
    elif entry.type == CAMPAIGN_COMPLETED:
        row["status"] = "completed"
    elif entry.type == CAMPAIGN_GOALS_LINKED:
        row["goal_ids"] = sorted({*row["goal_ids"], *map(str, data.get("goal_ids") or ())})
    else:
        return None
    return row


def _planned_task_row(campaign_id: str, task: dict[str, Any]) -> Row:
    return {"campaign_id": campaign_id, "key": task.get("key"), "phase": task.get("phase"),
            "role": task.get("role"), "title": task.get("title"),
            "due_date": task.get("due_date"), "start_date": task.get("start_date"),
            "effort_hours": task.get("effort_hours"), "queue": task.get("queue"),
            "planned_assignee_id": task.get("assignee_id"), "removed": 0}


def _plan_changes(entry: ArchivedEvent) -> dict[str, Row | None]:
    """task id -> its new plan row (None: removed from the plan)."""
    data = entry.data
    campaign_id = str(data.get("campaign_id"))
    if entry.type == CAMPAIGN_PLANNED:
        changed = data.get("tasks") or []
        removed: list[Any] = []
    elif entry.type == CAMPAIGN_TASKS_REVISED:
        changed = [*(data.get("added") or []), *(data.get("updated") or [])]
        removed = data.get("removed") or []
    else:
        return {}
    changes: dict[str, Row | None] = {
        str(task["task_id"]): _planned_task_row(campaign_id, task)
        for task in changed if task.get("task_id")}
    changes.update({str(task_id): None for task_id in removed})
    return changes


def _plan_subject(entry: ArchivedEvent) -> Sequence[str]:
    return tuple(_plan_changes(entry))


def _plan_fold(entry: ArchivedEvent, task_id: str, latest: Row | None) -> Row | None:
    change = _plan_changes(entry).get(task_id)
    if change is not None:
        return change
    if latest is None or latest["removed"]:
        return None
    return {**latest, "removed": 1}


def _task_subject(entry: ArchivedEvent) -> Sequence[str]:
    if entry.type.startswith(EXECUTION) and entry.data.get("task_id"):
        return (str(entry.data["task_id"]),)
    return ()


def _first(row: Row, milestone: str, at: int) -> None:
    if row.get(milestone) is None:
        row[milestone] = at


def _task_fold(entry: ArchivedEvent, task_id: str, latest: Row | None) -> Row | None:
    data, kind = entry.data, entry.type.removeprefix(EXECUTION).removesuffix(".v1")
    at = micros(entry.time)
    if kind == "task.opened":
        return {"campaign_id": str(data["campaign_id"]), "state": "planned",
                "assignee_id": None, "queue": data.get("queue"), "title": data.get("title"),
                "due_date": data.get("due_date"), "start_date": data.get("start_date"),
                "opened_at": at, "ready_at": None, "started_at": None,
                "submitted_at": None, "done_at": None, "cancelled_at": None,
                "submission_version": 0, "revision_rounds": 0}
    if latest is None:  # a task whose opening is not archived: nothing to base on
        return None
    row = dict(latest)
    if kind == "task.assigned":
        row["assignee_id"] = data["assignee_id"]
        row["due_date"] = data.get("due_date") or row["due_date"]
    elif kind == "task.returned_to_queue":
        row["assignee_id"], row["queue"] = None, data.get("queue") or row["queue"]
    elif kind == "task.ready":
        row["state"] = "ready"
        _first(row, "ready_at", at)
    elif kind == "task.started":
        row["state"], row["assignee_id"] = "in_progress", data.get("assignee_id")
        _first(row, "ready_at", at)
        _first(row, "started_at", at)
    elif kind == "task.submitted":
        row["state"], row["submission_version"] = "submitted", data["submission_version"]
        _first(row, "submitted_at", at)
    elif kind == "approval.given":
        if row["state"] == "submitted":
            row["state"] = "in_review"
        else:
            return None
    elif kind == "task.changes_requested":
        row["state"], row["revision_rounds"] = "in_progress", data["revision_round"]
    elif kind == "task.approved":
        row["state"] = "approved"
    elif kind == "task.completed":
        row["state"] = "done"
        _first(row, "done_at", at)
    elif kind == "task.blocked":
        row["state"] = "blocked"
    elif kind == "task.unblocked":
        row["state"] = data["resumed_state"]
    elif kind == "task.cancelled":
        row["state"] = "cancelled"
        _first(row, "cancelled_at", at)
    elif kind == "task.revised":
        row["title"], row["due_date"] = data.get("title", row["title"]), data["due_date"]
        row["start_date"] = data.get("start_date")
    else:  # comments, escalations, delegations: the task's facts stay as they were
        return None
    return row


def _member_subject(entry: ArchivedEvent) -> Sequence[str]:
    return (str(entry.data["member_id"]),) if entry.type == MEMBER_REGISTERED else ()


def _member_fold(entry: ArchivedEvent, member_id: str, latest: Row | None) -> Row | None:
    data = entry.data
    return {"name": data.get("name"), "team_ids": sorted(data.get("team_ids") or ()),
            "manager_id": data.get("manager_id"),
            "weekly_capacity_hours": float(data.get("weekly_capacity_hours", 40)),
            "active": 1 if data.get("active", True) else 0}


KINDS = (
    Kind(CAMPAIGNS, _campaign_subject, _campaign_fold),
    Kind(PLAN, _plan_subject, _plan_fold),
    Kind(TASKS, _task_subject, _task_fold),
    Kind(MEMBERS, _member_subject, _member_fold),
)


# --- reading the facts at an instant ----------------------------------------------------

def as_of_clause(as_of: dt.datetime | None, alias: str = "") -> tuple[str, list[Any]]:
    """The rows valid at ``as_of`` (None: now), for a WHERE clause."""
    prefix = f"{alias}." if alias else ""
    if as_of is None:
        return f"{prefix}valid_to IS NULL", []
    at = micros(as_of)
    return (f"{prefix}valid_from <= ? AND ({prefix}valid_to IS NULL OR "
            f"{prefix}valid_to > ?)", [at, at])


class FactsView(ArchiveProjection):
    """Versioned facts of campaigns, their plans, tasks and members (see module doc)."""

    name = "reporting.facts"
    version = 2  # 2: plan rows indexed by planned assignee (a member's reports)
    kinds: tuple[Kind, ...] = KINDS
    """The fact tables and their folds (a subclass folds its own into its own tables)."""
    tables = tuple(kind.table for kind in KINDS)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.tables = tuple(kind.table for kind in cls.kinds)  # the tables are the kinds'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._forget_page()

    def _forget_page(self) -> None:
        # Per page: each thing's latest row (read once from the table, then kept here),
        # the rows to insert and the stored rows to close, written by ``finish``.
        self._latest: dict[tuple[str, str], Row | None] = {}
        self._inserts: dict[str, list[Row]] = {kind.table.name: [] for kind in self.kinds}
        self._closes: dict[str, dict[tuple[str, int], int]] = {
            kind.table.name: {} for kind in self.kinds}

    def forget(self) -> None:
        self._forget_page()

    def prepare(self, domain_events: Sequence[Any]) -> None:
        """Read the latest row of every thing the page's events touch: a query per
        table and few hundred things, not one per thing (the latest row of a thing is
        the one still valid: removals are versions too)."""
        wanted: dict[Kind, set[str]] = {kind: set() for kind in self.kinds}
        for domain_event in domain_events:
            entry = archived_once(domain_event)
            if entry is not None:
                for kind in self.kinds:
                    wanted[kind].update(kind.subject_of(entry))
        with self.store.transaction(commit=False) as sql:
            for kind, things in wanted.items():
                ordered = sorted(things)
                for start in range(0, len(ordered), PREFETCH):
                    chunk = ordered[start:start + PREFETCH]
                    self._latest.update({(kind.table.name, thing): None for thing in chunk})
                    marks = ", ".join("?" for _ in chunk)
                    for row in sql.rows(
                            f"SELECT * FROM {self.table(kind.table.name)} WHERE "
                            f'"{kind.key}" IN ({marks}) AND valid_to IS NULL', chunk):
                        self._latest[(kind.table.name, row[kind.key])] = {
                            **decoded(kind.table, row), "stored": True}

    def archived(self, entry: ArchivedEvent, sql: Sql) -> None:
        for kind in self.kinds:
            for thing_id in kind.subject_of(entry):
                self._fold_thing(kind, thing_id, entry, sql)

    def _stored_latest(self, kind: Kind, thing_id: str, sql: Sql) -> Row | None:
        row = sql.one(f'SELECT * FROM {self.table(kind.table.name)} WHERE "{kind.key}" = ? '
                      "ORDER BY version DESC LIMIT 1", (thing_id,))
        if row is not None:
            row = decoded(kind.table, row)
            row["stored"] = True
        return row

    def _fold_thing(self, kind: Kind, thing_id: str, entry: ArchivedEvent, sql: Sql) -> None:
        memo = (kind.table.name, thing_id)
        if memo not in self._latest:
            self._latest[memo] = self._stored_latest(kind, thing_id, sql)
        latest = self._latest[memo]
        if latest is not None and entry.aggregate_version <= latest["version"]:
            return
        fields = kind.fold(entry, thing_id, _fields_of(kind, latest))
        if fields is None:
            return
        at = micros(entry.time)
        if latest is not None:
            at = max(at, latest["valid_from"])  # a clock that went back keeps rows in order
            if latest.get("stored"):
                self._closes[kind.table.name][(thing_id, latest["version"])] = at
            else:
                latest["valid_to"] = at
        row = {kind.key: thing_id, **fields, "version": entry.aggregate_version,
               "valid_from": at, "valid_to": None, "event_id": entry.id,
               "actor": entry.actor}
        self._inserts[kind.table.name].append(row)
        self._latest[memo] = row

    def finish(self, sql: Sql) -> None:
        for kind in self.kinds:
            table, name = self.table(kind.table.name), kind.table.name
            sql.executemany(
                f'UPDATE {table} SET valid_to = ? WHERE "{kind.key}" = ? AND version = ?',
                [(at, thing_id, version)
                 for (thing_id, version), at in self._closes[name].items()])
            columns = kind.table.column_names
            json_columns = kind.table.json_columns
            quoted = ", ".join(f'"{column}"' for column in columns)
            marks = ", ".join("?" for _ in columns)
            sql.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", [
                tuple(dumps(row[column]) if column in json_columns else row[column]
                      for column in columns) for row in self._inserts[name]])
        self._forget_page()

    # --- reads -----------------------------------------------------------------------------

    def rows(self, sql: Sql, table: Table, as_of: dt.datetime | None, where: str = "1=1",
             params: Sequence[Any] = ()) -> list[Row]:
        """``table``'s rows valid at ``as_of`` (None: now) that ``where`` picks, as they
        were known then: a row replaced after ``as_of`` was current (``valid_to`` None)."""
        valid, valid_params = as_of_clause(as_of)
        rows = [decoded(table, row) for row in sql.rows(
            f"SELECT * FROM {self.table(table.name)} WHERE {valid} AND ({where})",
            [*valid_params, *params])]
        if as_of is not None:
            for row in rows:
                row["valid_to"] = None
        return rows


def decoded(table: Table, row: Row) -> Row:
    """A stored row with its JSON columns decoded."""
    for column in table.json_columns:
        row[column] = loads(row[column])
    return row


def _fields_of(kind: Kind, latest: Row | None) -> Row | None:
    """A row's own fields (what the fold carries over), without its version columns."""
    if latest is None:
        return None
    own = {name for name, _ in kind.table.columns} - {name for name, _ in VERSION_COLUMNS}
    return {name: value for name, value in latest.items() if name in own}
