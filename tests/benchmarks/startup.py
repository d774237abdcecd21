"""7. Start-up with history (issue 8): a service restarted on a store of N events must be
ready, and answer, as fast at 1M events as at 100k, in memory that does not grow either.

Each store is seeded in-process through the service's own application (bulk saves of
aggregates with many events each), its read models are folded once in-process (the
service's life before the restart) and its relay is marked as having published
everything; then the real service process is started, the way `make run` starts it, and
timed from process start to ``/health/ready`` answering 200 and to the first real query
answered. The stores grow from one size to the next (only the increment is seeded and
folded). Baseline: the bare FastAPI app started the same way, interleaved with the
services' starts so all see the same machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from eventsourcing.persistence import Tracking

from services.execution.domain import Task
from services.execution.wiring import build as build_execution
from services.reporting.domain import ArchivedEvent, Timeline, timeline_id
from services.reporting.wiring import build as build_reporting
from shared.domain import Aggregate, EventMeta
from shared.projections import open_projections
from shared.runtime import Builder, ensure_topics
from tests.benchmarks.context import ASSIGNEE, BenchContext, peak_rss_mib, stop_process
from tests.benchmarks.results import Result, result, size_label

BATCH_EVENTS = 5000
"""Events per seeding transaction: large enough that seeding 1M takes a minute or two."""
EVENTS_PER_TASK = 100
TASKS_PER_CAMPAIGN = 50
TASK_LIFE = ("opened", "ready", "assigned", "started", "submitted", "approved", "completed")
DUE = "2027-05-01"
TASK_DATA: dict[str, dict[str, Any]] = {
    # What each contract requires besides the ids (the archive holds valid events only).
    "opened": {"title": "Seeded task", "role": "writer", "due_date": DUE},
    # The assignee takes part: they may read the campaign's progress.
    "assigned": {"title": "Seeded task", "assignee_id": ASSIGNEE, "due_date": DUE},
    "started": {"assignee_id": ASSIGNEE},
    "submitted": {"submission_version": 1, "reference": "https://drive.example/seed",
                  "note": "", "pending_approvers": []},
    "approved": {"submission_version": 1},
    "completed": {"on_approval": True},
}
SEEDER = EventMeta(actor="system:bench-seed")
ARCHIVIST = EventMeta(actor="system:reporting")
POLL_SECONDS = 0.02
SETTLE_SECONDS = 0.25
"""After the first answer: the relay's and the clock's first rounds count in the peak."""
READY_TIMEOUT = 120.0
AUTH = {"Authorization": "Bearer bench-ben"}


@dataclass(frozen=True)
class Start:
    ready: float
    """Seconds from process start to /health/ready answering 200."""
    answered: float
    """Seconds from process start to the first real query answered."""
    peak_rss: float
    """MiB, VmHWM after the first answer."""


@dataclass
class Seed:
    """One service's store as it grows: its builder, an endless supply of aggregates,
    and a query whose cost must not depend on how much history there is."""

    service: str
    build: Builder
    aggregates: Iterator[Aggregate]
    query: str


def execution_tasks() -> Iterator[Aggregate]:
    """Tasks opened, made ready and assigned to the benchmark's member, then commented on
    until each holds ``EVENTS_PER_TASK`` events."""
    due = dt.date(2027, 6, 1)
    while True:
        campaign_id = uuid.uuid4()
        for index in range(TASKS_PER_CAMPAIGN):
            task = Task(id=uuid.uuid4(), campaign_id=campaign_id, key=f"task-{index}",
                        title=f"Seeded task {index}", role="writer", due_date=due,
                        meta=SEEDER)
            task.make_ready_if_free(SEEDER)
            task.assign(ASSIGNEE, SEEDER)
            while len(task.pending_events) < EVENTS_PER_TASK:
                task.comment(f"note {len(task.pending_events)}", SEEDER)
            yield task


def reporting_timelines(first_campaign: uuid.UUID) -> Iterator[Aggregate]:
    """Archived campaigns: the campaign planned, then each of its tasks' lives (filed on
    the task's timeline and on the campaign's, as reporting files them)."""
    base_time = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    campaign_uuid = first_campaign
    while True:
        campaign_id = str(campaign_uuid)
        task_ids = [str(uuid.uuid4()) for _ in range(TASKS_PER_CAMPAIGN)]
        planned = ArchivedEvent(
            id=f"{campaign_id}:1", source="/marketflow/planning",
            type="marketflow.planning.campaign.planned.v1", time=base_time,
            subject=campaign_id, actor="anna", aggregate_version=1,
            data={"campaign_id": campaign_id, "name": "Seeded launch",
                  "launch_date": "2027-06-01",
                  "tasks": [{"task_id": task_id, "key": f"t{n}", "title": "Seeded task",
                             "role": "writer", "due_date": DUE, "assignee_id": None}
                            for n, task_id in enumerate(task_ids)]})
        campaign = Timeline(id=timeline_id(campaign_id), subject=campaign_id, first=planned,
                            meta=ARCHIVIST)
        tasks: list[Aggregate] = []
        for index, task_id in enumerate(task_ids):
            task: Timeline | None = None
            for version, kind in enumerate(TASK_LIFE, start=1):
                entry = ArchivedEvent(
                    id=f"{task_id}:{version}", source="/marketflow/execution",
                    type=f"marketflow.execution.task.{kind}.v1",
                    time=base_time + dt.timedelta(minutes=10 * index + version),
                    subject=task_id, actor=ASSIGNEE, aggregate_version=version,
                    data={"task_id": task_id, "campaign_id": campaign_id,
                          **TASK_DATA.get(kind, {})})
                if task is None:
                    task = Timeline(id=timeline_id(task_id), subject=task_id, first=entry,
                                    meta=ARCHIVIST)
                else:
                    task.archive(entry, ARCHIVIST)
                campaign.archive(entry, ARCHIVIST)
            assert task is not None
            tasks.append(task)
        yield campaign
        yield from tasks
        campaign_uuid = uuid.uuid4()


def seeds() -> list[Seed]:
    first_campaign = uuid.uuid4()  # the one reporting's first query asks about
    return [
        Seed("reporting", build_reporting, reporting_timelines(first_campaign),
             f"/campaigns/{first_campaign}/progress"),
        Seed("execution", build_execution, execution_tasks(),
             "/tasks?assignee=me&limit=100"),
    ]


def grow(context: BenchContext, namespace: str, seed: Seed, target: int) -> int:
    """Seed the store up to ``target`` events, fold its read models, mark its outbox as
    published (a restarted service has relayed its past), and close; returns the head."""
    settings = context.settings(seed.service, namespace)
    parts = seed.build(settings)
    app = parts.application
    try:
        started = time.perf_counter()
        head = app.max_notification_id()
        while head < target:
            batch: list[Aggregate] = []
            pending = 0
            while pending < min(BATCH_EVENTS, target - head):
                aggregate = next(seed.aggregates)
                batch.append(aggregate)
                pending += len(aggregate.pending_events)
            app.save(*batch)
            head += pending
        seeded = time.perf_counter()
        open_projections(parts.views)
        folded = time.perf_counter()
        head = app.max_notification_id()
        # Without this the relay would publish the whole seeded history after start-up:
        # a different scenario (a relay catching up after an outage), not a restart.
        # (The name is the one shared.outbox.OutboxRelay records its position under.)
        app.recorder.insert_tracking(Tracking(f"outbox:{settings.topic()}", head))
        asyncio.run(ensure_topics(settings, settings.topic(),
                                  *map(settings.topic, parts.upstream)))
        print(f"[bench] startup: {seed.service} at {head} events "
              f"(seeded {seeded - started:.1f}s, folded {folded - seeded:.1f}s)",
              file=sys.stderr, flush=True)
        return head
    finally:
        app.close()


def time_start(what: str, launch: Callable[[], tuple[subprocess.Popen[bytes], str]],
               query: str, headers: dict[str, str]) -> Start:
    """Start a process, time readiness and the first answer, read its peak RSS, stop it."""
    started = time.perf_counter()
    process, url = launch()
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            ready = _until_ready(client, process, started, what)
            response = client.get(query)
            answered = time.perf_counter() - started
            if response.status_code != 200 or not response.json():
                raise RuntimeError(f"GET {query}: {response.status_code} {response.text}")
        time.sleep(SETTLE_SECONDS)
        return Start(ready, answered, peak_rss_mib(process.pid))
    finally:
        stop_process(process)


def _until_ready(client: httpx.Client, process: subprocess.Popen[bytes], started: float,
                 what: str) -> float:
    while time.perf_counter() - started < READY_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready")
        try:
            if client.get("/health/ready", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{what} was not ready within {READY_TIMEOUT:.0f} s")


def _typical(starts: list[Start]) -> Start:
    """Median times (one slow start on a shared machine is noise); the highest peak."""
    return Start(statistics.median(s.ready for s in starts),
                 statistics.median(s.answered for s in starts),
                 max(s.peak_rss for s in starts))


def startup_with_history(context: BenchContext, sizes: list[int], starts: int
                         ) -> list[Result]:
    namespace = context.namespace("start")
    scale = context.scale
    services = seeds()
    measured: dict[tuple[str, int], Start] = {}
    results: list[Result] = []
    for target in sorted(sizes):
        # One after the other: seeding both at once in threads was slower (the GIL).
        heads = {seed.service: grow(context, namespace, seed, target) for seed in services}
        runs: dict[str, list[Start]] = {"baseline": []}
        for _ in range(starts):
            runs["baseline"].append(time_start(
                "baseline app", context.launch_baseline_app, "/baseline", {}))
            for seed in services:
                runs.setdefault(seed.service, []).append(time_start(
                    seed.service, partial(context.launch_service, seed.service, namespace),
                    seed.query, AUTH))
        base = _typical(runs["baseline"])
        label = size_label(target)
        for seed in services:
            typical = measured[(seed.service, target)] = _typical(runs[seed.service])
            note = (f"; {heads[seed.service]} events in the store, {starts} starts; "
                    "baseline: the bare FastAPI app")
            results += [
                result(f"startup.{seed.service}.ready@{label}", typical.ready, "s",
                       base.ready, scale, "median process start -> /health/ready 200" + note),
                result(f"startup.{seed.service}.first_answer@{label}", typical.answered, "s",
                       base.answered, scale,
                       f"median process start -> GET {seed.query} answered" + note),
                result(f"startup.{seed.service}.peak_rss@{label}", typical.peak_rss, "MiB",
                       base.peak_rss, scale, "highest VmHWM after the first answer" + note),
            ]
    smallest, largest = min(sizes), max(sizes)
    span = f"{size_label(largest)}/{size_label(smallest)}"
    for seed in services:
        small, large = measured[(seed.service, smallest)], measured[(seed.service, largest)]
        note = f"growth: at {size_label(largest)} events / at {size_label(smallest)}"
        results += [
            result(f"startup.{seed.service}.ready.growth@{span}", large.ready, "s",
                   small.ready, scale, note + " (goal: flat, <= 5 s at 1M)"),
            result(f"startup.{seed.service}.first_answer.growth@{span}", large.answered, "s",
                   small.answered, scale, note),
            result(f"startup.{seed.service}.peak_rss.growth@{span}", large.peak_rss, "MiB",
                   small.peak_rss, scale, note + " (goal: <= 1.2x)"),
        ]
    return results
