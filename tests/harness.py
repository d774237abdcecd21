"""Running real services inside the test process: the same runtime ``make run`` uses
(event store, outbox relay, FastStream inbox, views, HTTP app), against real Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi.testclient import TestClient

from services.execution.wiring import build as build_execution
from services.notification.wiring import build as build_notification
from services.planning.wiring import build as build_planning
from services.reporting.wiring import build as build_reporting
from shared.auth import Member, TokenRegistry
from shared.cloudevents import InboundEvent
from shared.config import Settings
from shared.policy import Role
from shared.runtime import Builder, ServiceRuntime, create_http_app

BUILDERS: dict[str, Builder] = {
    "planning": build_planning,
    "execution": build_execution,
    "notification": build_notification,
    "reporting": build_reporting,
}

MEMBERS = {
    # Anna administers and plans (as make run's demo does); the others are contributors.
    "token-anna": Member("anna", "Anna Planner", frozenset({Role.ADMIN, Role.PLANNER})),
    "token-ben": Member("ben", "Ben Writer"),
    "token-carla": Member("carla", "Carla Designer"),
    "token-dave": Member("dave", "Dave Brand"),
    "token-erin": Member("erin", "Erin Brand"),
    "token-lee": Member("lee", "Lee Legal"),
    "token-mette": Member("mette", "Mette Legal"),
    "token-soren": Member("soren", "Soren Legal"),
}
TOKENS = TokenRegistry(MEMBERS)
T = TypeVar("T")


def auth(member_id: str) -> dict[str, str]:
    token = next(token for token, member in MEMBERS.items() if member.member_id == member_id)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RunningService:
    name: str
    settings: Settings
    runtime: ServiceRuntime
    http: httpx.AsyncClient
    transport: httpx.AsyncBaseTransport
    """The app in process, for other HTTP clients (e.g. generated ones) to reach it."""

    @property
    def application(self) -> Any:
        return self.runtime.application

    async def stop(self) -> None:
        await self.http.aclose()
        await self.runtime.stop()


@dataclass(frozen=True)
class Environment:
    """Where a test's services keep their state; unique per test."""

    kafka_bootstrap: str
    namespace: str
    store: str
    sqlite_dir: Path
    postgres_url: str

    def settings(self, service: str) -> Settings:
        return replace(
            Settings(service=service),
            kafka_bootstrap=self.kafka_bootstrap,
            namespace=self.namespace,
            store=self.store,  # type: ignore[arg-type]
            sqlite_dir=self.sqlite_dir,
            postgres_url=self.postgres_url,
            relay_poll_seconds=0.02,
            # The test broker is a single node: production's RF 3 / min ISR 2 cannot be.
            topic_replication_factor=1,
            topic_min_insync_replicas=1,
        )


async def start_service(env: Environment, name: str,
                        customize: Callable[[ServiceRuntime], None] | None = None
                        ) -> RunningService:
    settings = env.settings(name)
    app = create_http_app(settings, BUILDERS[name], tokens=TOKENS)
    runtime: ServiceRuntime = app.state.runtime
    if customize:
        customize(runtime)
    await runtime.start()
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
    return RunningService(name, settings, runtime, client, transport)


@contextlib.contextmanager
def fed_client(env: Environment, name: str, events: Iterable[InboundEvent]
               ) -> Iterator[TestClient]:
    """The service's HTTP app in-process on ``env``'s store (no broker, no lifespan),
    its inbox fed ``events`` directly; closed afterwards."""
    app = create_http_app(env.settings(name), BUILDERS[name], tokens=TOKENS)
    application = app.state.runtime.application
    try:
        for event in events:
            assert application.process_inbound(event)
        yield TestClient(app, raise_server_exceptions=False)
    finally:
        application.close()


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0,
                     what: str = "condition") -> T:
    """Poll until ``probe`` returns something truthy; fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


LAUNCH_PLAYBOOK = {
    "name": "Product launch",
    "tasks": [
        {"key": "brief", "title": "Write launch brief", "role": "writer", "offset_days": -20},
        {"key": "visuals", "title": "Design key visuals", "role": "designer", "offset_days": -10},
        {"key": "post", "title": "Publish launch post", "role": "writer", "offset_days": 0},
    ],
}


async def register_members(planning: RunningService, *member_ids: str) -> None:
    """Members planning's directory must know before a campaign names them; those
    already registered are left as they are."""
    for member_id in member_ids:
        path = f"/members/{member_id}"
        if (await planning.http.get(path, headers=auth("anna"))).status_code == 404:
            response = await planning.http.put(path, headers=auth("anna"),
                                               json={"name": member_id.title()})
            assert response.status_code == 200, response.text


async def plan_launch(planning: RunningService, assignments: dict[str, str] | None = None
                      ) -> dict[str, Any]:
    assignments = assignments or {"writer": "ben", "designer": "carla"}
    await register_members(planning, *assignments.values())
    response = await planning.http.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=auth("anna"))
    assert response.status_code == 201, response.text
    playbook = response.json()
    response = await planning.http.post("/campaigns", headers=auth("anna"), json={
        "playbook_id": playbook["id"], "name": "Spring launch", "launch_date": "2027-03-01",
        "assignments": assignments,
    })
    assert response.status_code == 201, response.text
    campaign: dict[str, Any] = response.json()
    return campaign


def count_events(service: RunningService, event_class: type) -> int:
    app = service.application
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    return sum(1 for n in notifications if isinstance(app.mapper.to_domain_event(n), event_class))


async def read_topic(bootstrap: str, topic: str, timeout: float = 20.0
                     ) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``topic`` right now, from all partitions (one ``getmany`` may
    return only some of them), in partition and offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, number)
                      for number in sorted(await _partitions(bootstrap, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end in {timeout}s")
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return sorted(records, key=lambda record: (record.partition, record.offset))
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> set[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        descriptions = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = {int(p["partition"]) for d in descriptions for p in d.get("partitions", [])}
    if not partitions:
        raise AssertionError(f"topic {topic} does not exist")
    return partitions


RawMessage = tuple[bytes, bytes, list[tuple[str, bytes]]]
"""(key, body, headers) exactly as they go on the wire."""


async def publish_raw(bootstrap: str, topic: str, messages: list[RawMessage]) -> None:
    """Send messages as another system would (or a poisoned one), in order, each acked."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, body, headers in messages:
            await producer.send_and_wait(topic, body, key=key, headers=headers)
    finally:
        await producer.stop()


@dataclass(frozen=True)
class TunedEnvironment(Environment):
    """The same environment, its services running with some settings changed."""

    overrides: tuple[tuple[str, Any], ...] = ()

    def settings(self, service: str) -> Settings:
        return replace(super().settings(service), **dict(self.overrides))


def tuned(env: Environment, **overrides: Any) -> Environment:
    """E.g. ``tuned(env, stall_seconds=1.0)``: same namespace, stores and broker."""
    base = {f.name: getattr(env, f.name) for f in fields(Environment)}
    return TunedEnvironment(**base, overrides=tuple(overrides.items()))

