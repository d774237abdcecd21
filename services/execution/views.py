"""Execution's read models: tables folded from its own notification log (shared/projections).

The task board's rows are computed by the domain's own ``Task`` (each page's tasks are
advanced with the aggregate's code, then written as rows), so the answers of queries
(whose approval is pending, who holds what) are the domain's answers, not a
re-implementation.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from services.execution.domain import Absence, Task, TeamMember, sla_status
from services.execution.domain.directory import Team
from services.execution.domain.task import OPEN_STATES, WORK_IN_PROGRESS_STATES, TaskState
from shared.projections import (
    EVERYTHING,
    Page,
    PageRequest,
    Projection,
    Sql,
    Table,
    dumps,
    keyset,
    loads,
    page_of,
)

TASK_CACHE_SIZE = 2000
"""Tasks kept between pages while folding, so a busy task is not reloaded per page."""
TASK_ORDER = ("due_date", "key", "task_id")
MAX_DIRECTORY_ANSWERS = 4096
# The events that draw dependency edges between tasks.
DEPENDENCY_TOPICS = (get_topic(Task.Opened), get_topic(Task.Revised))  # type: ignore[attr-defined]


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def task_row(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """One task's line on boards and lists, from its stored row."""
    return {
        "id": row["task_id"],
        "campaign_id": row["campaign_id"],
        "key": row["key"],
        "title": row["title"],
        "role": row["role"],
        "queue": row["queue"],
        "due_date": row["due_date"],
        "start_date": row["start_date"],
        "status": row["status"],
        "sla": sla_status(row["status"], dt.date.fromisoformat(row["due_date"]),
                          _date(row["start_date"]), today, _date(row["finished_on"])),
        "assignee_id": row["assignee_id"],
        "revision_round": row["revision_round"],
        "blocked_reason": row["blocked_reason"],
        "version": row["version"],
    }


def _inbox_details(task: Task) -> dict[str, Any] | None:
    """What an approver sees of a submission waiting at its current step."""
    if not task.pending_approvers():
        return None
    step = task.approval_chain[task.current_step]
    submission = task.submission
    assert submission is not None
    return {
        "step": task.current_step + 1,
        "steps": len(task.approval_chain),
        "step_approver": step.label(),
        "required_approvals": step.required_approvals,
        "approvals": list(task.step_approvals[task.current_step]),
        "escalated_to": task.escalated_to(task.current_step),
        "submission": submission.model_dump(mode="json"),
        "consulted_missing": task.consulted_missing(),
    }


def _possible_approvers(task: Task) -> set[str]:
    """Members who may still have to approve some step of this open task."""
    if not task.is_open:
        return set()
    first = task.current_step if task.status in ("submitted", "in_review") else 0
    found = {member for index in range(first, len(task.approval_chain))
             for member in task.approvers_of_step(index)}
    return found - set(task.delegations)


def _task_values(task: Task, finished_on: dt.date | None) -> dict[str, Any]:
    return {
        "task_id": str(task.id), "campaign_id": str(task.campaign_id), "key": task.key,
        "title": task.title, "role": task.role, "queue": task.queue,
        "due_date": task.due_date.isoformat(),
        "start_date": task.start_date.isoformat() if task.start_date else None,
        "status": str(task.status), "assignee_id": task.assignee_id,
        "revision_round": task.revision_round, "blocked_reason": task.blocked_reason,
        "version": task.version,
        "finished_on": finished_on.isoformat() if finished_on else None,
        "is_open": int(task.is_open),
        "in_hand": int(task.status in WORK_IN_PROGRESS_STATES),
        "inbox": _json_or_none(_inbox_details(task)),
        "team_id": task.team_id,
    }


