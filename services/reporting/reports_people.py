"""The people reports: approvals, workload and goals, each live or as of any past instant
and narrowed by a ``ReportFilter``; the use cases check the access policy first.

Every figure reads fact rows valid at the report's instant (``FactsView.rows``), so the
report as of T equals the report computed from the archive cut at T. Definitions:
``docs/reports.md``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from services.reporting.approval_facts import (
    DECISIONS,
    DELEGATIONS,
    SUBMISSIONS,
    ApprovalFactsView,
)
from services.reporting.facts import CAMPAIGNS, MEMBERS, PLAN, TASKS, FactsView, Row
from services.reporting.figures import hours_between, percent_done, percentile
from services.reporting.goal_facts import GOALS, MEASUREMENTS, GoalFactsView
from services.reporting.policy import POLICY
from services.reporting.report_filter import ReportFilter
from shared import kpi as kpi_rules
from shared.policy import Caller, Resource

CLOSED_STATES = ("done", "cancelled")
"""A task in any other state is open (planned, ready, in progress, in review, blocked...)."""
DEFAULT_EFFORT_HOURS = 8.0
"""A task whose plan gives no effort counts one working day."""
WEEKS_AHEAD = 4
"""Workload looks at the report day's ISO week and the three after it."""
IN_CHUNK = 500
"""Ids per ``IN (...)`` list (SQLite's bound-parameter limit is far above)."""


def _micros_to_date(at: int) -> dt.date:
    return dt.datetime.fromtimestamp(at / 1_000_000, dt.UTC).date()


def _iso_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _spread(hours: Sequence[float]) -> dict[str, Any]:
    """How many, the median and the 90th percentile (nearest rank) of turnaround hours."""
    return {"decisions": len(hours), "median_hours": _hours(percentile(hours, 50)),
            "p90_hours": _hours(percentile(hours, 90))}


