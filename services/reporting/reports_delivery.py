"""The delivery reports: progress, on time, flow, and a campaign's state as of an instant,
computed from reporting's versioned facts (``facts.py``) with the one report filter
(``report_filter.py``). The figures' definitions are in docs/reports.md.

Reads go by indexed columns: the covered campaigns' rows (``campaign_id``) valid at the
instant (``valid_to``), or, for time in state, every version of the covered tasks that
began by the instant (``campaign_id, valid_from``). The arithmetic is in pure functions
over those rows, so the live report and the report as of T are one computation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.reporting.export import micros
from services.reporting.facts import PLAN, TASKS, FactsView, Row
from services.reporting.figures import percent_done, percentile, working_days_between
from services.reporting.policy import POLICY
from services.reporting.report_filter import ReportFilter
from shared.domain import InvalidCommand, NotFound
from shared.policy import Caller

if TYPE_CHECKING:
    from services.reporting.application import ReportingApplication

STATES = ("planned", "ready", "in_progress", "submitted", "in_review", "approved",
          "blocked", "done", "cancelled")
"""Execution's task states; a task planned but not yet opened counts as planned."""
CLOSED = frozenset({"done", "cancelled"})
SUBMITTED = frozenset({"submitted", "in_review", "approved"})
AT_RISK_WORKING_DAYS = 2
MICROS_PER_HOUR = 3_600_000_000
TASKS_PER_QUERY = 500
WAITS = ("queued", "waiting_to_start", "in_progress", "in_review", "blocked")


# --- small helpers --------------------------------------------------------------------

def utc_day(micros_since_epoch: int | None) -> dt.date | None:
    if micros_since_epoch is None:
        return None
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            + dt.timedelta(microseconds=micros_since_epoch)).date()


def moment(micros_since_epoch: int | None) -> dt.datetime | None:
    if micros_since_epoch is None:
        return None
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        microseconds=micros_since_epoch)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _hours(micros_span: int) -> float:
    return round(micros_span / MICROS_PER_HOUR, 2)


def _stats(values: Sequence[float]) -> dict[str, Any]:
    return {"count": len(values), "median": percentile(values, 50),
            "p90": percentile(values, 90)}


# --- what a report reads ----------------------------------------------------------------

@dataclass
class Covered:
    """The facts one report covers, as they were at its instant."""

    campaigns: dict[str, Row]
    tasks: dict[str, Row]
    """Opened tasks of the covered campaigns (the member's, with a member filter)."""
    plan: dict[str, Row]
    """Each covered campaign's planned tasks, removed ones included (a task keeps its key
    and phase after it leaves the plan)."""

    def planned_only(self, member_id: str | None) -> list[Row]:
        """Tasks in the current plan that execution has not opened yet."""
        return [row for task_id, row in self.plan.items()
                if not row["removed"] and task_id not in self.tasks
                and (member_id is None or row["planned_assignee_id"] == member_id)]

    def phase(self, task_id: str) -> str | None:
        planned = self.plan.get(task_id)
        return planned["phase"] if planned else None

    def key(self, task_id: str) -> str | None:
        planned = self.plan.get(task_id)
        return planned["key"] if planned else None


def _campaign_clause(report: ReportFilter, campaign_ids: Iterable[str]
                     ) -> tuple[str, list[Any]]:
    """Rows of the covered campaigns: by the indexed campaign_id when the filter narrows
    the campaigns, else every row (the caller drops rows of other campaigns)."""
    ids = sorted(campaign_ids)
    if report.campaign_id is None and report.playbook_id is None and report.team_id is None:
        return "1=1", []
    if not ids:
        return "1=0", []
    return f"campaign_id IN ({', '.join('?' for _ in ids)})", ids


