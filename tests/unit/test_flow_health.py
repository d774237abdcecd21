"""The state machine behind /health/status: healthy -> retrying -> stalled -> recovered,
logged once per change; and the consumer's per-partition lag and stalls."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.health import (
    ConsumerWatch,
    InboxStatus,
    JobStatus,
    RelayStatus,
    StallWatch,
    overall,
)

STALL = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def changes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "test.flow" and r.levelno >= logging.INFO]


def watch(clock: Clock) -> StallWatch:
    return StallWatch("relay", STALL, clock=clock, logger=logging.getLogger("test.flow"))


def test_failing_then_stalled_then_recovered_logs_once_per_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    flow = watch(clock)
    assert flow.observe(behind=True) == "healthy"
    clock.advance(1)
    flow.failed(RuntimeError("broker refused"), notification_id=7)
    assert flow.state == "retrying" and flow.failing
    for _ in range(20):  # retries with backoff: no new state, no new log line
        clock.advance(1)
        flow.failed(RuntimeError("broker refused"), notification_id=7)
        flow.observe(behind=True)
    assert flow.state == "retrying"
    clock.advance(STALL)
    assert flow.observe(behind=True) == "stalled"
    snapshot = flow.snapshot()
    assert snapshot["last_error"] == "RuntimeError: broker refused"
    assert snapshot["stalled_since"] == snapshot["last_progress_at"]
    flow.failed(RuntimeError("broker refused"), notification_id=7)
    assert flow.state == "stalled"
    flow.progressed()
    assert flow.state == "healthy" and not flow.failing
    assert flow.snapshot()["stalled_since"] is None
    assert flow.snapshot()["last_error"] == "RuntimeError: broker refused"  # kept to read
    assert changes(caplog) == ["relay failed", "relay stalled", "relay recovered"]
    stalled = next(r for r in caplog.records if r.getMessage() == "relay stalled")
    assert stalled.notification_id == 7  # type: ignore[attr-defined]


def test_a_flow_that_hangs_without_errors_stalls_too() -> None:
    clock = Clock()
    flow = watch(clock)
    clock.advance(STALL - 1)
    assert flow.observe(behind=True) == "healthy"
    clock.advance(2)
    assert flow.observe(behind=True) == "stalled"
    assert flow.snapshot()["last_error"] is None


def test_nothing_to_do_is_not_a_stall() -> None:
    clock = Clock()
    flow = watch(clock)
    clock.advance(10 * STALL)
    assert flow.observe(behind=False) == "healthy"
    # Work arrives after a long idle time: the stall clock starts now, not at the last
    # progress an hour ago.
    clock.advance(1)
    assert flow.observe(behind=True) == "healthy"
    flow.failed("cannot reach Kafka")
    assert flow.state == "retrying"
    clock.advance(STALL + 1)
    assert flow.observe(behind=None) == "stalled"  # unknown counts as behind


def relay(state: Any) -> RelayStatus:
    return RelayStatus(state=state, last_progress_at=0, stalled_since=None, topic="t",
                       leading=state != "standby", position=1, head=1, lag=0,
                       activity="idle")


def test_the_service_is_degraded_when_any_flow_is_stuck() -> None:
    running = [JobStatus(name="clock", state="running")]
    for state, expected in [("healthy", "healthy"), ("standby", "healthy"),
                            ("retrying", "healthy"), ("stalled", "degraded"),
                            ("stopped", "degraded")]:
        assert overall(relay(state), None, running) == expected, state
    inbox = InboxStatus(state="stalled", last_progress_at=0, stalled_since=0, group="g",
                        topics=["t"], partitions=[], applied=0, duplicates=0,
                        dead_lettered=0)
    assert overall(relay("healthy"), inbox, running) == "degraded"
    died = [JobStatus(name="clock", state="died", error="RuntimeError: boom")]
    assert overall(relay("healthy"), None, died) == "degraded"


class FakeConsumer:
    """What ConsumerWatch reads from aiokafka's consumer."""

    def __init__(self, partitions: dict[TopicPartition, tuple[int | None, int]]) -> None:
        self.offsets = partitions
        self.reachable = True

    def assignment(self) -> set[TopicPartition]:
        return set(self.offsets)

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not self.reachable:
            raise ConnectionError("broker down")
        return {tp: self.offsets[tp][1] for tp in partitions}

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.offsets[tp][0]

    async def beginning_offsets(self, partitions: list[TopicPartition]
                                ) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, 0)


async def test_a_partition_whose_committed_offset_stops_moving_stalls() -> None:
    clock = Clock()
    p0, p1 = TopicPartition("up", 0), TopicPartition("up", 1)
    fake = FakeConsumer({p0: (None, 4), p1: (2, 2)})
    consumer = cast(AIOKafkaConsumer, fake)
    watcher = ConsumerWatch("inbox", STALL, clock=clock)
    first = await watcher.sample(consumer)
    assert [(s.partition, s.committed, s.lag) for s in first] == [(0, 0, 4), (1, 2, 0)]
    fake.offsets[p0] = (3, 4)  # moving
    clock.advance(STALL / 2)
    await watcher.sample(consumer)
    assert watcher.state == "healthy"
    watcher.consumer_failed(clock(), "up[0] offset 3: OperationalError: database down")
    assert watcher.state == "retrying"
    clock.advance(STALL + 1)  # offset 3 never applied
    statuses = await watcher.sample(consumer)
    assert watcher.state == "stalled"
    assert [(s.partition, s.committed, s.state) for s in statuses] == [
        (0, 3, "stalled"), (1, 2, "healthy")]
    assert statuses[0].stalled_since is not None
    assert watcher.watch.snapshot()["last_error"].startswith("up[0] offset 3")
    fake.offsets[p0] = (4, 4)
    await watcher.sample(consumer)
    assert watcher.state == "healthy"


async def test_a_consumer_that_cannot_reach_kafka_stalls_after_the_stall_time() -> None:
    clock = Clock()
    fake = FakeConsumer({TopicPartition("up", 0): (1, 1)})
    consumer = cast(AIOKafkaConsumer, fake)
    watcher = ConsumerWatch("inbox", STALL, clock=clock)
    await watcher.sample(consumer)
    fake.reachable = False
    statuses = await watcher.sample(consumer)
    assert watcher.state == "retrying" and statuses[0].lag is None
    assert "broker down" in (watcher.watch.last_error or "")
    clock.advance(STALL + 1)
    await watcher.sample(consumer)
    assert watcher.state == "stalled"
    fake.reachable = True
    await watcher.sample(consumer)
    assert watcher.state == "healthy"