class PeopleReports:
    """Approvals, workload and goals reports over reporting's fact projections."""

    def __init__(self, facts: FactsView, approvals: ApprovalFactsView,
                 goals: GoalFactsView, campaign_resource: Callable[[str], Resource]) -> None:
        self.facts = facts
        self.approval_facts = approvals
        self.goal_facts = goals
        self._campaign_resource = campaign_resource

    # --- reading helpers ---------------------------------------------------------------

    def _rows_in(self, sql: Any, view: FactsView, table: Any, as_of: dt.datetime | None,
                 column: str, ids: Iterable[str], where: str = "1=1",
                 params: Sequence[Any] = ()) -> list[Row]:
        """``table``'s rows valid at ``as_of`` whose ``column`` is one of ``ids`` (an
        indexed column: the read stays proportional to what the filter picks)."""
        wanted = sorted(set(ids))
        found: list[Row] = []
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start:start + IN_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            found += view.rows(sql, table, as_of, f'"{column}" IN ({marks}) AND ({where})',
                               [*chunk, *params])
        return found

    def _scoped_tasks(self, sql: Any, report: ReportFilter, *, by_campaign: bool = True
                      ) -> list[Row] | None:
        """The tasks (as of the instant) the campaign, playbook, team and member filters
        pick; None when none of them is given (every task)."""
        campaign_filter = by_campaign and any(
            (report.campaign_id, report.playbook_id, report.team_id))
        if not campaign_filter and report.member_id is None:
            return None
        if campaign_filter:
            campaigns = report.campaigns(self.facts, sql)
            tasks = self._rows_in(sql, self.facts, TASKS, report.as_of, "campaign_id",
                                  campaigns)
            if report.member_id is not None:
                tasks = [task for task in tasks if task["assignee_id"] == report.member_id]
            return tasks
        return self.facts.rows(sql, TASKS, report.as_of, "assignee_id = ?",
                               [report.member_id])

    # --- 1. approvals ------------------------------------------------------------------

    def approvals(self, caller: Caller, report: ReportFilter) -> dict[str, Any]:
        report.authorize(POLICY, "report.approvals.read", caller, self._campaign_resource)
        for view in (self.facts, self.approval_facts):
            view.catch_up()
        with self.facts.store.transaction(commit=False) as sql:
            scoped = self._scoped_tasks(sql, report)
            view, as_of = self.approval_facts, report.as_of
            if scoped is None:
                submissions = view.rows(sql, SUBMISSIONS, as_of)
                decisions = view.rows(sql, DECISIONS, as_of)
                delegations = view.rows(sql, DELEGATIONS, as_of)
            else:
                task_ids = [task["task_id"] for task in scoped]
                submissions = self._rows_in(sql, view, SUBMISSIONS, as_of, "task_id",
                                            task_ids)
                decisions = self._rows_in(sql, view, DECISIONS, as_of, "task_id", task_ids)
                delegations = self._rows_in(sql, view, DELEGATIONS, as_of, "task_id",
                                            task_ids)
        in_period = report.in_period
        return {
            "as_of": report.as_of,
            **_turnaround(decisions, submissions, in_period),
            **_revisions(submissions, in_period),
            "delegations": _delegations(delegations, in_period),
        }

    # --- 2. workload -------------------------------------------------------------------

    def workload(self, caller: Caller, report: ReportFilter) -> dict[str, Any]:
        report.authorize(POLICY, "report.workload.read", caller, self._campaign_resource)
        self.facts.catch_up()
        today = report.today
        week_starts = [today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=n)
                       for n in range(WEEKS_AHEAD)]
        about_campaigns = report.campaign_id is not None or report.playbook_id is not None
        with self.facts.store.transaction(commit=False) as sql:
            # The team filter chooses members, not tasks: a member's load is all of theirs.
            scoped = self._scoped_tasks(sql, replace(report, team_id=None))
            if report.member_id is not None:
                members = self.facts.rows(sql, MEMBERS, report.as_of, "member_id = ?",
                                          [report.member_id])
            elif about_campaigns and scoped is not None:  # the members holding their work
                members = self._rows_in(sql, self.facts, MEMBERS, report.as_of, "member_id",
                                        {task["assignee_id"] for task in scoped
                                         if task["assignee_id"]})
            else:
                members = self.facts.rows(sql, MEMBERS, report.as_of)
            members = [m for m in members if m["active"] and (
                report.team_id is None or report.team_id in m["team_ids"])]
            if scoped is None:
                open_tasks = self.facts.rows(
                    sql, TASKS, report.as_of, "state NOT IN (?, ?)", CLOSED_STATES)
            else:
                open_tasks = [task for task in scoped if task["state"] not in CLOSED_STATES]
            counted = [task for task in open_tasks if task["assignee_id"] is not None and (
                (report.start is None and report.end is None)
                or report.in_period(_iso_date(task["due_date"])))]
            plan = {row["task_id"]: row for row in self._rows_in(
                sql, self.facts, PLAN, report.as_of, "task_id",
                [task["task_id"] for task in counted])}
            queues = ([] if report.member_id is not None
                      else self._queue_depths(sql, report, open_tasks))
        by_member: dict[str, list[Row]] = defaultdict(list)
        for task in counted:
            by_member[task["assignee_id"]].append(task)
        if about_campaigns:  # the members who hold their open work (in the period)
            members = [m for m in members if by_member.get(m["member_id"])]
        rows = [_member_load(member, by_member.get(member["member_id"], []), plan,
                             week_starts) for member in members]
        return {"as_of": report.as_of, "day": today,
                "default_effort_hours": DEFAULT_EFFORT_HOURS,
                "members": sorted(rows, key=lambda row: row["member_id"]),
                "queues": queues}

    def _queue_depths(self, sql: Any, report: ReportFilter, open_tasks: list[Row]
                      ) -> list[dict[str, Any]]:
        """Open tasks nobody holds, by queue, of the covered campaigns (the team filter
        here picks the team's campaigns)."""
        if report.team_id is not None and report.campaign_id is None:
            campaigns = report.campaigns(self.facts, sql)
            open_tasks = [task for task in self._rows_in(
                sql, self.facts, TASKS, report.as_of, "campaign_id", campaigns)
                if task["state"] not in CLOSED_STATES]
        depth = Counter(task["queue"] for task in open_tasks
                        if task["assignee_id"] is None and task["queue"])
        return [{"queue": queue, "open_unassigned": count}
                for queue, count in sorted(depth.items())]

    # --- 3. goals ----------------------------------------------------------------------

    def goals(self, caller: Caller, report: ReportFilter) -> dict[str, Any]:
        report.authorize(POLICY, "report.goals.read", caller, self._campaign_resource)
        for view in (self.facts, self.goal_facts):
            view.catch_up()
        filtered = any((report.campaign_id, report.playbook_id, report.team_id,
                        report.member_id))
        with self.facts.store.transaction(commit=False) as sql:
            if report.member_id is not None:  # the campaigns the member holds work of
                held = {task["campaign_id"] for task in self.facts.rows(
                    sql, TASKS, report.as_of, "assignee_id = ?", [report.member_id])}
                if any((report.campaign_id, report.playbook_id, report.team_id)):
                    campaigns = {key: row for key, row in report.campaigns(
                        self.facts, sql).items() if key in held}
                else:  # read only the member's campaigns (by their indexed id)
                    campaigns = {row["campaign_id"]: row for row in self._rows_in(
                        sql, self.facts, CAMPAIGNS, report.as_of, "campaign_id", held)}
            else:
                campaigns = report.campaigns(self.facts, sql)
            if filtered:
                goals = self._rows_in(sql, self.goal_facts, GOALS, report.as_of, "goal_id",
                                      {g for c in campaigns.values() for g in c["goal_ids"]})
            else:
                goals = self.goal_facts.rows(sql, GOALS, report.as_of)
            goals = [goal for goal in goals if _overlaps(goal, report)]
            measurements = self._rows_in(sql, self.goal_facts, MEASUREMENTS, report.as_of,
                                         "goal_id", [goal["goal_id"] for goal in goals])
            goal_ids = {goal["goal_id"] for goal in goals}
            linked = {campaign_id: row for campaign_id, row in campaigns.items()
                      if goal_ids.intersection(row["goal_ids"])}
            progress = self._progress(sql, report.as_of, linked)
        measured: dict[str, list[Row]] = defaultdict(list)
        for row in sorted(measurements, key=lambda m: (m["measured_on"], m["version"])):
            measured[row["goal_id"]].append(row)  # in the order taken, as planning reads
        rows = [_goal_row(goal, measured[goal["goal_id"]], linked, progress)
                for goal in sorted(goals, key=lambda goal: (goal["name"], goal["goal_id"]))]
        return {"as_of": report.as_of, "goals": rows,
                "weighted_attainment_percent": _weighted(rows),
                "goals_unmeasured": sum(row["attainment_percent"] is None for row in rows)}

    def _progress(self, sql: Any, as_of: dt.datetime | None, campaigns: dict[str, Row]
                  ) -> dict[str, dict[str, Any]]:
        """Each campaign's progress as the progress report defines it: done tasks over
        the tasks opened, or planned (not removed) if more."""
        tasks = self._rows_in(sql, self.facts, TASKS, as_of, "campaign_id", campaigns)
        plan = self._rows_in(sql, self.facts, PLAN, as_of, "campaign_id", campaigns,
                             "removed = 0")
        opened, done = Counter(t["campaign_id"] for t in tasks), Counter(
            t["campaign_id"] for t in tasks if t["state"] == "done")
        cancelled = Counter(t["campaign_id"] for t in tasks if t["state"] == "cancelled")
        planned = Counter(row["campaign_id"] for row in plan)
        progress = {}
        for campaign_id, campaign in campaigns.items():
            total = max(opened[campaign_id], planned[campaign_id])
            progress[campaign_id] = {
                "campaign_id": campaign_id, "name": campaign["name"],
                "status": campaign["status"], "tasks_total": total,
                "tasks_done": done[campaign_id],
                "percent_done": percent_done(done[campaign_id], total,
                                             cancelled[campaign_id])}
        return progress


