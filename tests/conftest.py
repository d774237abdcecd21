from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.harness import Environment
from tests.infrastructure import (
    DEFAULT_KAFKA,
    DEFAULT_POSTGRES,
    delete_topics,
    kafka_container,
    kafka_problem,
    postgres_container,
    postgres_problem,
    provide,
)

_keep_alive: list[object] = []


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return provide("Kafka", "MARKETFLOW_KAFKA_BOOTSTRAP", DEFAULT_KAFKA,
                   lambda address: asyncio.run(kafka_problem(address)),
                   "kafka.sh", kafka_container, _keep_alive)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    return provide("PostgreSQL", "MARKETFLOW_POSTGRES_URL", DEFAULT_POSTGRES, postgres_problem,
                   "postgres.sh", postgres_container, _keep_alive)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database of its own for this test session, dropped afterwards."""
    name = f"marketflow_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _environment(store: str, kafka: str, postgres: str, tmp_path: Path) -> Environment:
    return Environment(kafka_bootstrap=kafka, namespace=f"t{uuid.uuid4().hex[:12]}",
                       store=store, sqlite_dir=tmp_path / "stores", postgres_url=postgres)


@pytest.fixture(params=["sqlite", "postgres"])
async def env(request: pytest.FixtureRequest, kafka_bootstrap: str,
              tmp_path: Path) -> AsyncIterator[Environment]:
    """A fresh namespace (topics, groups, stores) on each production store."""
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    environment = _environment(request.param, kafka_bootstrap, postgres, tmp_path)
    yield environment
    await delete_topics(kafka_bootstrap, environment.namespace)


@pytest.fixture
async def sqlite_env(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Environment]:
    environment = _environment("sqlite", kafka_bootstrap, "", tmp_path)
    yield environment
    await delete_topics(kafka_bootstrap, environment.namespace)


@pytest.fixture
async def postgres_env(kafka_bootstrap: str, postgres_url: str,
                       tmp_path: Path) -> AsyncIterator[Environment]:
    environment = _environment("postgres", kafka_bootstrap, postgres_url, tmp_path)
    yield environment
    await delete_topics(kafka_bootstrap, environment.namespace)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for handle in _keep_alive:
        stop = getattr(handle, "stop", None)
        if stop:
            stop()
