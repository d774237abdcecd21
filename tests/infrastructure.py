"""Finding the real Kafka and PostgreSQL for the tests: never a fake, never a skip.

Order of preference, the same for both:
1. the address in the environment (MARKETFLOW_KAFKA_BOOTSTRAP / MARKETFLOW_POSTGRES_URL);
2. a container through testcontainers, when a Docker engine answers;
3. the project's own scripts (deploy/local/*.sh), which install and start them here.
If none works the test fails with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "deploy" / "local"
# The broker deploy/local/kafka.sh starts (its port can be moved, as .ci/run does).
DEFAULT_KAFKA = f"127.0.0.1:{os.environ.get('MARKETFLOW_KAFKA_PORT', '9092')}"
DEFAULT_POSTGRES = "postgresql://marketflow:marketflow@127.0.0.1:5432/marketflow"


def docker_engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


async def kafka_problem(bootstrap: str) -> str | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), timeout=15)
        await asyncio.wait_for(admin.list_topics(), timeout=15)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await admin.close()
    return None


def postgres_problem(url: str) -> str | None:
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _run_script(script: str) -> str | None:
    result = subprocess.run([str(LOCAL / script), "start"], capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        return f"{script} start failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return None


def provide(
    name: str,
    env_var: str,
    default: str,
    check: Callable[[str], str | None],
    script: str,
    container: Callable[[], tuple[str, object]],
    keep_alive: list[object],
) -> str:
    configured = os.environ.get(env_var)
    if configured:
        problem = check(configured)
        if problem:
            pytest.fail(f"{name} at {env_var}={configured} is not reachable: {problem}",
                        pytrace=False)
        return configured
    if docker_engine_available():
        address, handle = container()
        keep_alive.append(handle)
        return address
    if check(default) is None:
        return default
    failure = _run_script(script)
    problem = failure or check(default)
    if problem:
        pytest.fail(f"{name} could not be started with deploy/local/{script}: {problem}",
                    pytrace=False)
    return default


def kafka_container() -> tuple[str, object]:
    from testcontainers.kafka import KafkaContainer

    kafka = KafkaContainer("apache/kafka:4.1.0").with_kraft()
    kafka.start()
    return kafka.get_bootstrap_server(), kafka


def postgres_container() -> tuple[str, object]:
    from testcontainers.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:16", username="marketflow", password="marketflow",
                                 dbname="marketflow", driver=None)
    postgres.start()
    return postgres.get_connection_url(), postgres


async def delete_topics(bootstrap: str, namespace: str) -> None:
    """Remove a test's topics, so a long-lived broker does not pile up partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()
