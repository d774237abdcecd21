"""The system on a secured Kafka: the project's script starts a broker of this module's own
(MARKETFLOW_KAFKA_SECURE=1 deploy/local/kafka.sh: certificates made with keytool, SCRAM
users created with the broker's storage tool, the ACLs of shared/kafka_access.py) on free
ports and a temporary data directory. The walking skeleton runs over SASL_SSL, each
service signed in as its own principal; the ACLs refuse a service writing another's
topic (over SCRAM and over mutual TLS), a wrong password or no client certificate does
not get in, and an authenticated system that claims another source is dead-lettered.

If the broker cannot start the tests fail with the script's output; they never skip."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from shared.config import KafkaSecurity, Settings
from tests.harness import (
    Environment,
    RunningService,
    auth,
    eventually,
    plan_launch,
    start_service,
)
from tests.infrastructure import LOCAL
from tests.unit.test_cloudevents_provenance import crm_message, with_header

pytestmark = pytest.mark.integration
NAMESPACE = "marketflow"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SecureKafka:
    """The secured broker, started and stopped with the project's script."""

    def __init__(self, data_dir: Path) -> None:
        self.sasl_port, self.ssl_port = free_port(), free_port()
        # Only the cache of broker jars is taken from the caller's environment: its
        # Kafka settings (a port, a data directory, .ci/run's) are the plaintext broker's.
        inherited = {name: value for name, value in os.environ.items()
                     if not name.startswith("MARKETFLOW_KAFKA")}
        self.environ = {
            **inherited,
            "MARKETFLOW_KAFKA_SECURE": "1",
            "MARKETFLOW_KAFKA_PORT": str(self.sasl_port),
            "MARKETFLOW_KAFKA_SSL_PORT": str(self.ssl_port),
            "MARKETFLOW_KAFKA_CONTROLLER_PORT": str(free_port()),
            "MARKETFLOW_KAFKA_DATA": str(data_dir),
            "MARKETFLOW_KAFKA_HEAP": "512m",
            "MARKETFLOW_NAMESPACE": NAMESPACE,
            "MARKETFLOW_PYTHON": sys.executable,
        }
        self.data_dir = data_dir
        self.files = data_dir / "secure"

    def script(self, command: str) -> str:
        result = subprocess.run([str(LOCAL / "kafka.sh"), command], env=self.environ,
                                capture_output=True, text=True, timeout=300)
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise AssertionError(f"MARKETFLOW_KAFKA_SECURE=1 kafka.sh {command} failed "
                                 f"(exit {result.returncode}):\n{output[-4000:]}")
        return output

    def log(self) -> list[str]:
        return (self.data_dir / "kafka.log").read_text(errors="replace").splitlines()

    def password(self, principal: str) -> str:
        return (self.files / "passwords" / principal).read_text().strip()

    def sasl(self, principal: str, password: str | None = None) -> tuple[str, KafkaSecurity]:
        """SCRAM-SHA-512 over TLS, as ``principal``."""
        return f"127.0.0.1:{self.sasl_port}", KafkaSecurity(
            "SASL_SSL", sasl_username=principal,
            sasl_password=password or self.password(principal),
            ssl_cafile=self.files / "ca.pem")

    def mutual_tls(self, principal: str | None) -> tuple[str, KafkaSecurity]:
        """TLS with ``principal``'s client certificate (None: without one)."""
        clients = self.files / "clients"
        return f"127.0.0.1:{self.ssl_port}", KafkaSecurity(
            "SSL", ssl_cafile=self.files / "ca.pem",
            ssl_certfile=clients / f"{principal}.pem" if principal else None,
            ssl_keyfile=clients / f"{principal}.key" if principal else None)


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    broker = SecureKafka(tmp_path_factory.mktemp("secure-kafka"))
    try:
        started = time.monotonic()
        output = broker.script("start")
        print(f"secure broker ready in {time.monotonic() - started:.1f}s:\n{output}")
        yield broker
    finally:
        # Whatever happened, no broker outlives the module (kafka.sh stop ends in SIGKILL;
        # its own failure must not hide why the start failed).
        stopped = subprocess.run([str(LOCAL / "kafka.sh"), "stop"], env=broker.environ,
                                 capture_output=True, text=True, timeout=120)
        if stopped.returncode != 0:
            print(f"kafka.sh stop failed:\n{stopped.stdout}{stopped.stderr}")


