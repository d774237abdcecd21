"""Honest health: whether each background flow of a service (outbox relay, inbox
consumer, jobs) makes progress, and if not, since when and why.

``/health/ready`` only says the service can serve requests (its store answers); Kafka
being away does not make it unready, because the outbox buffers. ``/health/status``
is where a flow that cannot make progress shows, with what it is stuck on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

FlowState = Literal["healthy", "retrying", "stalled", "standby", "stopped"]
"""healthy: caught up or moving; retrying: an attempt failed since the last progress;
stalled: behind and without progress for longer than the stall time; standby: another
replica does this work; stopped: the flow is not running at all."""

_SEVERITY: dict[FlowState, int] = {
    "healthy": 0, "standby": 0, "retrying": 1, "stalled": 2, "stopped": 2,
}
# Reading offsets from Kafka for the status must not hang a status request.
OFFSETS_TIMEOUT_SECONDS = 3.0


def describe_error(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _at(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


class StallWatch:
    """Tracks one flow's progress and logs once per change of state (healthy ->
    retrying -> stalled -> recovered), never once per retry.

    The flow reports ``progressed()`` (moved forward, or found nothing to do) and
    ``failed()``; whoever knows whether work is waiting calls ``observe(behind)``.
    Stalled means behind with no progress for longer than ``stall_seconds``, whether or
    not attempts fail: a send that hangs on an unreachable broker stalls too.
    """

    def __init__(self, flow: str, stall_seconds: float, *,
                 clock: Callable[[], float] = time.time,
                 logger: logging.Logger = log) -> None:
        self.flow = flow
        self.stall_seconds = stall_seconds
        self.clock = clock
        self.log = logger
        now = clock()
        self.state: FlowState = "healthy"
        self.progress_at = now
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        # What the flow is stuck on (e.g. a notification id), for logs.
        self.context: dict[str, Any] = {}

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    @property
    def stalled_since(self) -> float | None:
        """When it stopped making progress, if it is stalled."""
        return self.progress_at if self.state == "stalled" else None

    def progressed(self) -> None:
        self.progress_at = self.clock()
        self.failing_since = None
        self.context = {}
        self._become("healthy")

    def failed(self, error: BaseException | str, **context: Any) -> None:
        now = self.clock()
        self.last_error = describe_error(error)
        self.last_error_at = now
        self.context = context
        first = self.failing_since is None
        if first:
            self.failing_since = now
            # The first failure is logged with its traceback; retries are not.
            self.log.warning(f"{self.flow} failed", exc_info=_exc_info(error), extra={
                "flow": self.flow, "error": self.last_error, **context})
        # A failed attempt means there was work to do.
        state = self._evaluate(behind=True)
        if first and state == "retrying":
            self.state = state  # just said so
            return
        self._become(state)

    def observe(self, behind: bool | None) -> FlowState:
        """Re-evaluate; ``behind`` None means it could not be told (counts as behind)."""
        self._become(self._evaluate(behind=True if behind is None else behind))
        return self.state

    def _evaluate(self, *, behind: bool) -> FlowState:
        now = self.clock()
        if not behind:
            # Nothing waits for this flow: having nothing to do is not a stall.
            self.progress_at = now
            return "retrying" if self.failing else "healthy"
        if now - self.progress_at > self.stall_seconds:
            return "stalled"
        return "retrying" if self.failing else "healthy"

    def _become(self, state: FlowState) -> None:
        previous, self.state = self.state, state
        if state == previous:
            return
        extra = {"flow": self.flow, "state": state, "previous": previous,
                 "error": self.last_error, **self.context}
        if state == "stalled":
            extra["no_progress_seconds"] = round(self.clock() - self.progress_at, 1)
            self.log.error(f"{self.flow} stalled", extra=extra)
        elif state == "healthy":
            self.log.info(f"{self.flow} recovered", extra=extra)
        else:
            self.log.warning(f"{self.flow} is {state}", extra=extra)

    def snapshot(self) -> dict[str, Any]:
        """The fields every flow's status shares."""
        return {
            "state": self.state,
            "last_progress_at": _at(self.progress_at),
            "stalled_since": _at(self.stalled_since),
            "last_error": self.last_error,
            "last_error_at": _at(self.last_error_at),
        }