@dataclass(frozen=True)
class TaskVisibility:
    """The tasks a caller may see, when not all: those assigned to ``assignees``, of a
    campaign of ``teams``, waiting in ``queues``, or asking ``approver`` to decide."""

    assignees: frozenset[str]
    teams: frozenset[str]
    queues: frozenset[str]
    approver: str | None = None

    def where(self, possible_approvers: str) -> tuple[str, list[str]]:
        """A SQL condition on the tasks table, with its parameters."""
        conditions, params = [], []
        for column, values in (("assignee_id", self.assignees), ("team_id", self.teams),
                               ("queue", self.queues)):
            if values:
                conditions.append(f'"{column}" IN ({", ".join("?" for _ in values)})')
                params.extend(sorted(values))
        if self.approver is not None:
            conditions.append(f"task_id IN (SELECT task_id FROM {possible_approvers} "
                              "WHERE member_id = ?)")
            params.append(self.approver)
        return f"({' OR '.join(conditions) or '1=0'})", params


_MEMBER_TABLES: tuple[tuple[str, str, Any], ...] = (
    ("task_predecessors", "predecessor_id", lambda task: {str(p) for p in task.depends_on}),
    ("task_pending_approvers", "member_id", lambda task: task.pending_approvers()),
    ("task_possible_approvers", "member_id", lambda task: _possible_approvers(task)),
)
SQL_PARAMETERS_PER_STATEMENT = 500


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i:i + SQL_PARAMETERS_PER_STATEMENT]
            for i in range(0, len(values), SQL_PARAMETERS_PER_STATEMENT)]