def covered(facts: FactsView, sql: Any, report: ReportFilter, whole_plans: bool = True
            ) -> Covered:
    """The report's facts; ``whole_plans`` False: of the plans, only the rows of the
    covered tasks and of those planned for the member (enough for on time and flow)."""
    campaigns = report.campaigns(facts, sql)
    where, params = _campaign_clause(report, campaigns)
    member = report.member_id
    task_where, task_params = where, list(params)
    if member is not None:
        task_where, task_params = f"({where}) AND assignee_id = ?", [*params, member]
    tasks = {row["task_id"]: row for row in facts.rows(sql, TASKS, report.as_of, task_where,
                                                       task_params)
             if row["campaign_id"] in campaigns}
    if member is not None and where == "1=1" and not whole_plans:
        # A member across campaigns: the plan rows of their tasks (by the tasks' index) and
        # of the tasks planned for them, not every campaign's plan.
        plan_rows = facts.rows(sql, PLAN, report.as_of, "planned_assignee_id = ?", [member])
        ordered = sorted(tasks)
        for first in range(0, len(ordered), TASKS_PER_QUERY):
            chunk = ordered[first:first + TASKS_PER_QUERY]
            plan_rows += facts.rows(sql, PLAN, report.as_of,
                                    f"task_id IN ({', '.join('?' for _ in chunk)})", chunk)
    else:
        plan_rows = facts.rows(sql, PLAN, report.as_of, where, params)
    plan = {row["task_id"]: row for row in plan_rows if row["campaign_id"] in campaigns}
    return Covered(campaigns, tasks, plan)


def task_versions(facts: FactsView, sql: Any, report: ReportFilter, task_ids: set[str],
                  campaign_ids: Iterable[str]) -> list[Row]:
    """Every version of the tasks that began by the report's instant (rows replaced later
    still end at the instant: ``valid_to`` is cut there), oldest first per task."""
    instant = micros(report.now)
    select = (f"SELECT task_id, campaign_id, state, assignee_id, valid_from, valid_to "
              f"FROM {facts.table(TASKS.name)} WHERE ")
    where, params = _campaign_clause(report, campaign_ids)
    if where != "1=1":  # by the campaigns' index
        rows = sql.rows(select + f"({where}) AND valid_from <= ? ORDER BY task_id, version",
                        [*params, instant])
    else:  # e.g. a member's tasks across campaigns: by the tasks' index, a chunk at a time
        ordered, rows = sorted(task_ids), []
        for first in range(0, len(ordered), TASKS_PER_QUERY):
            chunk = ordered[first:first + TASKS_PER_QUERY]
            rows += sql.rows(select + f"task_id IN ({', '.join('?' for _ in chunk)}) AND "
                             "valid_from <= ? ORDER BY task_id, version", [*chunk, instant])
    versions = []
    for row in rows:
        if row["task_id"] not in task_ids:
            continue
        if row["valid_to"] is None or row["valid_to"] > instant:
            row["valid_to"] = instant
        versions.append(row)
    return versions


# --- progress -----------------------------------------------------------------------------

def campaign_dates(campaign: Row, plan: Iterable[Row]) -> dict[str, Any]:
    """The campaign's current dates: launch as rescheduled; its plan's earliest start or
    due date and latest due date."""
    current = [row for row in plan if not row["removed"]]
    starts = [_date(row["start_date"] or row["due_date"]) for row in current]
    dues = [_date(row["due_date"]) for row in current]
    return {"launch_date": _date(campaign["launch_date"]),
            "start_date": min((d for d in starts if d), default=None),
            "end_date": max((d for d in dues if d), default=None)}


def _phase_progress(phase: str | None, states: Counter[str]) -> dict[str, Any]:
    total = sum(states.values())
    done, cancelled = states["done"], states["cancelled"]
    return {"phase": phase, "tasks_total": total,
            "tasks_by_state": {state: states[state] for state in STATES},
            "tasks_done": done, "percent_done": percent_done(done, total, cancelled)}


def progress_rows(data: Covered, report: ReportFilter) -> list[dict[str, Any]]:
    """Per campaign and per phase: tasks by state, percent done; the campaign's current
    dates, days to launch and status."""
    states: dict[str, dict[str | None, Counter[str]]] = defaultdict(
        lambda: defaultdict(Counter))
    for task_id, task in data.tasks.items():
        states[task["campaign_id"]][data.phase(task_id)][task["state"]] += 1
    for planned in data.planned_only(report.member_id):
        states[planned["campaign_id"]][planned["phase"]]["planned"] += 1
    plans: dict[str, list[Row]] = defaultdict(list)
    for row in data.plan.values():
        plans[row["campaign_id"]].append(row)
    report_day = report.today
    answer = []
    for campaign_id in sorted(data.campaigns):
        campaign = data.campaigns[campaign_id]
        phases = states.get(campaign_id, {})
        if report.member_id is not None and not phases:
            continue  # about a member: only the campaigns they have work in
        overall: Counter[str] = sum(phases.values(), Counter())
        dates = campaign_dates(campaign, plans[campaign_id])
        launch = dates["launch_date"]
        answer.append({
            "campaign_id": campaign_id, "name": campaign["name"],
            "status": campaign["status"], "team_id": campaign["team_id"],
            "playbook_id": campaign["playbook_id"], **dates,
            "days_to_launch": (launch - report_day).days if launch else None,
            **{name: value for name, value in _phase_progress(None, overall).items()
               if name != "phase"},
            "phases": [_phase_progress(phase, phases[phase])
                       for phase in sorted(phases, key=lambda p: (p is None, p or ""))],
        })
    return answer