def _exc_info(error: BaseException | str) -> BaseException | None:
    return error if isinstance(error, BaseException) else None


def worst(*states: FlowState) -> FlowState:
    return max(states, key=lambda state: _SEVERITY[state], default="healthy")


# --- the status document ---------------------------------------------------------


class FlowStatus(BaseModel):
    state: FlowState
    last_progress_at: datetime = Field(
        description="when it last moved forward or found nothing to do")
    stalled_since: datetime | None = Field(
        description="when it stopped making progress, while stalled")
    last_error: str | None = None
    last_error_at: datetime | None = None


class RelayStatus(FlowStatus):
    """The outbox relay: the store's notification log published to the service's topic."""

    topic: str
    leading: bool = Field(description="false: another replica relays (standby)")
    position: int = Field(description="last notification id Kafka acknowledged, recorded")
    head: int | None = Field(description="the store's last notification id (None: unreadable)")
    lag: int | None = Field(description="notifications committed and not yet published")
    blocked_at: int | None = Field(
        default=None, description="the notification id it fails to get past")
    activity: str = Field(description="what it is doing right now")


class PartitionStatus(BaseModel):
    topic: str
    partition: int
    committed: int | None = Field(description="next offset to apply (the committed offset)")
    end: int | None = Field(description="the partition's end offset")
    lag: int | None
    state: FlowState
    stalled_since: datetime | None = None


class InboxStatus(FlowStatus):
    """The inbox consumer: upstream topics applied exactly once."""

    group: str
    topics: list[str]
    partitions: list[PartitionStatus] = Field(
        description="the partitions this replica holds (per topic and partition)")
    applied: int
    duplicates: int
    dead_lettered: int


class ReadModelStatus(FlowStatus):
    """A read model (persisted projection) following the service's own log."""

    name: str
    version: int
    position: int = Field(description="last notification id folded into its tables")
    head: int | None = Field(description="the store's last notification id (None: unreadable)")
    lag: int | None = Field(description="notifications committed and not yet folded")


class KafkaStatus(FlowStatus):
    """Whether the service's Kafka parts (topics, relay, inbox) are up. Until they are,
    the service serves from its store and the outbox buffers what it commits."""

    bootstrap: str
    connected: bool


class JobStatus(BaseModel):
    name: str
    state: Literal["running", "stopped", "died"]
    error: str | None = None


class ServiceStatus(BaseModel):
    service: str
    status: Literal["healthy", "degraded"] = Field(
        description="degraded: a flow is stalled or stopped, or a job died")
    checked_at: datetime
    stall_seconds: float
    kafka: KafkaStatus | None = None
    relay: RelayStatus | None
    inbox: InboxStatus | None
    read_models: list[ReadModelStatus] = Field(default_factory=list)
    jobs: list[JobStatus]

    @property
    def degraded(self) -> bool:
        return self.status == "degraded"


def overall(relay: RelayStatus | None, inbox: InboxStatus | None,
            jobs: list[JobStatus], read_models: list[ReadModelStatus] | None = None,
            kafka: KafkaStatus | None = None) -> Literal["healthy", "degraded"]:
    flows = (kafka, relay, inbox, *(read_models or []))
    states = [flow.state for flow in flows if flow is not None]
    bad = _SEVERITY[worst(*states)] >= 2 or any(job.state == "died" for job in jobs)
    return "degraded" if bad else "healthy"


# --- the inbox consumer's lag ----------------------------------------------------


@dataclass
class _PartitionWatch:
    watch: StallWatch
    committed: int | None = None


