"""The inbox table on both production stores: created in stores written before it existed,
and the old per-partition ``ce_sequence`` marks honoured only for what was created before
the upgrade, so redeliveries across it stay exactly-once and an old (possibly forged) mark
hides nothing new."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from contracts import execution
from services.notification.wiring import build
from shared import cloudevents
from shared.application import ServiceApplication
from shared.cloudevents import InboundEvent
from shared.inbox_store import LEGACY_MARKS_TABLE, Delivery
from tests.harness import Environment

pytestmark = pytest.mark.integration


def assigned(sequence: int, time: dt.datetime) -> InboundEvent:
    task_id = uuid.uuid4()
    event = execution.TaskAssigned(task_id=task_id, campaign_id=uuid.uuid4(), title="Brief",
                                   assignee_id="ben", due_date=dt.date(2027, 5, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:2", source="/marketflow/execution", type=event.event_type, time=time,
        subject=str(task_id), actor="anna", aggregate_version=2, sequence=sequence)
    return InboundEvent(envelope, event)


def open_app(env: Environment) -> ServiceApplication:
    return build(env.settings("notification")).application


def drop_inbox_tables(app: ServiceApplication) -> None:
    """Make the store look like one written before the inbox existed."""
    recorder: Any = app.recorder
    schema = f'"{recorder.datastore.schema}".' if hasattr(recorder.datastore, "schema") else ""
    with recorder.datastore.transaction(commit=True) as cursor:
        for table in ("inbox", LEGACY_MARKS_TABLE):
            cursor.execute(f"DROP TABLE {schema}{table}")


async def test_an_old_store_gets_an_inbox_and_keeps_its_old_marks_for_old_events(
    env: Environment,
) -> None:
    topic = f"{env.namespace}.execution.events"
    app = open_app(env)
    drop_inbox_tables(app)
    # What the old code recorded: the highest ce_sequence seen on two partitions, one
    # of them forged far ahead.
    app.recorder.insert_tracking(Tracking(f"inbox:{topic}:0", 10))
    app.recorder.insert_tracking(Tracking(f"inbox:{topic}:1", 10**15))
    app.close()

    app = open_app(env)  # the upgrade
    try:
        marks = app.inbox_recorder.legacy_marks
        assert {name: mark.position for name, mark in marks.items()} == {
            f"inbox:{topic}:0": 10, f"inbox:{topic}:1": 10**15}
        upgraded_at = marks[f"inbox:{topic}:0"].recorded_before
        before = upgraded_at - dt.timedelta(minutes=5)
        after = upgraded_at + dt.timedelta(seconds=1)

        def on(partition: int) -> Delivery:
            return Delivery(topic, partition, 0)

        # Redelivered or re-published after the upgrade: the old code had applied them.
        assert not app.process_inbound(assigned(7, before), on(0))
        assert not app.process_inbound(assigned(10, before), on(0))
        assert not app.process_inbound_batch([(assigned(8, before), on(0))])[0]
        # Created before the upgrade but never seen: above the mark, or another partition.
        assert app.process_inbound(assigned(11, before), on(0))
        assert app.process_inbound(assigned(7, before), on(2))
        # Created after the upgrade: the old marks, even the forged one, hide nothing.
        assert app.process_inbound(assigned(3, after), on(0))
        assert app.process_inbound_batch([(assigned(5, after), on(1)),
                                          (assigned(6, after), on(1))]) == (2, 0)
        # Without a delivery (in-process callers) there is no partition to compare with.
        assert app.process_inbound(assigned(1, before))
    finally:
        app.close()

    app = open_app(env)  # restarting copies nothing again
    try:
        assert app.inbox_recorder.legacy_marks[f"inbox:{topic}:0"].recorded_before \
            == upgraded_at
        recorder: Any = app.recorder
        assert recorder.max_tracking_id(f"inbox:{topic}:0") == 10  # left as it was
    finally:
        app.close()


async def test_a_new_store_has_no_old_marks(env: Environment) -> None:
    app = open_app(env)
    try:
        assert app.inbox_recorder.legacy_marks == {}
        event = assigned(1, dt.datetime.now(dt.UTC))
        assert app.process_inbound(event, Delivery("t", 0, 0))
        assert not app.process_inbound(event, Delivery("t", 0, 1))
    finally:
        app.close()


@pytest.mark.parametrize("effects", [True, False])
async def test_a_replica_that_loses_the_race_writes_nothing(
    env: Environment, effects: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both replicas found the event new; the second commit fails as a whole on the
    unique identity (PostgreSQL reports it at commit when no events were inserted) and
    the event counts as a duplicate."""
    app = open_app(env)
    try:
        event = assigned(1, dt.datetime.now(dt.UTC))
        if not effects:
            event = InboundEvent(event.envelope, execution.TaskStarted(
                task_id=uuid.uuid4(), campaign_id=uuid.uuid4(), assignee_id="ben"))
        assert app.process_inbound(event)
        before = app.max_notification_id()
        recorder = app.inbox_recorder
        original = recorder.select_inbox
        stale: list[dict[Any, Any]] = [{}]
        monkeypatch.setattr(recorder, "select_inbox",
                            lambda ids: stale.pop() if stale else original(ids))
        assert not app.process_inbound(event)
        assert not stale
        assert app.max_notification_id() == before
    finally:
        app.close()
