"""Topics are created with the configured partitions, replication factor and
min.insync.replicas, and a service refuses to start on a topic that has less than
configured, naming the topic, the setting, what it has and what is configured. Real Kafka
(one broker, so "more replicas than exist" is shown by configuring 3)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import UPSTREAM
from shared.runtime import ServiceRuntime, ensure_topics
from shared.topic_layout import TopicLayout, TopicLayoutMismatch, describe_layout
from tests.harness import Environment, eventually, start_service, tuned

pytestmark = pytest.mark.integration


async def create_topic(bootstrap: str, name: str, partitions: int,
                       configs: dict[str, str] | None = None) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})])
    finally:
        await admin.close()


async def layout_of(bootstrap: str, *topics: str) -> dict[str, TopicLayout]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await describe_layout(admin, list(topics))
    finally:
        await admin.close()


async def test_missing_topics_are_created_as_configured(sqlite_env: Environment) -> None:
    settings = replace(sqlite_env.settings("planning"), topic_partitions=2)
    await ensure_topics(settings, settings.topic())
    layouts = await layout_of(sqlite_env.kafka_bootstrap, settings.topic(),
                              settings.dead_letter_topic())
    assert set(layouts.values()) == {TopicLayout(2, 1, 1)}
    await ensure_topics(settings, settings.topic())  # what it created, it accepts


async def test_a_service_refuses_a_topic_with_fewer_partitions(sqlite_env: Environment
                                                               ) -> None:
    topic = sqlite_env.settings("planning").topic()
    await create_topic(sqlite_env.kafka_bootstrap, topic, partitions=1)
    with pytest.raises(TopicLayoutMismatch) as refused:
        await start_service(sqlite_env, "planning")  # configured: 3 partitions
    message = str(refused.value)
    assert f"topic {topic}: partitions is 1, configured 3" in message
    assert "MARKETFLOW_KAFKA_TOPIC_PARTITIONS" in message
    # Its own dead-letter topic, created by that attempt, is as configured.
    assert f"topic {topic}.dlq" not in message


async def test_a_lower_min_insync_replicas_is_refused(sqlite_env: Environment) -> None:
    settings = replace(sqlite_env.settings("execution"), topic_min_insync_replicas=2)
    upstream = settings.topic("planning")
    await create_topic(sqlite_env.kafka_bootstrap, upstream, partitions=3,
                       configs={"min.insync.replicas": "1"})
    with pytest.raises(TopicLayoutMismatch) as refused:
        await ensure_topics(settings, settings.topic(), upstream)
    assert (f"topic {upstream}: min.insync.replicas is 1, configured 2 "
            "(MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS)") in str(refused.value)


async def test_a_lower_replication_factor_is_refused_at_start_up(sqlite_env: Environment
                                                                 ) -> None:
    env = tuned(sqlite_env, topic_replication_factor=3, topic_min_insync_replicas=2)
    settings = env.settings("planning")
    topic = settings.topic()
    # Every topic planning uses exists, with one replica (all this broker can hold).
    for producer in ("planning", *UPSTREAM["planning"]):
        for name in (settings.topic(producer), settings.dead_letter_topic(producer)):
            await create_topic(env.kafka_bootstrap, name, partitions=3,
                               configs={"min.insync.replicas": "2"})
    with pytest.raises(TopicLayoutMismatch) as refused:
        await start_service(env, "planning")
    message = str(refused.value)
    assert f"topic {topic}: replication factor is 1, configured 3" in message
    assert f"topic {topic}.dlq: replication factor is 1, configured 3" in message
    assert "min.insync.replicas is" not in message


async def test_a_topic_the_broker_cannot_create_is_an_error_not_a_silence(
        sqlite_env: Environment) -> None:
    settings = replace(sqlite_env.settings("planning"), topic_replication_factor=3)
    with pytest.raises(RuntimeError, match=f"cannot create topic.*{settings.topic()}"):
        await ensure_topics(settings, settings.topic())


async def test_a_contradiction_found_after_an_outage_stops_connecting_and_shows(
        sqlite_env: Environment) -> None:
    """Started while the broker was away (here: the first attempt fails), the service
    serves from its store; when the broker answers and the topic contradicts the
    configuration, it stops trying and /health/status says why."""
    env = tuned(sqlite_env, kafka_connect_seconds=1.0, stall_seconds=0.5)
    topic = env.settings("planning").topic()
    await create_topic(env.kafka_bootstrap, topic, partitions=1)

    def first_attempt_fails(runtime: ServiceRuntime) -> None:
        connect = runtime._connect
        attempts = []

        async def flaky() -> None:
            attempts.append(1)
            if len(attempts) == 1:
                raise ConnectionError("broker away")
            await connect()

        runtime._connect = flaky  # type: ignore[method-assign]

    planning = await start_service(env, "planning", customize=first_attempt_fails)
    try:
        assert (await planning.http.get("/health/ready")).status_code == 200

        async def refused() -> dict[str, Any] | None:
            task = planning.runtime._connect_task
            if task is None or not task.done():
                return None
            report: dict[str, Any] = (await planning.http.get("/health/status")).json()
            return report

        report = await eventually(refused, timeout=30, what="the connection attempts to stop")
        assert report["kafka"]["connected"] is False
        assert f"topic {topic}: partitions is 1, configured 3" in report["kafka"]["last_error"]
    finally:
        await planning.stop()
