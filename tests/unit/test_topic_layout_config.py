"""The topics' layout is configured (production defaults: RF 3, min ISR 2) and compared
with what a topic has: only less than configured is a contradiction, named precisely."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.topic_layout import TopicLayout, contradictions


def test_defaults_are_production_and_the_environment_overrides_them() -> None:
    default = Settings.from_env("planning", {})
    assert (default.topic_partitions, default.topic_replication_factor,
            default.topic_min_insync_replicas) == (3, 3, 2)
    single = Settings.from_env("planning", {"MARKETFLOW_KAFKA_TOPIC_PARTITIONS": "6",
                                            "MARKETFLOW_KAFKA_REPLICATION_FACTOR": "1",
                                            "MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS": "1"})
    assert (single.topic_partitions, single.topic_replication_factor,
            single.topic_min_insync_replicas) == (6, 1, 1)


@pytest.mark.parametrize(("environment", "message"), [
    ({"MARKETFLOW_KAFKA_REPLICATION_FACTOR": "1"},
     "MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS (2) cannot exceed "
     "MARKETFLOW_KAFKA_REPLICATION_FACTOR (1)"),
    ({"MARKETFLOW_KAFKA_TOPIC_PARTITIONS": "0"},
     "MARKETFLOW_KAFKA_TOPIC_PARTITIONS must be at least 1, not '0'"),
    ({"MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS": "two"},
     "MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS must be a whole number, not 'two'"),
])
def test_a_contradictory_configuration_is_refused(environment: dict[str, str],
                                                  message: str) -> None:
    with pytest.raises(ValueError) as refused:
        Settings.from_env("planning", environment)
    assert str(refused.value) == message


def test_only_less_than_configured_contradicts() -> None:
    wanted = TopicLayout(partitions=3, replication_factor=3, min_insync_replicas=2)
    assert contradictions("t", TopicLayout(6, 4, 3), wanted) == []
    assert contradictions("t", wanted, wanted) == []
    assert contradictions("t", TopicLayout(1, 1, 1), wanted) == [
        "topic t: partitions is 1, configured 3 (MARKETFLOW_KAFKA_TOPIC_PARTITIONS)",
        "topic t: replication factor is 1, configured 3 (MARKETFLOW_KAFKA_REPLICATION_FACTOR)",
        "topic t: min.insync.replicas is 1, configured 2 (MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS)",
    ]
