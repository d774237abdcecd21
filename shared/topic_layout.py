"""The layout of the services' topics: partitions, replication factor and
``min.insync.replicas``, as configured (``MARKETFLOW_KAFKA_TOPIC_PARTITIONS``,
``…_REPLICATION_FACTOR``, ``…_MIN_INSYNC_REPLICAS``).

``shared.runtime.ensure_topics`` creates missing topics so and checks every topic a
service uses at start-up. A topic that has less than configured (fewer partitions, fewer
replicas, a lower ``min.insync.replicas``) is refused with ``TopicLayoutMismatch``: the
service would otherwise run with weaker durability or per-key ordering than the operator
asked for, silently. More than configured is fine (an operator may raise them).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.config import Settings

MIN_INSYNC = "min.insync.replicas"
TOPIC_ALREADY_EXISTS = 36  # Kafka's error code
# A topic just created (by us or a replica starting at the same time) may not be in every
# broker's metadata yet: describe it again for this long before giving up.
DESCRIBE_PATIENCE_SECONDS = 10.0


class TopicLayoutMismatch(RuntimeError):
    """An existing topic contradicts the configuration; the service must not start."""


@dataclass(frozen=True)
class TopicLayout:
    partitions: int
    replication_factor: int
    min_insync_replicas: int


def configured_layout(settings: Settings) -> TopicLayout:
    return TopicLayout(settings.topic_partitions, settings.topic_replication_factor,
                       settings.topic_min_insync_replicas)


def new_topic(settings: Settings, name: str) -> NewTopic:
    """A topic as the services create it; dead-letter topics take the ``dlq_*`` headers
    on top of the largest message."""
    max_bytes = (settings.dead_letter_max_message_bytes if name.endswith(".dlq")
                 else settings.kafka_max_message_bytes)
    return NewTopic(name, num_partitions=settings.topic_partitions,
                    replication_factor=settings.topic_replication_factor,
                    topic_configs={"max.message.bytes": str(max_bytes),
                                   MIN_INSYNC: str(settings.topic_min_insync_replicas)})


def raise_creation_errors(response: Any) -> None:
    """The broker answers a CreateTopics request per topic, without raising: a topic it
    could not create (e.g. more replicas than brokers) must not go unnoticed. One that
    exists already (another replica created it meanwhile) is fine."""
    failures = [f"{entry['topic']}: {entry.get('error_message') or entry['error_code']}"
                for entry in response.to_object()["topic_errors"]
                if entry["error_code"] not in (0, TOPIC_ALREADY_EXISTS)]
    if failures:
        raise RuntimeError("cannot create topic(s): " + "; ".join(failures))


def contradictions(topic: str, actual: TopicLayout, wanted: TopicLayout) -> list[str]:
    """What of ``actual`` is below ``wanted``, each naming the topic, the setting, what
    the topic has and what is configured (and the variable that configures it)."""
    checks = [
        ("partitions", actual.partitions, wanted.partitions,
         "MARKETFLOW_KAFKA_TOPIC_PARTITIONS"),
        ("replication factor", actual.replication_factor, wanted.replication_factor,
         "MARKETFLOW_KAFKA_REPLICATION_FACTOR"),
        (MIN_INSYNC, actual.min_insync_replicas, wanted.min_insync_replicas,
         "MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS"),
    ]
    return [f"topic {topic}: {setting} is {has}, configured {configured} ({variable})"
            for setting, has, configured, variable in checks if has < configured]


async def check_layout(admin: AIOKafkaAdminClient, settings: Settings,
                       topics: list[str]) -> None:
    """Describe ``topics`` and raise ``TopicLayoutMismatch`` naming every contradiction."""
    actual = await describe_layout(admin, topics)
    wanted = configured_layout(settings)
    problems = [problem for topic in topics
                for problem in contradictions(topic, actual[topic], wanted)]
    if problems:
        raise TopicLayoutMismatch(
            "refusing to start: " + "; ".join(problems) + ". Raise the topics' settings "
            "(kafka-topics --alter / kafka-configs, or the KafkaTopic resources) or "
            "configure what they have")


async def describe_layout(admin: AIOKafkaAdminClient,
                          topics: list[str]) -> dict[str, TopicLayout]:
    replicas = await _replicas(admin, topics)
    min_insync = await _min_insync(admin, topics)
    return {topic: TopicLayout(len(replicas[topic]), min(replicas[topic]), min_insync[topic])
            for topic in topics}


async def _replicas(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, list[int]]:
    """Per topic, the number of replicas of each partition."""
    deadline = asyncio.get_running_loop().time() + DESCRIBE_PATIENCE_SECONDS
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(topics)
        found = {d["topic"]: [len(p["replicas"]) for p in d["partitions"]]
                 for d in described if d["error_code"] == 0 and d["partitions"]}
        missing = sorted(set(topics) - set(found))
        if not missing:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"cannot describe topic(s) {', '.join(missing)}")
        await asyncio.sleep(0.2)


async def _min_insync(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, int]:
    responses = await admin.describe_configs([
        ConfigResource(ConfigResourceType.TOPIC, topic, configs={MIN_INSYNC: None})
        for topic in topics])
    values: dict[str, int] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"] != 0:
                # E.g. no DESCRIBE_CONFIGS permission: a retryable failure, not a verdict.
                raise RuntimeError(f"cannot describe the configuration of topic "
                                   f"{resource['resource_name']}: error "
                                   f"{resource['error_code']} {resource['error_message']}")
            for entry in resource["config_entries"]:
                if entry["config_names"] == MIN_INSYNC:
                    values[resource["resource_name"]] = int(entry["config_value"])
    missing = sorted(set(topics) - set(values))
    if missing:
        raise RuntimeError(f"no {MIN_INSYNC} described for topic(s) {', '.join(missing)}")
    return values
