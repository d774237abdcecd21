"""What a benchmark run works in: real Kafka, a PostgreSQL database of its own, and
service processes started the way `make run` starts them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from services.execution.application import ExecutionApplication
from services.execution.domain import Task
from services.execution.handlers import HANDLERS as EXECUTION_HANDLERS
from shared.config import Settings
from shared.domain import EventMeta
from shared.projections import Projection, SharedLog, catch_up_together
from shared.runtime import READ_MODEL_GATHER_SECONDS, READ_MODEL_POLL_SECONDS
from tests.infrastructure import DEFAULT_KAFKA, delete_topics

ROOT = Path(__file__).resolve().parents[2]
PLANNER = EventMeta(actor="anna")
ASSIGNEE = "ben"
AUDITOR_TOKEN = "bench-auditor"
PLANNER_TOKEN = "bench-pia"
"""A planner: plans and changes campaigns (a contributor's token may not)."""
"""Reads what only readers of everything may (reporting's archive totals)."""


@dataclass
class BenchContext:
    scale: str
    kafka_bootstrap: str
    server_url: str
    database_url: str = ""
    workdir: Path = field(default_factory=lambda: ROOT / "var" / "bench")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, scale: str) -> BenchContext:
        context = cls(
            scale=scale,
            kafka_bootstrap=os.environ.get("MARKETFLOW_KAFKA_BOOTSTRAP", DEFAULT_KAFKA),
            server_url=os.environ.get(
                "MARKETFLOW_POSTGRES_URL",
                "postgresql://marketflow:marketflow@127.0.0.1:5432/marketflow"),
        )
        name = f"marketflow_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(context.server_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        context.database_url = context.server_url.rpartition("/")[0] + "/" + name
        context.workdir.mkdir(parents=True, exist_ok=True)
        return context

    def close(self) -> None:
        for process in self.processes:
            stop_process(process)
        for namespace in self.namespaces:
            asyncio.run(delete_topics(self.kafka_bootstrap, namespace))
        name = self.database_url.rpartition("/")[2]
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        # After a large run the server's autovacuum may still be in it, which this role
        # may not end: wait for it a little, then leave the database and say so.
        for _ in range(10):
            try:
                with psycopg.connect(self.server_url, autocommit=True) as connection:
                    connection.execute(drop)
                return
            except psycopg.errors.InsufficientPrivilege:
                time.sleep(3)
        print(f"[bench] could not drop database {name} (autovacuum still in it?); drop it "
              "later", file=sys.stderr)

    def namespace(self, label: str) -> str:
        namespace = f"bench{label}{uuid.uuid4().hex[:6]}"
        self.namespaces.append(namespace)
        return namespace

    def settings(self, service: str, namespace: str) -> Settings:
        return replace(Settings(service=service), kafka_bootstrap=self.kafka_bootstrap,
                       namespace=namespace, store="postgres", postgres_url=self.database_url,
                       # A single-node broker: production's RF 3 / min ISR 2 cannot be.
                       topic_replication_factor=1, topic_min_insync_replicas=1)

    def tokens_file(self) -> Path:
        path = self.workdir / "tokens.json"
        path.write_text(json.dumps({
            "bench-ben": {"member_id": ASSIGNEE, "name": "Ben"},
            AUDITOR_TOKEN: {"member_id": "audrey", "name": "Audrey", "roles": ["auditor"]},
            PLANNER_TOKEN: {"member_id": "pia", "name": "Pia", "roles": ["admin", "planner"]},
        }))
        return path

    def start_service(self, service: str, namespace: str) -> tuple[subprocess.Popen[bytes], str]:
        process, url = self.launch_service(service, namespace)
        wait_ready(url, process, what=service)
        return process, url

    def launch_service(self, service: str, namespace: str
                       ) -> tuple[subprocess.Popen[bytes], str]:
        """Start ``python -m services.<service>`` as `make run` does, without waiting."""
        port = free_port()
        env = {
            **os.environ,
            "MARKETFLOW_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "MARKETFLOW_NAMESPACE": namespace,
            "MARKETFLOW_STORE": "postgres",
            "MARKETFLOW_POSTGRES_URL": self.database_url,
            f"MARKETFLOW_{service.upper()}_PORT": str(port),
            "MARKETFLOW_TOKENS_FILE": str(self.tokens_file()),
        }
        # Appended: a scenario that restarts a service keeps every start's log.
        log = (self.workdir / f"{namespace}-{service}.log").open("ab")
        process = subprocess.Popen([sys.executable, "-m", f"services.{service}"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        log.close()  # the child holds its own descriptor
        self.processes.append(process)
        return process, f"http://127.0.0.1:{port}"

    def start_baseline_app(self) -> tuple[subprocess.Popen[bytes], str]:
        process, url = self.launch_baseline_app()
        wait_ready(url, process, what="baseline app")
        return process, url

    def launch_baseline_app(self) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        env = {**os.environ, "MARKETFLOW_POSTGRES_URL": self.database_url}
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.benchmarks.baseline_app:app",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env=env, cwd=ROOT)
        self.processes.append(process)
        return process, f"http://127.0.0.1:{port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within 90 s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def execution_app(context: BenchContext, namespace: str) -> ExecutionApplication:
    return ExecutionApplication(context.settings("execution", namespace),
                                handlers=EXECUTION_HANDLERS)


def open_assigned_tasks(app: ExecutionApplication, campaign_id: uuid.UUID,
                        indexes: range) -> list[uuid.UUID]:
    """Tasks opened and assigned in one transaction, as when a campaign is planned."""
    tasks = []
    for index in indexes:
        task = Task(id=uuid.uuid5(campaign_id, f"task-{index}"), campaign_id=campaign_id,
                    key=f"task-{index}", title=f"Benchmark task {index}", role="writer",
                    due_date=dt.date(2027, 6, 1), meta=PLANNER,
                    # The assignee completes it: the command mix (start, submit, complete)
                    # stays what the figures have always measured.
                    complete_on_approval=False)
        task.make_ready_if_free(PLANNER)
        task.assign(ASSIGNEE, PLANNER)
        tasks.append(task)
    app.save_or_conflict(*tasks)
    return [task.id for task in tasks]


def open_assigned_task(app: ExecutionApplication, campaign_id: uuid.UUID,
                       index: int) -> uuid.UUID:
    """One use case of execution's: a task opened from a campaign and assigned."""
    return open_assigned_tasks(app, campaign_id, range(index, index + 1))[0]


def quiet(url: str) -> bool:
    """Nothing waits in the service: relay, inbox and read models all caught up."""
    report = httpx.get(f"{url}/health/status", timeout=10).json()
    lags = [report["relay"]["lag"] if report.get("relay") else 0]
    if report.get("inbox"):
        lags += [partition["lag"] for partition in report["inbox"]["partitions"]]
    lags += [model["lag"] for model in report.get("read_models", [])]
    return all(lag == 0 for lag in lags)


def wait_for(probe: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def following(app: ExecutionApplication, views: Sequence[Projection]) -> Iterator[None]:
    """The read models kept current by a follower woken on every commit, as the service
    runtime does (``ServiceRuntime._follow_read_models``); on exit, they are caught up
    with everything committed inside, so the caller's time includes their upkeep."""
    woken = threading.Event()
    stopping = threading.Event()

    def follow() -> None:
        while not stopping.is_set():
            if woken.wait(timeout=READ_MODEL_POLL_SECONDS):
                time.sleep(READ_MODEL_GATHER_SECONDS)
            woken.clear()
            catch_up_together(views, SharedLog(app))

    for view in views:
        view.ensure_open()
        view.catch_up()
    app.add_commit_listener(woken.set)
    follower = threading.Thread(target=follow, name="read-models", daemon=True)
    follower.start()
    try:
        yield
    finally:
        stopping.set()
        woken.set()
        follower.join()
        for view in views:
            view.catch_up()
