"""Reminders and escalations: durable timers driven by the injected clock.

``TimersView`` (``notification.timers``) is a read model folded from notification's own
copies of the work (``work.TaskCopy``, ``work.CampaignCopy``) and its notifications. For
each open task it keeps the latest of what the copies say (due date, assignee,
accountable members, approval step and since when) and plans the task's timers, one row
each with its fire day, indexed by (fired, fire day):

- ``reminder``: the assignee, N working days before the due date (the playbook task's
  ``reminder_days``, else ``reminder_working_days``);
- ``late`` level 1: the first working day after the due date, the assignee, the task's
  accountable members and the campaign's planner; level 2 after ``escalation_working_days``
  more, the assignee's manager; level 3 after as many again, the manager's manager;
- ``approval`` level 1: the first working day after ``approval_sla_working_days`` working
  days waiting at a step, its pending approvers; levels 2 and 3 their managers and their
  managers' managers, with the same cadence.

A timer's key names the task, the kind, the level and the date it counts from, so a new
due date (or a new approval step, or a resubmission) plans new timers, and a finished task
drops the ones not fired. ``fire_due_timers`` (``NotificationApplication``) tells each due
timer's recipients through ``Notifier.tell`` with the key as the cause: the notification's
id follows from it, so firing again (two replicas, a restart between recording and the
read model catching up) records nothing. The key is also on the notification
(``timer_key``); folding it marks the timer fired, so it is not scanned again.

Limits, on purpose: working days are Monday to Friday (``shared.working_calendar``);
notification keeps no copy of a team's country or closed days, so a public holiday or a
closed day counts as a working day here. "Today" is the clock's UTC date. The plan uses
the settings the service runs with: after changing the reminder or escalation days,
``marketflow projections rebuild notification.timers`` re-plans the timers not fired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.notification.domain import Notification
from services.notification.settings import NotificationSettings
from services.notification.work import FINISHED, CampaignCopy, Copy, TaskCopy
from shared.projections import Projection, Sql, Table, dumps, keyset, loads
from shared.working_calendar import WorkingCalendar

if TYPE_CHECKING:
    from services.notification.application import NotificationApplication

TIMERS_ACTOR = "system:notification.timers"

CALENDAR = WorkingCalendar()
"""Monday to Friday (see the module's limits)."""

LEVELS = 3
"""Level 1 tells the people concerned, 2 their managers, 3 the managers' managers."""

# What the read model keeps of a task copy's fields (the rest it does not need).
TASK_FIELDS = ("campaign_id", "title", "due_date", "assignee_id", "status", "accountable",
               "pending_approvers", "approval_step", "approval_step_since", "reminder_days")


@dataclass(frozen=True)
class Timer:
    key: str
    kind: str  # reminder, late, approval
    level: int
    fire_on: dt.date
    counts_from: str  # the due date, or when the approval step began (ISO)
    expires_on: dt.date | None = None  # a reminder is moot after the due date


def timer_key(task_id: object, kind: str, level: int, counts_from: str,
              step: int | None = None) -> str:
    if kind == "approval":
        return f"timer:{task_id}:approval:{step}:{level}:{counts_from}"
    if kind == "reminder":
        return f"timer:{task_id}:reminder:{counts_from}"
    return f"timer:{task_id}:late:{level}:{counts_from}"


def plan(task_id: object, fields: dict[str, Any], settings: NotificationSettings,
         calendar: WorkingCalendar = CALENDAR) -> list[Timer]:
    """The timers of a task as its copy stands: none once it is done or cancelled."""
    if fields.get("status") in FINISHED:
        return []
    timers: list[Timer] = []
    due_text = fields.get("due_date")
    if due_text:
        due = dt.date.fromisoformat(due_text)
        lead = fields.get("reminder_days")
        lead = settings.reminder_working_days if lead is None else int(lead)
        timers.append(Timer(timer_key(task_id, "reminder", 0, due_text), "reminder", 0,
                            calendar.shift(calendar.on_or_before(due), -lead), due_text,
                            expires_on=due))
        step = settings.escalation_working_days
        for level in range(1, LEVELS + 1):
            timers.append(Timer(timer_key(task_id, "late", level, due_text), "late", level,
                                calendar.shift(due, 1 + (level - 1) * step), due_text))
    since_text = fields.get("approval_step_since")
    approval_step = fields.get("approval_step")
    if since_text and approval_step and fields.get("pending_approvers"):
        since = dt.datetime.fromisoformat(since_text).date()
        sla, step = settings.approval_sla_working_days, settings.escalation_working_days
        for level in range(1, LEVELS + 1):
            timers.append(Timer(
                timer_key(task_id, "approval", level, since_text, approval_step), "approval",
                level, calendar.shift(since, sla + 1 + (level - 1) * step), since_text))
    return timers


class TimersView(Projection):
    """Open tasks as the timers need them, campaigns' planners, and the timers planned
    (fired or not), indexed by fire day."""

    name = "notification.timers"
    version = 1
    tables = (
        Table("timer_tasks", (
            ("copy_id", "text"), ("task_id", "text"), ("fields", "json"),
        ), ("copy_id",), indexes=(("task_id",),)),
        Table("timer_campaigns", (
            ("copy_id", "text"), ("campaign_id", "text"), ("name", "text"),
            ("planner_id", "text"),
        ), ("copy_id",), indexes=(("campaign_id",),)),
        Table("timers", (
            ("timer_key", "text"), ("task_id", "text"), ("kind", "text"), ("level", "int"),
            ("fire_on", "text"), ("counts_from", "text"), ("expires_on", "text"),
            ("fired", "int"),
        ), ("timer_key",), indexes=(("fired", "fire_on"), ("task_id", "fired"))),
    )

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._tasks: dict[str, dict[str, Any]] = {}

    @property
    def settings(self) -> NotificationSettings:
        found: NotificationSettings = getattr(self.app, "notification_settings",
                                              NotificationSettings())
        return found

    # --- the fold ----------------------------------------------------------------------

    def prepare(self, domain_events: Sequence[Any]) -> None:
        """The page's changed task copies, read in one query (a read per event inside
        the pipelined fold cost a round trip each); the fold keeps them current."""
        self._tasks = {}
        changed = sorted({str(event.originator_id) for event in domain_events
                          if isinstance(event, Copy.Changed)})  # type: ignore[attr-defined]
        if not changed:
            return
        marks = ", ".join("?" for _ in changed)
        with self.store.transaction(commit=False) as sql:
            self._tasks = {row["copy_id"]: {"task_id": row["task_id"],
                                            "fields": loads(row["fields"])}
                           for row in sql.rows(
                               f"SELECT copy_id, task_id, fields FROM "
                               f"{self.table('timer_tasks')} WHERE copy_id IN ({marks})",
                               changed)}

    def forget(self) -> None:
        self._tasks = {}

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events change no timer."""

    @apply.register(TaskCopy.Noted)  # type: ignore[attr-defined]
    def _task_noted(self, domain_event: Any, sql: Sql) -> None:
        fields = _kept(domain_event.fields)
        sql.execute(f"INSERT INTO {self.table('timer_tasks')} (copy_id, task_id, fields) "
                    "VALUES (?, ?, ?) ON CONFLICT (copy_id) DO UPDATE "
                    "SET fields = excluded.fields",
                    (str(domain_event.originator_id), domain_event.key, dumps(fields)))
        self._tasks[str(domain_event.originator_id)] = {"task_id": domain_event.key,
                                                        "fields": fields}
        self._replan(sql, domain_event.key, fields)

    @apply.register(Copy.Changed)  # type: ignore[attr-defined]
    def _copy_changed(self, domain_event: Any, sql: Sql) -> None:
        # Every kind of copy records its changes as ``Copy.Changed`` (the command is the
        # base class's): which copy it is, the rows say.
        copy_id = str(domain_event.originator_id)
        changed = _kept(domain_event.fields)
        row = self._tasks.get(copy_id) if changed else None
        if row is not None:
            fields = row["fields"] = {**row["fields"], **changed}
            sql.execute(f"UPDATE {self.table('timer_tasks')} SET fields = ? "
                        "WHERE copy_id = ?", (dumps(fields), copy_id))
            self._replan(sql, row["task_id"], fields)
            return
        for column in ("name", "planner_id"):
            if column in domain_event.fields:
                sql.execute(f"UPDATE {self.table('timer_campaigns')} SET {column} = ? "
                            "WHERE copy_id = ?", (domain_event.fields[column], copy_id))

    @apply.register(CampaignCopy.Noted)  # type: ignore[attr-defined]
    def _campaign_noted(self, domain_event: Any, sql: Sql) -> None:
        sql.execute(f"INSERT INTO {self.table('timer_campaigns')} (copy_id, campaign_id, "
                    "name, planner_id) VALUES (?, ?, ?, ?) ON CONFLICT (copy_id) DO UPDATE "
                    "SET name = excluded.name, planner_id = excluded.planner_id",
                    (str(domain_event.originator_id), domain_event.key,
                     domain_event.fields.get("name"), domain_event.fields.get("planner_id")))

    @apply.register(Notification.Recorded)  # type: ignore[attr-defined]
    def _recorded(self, domain_event: Any, sql: Sql) -> None:
        key = getattr(domain_event, "timer_key", None)
        if key:
            sql.execute(f"UPDATE {self.table('timers')} SET fired = 1 WHERE timer_key = ?",
                        (key,))

    def _replan(self, sql: Sql, task_id: str, fields: dict[str, Any]) -> None:
        """Timers not fired that the task's state no longer plans go; new ones come. A
        fired timer stays fired (a date moved back to where it was fires nothing again)."""
        timers = plan(task_id, fields, self.settings)
        keys = [timer.key for timer in timers]
        marks = ", ".join("?" for _ in keys)
        sql.execute(f"DELETE FROM {self.table('timers')} WHERE task_id = ? AND fired = 0"
                    + (f" AND timer_key NOT IN ({marks})" if keys else ""), [task_id, *keys])
        for timer in timers:
            sql.execute(f"INSERT INTO {self.table('timers')} (timer_key, task_id, kind, "
                        "level, fire_on, counts_from, expires_on, fired) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 0) "
                        "ON CONFLICT (timer_key) DO UPDATE SET fire_on = excluded.fire_on, "
                        "expires_on = excluded.expires_on",
                        (timer.key, task_id, timer.kind, timer.level,
                         timer.fire_on.isoformat(), timer.counts_from,
                         timer.expires_on.isoformat() if timer.expires_on else None))

    # --- queries -----------------------------------------------------------------------

    def due(self, today: dt.date, after: tuple[str, str] | None = None,
            limit: int = 200) -> list[dict[str, Any]]:
        """Timers not fired whose day has come (and not gone), by (fire day, key) after
        ``after``, with their task's fields and its campaign's name and planner."""
        self.catch_up()
        where, params = keyset(("fire_on", "timer_key"), after, alias="t")
        with self.store.transaction(commit=False) as sql:
            rows = sql.rows(
                f"SELECT t.timer_key, t.task_id, t.kind, t.level, t.fire_on, t.counts_from, "
                f"k.fields FROM {self.table('timers')} t JOIN {self.table('timer_tasks')} k "
                "ON k.task_id = t.task_id WHERE t.fired = 0 AND t.fire_on <= ? "
                f"AND (t.expires_on IS NULL OR t.expires_on >= ?) AND {where} "
                "ORDER BY t.fire_on, t.timer_key LIMIT ?",
                (today.isoformat(), today.isoformat(), *params, limit))
            campaign_ids = sorted({loads(row["fields"]).get("campaign_id") or ""
                                   for row in rows} - {""})
            campaigns: dict[str, dict[str, Any]] = {}
            if campaign_ids:
                marks = ", ".join("?" for _ in campaign_ids)
                campaigns = {row["campaign_id"]: row for row in sql.rows(
                    f"SELECT campaign_id, name, planner_id FROM "
                    f"{self.table('timer_campaigns')} WHERE campaign_id IN ({marks})",
                    campaign_ids)}
        found = []
        for row in rows:
            fields = loads(row["fields"])
            campaign = campaigns.get(fields.get("campaign_id") or "", {})
            found.append({**row, "fields": fields, "campaign_name": campaign.get("name"),
                          "planner_id": campaign.get("planner_id")})
        return found

    def timers_of(self, task_id: UUID) -> list[dict[str, Any]]:
        """A task's timers, by fire day (for tests and the curious)."""
        self.catch_up()
        with self.store.transaction(commit=False) as sql:
            return sql.rows(f"SELECT * FROM {self.table('timers')} WHERE task_id = ? "
                            "ORDER BY fire_on, timer_key", (str(task_id),))


def _kept(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name in TASK_FIELDS}


# --- firing --------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """One due timer, who it tells, and what."""

    key: str
    task_id: UUID
    recipients: list[str]
    kind: str
    title: str
    text: str
    reason: str
    campaign_id: UUID | None
    link: str


def what_is_due(app: NotificationApplication, row: dict[str, Any],
                today: dt.date) -> Due | None:
    """The timer's message and recipients today; None when it has nobody to tell or no
    longer applies (a reminder for a day already past due: the late notice follows)."""
    fields, kind, level = row["fields"], row["kind"], int(row["level"])
    task_id = UUID(row["task_id"])
    title = fields.get("title") or f"task {task_id}"
    campaign_id = UUID(fields["campaign_id"]) if fields.get("campaign_id") else None
    campaign = row.get("campaign_name") or f"campaign {campaign_id}"
    link = app.notification_settings.task_link(task_id)
    assignee = fields.get("assignee_id")
    names = f"'{title}' in {campaign}"
    if kind == "reminder":
        due = dt.date.fromisoformat(row["counts_from"])
        if not assignee or today > due:
            return None
        left = CALENDAR.working_days_between(today + dt.timedelta(days=1), due)
        when = "today" if due == today else (
            f"in {left} working day{'s' if left != 1 else ''}, on {due.isoformat()}")
        return Due(row["timer_key"], task_id, [assignee], "task.reminder",
                   f"Due soon: {title} ({campaign})",
                   f"Reminder: {names} is due {when}.",
                   f"reminder before the due date {due.isoformat()}", campaign_id, link)
    if kind == "late":
        due = dt.date.fromisoformat(row["counts_from"])
        late = CALENDAR.working_days_between(due + dt.timedelta(days=1), today)
        how_late = f"{late} working day{'s' if late != 1 else ''} late (due {due.isoformat()})"
        if level == 1:
            recipients = [assignee, *(fields.get("accountable") or []), row.get("planner_id")]
            return Due(row["timer_key"], task_id, _unique(recipients), "task.late",
                       f"Late: {title} ({campaign})",
                       f"{names} is {how_late}"
                       + (f"; assigned to {assignee}." if assignee else "; nobody holds it."),
                       f"task late, level 1: {how_late}", campaign_id, link)
        managers = app.work.manager_chain(assignee) if assignee else []
        if len(managers) < level - 1:
            return None
        return Due(row["timer_key"], task_id, [managers[level - 2]], "task.late.escalated",
                   f"Escalation (level {level}): {title} ({campaign}) is late",
                   f"Escalated to you (level {level}): {names}, assigned to {assignee}, is "
                   f"{how_late}.", f"task late, escalation level {level}: {how_late}",
                   campaign_id, link)
    since = dt.datetime.fromisoformat(row["counts_from"]).date()
    waited = CALENDAR.working_days_between(since + dt.timedelta(days=1), today)
    how_long = (f"waiting {waited} working day{'s' if waited != 1 else ''} (since "
                f"{since.isoformat()}, SLA {app.notification_settings.approval_sla_working_days})")
    step = fields.get("approval_step")
    approvers = list(fields.get("pending_approvers") or [])
    if level == 1:
        return Due(row["timer_key"], task_id, _unique(approvers), "approval.reminder",
                   f"Approval waiting: {title} ({campaign})",
                   f"Your approval of {names} (step {step}) is {how_long}.",
                   f"approval step {step} over its SLA, level 1: {how_long}", campaign_id,
                   link)
    escalated = []
    for approver in approvers:
        chain = app.work.manager_chain(approver)
        if len(chain) >= level - 1:
            escalated.append(chain[level - 2])
    return Due(row["timer_key"], task_id, _unique(escalated), "approval.escalated",
               f"Escalation (level {level}): approval of {title} ({campaign}) is waiting",
               f"Escalated to you (level {level}): step {step} of the approval of {names} "
               f"(pending: {', '.join(approvers)}) is {how_long}.",
               f"approval step {step} over its SLA, escalation level {level}: {how_long}",
               campaign_id, link)


def _unique(members: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(member for member in members if member))
