"""The benchmark scenarios of the issues; each returns figures with baselines (the
seventh, start-up with history, is in ``startup.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import httpx
import orjson
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql
from psycopg.types.json import Jsonb

from contracts import execution as execution_contract
from services.execution.application import ExecutionApplication
from services.execution.commands import CompleteTask, StartTask, SubmitTask
from services.reporting.application import ReportingApplication
from services.reporting.domain import ArchivedEvent, Timeline, entry_of, timeline_id
from services.reporting.handlers import HANDLERS as REPORTING_HANDLERS
from services.reporting.views import ProgressView
from shared import cloudevents
from shared.domain import EventMeta
from shared.policy import Caller
from shared.projections import PAGE_SIZE
from shared.runtime import ensure_topics
from tests.benchmarks.context import (
    ASSIGNEE,
    AUDITOR_TOKEN,
    BenchContext,
    execution_app,
    following,
    open_assigned_task,
    open_assigned_tasks,
    peak_rss_mib,
    quiet,
    stop_process,
    wait_for,
)
from tests.benchmarks.results import Result, percentile, result, size_label

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"commands": 40, "http": 40, "concurrency": 4, "pipeline_tasks": 40,
              "rate": 50, "seconds": 1, "replay": [600, 1200], "audit": [600, 1200],
              "queries": 20, "startup": [600, 1200], "starts": 1},
    "small": {"commands": 1500, "http": 1500, "concurrency": 16, "pipeline_tasks": 1500,
              "rate": 200, "seconds": 10, "replay": [30_000, 90_000],
              "audit": [30_000, 90_000], "queries": 200, "startup": [30_000, 90_000],
              "starts": 5},
    "full": {"commands": 5000, "http": 5000, "concurrency": 32, "pipeline_tasks": 5000,
             "rate": 400, "seconds": 20, "replay": [100_000, 300_000, 1_000_000],
             "audit": [100_000, 1_000_000], "queries": 500,
             "startup": [100_000, 1_000_000], "starts": 5},
}
BEN = Caller.person(ASSIGNEE)
CAMPAIGN_SIZE = 50
COMMANDS_PER_TASK = 4


# 1. Durable commands -------------------------------------------------------------

def durable_commands(context: BenchContext) -> list[Result]:
    n = SIZES[context.scale]["commands"]
    app = execution_app(context, context.namespace("cmd"))
    campaign_id = uuid.uuid4()
    started = time.perf_counter()
    with following(app, [app.board, app.absences]):
        task_ids = [open_assigned_task(app, campaign_id, i) for i in range(n)]
        for task_id in task_ids:
            app.start_task(StartTask(task_id=task_id), BEN)
            app.submit_task(SubmitTask(task_id=task_id, note="draft 1",
                                       reference=f"https://drive.example/{task_id}"), BEN)
            app.complete_task(CompleteTask(task_id=task_id), BEN)
    elapsed = time.perf_counter() - started  # read models caught up included
    commands_per_second = COMMANDS_PER_TASK * n / elapsed
    protocol_per_second = _store_protocol_only(app, task_ids)
    app.close()

    with psycopg.connect(context.database_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bench_insert_baseline "
                           "(id bigserial PRIMARY KEY, body jsonb)")
        body = Jsonb({"task_id": str(uuid.uuid4()), "assignee_id": ASSIGNEE, "padding": "x" * 200})
        started = time.perf_counter()
        for _ in range(COMMANDS_PER_TASK * n):  # autocommit: one transaction per INSERT
            connection.execute("INSERT INTO bench_insert_baseline (body) VALUES (%s)", (body,))
        inserts_per_second = COMMANDS_PER_TASK * n / (time.perf_counter() - started)
    return [result("commands.use_case_layer.postgres", commands_per_second, "commands/s",
                   inserts_per_second, context.scale,
                   "open+assign, start, submit, complete via ExecutionApplication, its read models "
                   "followed as in the service and caught up at the end; baseline: "
                   "1-row INSERT transactions"),
            result("commands.event_store_protocol_only.postgres", protocol_per_second,
                   "commands/s", inserts_per_second, context.scale,
                   "the ceiling under the figure above: only the event store's own reads and "
                   "writes of a command (the library's recorder: load, then a locked insert "
                   "of one prepared event), no domain, mapping or read models")]


def _store_protocol_only(app: ExecutionApplication, task_ids: list[uuid.UUID]) -> float:
    """Per command, what the library's PostgreSQL recorder does and nothing else: read the
    aggregate's new events, then insert its next one (LOCK TABLE, NOTIFY, INSERT ... RETURNING,
    COMMIT). The state is a stored event's own bytes, so no mapping or validation runs."""
    recorder = app.recorder
    stored = recorder.select_events(task_ids[0])[-1]
    versions = {task_id: len(recorder.select_events(task_id)) for task_id in task_ids}
    started = time.perf_counter()
    for task_id, version in versions.items():
        # As a cached aggregate is loaded: its events after the version in memory (none).
        recorder.select_events(task_id, gt=version)
        recorder.insert_events([StoredEvent(originator_id=task_id,
                                            originator_version=version + 1,
                                            topic=stored.topic, state=stored.state)])
    elapsed = time.perf_counter() - started
    assert all(len(recorder.select_events(t)) == v + 1 for t, v in versions.items())
    return len(versions) / elapsed


