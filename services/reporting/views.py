"""Reporting's read models: tables folded from the archive (its own notification log)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from services.reporting.archive_fold import ArchiveProjection
from services.reporting.domain import ArchivedEvent
from services.reporting.progress import (
    CampaignChange,
    CampaignProgress,
    TaskChange,
    campaign_of,
    change_of,
    merged,
    participants_of,
)
from shared.projections import Sql, Table


@dataclass(frozen=True)
class CampaignAccess:
    """What the access policy needs to know of a campaign: its team and who takes part."""

    campaign_id: str
    team_id: str | None
    participants: frozenset[str]


class ProgressView(ArchiveProjection):
    """Campaign progress (the rules of ``progress.CampaignProgress``), who takes part in
    each campaign (``progress.participants_of``) and archive totals."""

    name = "reporting.progress"
    version = 3  # 3: campaigns' team, participants
    tables = (
        Table("progress_campaigns", (
            ("campaign_id", "text"), ("name", "text"), ("launch_date", "text"),
            ("planned_tasks", "int"), ("campaign_version", "int"), ("team_id", "text"),
        ), ("campaign_id",)),
        Table("progress_participants", (
            ("campaign_id", "text"), ("task_id", "text"), ("member_id", "text"),
        ), ("campaign_id", "task_id", "member_id"), indexes=(("task_id",), ("member_id",))),
        Table("progress_tasks", (
            ("campaign_id", "text"), ("task_id", "text"), ("status", "text"),
            ("task_version", "int"),
        ), ("campaign_id", "task_id"), indexes=(("task_id",),)),
        Table("archive_totals", (("type", "text"), ("count", "int")), ("type",)),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._forget_page()

    def _forget_page(self) -> None:
        # A page reduced in memory, written in a few statements by ``finish``: exact,
        # because each aggregate's latest version wins (see progress.py).
        self._totals: Counter[str] = Counter()
        self._campaigns: dict[str, CampaignChange | None] = {}
        self._tasks: dict[tuple[str, str], TaskChange] = {}
        self._participants: set[tuple[str, str, str]] = set()

    def archived(self, entry: ArchivedEvent, sql: Sql) -> None:
        self._totals[entry.type] += 1
        campaign_id = campaign_of(entry)
        if campaign_id is None:
            return
        self._participants |= {(campaign_id, task_id, member_id)
                               for task_id, member_id in participants_of(entry)}
        change = change_of(entry)
        known = self._campaigns.get(campaign_id)
        if isinstance(change, CampaignChange):
            self._campaigns[campaign_id] = change if known is None else merged(known, change)
        else:
            self._campaigns.setdefault(campaign_id, None)
        if isinstance(change, TaskChange):
            key = (campaign_id, change.task_id)
            seen = self._tasks.get(key)
            if seen is None or change.version > seen.version:
                self._tasks[key] = change

    def finish(self, sql: Sql) -> None:
        sql.executemany(
            f"INSERT INTO {self.table('archive_totals')} AS cur (type, count) VALUES (?, ?) "
            "ON CONFLICT (type) DO UPDATE SET count = cur.count + excluded.count",
            sorted(self._totals.items()))
        campaigns = self.table("progress_campaigns")
        sql.executemany(f"INSERT INTO {campaigns} (campaign_id, planned_tasks, "
                        "campaign_version) VALUES (?, 0, 0) ON CONFLICT (campaign_id) "
                        "DO NOTHING", [(campaign_id,) for campaign_id in sorted(self._campaigns)])
        sql.executemany(
            f"UPDATE {campaigns} SET campaign_version = ?, name = COALESCE(?, name), "
            "launch_date = COALESCE(?, launch_date), "
            "planned_tasks = COALESCE(?, planned_tasks), team_id = COALESCE(?, team_id) "
            "WHERE campaign_id = ? AND campaign_version < ?",
            [(change.version, change.name, change.launch_date, change.planned_tasks,
              change.team_id, campaign_id, change.version)
             for campaign_id, change in sorted(self._campaigns.items()) if change])
        sql.executemany(
            f"INSERT INTO {self.table('progress_tasks')} AS cur (campaign_id, task_id, "
            "status, task_version) VALUES (?, ?, ?, ?) ON CONFLICT (campaign_id, task_id) "
            "DO UPDATE SET status = excluded.status, task_version = excluded.task_version "
            "WHERE cur.task_version < excluded.task_version",
            [(campaign_id, task_id, change.status, change.version)
             for (campaign_id, task_id), change in sorted(self._tasks.items())])
        sql.executemany(
            f"INSERT INTO {self.table('progress_participants')} (campaign_id, task_id, "
            "member_id) VALUES (?, ?, ?) ON CONFLICT (campaign_id, task_id, member_id) "
            "DO NOTHING", sorted(self._participants))
        self._forget_page()

    def forget(self) -> None:
        self._forget_page()

    def progress(self, campaign_id: str) -> dict[str, Any] | None:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            campaign = sql.one(f"SELECT * FROM {self.table('progress_campaigns')} "
                               "WHERE campaign_id = ?", (campaign_id,))
            if campaign is None:
                return None
            tasks = sql.rows(f"SELECT task_id, status, task_version FROM "
                             f"{self.table('progress_tasks')} WHERE campaign_id = ?",
                             (campaign_id,))
        progress = CampaignProgress(
            campaign_id, name=campaign["name"], launch_date=campaign["launch_date"],
            planned_tasks=campaign["planned_tasks"],
            campaign_version=campaign["campaign_version"],
            task_status={row["task_id"]: (row["status"], row["task_version"])
                         for row in tasks})
        return progress.report()

    def campaign_access(self, campaign_id: str) -> CampaignAccess | None:
        """The campaign's team and participants; None: nothing archived about it."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            campaign = sql.one(f"SELECT team_id FROM {self.table('progress_campaigns')} "
                               "WHERE campaign_id = ?", (campaign_id,))
            members = sql.rows(f"SELECT DISTINCT member_id FROM "
                               f"{self.table('progress_participants')} WHERE campaign_id = ?",
                               (campaign_id,))
        if campaign is None and not members:
            return None
        return CampaignAccess(campaign_id, campaign["team_id"] if campaign else None,
                              frozenset(row["member_id"] for row in members))

    def campaign_of_task(self, task_id: str) -> str | None:
        """The campaign a task belongs to, as its archived events say."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            row = (sql.one(f"SELECT campaign_id FROM {self.table('progress_tasks')} "
                           "WHERE task_id = ?", (task_id,))
                   or sql.one(f"SELECT campaign_id FROM "
                              f"{self.table('progress_participants')} WHERE task_id = ?",
                              (task_id,)))
        return str(row["campaign_id"]) if row else None

    def totals(self) -> dict[str, int]:
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(f"SELECT type, count FROM {self.table('archive_totals')} "
                            "ORDER BY type")
        return {row["type"]: int(row["count"]) for row in rows}