# --- on time ------------------------------------------------------------------------------

def _done_in_period(data: Covered, report: ReportFilter) -> list[Row]:
    return [task for task in data.tasks.values()
            if task["state"] == "done" and report.in_period(utc_day(task["done_at"]))]


def _on_time_group(tasks: Sequence[Row]) -> dict[str, Any]:
    late_by = [working_days_between(_date(task["due_date"]) or dt.date.max,
                                    utc_day(task["done_at"]) or dt.date.min)
               for task in tasks]
    on_time = sum(1 for task in tasks if _on_time(task))
    return {"tasks_done": len(tasks), "done_on_time": on_time,
            "share_on_time": round(on_time / len(tasks), 4) if tasks else None,
            "working_days_late_median": percentile(late_by, 50),
            "working_days_late_p90": percentile(late_by, 90)}


def _on_time(task: Row) -> bool:
    due, done = _date(task["due_date"]), utc_day(task["done_at"])
    return due is None or (done is not None and done <= due)


def on_time_summary(data: Covered, report: ReportFilter) -> dict[str, Any]:
    """Share done by the due date and lateness, overall and per campaign, playbook, team
    and member, over the tasks done in the period."""
    done = _done_in_period(data, report)

    def grouped(group_of: Callable[[Row], str | None]) -> list[dict[str, Any]]:
        groups: dict[str | None, list[Row]] = defaultdict(list)
        for task in done:
            groups[group_of(task)].append(task)
        return [{"id": group, **_on_time_group(groups[group])}
                for group in sorted(groups, key=lambda g: (g is None, g or ""))]

    campaign = data.campaigns
    return {"overall": _on_time_group(done),
            "by_campaign": grouped(lambda task: task["campaign_id"]),
            "by_playbook": grouped(lambda task: campaign[task["campaign_id"]]["playbook_id"]),
            "by_team": grouped(lambda task: campaign[task["campaign_id"]]["team_id"]),
            "by_member": grouped(lambda task: task["assignee_id"])}


def attention_rows(data: Covered, report: ReportFilter) -> list[dict[str, Any]]:
    """Open tasks overdue (due before the report's day) or at risk (due within the next
    two working days and not submitted), earliest due first (then by task id: the page
    key)."""
    today = report.today
    rows = []
    for task_id, task in data.tasks.items():
        due = _date(task["due_date"])
        if due is None or task["state"] in CLOSED:
            continue
        if due < today:
            kind, late = "overdue", working_days_between(due, today)
        elif (task["state"] not in SUBMITTED
              and working_days_between(today, due) <= AT_RISK_WORKING_DAYS):
            kind, late = "at_risk", 0
        else:
            continue
        rows.append({"due_date": due.isoformat(), "task_id": task_id, "kind": kind,
                     "working_days_late": late,
                     "working_days_left": working_days_between(today, due),
                     "campaign_id": task["campaign_id"], "key": data.key(task_id),
                     "title": task["title"], "state": task["state"],
                     "assignee_id": task["assignee_id"], "queue": task["queue"]})
    return sorted(rows, key=lambda row: (row["due_date"], row["task_id"]))


ATTENTION_ORDER = ("due_date", "task_id")


# --- flow ---------------------------------------------------------------------------------

def wait_of(state: str, assignee_id: str | None) -> str | None:
    """What a task in ``state`` is waiting for (None: closed, not waiting)."""
    if state in CLOSED:
        return None
    if state == "blocked":
        return "blocked"
    if state == "in_progress":
        return "in_progress"
    if state in SUBMITTED:
        return "in_review"
    return "queued" if assignee_id is None else "waiting_to_start"


