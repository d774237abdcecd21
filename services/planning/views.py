"""Planning's read models: tables folded from its own notification log (shared/projections)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from services.planning.domain import Campaign, Goal, Member, Playbook, Routine, Team
from services.planning.domain.credentials import ApiToken, CalendarFeed
from shared.access import AccessView
from shared.projections import (
    EVERYTHING,
    Page,
    PageRequest,
    Projection,
    Sql,
    Table,
    dumps,
    loads,
)

CREATED_ORDER = ("created_at", "id")


class CatalogView(Projection):
    """Playbooks, campaigns, goals and routines, for listing."""

    name = "planning.catalog"
    version = 1
    tables = (
        Table("playbooks", (("id", "text"), ("name", "text"), ("version", "int"),
                            ("tasks", "int"), ("created_at", "text")),
              ("id",), indexes=(CREATED_ORDER,)),
        Table("campaigns", (("id", "text"), ("name", "text"), ("launch_date", "text"),
                            ("playbook_id", "text"), ("playbook_version", "int"),
                            ("team_id", "text"), ("goal_ids", "json"), ("status", "text"),
                            ("created_at", "text")),
              ("id",), indexes=(CREATED_ORDER,)),
        Table("goals", (("id", "text"), ("definition", "json"), ("measurements", "int"),
                        ("created_at", "text")), ("id",), indexes=(CREATED_ORDER,)),
        Table("routines", (("id", "text"), ("definition", "json"), ("active", "int"),
                           ("planned", "int"), ("created_at", "text")),
              ("id",), indexes=(CREATED_ORDER, ("active",))),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change no listing."""

    @apply.register(Playbook.Defined)  # type: ignore[attr-defined]
    @apply.register(Playbook.Revised)  # type: ignore[attr-defined]
    def _playbook(self, event: Any, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {self.table('playbooks')} (id, name, version, tasks, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "version = excluded.version, tasks = excluded.tasks",
            (str(event.originator_id), event.spec.name, event.originator_version,
             len(event.spec.tasks), event.timestamp.isoformat()))

    @apply.register(Campaign.Planned)  # type: ignore[attr-defined]
    def _campaign_planned(self, event: Any, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {self.table('campaigns')} (id, name, launch_date, playbook_id, "
            "playbook_version, team_id, goal_ids, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?) ON CONFLICT (id) DO NOTHING",
            (str(event.originator_id), event.name, event.launch_date.isoformat(),
             str(event.playbook_id), event.playbook_version, event.team_id,
             dumps([str(goal_id) for goal_id in event.goal_ids or []]),
             event.timestamp.isoformat()))

    def _set_campaign(self, sql: Sql, event: Any, **values: Any) -> None:
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        sql.execute(f"UPDATE {self.table('campaigns')} SET {assignments} WHERE id = ?",
                    [*values.values(), str(event.originator_id)])

    @apply.register(Campaign.Rescheduled)  # type: ignore[attr-defined]
    def _rescheduled(self, event: Any, sql: Sql) -> None:
        self._set_campaign(sql, event, launch_date=event.launch_date.isoformat())

    @apply.register(Campaign.Migrated)  # type: ignore[attr-defined]
    def _migrated(self, event: Any, sql: Sql) -> None:
        self._set_campaign(sql, event, playbook_version=event.playbook_version)

    @apply.register(Campaign.Cancelled)  # type: ignore[attr-defined]
    def _campaign_cancelled(self, event: Any, sql: Sql) -> None:
        self._set_campaign(sql, event, status="cancelled")

    @apply.register(Campaign.Completed)  # type: ignore[attr-defined]
    def _campaign_completed(self, event: Any, sql: Sql) -> None:
        self._set_campaign(sql, event, status="completed")

    @apply.register(Campaign.GoalsLinked)  # type: ignore[attr-defined]
    def _goals_linked(self, event: Any, sql: Sql) -> None:
        row = sql.one(f"SELECT goal_ids FROM {self.table('campaigns')} WHERE id = ?",
                      (str(event.originator_id),))
        if row is not None:
            goal_ids = [*loads(row["goal_ids"]), *map(str, event.goal_ids)]
            self._set_campaign(sql, event, goal_ids=dumps(goal_ids))

    @apply.register(Goal.Defined)  # type: ignore[attr-defined]
    def _goal_defined(self, event: Any, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {self.table('goals')} (id, definition, measurements, created_at) "
            "VALUES (?, ?, 0, ?) ON CONFLICT (id) DO NOTHING",
            (str(event.originator_id), dumps(event.definition.model_dump(mode="json")),
             event.timestamp.isoformat()))

    @apply.register(Goal.Measured)  # type: ignore[attr-defined]
    def _goal_measured(self, event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('goals')} SET measurements = measurements + 1 "
                    "WHERE id = ?", (str(event.originator_id),))

    @apply.register(Routine.Defined)  # type: ignore[attr-defined]
    def _routine_defined(self, event: Any, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {self.table('routines')} (id, definition, active, planned, "
            "created_at) VALUES (?, ?, 1, 0, ?) ON CONFLICT (id) DO NOTHING",
            (str(event.originator_id), dumps(event.definition.model_dump(mode="json")),
             event.timestamp.isoformat()))

    @apply.register(Routine.OccurrencePlanned)  # type: ignore[attr-defined]
    def _occurrence_planned(self, event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('routines')} SET planned = planned + 1 WHERE id = ?",
                    (str(event.originator_id),))

    @apply.register(Routine.Stopped)  # type: ignore[attr-defined]
    def _routine_stopped(self, event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('routines')} SET active = 0 WHERE id = ?",
                    (str(event.originator_id),))

    # --- queries -----------------------------------------------------------------------

    def _list(self, table: str, page: PageRequest) -> Page:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return self.select_page(sql, table, CREATED_ORDER, page)

    def playbooks(self, page: PageRequest = EVERYTHING) -> Page:
        found = self._list("playbooks", page)
        return Page([{key: row[key] for key in ("id", "name", "version", "tasks")}
                     for row in found.rows], found.next_cursor)

    def campaigns(self, page: PageRequest = EVERYTHING) -> Page:
        found = self._list("campaigns", page)
        return Page([{**{k: v for k, v in row.items() if k != "created_at"},
                      "goal_ids": loads(row["goal_ids"])} for row in found.rows],
                    found.next_cursor)

    def goals(self, page: PageRequest = EVERYTHING) -> Page:
        found = self._list("goals", page)
        return Page([{"id": row["id"], **loads(row["definition"]),
                      "measurements": row["measurements"]} for row in found.rows],
                    found.next_cursor)

    def routines(self, page: PageRequest = EVERYTHING) -> Page:
        found = self._list("routines", page)
        return Page([{"id": row["id"], **loads(row["definition"]),
                      "active": bool(row["active"]), "planned": row["planned"]}
                     for row in found.rows], found.next_cursor)

    def routine_ids(self) -> list[UUID]:
        """Active routines."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(f"SELECT id FROM {self.table('routines')} WHERE active = 1 "
                            "ORDER BY created_at, id")
        return [UUID(row["id"]) for row in rows]


MEMBER_ORDER = ("member_id",)
TEAM_ORDER = ("team_id",)


class DirectoryView(Projection):
    """Teams and members, and who holds which role in which team."""

    name = "planning.directory"
    version = 1
    tables = (
        Table("teams", (("team_id", "text"), ("profile", "json")), ("team_id",)),
        Table("members", (("member_id", "text"), ("profile", "json"), ("active", "int")),
              ("member_id",)),
        Table("member_teams", (("team_id", "text"), ("member_id", "text")),
              ("team_id", "member_id"), indexes=(("member_id",),)),
        Table("member_absences", (("member_id", "text"), ("absence_id", "text"),
                                  ("starts_on", "text"), ("absence", "json")),
              ("member_id", "absence_id")),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change no directory entry."""

    @apply.register(Team.Registered)  # type: ignore[attr-defined]
    @apply.register(Team.Changed)  # type: ignore[attr-defined]
    def _team(self, event: Any, sql: Sql) -> None:
        sql.execute(f"INSERT INTO {self.table('teams')} (team_id, profile) VALUES (?, ?) "
                    "ON CONFLICT (team_id) DO UPDATE SET profile = excluded.profile",
                    (event.team_id, dumps(event.profile.model_dump(mode="json"))))

    @apply.register(Member.Registered)  # type: ignore[attr-defined]
    @apply.register(Member.Changed)  # type: ignore[attr-defined]
    def _member(self, event: Any, sql: Sql) -> None:
        profile = event.profile.model_dump(mode="json")
        sql.execute(f"INSERT INTO {self.table('members')} (member_id, profile, active) "
                    "VALUES (?, ?, ?) ON CONFLICT (member_id) DO UPDATE "
                    "SET profile = excluded.profile, active = excluded.active",
                    (event.member_id, dumps(profile), int(bool(profile.get("active")))))
        sql.execute(f"DELETE FROM {self.table('member_teams')} WHERE member_id = ?",
                    (event.member_id,))
        sql.executemany(f"INSERT INTO {self.table('member_teams')} (team_id, member_id) "
                        "VALUES (?, ?)", [(team_id, event.member_id)
                                          for team_id in sorted(set(profile["team_ids"]))])

    @apply.register(Member.AbsenceRecorded)  # type: ignore[attr-defined]
    def _absence_recorded(self, event: Any, sql: Sql) -> None:
        absence = event.absence.model_dump(mode="json")
        sql.execute(f"INSERT INTO {self.table('member_absences')} (member_id, absence_id, "
                    "starts_on, absence) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (member_id, absence_id) DO NOTHING",
                    (event.member_id, absence["absence_id"], absence["starts_on"],
                     dumps(absence)))

    @apply.register(Member.AbsenceCancelled)  # type: ignore[attr-defined]
    def _absence_cancelled(self, event: Any, sql: Sql) -> None:
        sql.execute(f"DELETE FROM {self.table('member_absences')} WHERE member_id = ? "
                    "AND absence_id = ?", (event.member_id, str(event.absence_id)))

    # --- queries -----------------------------------------------------------------------

    def _members(self, sql: Sql, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            return []
        marks = ", ".join("?" for _ in rows)
        absences: dict[str, list[dict[str, Any]]] = {}
        for row in sql.rows(f"SELECT member_id, absence FROM {self.table('member_absences')}"
                            f" WHERE member_id IN ({marks}) ORDER BY starts_on, absence_id",
                            [row["member_id"] for row in rows]):
            absences.setdefault(row["member_id"], []).append(loads(row["absence"]))
        return [{"member_id": row["member_id"], **loads(row["profile"]),
                 "absences": absences.get(row["member_id"], [])} for row in rows]

    def members(self, page: PageRequest = EVERYTHING) -> Page:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            found = self.select_page(sql, "members", MEMBER_ORDER, page)
            return Page(self._members(sql, found.rows), found.next_cursor)

    def teams(self, page: PageRequest = EVERYTHING) -> Page:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            found = self.select_page(sql, "teams", TEAM_ORDER, page)
        return Page([{"team_id": row["team_id"], **loads(row["profile"])}
                     for row in found.rows], found.next_cursor)

    def team_members(self, team_id: str) -> list[dict[str, Any]]:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(f"SELECT m.* FROM {self.table('member_teams')} t "
                            f"JOIN {self.table('members')} m ON m.member_id = t.member_id "
                            "WHERE t.team_id = ? ORDER BY m.member_id", (team_id,))
            return self._members(sql, rows)

    def role_holders(self, team_id: str) -> dict[str, list[str]]:
        """Role -> active members of the team holding it."""
        holders: dict[str, list[str]] = {}
        for member in self.team_members(team_id):
            if member["active"]:
                for role in member["roles"]:
                    holders.setdefault(role, []).append(member["member_id"])
        return holders


class CalendarView(Projection):
    """The year calendar: every active campaign's launch and tasks, by date, for the
    calendar query and the ICS feeds."""

    name = "planning.calendar"
    version = 2  # 2: follows who holds each task (Campaign.TaskHolderChanged)
    tables = (
        Table("calendar_campaigns", (
            ("campaign_id", "text"), ("name", "text"), ("team_id", "text"),
            ("goal_ids", "json"), ("launch_date", "text"), ("status", "text"),
            ("updated_at", "text"),
        ), ("campaign_id",), indexes=(("launch_date",), ("team_id", "launch_date"))),
        Table("calendar_goals", (("goal_id", "text"), ("campaign_id", "text")),
              ("goal_id", "campaign_id")),
        Table("calendar_tasks", (
            ("campaign_id", "text"), ("task_id", "text"), ("key", "text"), ("title", "text"),
            ("role", "text"), ("assignee_id", "text"), ("queue", "text"),
            ("start_date", "text"), ("due_date", "text"), ("phase", "text"),
            ("status", "text"),
        ), ("campaign_id", "task_id"), indexes=(("due_date", "start_date"),
                                                ("assignee_id", "due_date"))),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change no calendar entry."""

    def _touch(self, sql: Sql, event: Any, **values: Any) -> None:
        values["updated_at"] = event.timestamp.isoformat()
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        sql.execute(f"UPDATE {self.table('calendar_campaigns')} SET {assignments} "
                    "WHERE campaign_id = ?", [*values.values(), str(event.originator_id)])

    def _put_task(self, sql: Sql, campaign_id: str, task: Any, *, keep_status: bool) -> None:
        values = {
            "campaign_id": campaign_id, "task_id": str(task.task_id), "key": task.key,
            "title": task.title, "role": task.role, "assignee_id": task.assignee_id,
            "queue": task.queue,
            "start_date": (task.start_date or task.due_date).isoformat(),
            "due_date": task.due_date.isoformat(), "phase": task.phase, "status": "planned",
        }
        columns = ", ".join(f'"{name}"' for name in values)
        # A revision changes the plan, not execution's facts: status and holder stay.
        kept = ("campaign_id", "task_id", *(
            ("status", "assignee_id", "queue") if keep_status else ()))
        updates = ", ".join(f'"{name}" = excluded."{name}"' for name in values
                            if name not in kept)
        sql.execute(f"INSERT INTO {self.table('calendar_tasks')} ({columns}) VALUES "
                    f"({', '.join('?' for _ in values)}) ON CONFLICT (campaign_id, task_id) "
                    f"DO UPDATE SET {updates}", list(values.values()))

    def _known(self, sql: Sql, event: Any) -> bool:
        return sql.one(f"SELECT 1 AS found FROM {self.table('calendar_campaigns')} "
                       "WHERE campaign_id = ?", (str(event.originator_id),)) is not None

    @apply.register(Campaign.Planned)  # type: ignore[attr-defined]
    def _planned(self, event: Any, sql: Sql) -> None:
        campaign_id = str(event.originator_id)
        goal_ids = [str(goal_id) for goal_id in event.goal_ids or []]
        sql.execute(f"INSERT INTO {self.table('calendar_campaigns')} (campaign_id, name, "
                    "team_id, goal_ids, launch_date, status, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, 'active', ?) ON CONFLICT (campaign_id) DO NOTHING",
                    (campaign_id, event.name, event.team_id, dumps(goal_ids),
                     event.launch_date.isoformat(), event.timestamp.isoformat()))
        self._link_goals(sql, campaign_id, goal_ids)
        for task in event.tasks:
            self._put_task(sql, campaign_id, task, keep_status=False)

    def _link_goals(self, sql: Sql, campaign_id: str, goal_ids: Sequence[str]) -> None:
        sql.executemany(f"INSERT INTO {self.table('calendar_goals')} (goal_id, campaign_id) "
                        "VALUES (?, ?) ON CONFLICT (goal_id, campaign_id) DO NOTHING",
                        [(goal_id, campaign_id) for goal_id in goal_ids])

    @apply.register(Campaign.Rescheduled)  # type: ignore[attr-defined]
    def _rescheduled(self, event: Any, sql: Sql) -> None:
        if not self._known(sql, event):
            return
        self._touch(sql, event, launch_date=event.launch_date.isoformat())
        for task in event.updated:
            self._put_task(sql, str(event.originator_id), task, keep_status=True)

    @apply.register(Campaign.Migrated)  # type: ignore[attr-defined]
    def _migrated(self, event: Any, sql: Sql) -> None:
        if not self._known(sql, event):
            return
        campaign_id = str(event.originator_id)
        self._touch(sql, event)
        sql.executemany(f"DELETE FROM {self.table('calendar_tasks')} WHERE campaign_id = ? "
                        "AND task_id = ?", [(campaign_id, str(task_id))
                                            for task_id in event.removed])
        for task in [*event.added, *event.updated]:
            self._put_task(sql, campaign_id, task, keep_status=True)

    @apply.register(Campaign.TaskProgressed)  # type: ignore[attr-defined]
    def _task_progressed(self, event: Any, sql: Sql) -> None:
        if not self._known(sql, event):
            return
        self._touch(sql, event)
        sql.execute(f"UPDATE {self.table('calendar_tasks')} SET status = ? "
                    "WHERE campaign_id = ? AND task_id = ?",
                    (event.status, str(event.originator_id), str(event.task_id)))

    @apply.register(Campaign.TaskHolderChanged)  # type: ignore[attr-defined]
    def _task_holder_changed(self, event: Any, sql: Sql) -> None:
        if not self._known(sql, event):
            return
        self._touch(sql, event)
        sql.execute(f"UPDATE {self.table('calendar_tasks')} SET assignee_id = ?, queue = ? "
                    "WHERE campaign_id = ? AND task_id = ?",
                    (event.holder.assignee_id, event.holder.queue,
                     str(event.originator_id), str(event.task_id)))

    @apply.register(Campaign.GoalsLinked)  # type: ignore[attr-defined]
    def _goals_linked(self, event: Any, sql: Sql) -> None:
        row = sql.one(f"SELECT goal_ids FROM {self.table('calendar_campaigns')} "
                      "WHERE campaign_id = ?", (str(event.originator_id),))
        if row is None:
            return
        added = [str(goal_id) for goal_id in event.goal_ids]
        self._touch(sql, event, goal_ids=dumps([*loads(row["goal_ids"]), *added]))
        self._link_goals(sql, str(event.originator_id), added)

    @apply.register(Campaign.Cancelled)  # type: ignore[attr-defined]
    def _cancelled(self, event: Any, sql: Sql) -> None:
        if self._known(sql, event):
            self._touch(sql, event, status="cancelled")

    @apply.register(Campaign.Completed)  # type: ignore[attr-defined]
    def _completed(self, event: Any, sql: Sql) -> None:
        if self._known(sql, event):
            self._touch(sql, event, status="completed")

    # --- queries -----------------------------------------------------------------------

    def taking_part(self, member_id: str, reports: Collection[str],
                    teams: Collection[str]) -> set[str]:
        """Ids of the campaigns of ``teams``, and of those where ``member_id`` (or one of
        their ``reports``) holds a task now."""
        self.catch_up()
        people = [member_id, *reports]
        statement = (f"SELECT campaign_id FROM {self.table('calendar_tasks')} WHERE "
                     f"assignee_id IN ({', '.join('?' for _ in people)})")
        if teams:
            statement += (f" UNION SELECT campaign_id FROM {self.table('calendar_campaigns')}"
                          f" WHERE team_id IN ({', '.join('?' for _ in teams)})")
        with self.store.transaction(commit=False) as sql:
            return {row["campaign_id"] for row in sql.rows(statement, [*people, *teams])}

    def entries(self, first: dt.date, last: dt.date, *, team_id: str | None = None,
                goal_id: UUID | None = None, member_id: str | None = None,
                ) -> list[dict[str, Any]]:
        """Launches and tasks overlapping [first, last]; cancelled campaigns left out."""
        self.catch_up()
        where, params = "c.status <> 'cancelled'", []
        if team_id is not None:
            where += " AND c.team_id = ?"
            params.append(team_id)
        if goal_id is not None:
            where += (f" AND c.campaign_id IN (SELECT campaign_id FROM "
                      f"{self.table('calendar_goals')} WHERE goal_id = ?)")
            params.append(str(goal_id))
        rows: list[dict[str, Any]] = []
        with self.store.transaction(commit=False) as sql:
            if member_id is None:
                for campaign in sql.rows(
                        f"SELECT * FROM {self.table('calendar_campaigns')} c WHERE {where} "
                        "AND c.launch_date >= ? AND c.launch_date <= ?",
                        [*params, first.isoformat(), last.isoformat()]):
                    launch = dt.date.fromisoformat(campaign["launch_date"])
                    rows.append({"kind": "launch", "uid": f"launch-{campaign['campaign_id']}",
                                 "title": f"Launch: {campaign['name']}", "start_date": launch,
                                 "due_date": launch, **_about(campaign)})
            statement = (
                "SELECT t.*, c.name AS campaign_name, c.team_id AS campaign_team_id, "
                "c.goal_ids AS campaign_goal_ids, c.updated_at AS campaign_updated_at "
                f"FROM {self.table('calendar_tasks')} t JOIN "
                f"{self.table('calendar_campaigns')} c ON c.campaign_id = t.campaign_id "
                f"WHERE {where} AND t.start_date <= ? AND t.due_date >= ?")
            task_params = [*params, last.isoformat(), first.isoformat()]
            if member_id is not None:
                statement += " AND t.assignee_id = ?"
                task_params.append(member_id)
            for task in sql.rows(statement, task_params):
                rows.append({
                    "kind": "task", "uid": f"task-{task['task_id']}",
                    "task_id": task["task_id"], "key": task["key"], "title": task["title"],
                    "role": task["role"], "assignee_id": task["assignee_id"],
                    "queue": task["queue"],
                    "start_date": dt.date.fromisoformat(task["start_date"]),
                    "due_date": dt.date.fromisoformat(task["due_date"]),
                    "phase": task["phase"], "status": task["status"],
                    **_about({"campaign_id": task["campaign_id"],
                              "name": task["campaign_name"],
                              "team_id": task["campaign_team_id"],
                              "goal_ids": task["campaign_goal_ids"],
                              "updated_at": task["campaign_updated_at"]}),
                })
        return sorted(rows, key=lambda row: (row["start_date"], row["due_date"], row["uid"]))


def _about(campaign: dict[str, Any]) -> dict[str, Any]:
    return {"campaign_id": campaign["campaign_id"], "campaign": campaign["name"],
            "team_id": campaign["team_id"], "goal_ids": loads(campaign["goal_ids"]),
            "updated_at": dt.datetime.fromisoformat(campaign["updated_at"])}


class PlanningAccessView(AccessView):
    """Planning's access read model, folded from its own directory and credentials (the
    other services fold the same tables from planning's integration events), plus the
    secret calendar feed addresses, which only planning serves."""

    version = 1
    fed_by_other_services = False  # its own commands: a token issued is usable at once
    tables: ClassVar[tuple[Table, ...]] = (*AccessView.tables,
              Table("calendar_feeds", (("feed_id", "text"), ("member_id", "text"),
                                       ("path", "text"), ("secret_hash", "text"),
                                       ("created_at", "text"), ("revoked", "int")),
                    ("feed_id",), indexes=(("secret_hash",), ("member_id",))),
              Table("api_tokens", (("token_id", "text"), ("principal_id", "text"),
                                   ("service_account", "int"), ("roles", "json"),
                                   ("label", "text"), ("issued_by", "text"),
                                   ("issued_at", "text"), ("expires_at", "text"),
                                   ("revoked_at", "text"), ("revoked_by", "text")),
                    ("token_id",), indexes=(("principal_id",),)))

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events grant nothing."""

    @apply.register(Member.Registered)  # type: ignore[attr-defined]
    @apply.register(Member.Changed)  # type: ignore[attr-defined]
    def _member(self, event: Any, sql: Sql) -> None:
        profile = event.profile
        self.put_member(sql, event.member_id, profile.name, list(profile.roles),
                        list(profile.team_ids), profile.manager_id, profile.active)

    @apply.register(Team.Registered)  # type: ignore[attr-defined]
    @apply.register(Team.Changed)  # type: ignore[attr-defined]
    def _team(self, event: Any, sql: Sql) -> None:
        self.put_team(sql, event.team_id, event.profile.manager_id)

    @apply.register(ApiToken.Issued)  # type: ignore[attr-defined]
    def _token_issued(self, event: Any, sql: Sql) -> None:
        self.put_credential(sql, event.token_hash, str(event.originator_id),
                            event.principal_id, event.service_account, list(event.roles),
                            event.expires_at)
        sql.execute(
            f"INSERT INTO {self.table('api_tokens')} (token_id, principal_id, "
            "service_account, roles, label, issued_by, issued_at, expires_at, revoked_at, "
            "revoked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) "
            "ON CONFLICT (token_id) DO NOTHING",
            (str(event.originator_id), event.principal_id, int(event.service_account),
             dumps(list(event.roles)), event.label, event.meta.actor,
             event.timestamp.isoformat(),
             event.expires_at.isoformat() if event.expires_at else None))

    @apply.register(ApiToken.Revoked)  # type: ignore[attr-defined]
    def _token_revoked(self, event: Any, sql: Sql) -> None:
        self.revoke_credential(sql, str(event.originator_id))
        sql.execute(f"UPDATE {self.table('api_tokens')} SET revoked_at = ?, revoked_by = ? "
                    "WHERE token_id = ?", (event.timestamp.isoformat(), event.meta.actor,
                                           str(event.originator_id)))

    @apply.register(CalendarFeed.Issued)  # type: ignore[attr-defined]
    def _feed_created(self, event: Any, sql: Sql) -> None:
        sql.execute(f"INSERT INTO {self.table('calendar_feeds')} (feed_id, member_id, path, "
                    "secret_hash, created_at, revoked) VALUES (?, ?, ?, ?, ?, 0) "
                    "ON CONFLICT (feed_id) DO NOTHING",
                    (str(event.originator_id), event.member_id, event.target.path,
                     event.secret_hash, event.timestamp.isoformat()))

    @apply.register(CalendarFeed.Rotated)  # type: ignore[attr-defined]
    def _feed_rotated(self, event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('calendar_feeds')} SET secret_hash = ? "
                    "WHERE feed_id = ?", (event.secret_hash, str(event.originator_id)))

    @apply.register(CalendarFeed.Revoked)  # type: ignore[attr-defined]
    def _feed_revoked(self, event: Any, sql: Sql) -> None:
        sql.execute(f"UPDATE {self.table('calendar_feeds')} SET revoked = 1 "
                    "WHERE feed_id = ?", (str(event.originator_id),))

    # --- queries -----------------------------------------------------------------------

    def feed_for(self, secret_hash: str) -> dict[str, Any] | None:
        """The live feed this secret opens (None: unknown, rotated away or revoked)."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return sql.one(f"SELECT * FROM {self.table('calendar_feeds')} "
                           "WHERE secret_hash = ? AND revoked = 0", (secret_hash,))

    def feeds_of(self, member_id: str) -> list[dict[str, Any]]:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return sql.rows(f"SELECT * FROM {self.table('calendar_feeds')} "
                            "WHERE member_id = ? ORDER BY created_at, feed_id", (member_id,))

    def tokens(self, page: PageRequest = EVERYTHING) -> Page:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            found = self.select_page(sql, "api_tokens", ("issued_at", "token_id"), page)
        return Page([{**row, "roles": loads(row["roles"]),
                      "service_account": bool(row["service_account"])}
                     for row in found.rows], found.next_cursor)