# --- approvals' figures ------------------------------------------------------------------

def _turnaround(decisions: list[Row], submissions: list[Row],
                in_period: Callable[[dt.date | None], bool]) -> dict[str, Any]:
    """Hours from when a decision became the approver's to make (the submission, for the
    first step; the previous step's completion, for later ones) to the decision."""
    submitted = {(row["task_id"], row["submission_version"]): row["submitted_at"]
                 for row in submissions}
    completed: dict[tuple[str, int, int], int] = {}
    for row in decisions:
        if row["step_completed"]:
            key = (row["task_id"], row["submission_version"], row["step"])
            completed[key] = max(completed.get(key, 0), row["decided_at"])
    by_step: dict[int, list[float]] = defaultdict(list)
    by_approver: dict[str, list[float]] = defaultdict(list)
    for row in decisions:
        submission = (row["task_id"], row["submission_version"])
        if submission not in submitted or not in_period(_micros_to_date(row["decided_at"])):
            continue
        reached = completed.get((*submission, row["step"] - 1), submitted[submission])
        hours = hours_between(reached, row["decided_at"])
        by_step[row["step"]].append(hours)
        by_approver[row["approver"]].append(hours)
    return {
        "turnaround_by_step": [{"step": step, **_spread(hours)}
                               for step, hours in sorted(by_step.items())],
        "turnaround_by_approver": [{"approver": approver, **_spread(hours)}
                                   for approver, hours in sorted(by_approver.items())],
    }


def _revisions(submissions: list[Row], in_period: Callable[[dt.date | None], bool]
               ) -> dict[str, Any]:
    """Revision rounds per task (its submissions sent back for changes) among tasks
    submitted in the period, and the share approved at their first submission."""
    rounds: dict[str, int] = {}
    approved_version: dict[str, int] = {}
    for row in submissions:
        if not in_period(_micros_to_date(row["submitted_at"])):
            continue
        task = row["task_id"]
        rounds[task] = rounds.get(task, 0) + (row["outcome"] == "changes_requested")
        if row["outcome"] == "approved":
            approved_version[task] = row["submission_version"]
    counts = list(rounds.values())
    first_time = sum(version == 1 for version in approved_version.values())
    return {
        "revision_rounds": {
            "tasks": len(counts),
            "mean": round(sum(counts) / len(counts), 2) if counts else None,
            "max": max(counts) if counts else None,
            "distribution": [{"rounds": n, "tasks": tasks}
                             for n, tasks in sorted(Counter(counts).items())]},
        "first_time_approval": {
            "tasks_approved": len(approved_version), "approved_first_time": first_time,
            "share_percent": round(100 * first_time / len(approved_version), 1)
            if approved_version else None},
    }