def _period_window(report: ReportFilter) -> tuple[int | None, int]:
    """The period as [start, end) in µs, ending at the report's instant at the latest."""
    start = (micros(dt.datetime.combine(report.start, dt.time(), dt.UTC))
             if report.start else None)
    end = micros(report.now)
    if report.end is not None:
        end = min(end, micros(dt.datetime.combine(report.end + dt.timedelta(days=1),
                                                  dt.time(), dt.UTC)))
    return start, end


def time_in_state(versions: Iterable[Row], phase_of: Callable[[str], str | None],
                  report: ReportFilter) -> dict[str | None, dict[str, float]]:
    """Hours the tasks spent in each wait, per phase, summed over their version rows
    clipped to the period and the instant."""
    start, end = _period_window(report)
    spent: dict[str | None, Counter[str]] = defaultdict(Counter)
    for row in versions:
        wait = wait_of(row["state"], row["assignee_id"])
        begin = max(row["valid_from"], start) if start is not None else row["valid_from"]
        finish = min(row["valid_to"], end)
        if wait is None or finish <= begin:
            continue
        spent[phase_of(row["task_id"])][wait] += finish - begin
    return {phase: {wait: _hours(waits[wait]) for wait in WAITS}
            for phase, waits in spent.items()}


def throughput(done: Iterable[Row], report: ReportFilter) -> list[dict[str, Any]]:
    """Tasks done per ISO week, every week from the period's first (or the first done)
    to its last (or the last done)."""
    weeks = Counter(day.isocalendar()[:2] for day in (utc_day(t["done_at"]) for t in done)
                    if day is not None)
    first = report.start or (min(_monday(*w) for w in weeks) if weeks else None)
    last = report.end or (max(_monday(*w) for w in weeks) if weeks else None)
    if first is None or last is None:
        return []
    answer, monday = [], first - dt.timedelta(days=first.weekday())
    while monday <= last:
        year, week, _ = monday.isocalendar()
        answer.append({"week": f"{year}-W{week:02d}", "week_start": monday,
                       "tasks_done": weeks[(year, week)]})
        monday += dt.timedelta(days=7)
    return answer


def _monday(year: int, week: int) -> dt.date:
    return dt.date.fromisocalendar(year, week, 1)


def flow_summary(data: Covered, versions: Iterable[Row], report: ReportFilter
                 ) -> dict[str, Any]:
    done = _done_in_period(data, report)
    cycle: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    lead: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for task in done:
        task_id = task["task_id"]
        for kind, value in (("key", data.key(task_id)), ("phase", data.phase(task_id))):
            if task["ready_at"] is not None:
                cycle[(kind, value)].append(_hours(task["done_at"] - task["ready_at"]))
            lead[(kind, value)].append(_hours(task["done_at"] - task["opened_at"]))

    def per(kind: str) -> list[dict[str, Any]]:
        names = {name for k, name in (*cycle, *lead) if k == kind}
        return [{kind: name, "cycle_time_hours": _stats(cycle[(kind, name)]),
                 "lead_time_hours": _stats(lead[(kind, name)])}
                for name in sorted(names, key=lambda n: (n is None, n or ""))]

    spent = time_in_state(versions, data.phase, report)
    totals: Counter[str] = Counter()
    for waits in spent.values():
        totals.update(waits)
    return {
        "tasks_done": len(done),
        "cycle_time_hours": _stats([_hours(t["done_at"] - t["ready_at"]) for t in done
                                    if t["ready_at"] is not None]),
        "lead_time_hours": _stats([_hours(t["done_at"] - t["opened_at"]) for t in done]),
        "by_key": per("key"), "by_phase": per("phase"),
        "hours_in_state": {wait: round(totals[wait], 2) for wait in WAITS},
        "hours_in_state_by_phase": [
            {"phase": phase, "hours": spent[phase]}
            for phase in sorted(spent, key=lambda p: (p is None, p or ""))],
        "throughput": throughput(done, report),
    }


# --- a campaign's state ------------------------------------------------------------------

MILESTONES = ("opened", "ready", "started", "submitted", "done", "cancelled")