@dataclass(frozen=True)
class SecureEnvironment(Environment):
    """Each service signs in to the secured broker as its own principal."""

    broker: SecureKafka | None = None

    def settings(self, service: str) -> Settings:
        assert self.broker is not None
        bootstrap, security = self.broker.sasl(service)
        return replace(super().settings(service), kafka_bootstrap=bootstrap,
                       kafka_security=security)


def client_options(connection: tuple[str, KafkaSecurity]) -> dict[str, Any]:
    bootstrap, security = connection
    return replace(Settings(service="planning"), kafka_bootstrap=bootstrap,
                   kafka_security=security).kafka_client_options()


async def produce(connection: tuple[str, KafkaSecurity], topic: str, value: bytes = b"{}",
                  headers: list[tuple[str, bytes]] | None = None, key: bytes | None = None
                  ) -> None:
    producer = AIOKafkaProducer(**client_options(connection), request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers or [])
    finally:
        await producer.stop()


async def read_all(connection: tuple[str, KafkaSecurity], topic: str
                   ) -> list[ConsumerRecord[bytes, bytes]]:
    description = await describe(connection, topic)
    assert description["error_code"] == 0, description
    partitions = [TopicPartition(topic, int(p["partition"]))
                  for p in description["partitions"]]
    consumer = AIOKafkaConsumer(**client_options(connection), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + 20
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            assert time.monotonic() < deadline, f"could not read {topic} to its end in 20s"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def describe(connection: tuple[str, KafkaSecurity], topic: str) -> dict[str, Any]:
    admin = AIOKafkaAdminClient(**client_options(connection))
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return dict(description)


@pytest.fixture
async def system(secure_kafka: SecureKafka, tmp_path: Path
                 ) -> AsyncIterator[dict[str, RunningService]]:
    env = SecureEnvironment(kafka_bootstrap="", namespace=NAMESPACE, store="sqlite",
                            sqlite_dir=tmp_path / "stores", postgres_url="",
                            broker=secure_kafka)
    services: dict[str, RunningService] = {}
    try:
        for name in ("planning", "execution", "notification", "reporting"):
            services[name] = await start_service(env, name)
        yield services
    finally:
        for service in services.values():
            await service.stop()


async def test_walking_skeleton_over_sasl_ssl_one_principal_per_service(
    system: dict[str, RunningService], secure_kafka: SecureKafka,
) -> None:
    planning, execution = system["planning"], system["execution"]
    notification, reporting = system["notification"], system["reporting"]
    for service in system.values():
        async def connected(service: RunningService = service) -> bool:
            status = (await service.http.get("/health/status")).json()
            return bool(status["kafka"]["connected"])  # topics found, relay and inbox up

        # Start-up serves after MARKETFLOW_KAFKA_CONNECT_SECONDS and keeps connecting
        # in the background: on a loaded machine the TLS handshakes may take longer.
        await eventually(connected, timeout=60, what=f"{service.name} connected over SASL_SSL")
    campaign = await plan_launch(planning)

    async def ben_tasks() -> list[dict[str, Any]]:
        response = await execution.http.get("/tasks", params={"assignee": "me"},
                                            headers=auth("ben"))
        rows: list[dict[str, Any]] = response.json()
        return rows if len(rows) == 2 else []

    tasks = await eventually(ben_tasks, what="planning -> execution: ben's two tasks")

    async def ben_notifications() -> list[dict[str, Any]]:
        response = await notification.http.get("/notifications", headers=auth("ben"))
        rows: list[dict[str, Any]] = response.json()
        return rows if len(rows) == 2 else []

    await eventually(ben_notifications, what="execution -> notification: two notifications")

    brief = next(task for task in tasks if task["key"] == "brief")
    for action in ("start", "complete"):
        response = await execution.http.post(f"/tasks/{brief['id']}/{action}",
                                             headers=auth("ben"))
        assert response.status_code == 200, response.text

    async def progress() -> dict[str, Any] | None:
        response = await reporting.http.get(f"/campaigns/{campaign['id']}/progress",
                                            headers=auth("anna"))
        report: dict[str, Any] = response.json()
        return report if response.status_code == 200 and report["tasks_done"] == 1 else None

    report = await eventually(progress, what="all -> reporting: one task of three done")
    assert report["tasks_total"] == 3

    async def planning_sees_done() -> bool:
        response = await planning.http.get(f"/campaigns/{campaign['id']}", headers=auth("anna"))
        statuses = {t["key"]: t["status"] for t in response.json()["tasks"]}
        return bool(statuses["brief"] == "done")

    await eventually(planning_sees_done, what="execution -> planning: task progress")

    # What the services published is on their topics, readable by the operator.
    records = await read_all(secure_kafka.sasl("admin"), f"{NAMESPACE}.planning.events")
    assert {dict(r.headers)["ce_source"] for r in records} == {b"/marketflow/planning"}

    # An authenticated system may write only its own topic, and claiming to be a service
    # there does not make it one: planning (which may write crm's dead-letter topic and
    # nothing else of crm's) sets it aside as a source mismatch.
    body, headers, key = crm_message()
    headers = with_header("ce_source", b"/marketflow/planning")((body, headers, key))[1]
    await produce(secure_kafka.sasl("crm"), f"{NAMESPACE}.crm.events", body, headers, key)

    async def dead_letter() -> list[ConsumerRecord[bytes, bytes]]:
        return await read_all(secure_kafka.sasl("admin"), f"{NAMESPACE}.crm.events.dlq")

    [dead] = await eventually(dead_letter, what="planning to dead-letter the impostor")
    assert dict(dead.headers)["dlq_reason"] == b"source-mismatch"
    assert dict(dead.headers)["dlq_consumer"] == b"planning"


@pytest.mark.parametrize("how", ["sasl_ssl", "mutual_tls"])
async def test_a_service_cannot_write_another_services_topic(
    secure_kafka: SecureKafka, how: str,
) -> None:
    def signed_in(principal: str) -> tuple[str, KafkaSecurity]:
        return (secure_kafka.sasl(principal) if how == "sasl_ssl"
                else secure_kafka.mutual_tls(principal))

    await produce(signed_in("planning"), f"{NAMESPACE}.planning.events")  # its own: allowed
    for principal, topic in [("execution", "planning"), ("crm", "planning"),
                             ("notification", "execution"), ("planning", "crm")]:
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(signed_in(principal), f"{NAMESPACE}.{topic}.events")
    # Reading is granted only where it consumes: execution cannot even see notification's
    # topic, while it does see planning's.
    assert await topic_error(signed_in("execution"), f"{NAMESPACE}.planning.events") == 0
    assert await topic_error(signed_in("execution"), f"{NAMESPACE}.notification.events") \
        == TopicAuthorizationFailedError.errno


async def topic_error(connection: tuple[str, KafkaSecurity], topic: str) -> int:
    """The error code the broker answers a description of ``topic`` with (0: none)."""
    return int((await describe(connection, topic))["error_code"])


async def test_a_wrong_password_or_no_certificate_does_not_get_in(
    secure_kafka: SecureKafka,
) -> None:
    before = len(secure_kafka.log())
    with pytest.raises(KafkaConnectionError):
        await produce(secure_kafka.sasl("planning", password="not-the-password"),
                      f"{NAMESPACE}.planning.events")
    with pytest.raises(KafkaConnectionError):
        await produce(secure_kafka.mutual_tls(None), f"{NAMESPACE}.planning.events")
    # Nor does a client that does not speak TLS to a TLS listener.
    plaintext = (f"127.0.0.1:{secure_kafka.sasl_port}", KafkaSecurity())
    producer = AIOKafkaProducer(**client_options(plaintext), request_timeout_ms=3000)
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()

    # The broker refused them (the client only sees that it could not bootstrap).
    async def refusals() -> list[str]:
        failed = [line for line in secure_kafka.log()[before:]
                  if "Failed authentication" in line]
        return failed if len(failed) >= 2 else []

    failed = await eventually(refusals, what="the broker to log both refusals")
    assert any("invalid credentials with SASL mechanism SCRAM-SHA-512" in line
               for line in failed), failed
    assert any("SSL handshake failed" in line for line in failed), failed