class TaskBoardView(Projection):
    """Every task: 'my tasks', approvals inboxes, team queues, campaign boards, and the
    indexes use cases need (successors, work in progress, open tasks of a member)."""

    name = "execution.task_board"
    version = 3  # 3: the campaign's team of each task (scoped reads)
    tables = (
        Table("tasks", (
            ("task_id", "text"), ("campaign_id", "text"), ("key", "text"), ("title", "text"),
            ("role", "text"), ("queue", "text"), ("due_date", "text"),
            ("start_date", "text"), ("status", "text"), ("assignee_id", "text"),
            ("revision_round", "int"), ("blocked_reason", "text"), ("version", "int"),
            ("finished_on", "text"), ("is_open", "int"), ("in_hand", "int"),
            ("inbox", "json"), ("team_id", "text"),
        ), ("task_id",), indexes=(
            ("team_id", "due_date", "key", "task_id"),
            ("assignee_id", "due_date", "key", "task_id"),
            ("campaign_id", "due_date", "key", "task_id"),
            ("queue", "assignee_id", "is_open"),
            ("status", "due_date"),
            ("due_date", "key", "task_id"),
        )),
        Table("task_predecessors", (("predecessor_id", "text"), ("task_id", "text")),
              ("predecessor_id", "task_id"), indexes=(("task_id",),)),
        Table("task_pending_approvers", (("member_id", "text"), ("task_id", "text")),
              ("member_id", "task_id"), indexes=(("task_id",),)),
        Table("task_possible_approvers", (("member_id", "text"), ("task_id", "text")),
              ("member_id", "task_id"), indexes=(("task_id",),)),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tasks: OrderedDict[UUID, Task] = OrderedDict()
        self._touched: dict[UUID, tuple[Task, dt.date | None]] = {}

    # --- the fold ----------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change no task."""

    def prepare(self, domain_events: Sequence[Any]) -> None:
        """Load each task as it stood before its first event in the page."""
        first_versions: dict[UUID, int] = {}
        for domain_event in domain_events:
            if isinstance(domain_event, Task.Event):
                first_versions.setdefault(domain_event.originator_id,
                                          domain_event.originator_version)
        for task_id, version in first_versions.items():
            cached = self._tasks.get(task_id)
            if version == 1:
                self._tasks.pop(task_id, None)
            elif cached is None or cached.version != version - 1:
                self._tasks[task_id] = self.app.repository.get(task_id, version=version - 1)

    @apply.register(Task.Event)
    def _task_event(self, domain_event: Any, sql: Sql) -> None:
        task_id = domain_event.originator_id
        task = domain_event.mutate(self._tasks.get(task_id))
        assert isinstance(task, Task)
        self._tasks[task_id] = task
        self._tasks.move_to_end(task_id)
        finished_on = self._touched.get(task_id, (task, None))[1]
        if isinstance(domain_event, Task.Completed | Task.Cancelled):  # type: ignore[attr-defined]
            finished_on = domain_event.timestamp.date()
        self._touched[task_id] = (task, finished_on)

    def finish(self, sql: Sql) -> None:
        if self._touched:
            self._write(sql, list(self._touched.values()))
        self._touched.clear()
        while len(self._tasks) > TASK_CACHE_SIZE:
            self._tasks.popitem(last=False)

    def forget(self) -> None:
        self._tasks.clear()
        self._touched.clear()

    def _write(self, sql: Sql, touched: Sequence[tuple[Task, dt.date | None]]) -> None:
        """The page's tasks as rows: a few statements per page, not per task."""
        rows = [_task_values(task, finished_on) for task, finished_on in touched]
        names = list(rows[0])
        columns = ", ".join(f'"{name}"' for name in names)
        # A task's finishing day is known only from the event that finished it; a later
        # page that touches the task again keeps the stored one.
        updates = ", ".join(
            f'"{name}" = COALESCE(excluded."{name}", t."{name}")' if name == "finished_on"
            else f'"{name}" = excluded."{name}"' for name in names if name != "task_id")
        sql.executemany(f"INSERT INTO {self.table('tasks')} AS t ({columns}) VALUES "
                        f"({', '.join('?' for _ in names)}) ON CONFLICT (task_id) DO UPDATE "
                        f"SET {updates}", [list(row.values()) for row in rows])
        task_ids = [str(task.id) for task, _ in touched]
        for table, first, members_of in _MEMBER_TABLES:
            for chunk in _chunks(task_ids):
                sql.execute(f"DELETE FROM {self.table(table)} WHERE task_id IN "
                            f"({', '.join('?' for _ in chunk)})", chunk)
            sql.executemany(
                f"INSERT INTO {self.table(table)} ({first}, task_id) VALUES (?, ?)",
                [(member, str(task.id)) for task, _ in touched
                 for member in sorted(members_of(task))])

    # --- queries for people ------------------------------------------------------------

    def query(self, *, today: dt.date, assignee_id: str | None = None,
              campaign_id: UUID | None = None, status: str | None = None,
              page: PageRequest | None = None,
              visible: TaskVisibility | None = None) -> Page:
        """Tasks matching the filters (among the ``visible`` ones, when given)."""
        self.catch_up()
        where, params = "1=1", []
        for column, value in (("assignee_id", assignee_id), ("status", status),
                              ("campaign_id", str(campaign_id) if campaign_id else None)):
            if value is not None:
                where += f' AND "{column}" = ?'
                params.append(value)
        if visible is not None:
            condition, more = visible.where(self.table("task_possible_approvers"))
            where += f" AND {condition}"
            params.extend(more)
        with self.store.transaction(commit=False) as sql:
            found = self.select_page(sql, "tasks", TASK_ORDER, page or EVERYTHING,
                                     where=where, params=params)
        return Page([task_row(row, today) for row in found.rows], found.next_cursor)

    def approvals_inbox(self, member_id: str, today: dt.date,
                        page: PageRequest | None = None) -> Page:
        """Submissions waiting for this member's approval at their current step."""
        page = page or EVERYTHING
        self.catch_up()
        where, params = keyset(TASK_ORDER, page.after(TASK_ORDER), alias="t")
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(
                f"SELECT t.* FROM {self.table('task_pending_approvers')} a "
                f"JOIN {self.table('tasks')} t ON t.task_id = a.task_id "
                f"WHERE a.member_id = ? AND {where} "
                "ORDER BY t.due_date, t.key, t.task_id LIMIT ?",
                [member_id, *params, page.limit + 1])
        found = page_of(rows, TASK_ORDER, page.limit)
        return Page([{**task_row(row, today), **(loads(row["inbox"]) or {})}
                     for row in found.rows], found.next_cursor)

    def queue(self, queue: str, today: dt.date, page: PageRequest | None = None) -> Page:
        """Open tasks nobody holds, waiting in a team queue to be claimed."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            found = self.select_page(
                sql, "tasks", TASK_ORDER, page or EVERYTHING,
                where="queue = ? AND assignee_id IS NULL AND is_open = 1", params=[queue])
        return Page([task_row(row, today) for row in found.rows], found.next_cursor)

    def campaign_board(self, campaign_id: UUID, today: dt.date) -> dict[str, Any]:
        columns: dict[str, list[dict[str, Any]]] = {state.value: [] for state in TaskState}
        for row in self.query(today=today, campaign_id=campaign_id).rows:
            columns[row["status"]].append(row)
        return {"campaign_id": str(campaign_id), "columns": columns,
                "counts": {state: len(rows) for state, rows in columns.items()}}

    # --- indexes for use cases -----------------------------------------------------------

    def _ids(self, statement: str, params: Sequence[Any]) -> list[UUID]:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return sorted((UUID(row["task_id"]) for row in sql.rows(statement, params)),
                          key=str)

    def successors_of(self, task_id: UUID) -> list[UUID]:
        """Open tasks that wait for ``task_id``. Only a task opened or revised can add a
        dependency, so the index is folded first only when such an event is pending: a
        command completing a task costs one indexed look-up, not a fold. (A successor
        closed meanwhile may still be listed; the aggregate ignores it.)"""
        self.ensure_open()
        # One round trip: the successors, and whether a dependency event is pending.
        events = self.store.qualified(self.app.recorder.events_table_name)  # type: ignore[attr-defined]
        number = "rowid" if self.store.dialect == "sqlite" else "notification_id"
        statement = (
            f"SELECT NULL AS task_id WHERE EXISTS (SELECT 1 FROM {events} "
            f"WHERE {number} > ? AND topic IN (?, ?)) UNION ALL "
            f"SELECT t.task_id FROM {self.table('task_predecessors')} p "
            f"JOIN {self.table('tasks')} t ON t.task_id = p.task_id "
            "WHERE p.predecessor_id = ? AND t.is_open = 1")
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(statement, (self.position, *DEPENDENCY_TOPICS, str(task_id)))
        if any(row["task_id"] is None for row in rows):
            self.catch_up()
            with self.store.transaction(commit=False) as sql:
                rows = sql.rows(statement, (self.position, *DEPENDENCY_TOPICS, str(task_id)))
        return sorted((UUID(row["task_id"]) for row in rows if row["task_id"]), key=str)

    def status_of(self, task_id: UUID) -> str | None:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            row = sql.one(f"SELECT status FROM {self.table('tasks')} WHERE task_id = ?",
                          (str(task_id),))
        return row["status"] if row else None

    def work_in_progress(self, member_id: str) -> int:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            row = sql.one(f"SELECT COUNT(*) AS n FROM {self.table('tasks')} "
                          "WHERE assignee_id = ? AND in_hand = 1", (member_id,))
        return int(row["n"]) if row else 0

    def open_tasks_of(self, member_id: str) -> list[UUID]:
        return self._ids(f"SELECT task_id FROM {self.table('tasks')} "
                         "WHERE assignee_id = ? AND is_open = 1", (member_id,))

    def campaign_tasks(self, campaign_id: UUID) -> list[UUID]:
        return self._ids(f"SELECT task_id FROM {self.table('tasks')} WHERE campaign_id = ?",
                         (str(campaign_id),))

    def campaign_people(self, campaign_id: UUID) -> tuple[set[str], set[str]]:
        """Who holds a task of the campaign or is asked to approve one now, and the
        campaign's team(s)."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(f"SELECT DISTINCT assignee_id, team_id FROM {self.table('tasks')} "
                            "WHERE campaign_id = ?", (str(campaign_id),))
            approvers = sql.rows(
                f"SELECT DISTINCT a.member_id FROM {self.table('task_pending_approvers')} a "
                f"JOIN {self.table('tasks')} t ON t.task_id = a.task_id "
                "WHERE t.campaign_id = ?", (str(campaign_id),))
        return ({row["assignee_id"] for row in rows if row["assignee_id"]}
                | {row["member_id"] for row in approvers},
                {row["team_id"] for row in rows if row["team_id"]})

    def approvals_involving(self, member_id: str) -> list[UUID]:
        """Open tasks in whose approval chain the member may still have to approve."""
        return self._ids(f"SELECT task_id FROM {self.table('task_possible_approvers')} "
                         "WHERE member_id = ?", (member_id,))


