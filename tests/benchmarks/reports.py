"""8. Reports, export and audit verify on a large archive (issue 12's benchmarks).

At each size (``SIZES[scale]["reports"]`` archived events): the time to fold the new
events into the reports' facts against reading and decoding the same rows; each report
for one campaign (p50/p99 over campaigns picked at random) against a raw indexed SELECT
of that campaign's current task rows; the export's throughput (JSON Lines, CSV, OCEL)
against reading the same rows raw.
"""

from __future__ import annotations

import gc
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import sql

from services.reporting.activity import Period
from services.reporting.application import ReportingApplication
from services.reporting.approval_facts import ApprovalFactsView
from services.reporting.audit_reads import AuditReads
from services.reporting.export import ExportFilter, csv_lines, jsonl
from services.reporting.goal_facts import GoalFactsView
from services.reporting.handlers import HANDLERS as REPORTING_HANDLERS
from services.reporting.ocel import ocel
from services.reporting.report_filter import ReportFilter
from services.reporting.reports_delivery import DeliveryReports
from services.reporting.reports_people import PeopleReports
from shared.access import AccessView
from shared.policy import Caller, Role
from shared.projections import PageRequest, Projection
from tests.benchmarks.context import BenchContext
from tests.benchmarks.report_archive import MEMBERS, ArchiveGrowth
from tests.benchmarks.results import Result, percentile, result, size_label

AUDITOR = Caller(member_id="audrey", roles=frozenset({Role.AUDITOR}))
Report = Callable[[ReportingApplication, ReportFilter], object]


def report_calls(app: ReportingApplication) -> tuple[dict[str, Report], list[Projection]]:
    """Every report, asked for one campaign as an auditor would, and one member's
    activity (who did what); and the read models they read."""
    delivery = DeliveryReports(app)
    people = PeopleReports(app.facts, ApprovalFactsView(app), GoalFactsView(app),
                           app._campaign_resource)
    audit = AuditReads(app, AccessView(app))
    first_page = PageRequest(limit=100, cursor=None)

    def activity(app: ReportingApplication, selection: ReportFilter) -> object:
        member = MEMBERS[int(uuid.UUID(str(selection.campaign_id))) % len(MEMBERS)]
        return audit.member_activity(AUDITOR, member, Period(), "all", first_page)

    views: list[Projection] = [app.facts, people.approval_facts, people.goal_facts,
                               audit.activity, app.archive, app.progress]
    return {
        "campaign_progress": lambda app, selection: app.campaign_report(
            str(selection.campaign_id), AUDITOR),
        "progress": lambda app, selection: delivery.progress(AUDITOR, selection),
        "on_time": lambda app, selection: delivery.on_time(AUDITOR, selection),
        "flow": lambda app, selection: delivery.flow(AUDITOR, selection),
        "campaign_state": lambda app, selection: delivery.campaign_state(
            str(selection.campaign_id), AUDITOR, selection.as_of),
        "approvals": lambda app, selection: people.approvals(AUDITOR, selection),
        "workload": lambda app, selection: people.workload(AUDITOR, selection),
        "goals": lambda app, selection: people.goals(AUDITOR, selection),
        "member_activity": activity,
    }, views


def _drain(chunks: Iterator[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def _fold_reports(app: ReportingApplication, views: list[Projection], label: str,
                  scale: str, since: int) -> Result:
    """Fold what the archive gained since the last size into the reports' read models."""
    head = app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    position = since
    while True:
        rows = app.recorder.select_notifications(start=position + 1, limit=1000)
        for row in rows:
            app.mapper.to_domain_event(row)
        if len(rows) < 1000:
            break
        position = rows[-1].id
    baseline = (head - since) / (time.perf_counter() - started)
    started = time.perf_counter()
    for view in views:
        view.catch_up()
    rate = (head - since) / (time.perf_counter() - started)
    return result(f"reports.fold@{label}", rate, "stored events/s", baseline, scale,
                  f"fold the archive's new stored events into the {len(views)} read models "
                  "the reports, export and activity read; baseline: read and decode the "
                  "same rows once")


def _report_latencies(app: ReportingApplication, calls: dict[str, Report],
                      context: BenchContext, growth: ArchiveGrowth, queries: int,
                      label: str) -> list[Result]:
    picked = random.Random(5).sample(growth.campaigns, min(queries, len(growth.campaigns)))
    table = sql.Identifier(app.settings.postgres_schema, "rm_fact_tasks")
    statement = sql.SQL("SELECT * FROM {} WHERE campaign_id = %s AND valid_to IS NULL"
                        ).format(table)
    results: list[Result] = []
    with psycopg.connect(app.settings.postgres_url) as connection:
        raw = []
        for campaign_id in picked:
            started = time.perf_counter()
            connection.execute(statement, (campaign_id,)).fetchall()
            raw.append((time.perf_counter() - started) * 1000)
    for name, call in calls.items():
        call(app, ReportFilter(campaign_id=picked[0]))  # its read models caught up first
        gc.collect()
        gc.freeze()  # as the service does once started (``shared/runtime.py``)
        samples = []
        for campaign_id in picked:
            selection = ReportFilter(campaign_id=campaign_id)
            started = time.perf_counter()
            call(app, selection)
            samples.append((time.perf_counter() - started) * 1000)
        note = ("one campaign's report as an auditor asks it; baseline: SELECT of the "
                "campaign's current task rows with psycopg")
        results += [
            result(f"report.{name}.p50@{label}", percentile(samples, 0.5), "ms",
                   percentile(raw, 0.5), context.scale, note),
            result(f"report.{name}.p99@{label}", percentile(samples, 0.99), "ms",
                   percentile(raw, 0.99), context.scale, note)]
    return results


def _export_throughput(app: ReportingApplication, label: str, scale: str) -> list[Result]:
    app.archive.catch_up()
    table = sql.Identifier(app.settings.postgres_schema, "rm_archive_events")
    started = time.perf_counter()
    with (psycopg.connect(app.settings.postgres_url) as connection,
          connection.cursor(name="raw_export") as cursor):
        cursor.itersize = 1000
        cursor.execute(sql.SQL('SELECT * FROM {} ORDER BY "at", "seq"').format(table))
        count = sum(1 for _ in cursor)
    baseline = count / (time.perf_counter() - started)
    formats: dict[str, Callable[[Iterator[dict[str, Any]]], Iterator[bytes]]] = {
        "jsonl": jsonl, "csv": csv_lines, "ocel": ocel}
    results = []
    for name, render in formats.items():
        started = time.perf_counter()
        _drain(render(app.archive.rows(ExportFilter())))
        rate = count / (time.perf_counter() - started)
        results.append(result(f"export.{name}@{label}", rate, "events/s", baseline, scale,
                              "the whole archive exported (streamed, rendered); baseline: "
                              "a server-side cursor reading the same rows in the same order"))
    return results


def reports_and_export(context: BenchContext, sizes: list[int], queries: int
                       ) -> list[Result]:
    app = ReportingApplication(context.settings("reporting", context.namespace("reports")),
                               handlers=REPORTING_HANDLERS)
    growth = ArchiveGrowth(app)
    calls, views = report_calls(app)
    results: list[Result] = []
    folded = 0
    try:
        for target in sizes:
            growth.grow_to(target)
            label = size_label(target)
            results.append(_fold_reports(app, views, label, context.scale, folded))
            folded = app.recorder.max_notification_id() or 0
            results += _report_latencies(app, calls, context, growth, queries, label)
            results += _export_throughput(app, label, context.scale)
    finally:
        app.close()
    return results