# 2. Commands over HTTP ----------------------------------------------------------

async def _load(url: str, paths: list[str], body: dict[str, Any], concurrency: int,
                headers: dict[str, str]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = list(paths)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        async def worker() -> None:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                response = await client.post(path, json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(paths) / (time.perf_counter() - started), latencies


def http_commands(context: BenchContext, memory: dict[str, float]) -> list[Result]:
    size = SIZES[context.scale]
    n, concurrency = size["http"], size["concurrency"]
    namespace = context.namespace("http")
    app = execution_app(context, namespace)
    campaign_id = uuid.uuid4()
    task_ids = [open_assigned_task(app, campaign_id, i) for i in range(n)]
    app.close()
    process, url = context.start_service("execution", namespace)
    rate, latencies = asyncio.run(_load(
        url, [f"/tasks/{task_id}/start" for task_id in task_ids], {}, concurrency,
        {"Authorization": "Bearer bench-ben"}))
    memory["execution (http load)"] = peak_rss_mib(process.pid)
    stop_process(process)

    baseline_process, baseline_url = context.start_baseline_app()
    base_rate, base_latencies = asyncio.run(_load(
        baseline_url, ["/baseline"] * n, {"task_id": str(uuid.uuid4())}, concurrency, {}))
    memory["baseline app (http load)"] = peak_rss_mib(baseline_process.pid)
    stop_process(baseline_process)
    note = f"POST /tasks/{{id}}/start at concurrency {concurrency}"
    return [
        result("http.start_task.throughput", rate, "requests/s", base_rate, context.scale,
               note),
        result("http.start_task.p50", percentile(latencies, 0.5), "ms",
               percentile(base_latencies, 0.5), context.scale, note),
        result("http.start_task.p99", percentile(latencies, 0.99), "ms",
               percentile(base_latencies, 0.99), context.scale, note),
    ]


# 3. Event pipeline ----------------------------------------------------------------

def _archived_execution_events(url: str) -> int:
    response = httpx.get(f"{url}/archive", headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"},
                         timeout=30)
    counts: dict[str, int] = response.json()["archived_by_type"]
    return sum(count for kind, count in counts.items() if ".execution." in kind)


def _commit_to_archive_latencies(context: BenchContext, namespace: str,
                                 since: dt.datetime) -> list[float]:
    """From reporting's store: when each event became visible, minus when it was made."""
    app = ReportingApplication(context.settings("reporting", namespace))
    first_seen: dict[str, float] = {}
    position = 0
    while rows := app.recorder.select_notifications(start=position + 1, limit=1000):
        position = rows[-1].id
        for row in rows:
            stored = app.mapper.to_domain_event(row)
            entry = entry_of(stored)
            if entry is None or ".execution." not in entry.type or entry.time < since:
                continue
            latency = (stored.timestamp - entry.time).total_seconds() * 1000  # type: ignore[attr-defined]
            first_seen[entry.id] = min(latency, first_seen.get(entry.id, latency))
    app.close()
    return list(first_seen.values())


def event_pipeline(context: BenchContext, memory: dict[str, float]) -> list[Result]:
    size = SIZES[context.scale]
    namespace = context.namespace("pipe")
    processes = {service: context.start_service(service, namespace)
                 for service in ("execution", "reporting", "notification", "planning")}
    reporting_url = processes["reporting"][1]
    app = execution_app(context, namespace)
    campaign_id = uuid.uuid4()

    # Sustained throughput: campaigns of 50 tasks committed as fast as possible (one
    # transaction each, as when execution opens a planned campaign), until all are archived.
    n_tasks = size["pipeline_tasks"]
    started = time.perf_counter()
    for first in range(0, n_tasks, CAMPAIGN_SIZE):
        open_assigned_tasks(app, campaign_id, range(first, min(first + CAMPAIGN_SIZE, n_tasks)))
    burst = app.max_notification_id()  # every event the burst committed
    wait_for(lambda: _archived_execution_events(reporting_url) >= burst, 300,
             "reporting to archive the burst")
    throughput = burst / (time.perf_counter() - started)
    # The burst's aftermath (notifications, planning's progress, read models) settles
    # first: the latency below is that of a system running at the offered rate, not of
    # one still digesting the burst.
    wait_for(lambda: all(quiet(url) for _, url in processes.values()), 300,
             "every service to catch up after the burst")

    # Latency at a fixed offered rate of events/s (a task is several events).
    rate, seconds = size["rate"], size["seconds"]
    events_per_task = burst / n_tasks
    since = dt.datetime.now(dt.UTC)
    interval = events_per_task / rate
    next_at = time.perf_counter()
    for i in range(int(rate * seconds / events_per_task)):
        next_at += interval
        open_assigned_task(app, campaign_id, n_tasks + i)
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    total = app.max_notification_id()
    wait_for(lambda: _archived_execution_events(reporting_url) >= total, 300,
             "reporting to archive the paced events")
    app.close()
    latencies = _commit_to_archive_latencies(context, namespace, since)
    for service, (process, _) in processes.items():
        memory[f"{service} (pipeline)"] = peak_rss_mib(process.pid)
        stop_process(process)

    body, headers = _sample_message()
    base_throughput, _ = asyncio.run(_raw_kafka(context, body, headers, burst, None))
    _, base_latencies = asyncio.run(_raw_kafka(context, body, headers,
                                               int(rate * seconds), rate))
    note = "execution store -> relay -> Kafka -> reporting archive; baseline: raw aiokafka"
    return [
        result("pipeline.sustained", throughput, "events/s", base_throughput, context.scale,
               note),
        result(f"pipeline.commit_to_visible.p50@{rate}/s", percentile(latencies, 0.5), "ms",
               percentile(base_latencies, 0.5), context.scale, note),
        result(f"pipeline.commit_to_visible.p99@{rate}/s", percentile(latencies, 0.99), "ms",
               percentile(base_latencies, 0.99), context.scale, note),
    ]


def _sample_message() -> tuple[bytes, cloudevents.Headers]:
    task_id = uuid.uuid4()
    event = execution_contract.TaskAssigned(
        task_id=task_id, campaign_id=uuid.uuid4(), title="Benchmark task 1",
        assignee_id=ASSIGNEE, due_date=dt.date(2027, 6, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:2", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=2, sequence=1)
    return cloudevents.encode(envelope, event)


async def _raw_kafka(context: BenchContext, body: bytes, headers: cloudevents.Headers,
                     n: int, rate: float | None) -> tuple[float, list[float]]:
    """Produce n byte-identical messages (acks=all, idempotent) and consume them."""
    topic = f"{context.namespace('raw')}.baseline"
    settings = context.settings("execution", "raw")
    await ensure_topics(settings, topic)
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=context.kafka_bootstrap,
                                group_id=topic, auto_offset_reset="earliest")
    producer = AIOKafkaProducer(bootstrap_servers=context.kafka_bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        async def consume() -> None:
            received = 0
            while received < n:
                batches = await consumer.getmany(timeout_ms=1000)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        index = int(record.key or b"0")
                        latencies.append((now - sent_at[index]) * 1000)
                        received += 1

        consuming = asyncio.create_task(consume())
        started = time.perf_counter()
        next_at = started
        futures = []
        for index in range(n):
            sent_at[index] = time.perf_counter()
            futures.append(await producer.send(topic, body, key=str(index).encode(),
                                               headers=headers))
            if rate:
                next_at += 1 / rate
                pause = next_at - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
        await asyncio.gather(*futures)
        await asyncio.wait_for(consuming, timeout=120)
        return n / (time.perf_counter() - started), latencies
    finally:
        await producer.stop()
        await consumer.stop()


# 4 and 5. Replay and audit queries on a large archive ------------------------------

TASKS_PER_CAMPAIGN = 50
ARCHIVIST = EventMeta(actor="system:reporting")


def _grow_archive(app: ReportingApplication, target: int, subjects: list[tuple[str, str]]
                  ) -> None:
    """Archive campaigns (planned, then 50 tasks opened, assigned, completed) until the
    store holds ``target`` events; each task event is filed under the task and its
    campaign."""
    base_time = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    while (app.recorder.max_notification_id() or 0) < target:
        campaign_id = str(uuid.uuid4())
        planned = ArchivedEvent(
            id=f"{campaign_id}:1", source="/marketflow/planning",
            type="marketflow.planning.campaign.planned.v1",
            time=base_time + dt.timedelta(minutes=len(subjects)), subject=campaign_id,
            actor="anna", aggregate_version=1,
            data={"campaign_id": campaign_id, "name": "Benchmark campaign",
                  "launch_date": "2026-06-01", "tasks": [{}] * TASKS_PER_CAMPAIGN})
        campaign = Timeline(id=timeline_id(campaign_id), subject=campaign_id, first=planned,
                            meta=ARCHIVIST)
        tasks = []
        for _ in range(TASKS_PER_CAMPAIGN):
            task_id = str(uuid.uuid4())
            task: Timeline | None = None
            for version, kind in enumerate(("opened", "assigned", "completed"), start=1):
                moment = base_time + dt.timedelta(minutes=len(subjects) + version)
                data = {"task_id": task_id, "campaign_id": campaign_id}
                entry = ArchivedEvent(
                    id=f"{task_id}:{version}", source="/marketflow/execution",
                    type=f"marketflow.execution.task.{kind}.v1", time=moment, subject=task_id,
                    actor="anna", aggregate_version=version, data=data)
                if task is None:
                    task = Timeline(id=timeline_id(task_id), subject=task_id, first=entry,
                                    meta=ARCHIVIST)
                else:
                    task.archive(entry, ARCHIVIST)
                campaign.archive(entry, ARCHIVIST)
            tasks.append(task)
            subjects.append((task_id, campaign_id))
        app.save(campaign, *tasks)


def _raw_read(app: ReportingApplication, count: int) -> float:
    """Baseline: page through the same rows and decode them, no projection work."""
    started = time.perf_counter()
    position, seen = 0, 0
    while True:
        rows = app.recorder.select_notifications(start=position + 1, limit=1000)
        for row in rows:
            orjson.loads(row.state)
        seen += len(rows)
        if len(rows) < 1000:
            break
        position = rows[-1].id
    assert seen >= count
    return seen / (time.perf_counter() - started)


def _timed(calls: list[Callable[[], object]]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def replay_and_audit(context: BenchContext) -> list[Result]:
    size = SIZES[context.scale]
    app = ReportingApplication(context.settings("reporting", context.namespace("replay")),
                               handlers=REPORTING_HANDLERS)
    subjects: list[tuple[str, str]] = []
    results: list[Result] = []
    for target in sorted(set(size["replay"]) | set(size["audit"])):
        _grow_archive(app, target, subjects)
        events = app.recorder.max_notification_id() or 0
        label = size_label(target)
        if target in size["replay"]:
            baseline = _raw_read(app, events)
            # The live tables survive between sizes (a catch-up would fold only what is
            # new since the last size): rebuild folds the whole archive into fresh tables.
            started = time.perf_counter()
            ProgressView(app).rebuild()
            rate = events / (time.perf_counter() - started)
            results.append(result(f"replay.reporting_read_models@{label}", rate, "events/s",
                                  baseline, context.scale,
                                  "rebuild: fold the whole archive into fresh ProgressView "
                                  "tables and swap them in; baseline: read + decode the "
                                  "same rows"))
            results.append(_audit_verify(app, label, context.scale))
        if target in size["audit"]:
            results += _audit(app, subjects, size["queries"], label, context.scale)
    app.close()
    return results


def _audit(app: ReportingApplication, subjects: list[tuple[str, str]],
           queries: int, label: str, scale: str) -> list[Result]:
    indexes = random.Random(7).sample(range(len(subjects)), min(queries, len(subjects)))
    tasks = [subjects[index][0] for index in indexes]
    campaigns = [subjects[index][1] for index in indexes]
    # Each campaign as it stood when the picked task was opened: mid-way through it.
    moments = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=index + 1)
               for index in indexes]
    history = _timed([partial(app.history, task) for task in tasks])
    as_of_samples = _timed([partial(app.campaign_progress_as_of, campaign, moment)
                            for campaign, moment in zip(campaigns, moments, strict=True)])
    statement = sql.SQL("SELECT state FROM {}.{} WHERE originator_id = %s "
                        "ORDER BY originator_version").format(
        sql.Identifier(app.settings.postgres_schema),
        sql.Identifier(cast(PostgresApplicationRecorder, app.recorder).events_table_name))
    with psycopg.connect(app.settings.postgres_url) as connection:
        def select(subject: str) -> object:
            return connection.execute(statement, (timeline_id(subject),)).fetchall()

        raw_task = _timed([partial(select, task) for task in tasks])
        raw_campaign = _timed([partial(select, campaign) for campaign in campaigns])
    note = "baseline: SELECT of the same aggregate's rows with psycopg"
    return [
        result(f"audit.task_history.p50@{label}", percentile(history, 0.5), "ms",
               percentile(raw_task, 0.5), scale, note),
        result(f"audit.task_history.p99@{label}", percentile(history, 0.99), "ms",
               percentile(raw_task, 0.99), scale, note),
        result(f"audit.campaign_as_of.p50@{label}", percentile(as_of_samples, 0.5), "ms",
               percentile(raw_campaign, 0.5), scale, note),
        result(f"audit.campaign_as_of.p99@{label}", percentile(as_of_samples, 0.99), "ms",
               percentile(raw_campaign, 0.99), scale, note),
    ]


def _audit_verify(app: ReportingApplication, label: str, scale: str) -> Result:
    """``marketflow audit verify``'s work: rehash the stored archive, fold the tree and
    compare with the recorded leaves and a signed head; baseline: read the same rows and
    SHA-256 their stored bytes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from services.reporting.audit_verify import verify_archive
    from services.reporting.transparency import MerkleView, Transparency

    view = MerkleView(app)
    view.rebuild()
    transparency = Transparency(app, view, key=Ed25519PrivateKey.generate())
    head = transparency.publish()
    started = time.perf_counter()
    position = 0
    while True:
        rows = app.recorder.select_notifications(start=position + 1, limit=PAGE_SIZE)
        for row in rows:
            hashlib.sha256(row.state).digest()
        if len(rows) < PAGE_SIZE:
            break
        position = rows[-1].id
    baseline = head.tree_size / (time.perf_counter() - started)
    started = time.perf_counter()
    verdict = verify_archive(app, view, head, transparency.public_key)
    rate = head.tree_size / (time.perf_counter() - started)
    assert verdict.ok, verdict.findings
    return result(f"audit.verify@{label}", rate, "events/s", baseline, scale,
                  "audit verify: rehash the stored archive against a signed tree head "
                  "(events = leaves); baseline: read the same rows and SHA-256 their "
                  "stored bytes")


# 6. Memory --------------------------------------------------------------------------

def memory_results(memory: dict[str, float], scale: str) -> list[Result]:
    baseline = memory.get("baseline app (http load)", float("nan"))
    return [result(f"memory.peak_rss.{name}", value, "MiB", baseline, scale,
                   "VmHWM; baseline: the bare FastAPI+psycopg app under the same load")
            for name, value in sorted(memory.items()) if not name.startswith("baseline")]