def _delegations(rows: list[Row], in_period: Callable[[dt.date | None], bool]
                 ) -> dict[str, Any]:
    picked = sorted((row for row in rows if in_period(_micros_to_date(row["delegated_at"]))),
                    key=lambda row: (row["delegated_at"], row["delegation_id"]))
    return {"count": len(picked), "handovers": [
        {"task_id": row["task_id"], "kind": row["kind"], "from_member": row["from_member"],
         "to_member": row["to_member"], "absence_id": row["absence_id"],
         "at": dt.datetime.fromtimestamp(row["delegated_at"] / 1_000_000, dt.UTC)}
        for row in picked]}


# --- workload's figures --------------------------------------------------------------------

def _member_load(member: Row, tasks: list[Row], plan: dict[str, Row],
                 week_starts: list[dt.date]) -> dict[str, Any]:
    """A member's open tasks, what falls due in each coming week and its planned effort
    against their weekly capacity. Overdue work counts in the current week's effort."""
    capacity = float(member["weekly_capacity_hours"])
    due_count = [0] * len(week_starts)
    effort = [0.0] * len(week_starts)
    overdue = 0
    for task in tasks:
        due = _iso_date(task["due_date"])
        if due is None:
            continue
        planned = plan.get(task["task_id"])
        hours = (planned["effort_hours"] if planned and not planned["removed"]
                 and planned["effort_hours"] is not None else DEFAULT_EFFORT_HOURS)
        if due < week_starts[0]:
            overdue += 1
            effort[0] += hours
            continue
        week = (due - week_starts[0]).days // 7
        if week < len(week_starts):
            due_count[week] += 1
            effort[week] += hours
    weeks = [{"week": f"{start.isocalendar().year}-W{start.isocalendar().week:02d}",
              "starts_on": start, "tasks_due": due_count[n], "effort_hours": effort[n],
              "over_capacity": effort[n] > capacity}
             for n, start in enumerate(week_starts)]
    return {"member_id": member["member_id"], "name": member["name"],
            "team_ids": member["team_ids"], "weekly_capacity_hours": capacity,
            "open_tasks": len(tasks), "overdue_tasks": overdue, "weeks": weeks,
            "over_capacity_now": weeks[0]["over_capacity"],
            "over_capacity_next_four_weeks": any(week["over_capacity"] for week in weeks)}


# --- goals' figures ------------------------------------------------------------------------

def _overlaps(goal: Row, report: ReportFilter) -> bool:
    """Whether the goal's KPI period overlaps the report's period (none: every goal)."""
    start, end = _iso_date(goal["period_start"]), _iso_date(goal["period_end"])
    return ((report.end is None or start is None or start <= report.end)
            and (report.start is None or end is None or end >= report.start))


def _goal_row(goal: Row, measured: list[Row], linked: dict[str, Row],
              progress: dict[str, dict[str, Any]]) -> dict[str, Any]:
    achieved = kpi_rules.aggregate(goal["kpi_aggregation"], [m["value"] for m in measured])
    return {"goal_id": goal["goal_id"], "name": goal["name"], "weight": goal["weight"],
            "kpi_name": goal["kpi_name"], "kpi_unit": goal["kpi_unit"],
            "kpi_target": goal["kpi_target"], "kpi_aggregation": goal["kpi_aggregation"],
            "period_start": goal["period_start"], "period_end": goal["period_end"],
            "measurements": len(measured), "achieved": achieved,
            "attainment_percent": kpi_rules.attainment_percent(achieved, goal["kpi_target"]),
            "campaigns": [progress[campaign_id] for campaign_id in sorted(linked)
                          if goal["goal_id"] in linked[campaign_id]["goal_ids"]]}


def _weighted(goals: list[dict[str, Any]]) -> float | None:
    """Σ weight·min(attainment, 100) / Σ weight over the goals measured (over-achieving
    one goal does not make up for another); None when none is."""
    measured = [goal for goal in goals if goal["attainment_percent"] is not None]
    total: float = sum(goal["weight"] for goal in measured)
    if not total:
        return None
    weighted: float = sum(goal["weight"] * min(goal["attainment_percent"], 100.0)
                          for goal in measured)
    return round(weighted / total, 1)