@dataclass
class ConsumerWatch:
    """Samples a consumer's committed and end offsets per assigned partition: lag, and
    whether each partition's committed offset still moves while messages wait. Its own
    watch holds the consumer's errors and whether Kafka could be asked at all."""

    flow: str
    stall_seconds: float
    clock: Callable[[], float] = time.time
    watch: StallWatch = field(init=False)
    partitions: dict[TopicPartition, _PartitionWatch] = field(default_factory=dict)
    _seen_error_at: float | None = None

    def __post_init__(self) -> None:
        self.watch = StallWatch(self.flow, self.stall_seconds, clock=self.clock)

    def consumer_failed(self, at: float, error: str) -> None:
        """An error the consumer reported (e.g. a message that failed to apply)."""
        if at != self._seen_error_at:
            self._seen_error_at = at
            self.watch.failed(error)

    @property
    def state(self) -> FlowState:
        return worst(self.watch.state, *(p.watch.state for p in self.partitions.values()))

    async def sample(self, consumer: AIOKafkaConsumer | None) -> list[PartitionStatus]:
        if consumer is None:  # not started, or between restarts
            self.watch.observe(behind=None)
            return []
        assigned = sorted(consumer.assignment())
        for tp in list(self.partitions):
            if tp not in assigned:  # revoked: another replica holds it now
                del self.partitions[tp]
        try:
            async with asyncio.timeout(OFFSETS_TIMEOUT_SECONDS):
                offsets = await _offsets(consumer, assigned)
        except Exception as error:  # broker away: lag unknown, counts as behind
            self.watch.failed(f"cannot read offsets from Kafka: {describe_error(error)}")
            return [self._status(tp, self._entry(tp).committed, None) for tp in assigned]
        moved = False
        for tp in assigned:
            committed, end = offsets[tp]
            moved |= self._update(tp, committed, end)
        statuses = [self._status(tp, *offsets[tp]) for tp in assigned]
        if moved or all(status.lag == 0 for status in statuses):
            self.watch.progressed()
        else:
            self.watch.observe(behind=True)
        return statuses

    def _entry(self, tp: TopicPartition) -> _PartitionWatch:
        if tp not in self.partitions:
            self.partitions[tp] = _PartitionWatch(StallWatch(
                f"{self.flow} {tp.topic}[{tp.partition}]", self.stall_seconds,
                clock=self.clock))
        return self.partitions[tp]

    def _update(self, tp: TopicPartition, committed: int | None, end: int | None) -> bool:
        """Fold one sample in; True if the partition's committed offset moved."""
        entry = self._entry(tp)
        if committed is None or end is None:
            entry.watch.observe(behind=None)
            return False
        moved = committed != entry.committed
        entry.committed = committed
        if moved or committed >= end:
            entry.watch.progressed()
        entry.watch.context = {"topic": tp.topic, "partition": tp.partition,
                               "offset": committed}
        entry.watch.observe(behind=committed < end)
        return moved

    def _status(self, tp: TopicPartition, committed: int | None,
                end: int | None) -> PartitionStatus:
        watch = self._entry(tp).watch
        lag = None if committed is None or end is None else max(end - committed, 0)
        return PartitionStatus(topic=tp.topic, partition=tp.partition, committed=committed,
                               end=end, lag=lag, state=watch.state,
                               stalled_since=_at(watch.stalled_since))


async def _offsets(consumer: AIOKafkaConsumer, assigned: list[TopicPartition]
                   ) -> dict[TopicPartition, tuple[int | None, int | None]]:
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    committed = {tp: await consumer.committed(tp) for tp in assigned}
    fresh = [tp for tp, offset in committed.items() if offset is None]
    if fresh:  # nothing committed yet: the group starts from the beginning
        committed.update(await consumer.beginning_offsets(fresh))
    return {tp: (committed[tp], ends.get(tp)) for tp in assigned}