def campaign_state(data: Covered, campaign_id: str) -> dict[str, Any]:
    """The campaign's row and each of its tasks as they were at the instant."""
    tasks = []
    for task_id, task in data.tasks.items():
        planned = data.plan.get(task_id) or {}
        tasks.append({
            "task_id": task_id, "key": planned.get("key"), "phase": planned.get("phase"),
            "title": task["title"], "state": task["state"],
            "assignee_id": task["assignee_id"], "queue": task["queue"],
            "due_date": _date(task["due_date"]), "start_date": _date(task["start_date"]),
            "milestones": {name: moment(task[f"{name}_at"]) for name in MILESTONES},
            "submission_version": task["submission_version"],
            "revision_rounds": task["revision_rounds"], "in_plan": bool(
                planned and not planned["removed"])})
    for planned in data.planned_only(None):
        tasks.append({
            "task_id": planned["task_id"], "key": planned["key"],
            "phase": planned["phase"], "title": planned["title"], "state": "planned",
            "assignee_id": planned["planned_assignee_id"], "queue": planned["queue"],
            "due_date": _date(planned["due_date"]),
            "start_date": _date(planned["start_date"]),
            "milestones": {name: None for name in MILESTONES},
            "submission_version": 0, "revision_rounds": 0, "in_plan": True})
    campaign = data.campaigns[campaign_id]
    return {"campaign_id": campaign_id, "name": campaign["name"],
            "playbook_id": campaign["playbook_id"],
            "playbook_version": campaign["playbook_version"],
            "team_id": campaign["team_id"], "status": campaign["status"],
            "goal_ids": campaign["goal_ids"],
            **campaign_dates(campaign, (row for row in data.plan.values()
                                        if row["campaign_id"] == campaign_id)),
            "planned_start_date": _date(campaign["start_date"]),
            "tasks": sorted(tasks, key=lambda task: task["task_id"])}


# --- the use cases, checking the policy first ----------------------------------------

class DeliveryReports:
    """The delivery reports as the access policy allows (``ReportFilter.authorize``)."""

    def __init__(self, app: ReportingApplication) -> None:
        self.app = app

    def _read(self, action: str, caller: Caller, report: ReportFilter,
              compute: Callable[[Any, Covered], Any], campaign_in_path: bool = False,
              whole_plans: bool = True) -> Any:
        report.authorize(POLICY, action, caller, self.app._campaign_resource)
        facts = self.app.facts
        facts.catch_up()
        with facts.store.transaction(commit=False) as sql:
            data = covered(facts, sql, report, whole_plans)
            if report.campaign_id is not None and report.campaign_id not in data.campaigns:
                # A campaign the path names does not exist (404); one a filter names is a
                # filter that cannot be answered (422), not a missing resource.
                problem = NotFound if campaign_in_path else InvalidCommand
                raise problem(f"campaign_id: campaign {report.campaign_id} was not planned "
                              f"by {report.now.isoformat()} (or other filters exclude it)")
            return compute(sql, data)

    def progress(self, caller: Caller, report: ReportFilter) -> list[dict[str, Any]]:
        return self._read("report.progress.read", caller, report,  # type: ignore[no-any-return]
                          lambda sql, data: progress_rows(data, report))

    def on_time(self, caller: Caller, report: ReportFilter
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The summary, and the whole attention list (the route pages it)."""
        return self._read("report.on_time.read", caller, report,  # type: ignore[no-any-return]
                          lambda sql, data: (on_time_summary(data, report),
                                             attention_rows(data, report)),
                          whole_plans=False)

    def flow(self, caller: Caller, report: ReportFilter) -> dict[str, Any]:
        def compute(sql: Any, data: Covered) -> dict[str, Any]:
            versions = task_versions(self.app.facts, sql, report, set(data.tasks),
                                     data.campaigns)
            return flow_summary(data, versions, report)
        return self._read("report.flow.read", caller, report,  # type: ignore[no-any-return]
                          compute, whole_plans=False)

    def campaign_state(self, campaign_id: str, caller: Caller,
                       as_of: dt.datetime | None) -> dict[str, Any]:
        report = ReportFilter(as_of=as_of, campaign_id=campaign_id)
        return self._read(  # type: ignore[no-any-return]
            "report.campaign_state.read", caller, report,
            lambda sql, data: campaign_state(data, campaign_id), campaign_in_path=True)

    def campaign_progress(self, campaign_id: str, as_of: dt.datetime | None
                          ) -> dict[str, Any] | None:
        """Unchecked (the progress use case checks): the campaign's dates, status, days to
        launch and phases; None when its planning is not in the facts."""
        facts = self.app.facts
        facts.catch_up()
        report = ReportFilter(as_of=as_of, campaign_id=campaign_id)
        with facts.store.transaction(commit=False) as sql:
            rows = progress_rows(covered(facts, sql, report), report)
        return rows[0] if rows else None