def _json_or_none(value: Any) -> str | None:
    return dumps(value) if value is not None else None


ABSENCE_ORDER = ("starts_on", "absence_id")


class AbsenceView(Projection):
    """Absences and what moved because of each: the planner's view after a return."""

    name = "execution.absences"
    version = 3  # 3: the absence's version (its ETag)
    tables = (
        Table("absences", (
            ("absence_id", "text"), ("member_id", "text"), ("starts_on", "text"),
            ("ends_on", "text"), ("backup_member_id", "text"), ("reason", "text"),
            ("status", "text"), ("started_at", "text"), ("spread_by_capacity", "int"),
            ("receivers", "json"), ("warnings", "json"), ("version", "int"),
        ), ("absence_id",), indexes=(("member_id", "starts_on"), ("status", "starts_on"),
                                     ("starts_on", "absence_id"))),
        Table("absence_moves", (
            ("absence_id", "text"), ("task_id", "text"), ("task_version", "int"),
            ("at", "text"), ("reason", "text"), ("what", "text"), ("from_member", "text"),
            ("to_member", "text"), ("to_queue", "text"),
        ), ("absence_id", "task_id", "task_version")),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events move nothing."""

    @apply.register(Absence.Recorded)  # type: ignore[attr-defined]
    def _recorded(self, domain_event: Any, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {self.table('absences')} (absence_id, member_id, starts_on, ends_on, "
            "backup_member_id, reason, status, started_at, spread_by_capacity, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (absence_id) DO NOTHING",
            (str(domain_event.originator_id), domain_event.member_id,
             domain_event.starts_on.isoformat(), domain_event.ends_on.isoformat(),
             domain_event.backup_member_id, domain_event.reason, "scheduled",
             int(domain_event.spread_by_capacity), domain_event.originator_version))

    @apply.register(Absence.Started)  # type: ignore[attr-defined]
    def _started(self, domain_event: Any, sql: Sql) -> None:
        receivers = [{**receiver.model_dump(mode="json"),
                      "over_capacity": receiver.over_capacity}
                     for receiver in domain_event.receivers or []]
        sql.execute(f"UPDATE {self.table('absences')} SET status = 'started', started_at = ?, "
                    "receivers = ?, warnings = ?, version = ? WHERE absence_id = ?",
                    (domain_event.timestamp.isoformat(), dumps(receivers),
                     dumps(list(domain_event.warnings or [])), domain_event.originator_version,
                     str(domain_event.originator_id)))

    @apply.register(Absence.Cancelled)  # type: ignore[attr-defined]
    def _cancelled(self, domain_event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('absences')} SET status = 'cancelled', version = ? "
                    "WHERE absence_id = ?", (domain_event.originator_version,
                                             str(domain_event.originator_id)))

    def _moved(self, domain_event: Any, sql: Sql, what: str, from_member: str | None,
               to_member: str | None, to_queue: str | None) -> None:
        absence_id = getattr(domain_event, "absence_id", None)
        if absence_id is None:
            return
        sql.execute(
            f"INSERT INTO {self.table('absence_moves')} (absence_id, task_id, task_version, "
            "at, reason, what, from_member, to_member, to_queue) "
            f"SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM "
            f"{self.table('absences')} WHERE absence_id = ?) "
            "ON CONFLICT (absence_id, task_id, task_version) DO NOTHING",
            (str(absence_id), str(domain_event.originator_id), domain_event.originator_version,
             domain_event.timestamp.isoformat(), domain_event.meta.reason, what, from_member,
             to_member, to_queue, str(absence_id)))

    @apply.register(Task.Assigned)  # type: ignore[attr-defined]
    def _assigned(self, domain_event: Any, sql: Sql) -> None:
        self._moved(domain_event, sql, "task", domain_event.previous_assignee_id,
                    domain_event.assignee_id, None)

    @apply.register(Task.Unassigned)  # type: ignore[attr-defined]
    def _unassigned(self, domain_event: Any, sql: Sql) -> None:
        self._moved(domain_event, sql, "task", domain_event.previous_assignee_id, None,
                    domain_event.queue)

    @apply.register(Task.ApprovalsDelegated)  # type: ignore[attr-defined]
    def _delegated(self, domain_event: Any, sql: Sql) -> None:
        self._moved(domain_event, sql, "approvals", domain_event.member_id,
                    domain_event.backup_id, None)

    # --- queries -------------------------------------------------------------------------

    def _absences(self, sql: Sql, where: str, params: Sequence[Any],
                  limit: int = 100_000) -> list[dict[str, Any]]:
        rows = sql.rows(f"SELECT * FROM {self.table('absences')} WHERE {where} "
                        "ORDER BY starts_on, absence_id LIMIT ?", [*params, limit])
        if not rows:
            return []
        marks = ", ".join("?" for _ in rows)
        moves: dict[str, list[dict[str, Any]]] = {}
        for move in sql.rows(
                f"SELECT * FROM {self.table('absence_moves')} WHERE absence_id IN ({marks}) "
                "ORDER BY at, task_id, task_version", [row["absence_id"] for row in rows]):
            moves.setdefault(move["absence_id"], []).append({
                "task_id": move["task_id"], "at": move["at"], "reason": move["reason"],
                "what": move["what"], "from_member": move["from_member"],
                "to_member": move["to_member"], "to_queue": move["to_queue"]})
        return [self._absence_json(row, moves.get(row["absence_id"], [])) for row in rows]

    @staticmethod
    def _absence_json(row: dict[str, Any], moved: list[dict[str, Any]]) -> dict[str, Any]:
        absence = {
            "id": row["absence_id"], "member_id": row["member_id"],
            "starts_on": row["starts_on"], "ends_on": row["ends_on"],
            "backup_member_id": row["backup_member_id"], "reason": row["reason"],
            "status": row["status"], "moved": moved,
            "spread_by_capacity": bool(row["spread_by_capacity"]),
            # Each receiver's load after the hand-over; over a WIP limit: a warning.
            "receivers": loads(row["receivers"]) or [],
            "warnings": loads(row["warnings"]) or [],
            "version": row["version"],
        }
        if row["started_at"]:
            absence["started_at"] = row["started_at"]
        return absence

    def list_absences(self, member_id: str | None = None,
                      page: PageRequest | None = None) -> Page:
        page = page or EVERYTHING
        self.catch_up()
        where, params = keyset(ABSENCE_ORDER, page.after(ABSENCE_ORDER))
        if member_id is not None:
            where += " AND member_id = ?"
            params.append(member_id)
        with self.store.transaction(commit=False) as sql:
            rows = self._absences(sql, where, params, page.limit + 1)
        found = page_of([{**row, "absence_id": row["id"]} for row in rows], ABSENCE_ORDER,
                        page.limit)
        return Page([{k: v for k, v in row.items() if k != "absence_id"} for row in found.rows],
                    found.next_cursor)

    def get(self, absence_id: UUID) -> dict[str, Any] | None:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            found = self._absences(sql, "absence_id = ?", (str(absence_id),))
        return found[0] if found else None

    def _ids_where(self, where: str, today: dt.date) -> list[UUID]:
        self.catch_up()
        day = today.isoformat()
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(f"SELECT absence_id FROM {self.table('absences')} WHERE {where} "
                            "AND starts_on <= ? AND ends_on >= ? ORDER BY starts_on, absence_id",
                            (day, day))
        return [UUID(row["absence_id"]) for row in rows]

    def active(self, today: dt.date) -> list[UUID]:
        """Absences under way today."""
        return self._ids_where("status = 'started'", today)

    def due(self, today: dt.date) -> list[UUID]:
        return self._ids_where("status = 'scheduled'", today)


class DirectoryView(Projection):
    """Execution's copy of the directory, indexed the way work needs it: who holds a role
    (in a team), who is no longer active, which teams own a queue, who manages a team."""

    name = "execution.directory"
    version = 1
    fed_by_other_services = True  # planning's directory, through the inbox
    tables = (
        Table("members", (("aggregate_id", "text"), ("member_id", "text"), ("active", "int"),
                          ("manager_id", "text")), ("aggregate_id",),
              indexes=(("member_id",), ("manager_id",))),
        Table("member_roles", (("member_id", "text"), ("role", "text")), ("member_id", "role"),
              indexes=(("role",),)),
        Table("member_teams", (("member_id", "text"), ("team_id", "text")),
              ("member_id", "team_id"), indexes=(("team_id",),)),
        Table("teams", (("aggregate_id", "text"), ("team_id", "text"), ("manager_id", "text")),
              ("aggregate_id",), indexes=(("team_id",), ("manager_id",))),
        Table("team_queues", (("team_id", "text"), ("queue", "text")), ("team_id", "queue"),
              indexes=(("queue",),)),
    )

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._answers: dict[tuple[str, tuple[Any, ...]], list[dict[str, Any]]] = {}
        self._answers_generation = self.generation

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change nobody's place in the directory."""

    @apply.register(TeamMember.Registered)  # type: ignore[attr-defined]
    @apply.register(TeamMember.Updated)  # type: ignore[attr-defined]
    def _member(self, domain_event: Any, sql: Sql) -> None:
        aggregate_id = str(domain_event.originator_id)
        member_id = getattr(domain_event, "member_id", None)
        if member_id is None:  # an update names the member by its aggregate
            row = sql.one(f"SELECT member_id FROM {self.table('members')} "
                          "WHERE aggregate_id = ?", (aggregate_id,))
            if row is None:
                return
            member_id = row["member_id"]
        sql.execute(f"INSERT INTO {self.table('members')} (aggregate_id, member_id, active, "
                    "manager_id) VALUES (?, ?, ?, ?) ON CONFLICT (aggregate_id) DO UPDATE SET "
                    "active = excluded.active, manager_id = excluded.manager_id",
                    (aggregate_id, member_id, int(domain_event.active),
                     domain_event.manager_id))
        for table, column, values in (("member_roles", "role", domain_event.roles),
                                      ("member_teams", "team_id", domain_event.team_ids)):
            sql.execute(f"DELETE FROM {self.table(table)} WHERE member_id = ?", (member_id,))
            sql.executemany(f"INSERT INTO {self.table(table)} (member_id, {column}) "
                            "VALUES (?, ?)", [(member_id, value) for value in sorted(set(values))])

    @apply.register(Team.Registered)  # type: ignore[attr-defined]
    @apply.register(Team.Updated)  # type: ignore[attr-defined]
    def _team(self, domain_event: Any, sql: Sql) -> None:
        aggregate_id = str(domain_event.originator_id)
        team_id = getattr(domain_event, "team_id", None)
        if team_id is None:
            row = sql.one(f"SELECT team_id FROM {self.table('teams')} WHERE aggregate_id = ?",
                          (aggregate_id,))
            if row is None:
                return
            team_id = row["team_id"]
        sql.execute(f"INSERT INTO {self.table('teams')} (aggregate_id, team_id, manager_id) "
                    "VALUES (?, ?, ?) ON CONFLICT (aggregate_id) DO UPDATE SET "
                    "manager_id = excluded.manager_id",
                    (aggregate_id, team_id, domain_event.manager_id))
        sql.execute(f"DELETE FROM {self.table('team_queues')} WHERE team_id = ?", (team_id,))
        sql.executemany(f"INSERT INTO {self.table('team_queues')} (team_id, queue) "
                        "VALUES (?, ?)",
                        [(team_id, queue) for queue in sorted(set(domain_event.queues))])

    # --- queries -------------------------------------------------------------------------

    def _rows(self, statement: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Answers are kept until the directory changes: every command asks who owns a
        queue or holds a role, and the directory changes rarely."""
        self.refresh()
        key = (statement, tuple(params))
        with self._lock:
            if self._answers_generation != self.generation:
                self._answers.clear()
                self._answers_generation = self.generation
            found = self._answers.get(key)
            generation = self.generation
        if found is None:
            with self.store.transaction(commit=False) as sql:
                found = sql.rows(statement, params)
            with self._lock:
                if generation == self.generation:
                    if len(self._answers) >= MAX_DIRECTORY_ANSWERS:
                        self._answers.clear()
                    self._answers[key] = found
        return [dict(row) for row in found]

    def role_holders(self, roles: Sequence[str], team_id: str | None) -> dict[str, list[str]]:
        """Active members holding each role (members of ``team_id`` when given)."""
        if not roles:
            return {}
        marks = ", ".join("?" for _ in roles)
        statement = (f"SELECT r.role, r.member_id FROM {self.table('member_roles')} r "
                     f"JOIN {self.table('members')} m ON m.member_id = r.member_id "
                     f"WHERE m.active = 1 AND r.role IN ({marks})")
        params: list[Any] = list(roles)
        if team_id is not None:
            statement += (f" AND EXISTS (SELECT 1 FROM {self.table('member_teams')} t "
                          "WHERE t.member_id = r.member_id AND t.team_id = ?)")
            params.append(team_id)
        holders: dict[str, list[str]] = {}
        for row in self._rows(statement + " ORDER BY r.role, r.member_id", params):
            holders.setdefault(row["role"], []).append(row["member_id"])
        return holders

    def inactive(self, member_ids: Sequence[str]) -> set[str]:
        """Those of ``member_ids`` the directory lists as no longer active."""
        if not member_ids:
            return set()
        marks = ", ".join("?" for _ in member_ids)
        return {row["member_id"] for row in self._rows(
            f"SELECT member_id FROM {self.table('members')} WHERE active = 0 AND "
            f"member_id IN ({marks})", list(member_ids))}

    def teams_owning(self, queue: str) -> list[str]:
        return [row["team_id"] for row in self._rows(
            f"SELECT team_id FROM {self.table('team_queues')} WHERE queue = ? "
            "ORDER BY team_id", (queue,))]

    def team_manager(self, team_id: str) -> str | None:
        rows = self._rows(f"SELECT manager_id FROM {self.table('teams')} WHERE team_id = ?",
                          (team_id,))
        return rows[0]["manager_id"] if rows else None

    def queues_of(self, team_ids: Sequence[str]) -> set[str]:
        """The queues ``team_ids`` own."""
        if not team_ids:
            return set()
        marks = ", ".join("?" for _ in team_ids)
        return {row["queue"] for row in self._rows(
            f"SELECT queue FROM {self.table('team_queues')} WHERE team_id IN ({marks})",
            list(team_ids))}

    def teammates(self, team_ids: Sequence[str]) -> list[str]:
        """Active members of any of ``team_ids``."""
        if not team_ids:
            return []
        marks = ", ".join("?" for _ in team_ids)
        return [row["member_id"] for row in self._rows(
            f"SELECT DISTINCT t.member_id FROM {self.table('member_teams')} t "
            f"JOIN {self.table('members')} m ON m.member_id = t.member_id "
            f"WHERE m.active = 1 AND t.team_id IN ({marks}) ORDER BY t.member_id",
            list(team_ids))]


__all__ = ["OPEN_STATES", "AbsenceView", "DirectoryView", "TaskBoardView", "TaskVisibility",
           "task_row"]
