"""Deduplication by event identity, in-process on a real SQLite store: what was applied
is exact membership recorded with the events it produced, so no ``ce_sequence`` (forged,
huge or re-published) decides whether a later event is applied."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contracts import execution
from services.notification.application import NotificationApplication
from services.notification.wiring import build
from shared import cloudevents
from shared.cloudevents import InboundEvent, PoisonMessage
from shared.config import Settings
from shared.inbox_store import Delivery


@pytest.fixture
def app(tmp_path: Path) -> Iterator[NotificationApplication]:
    application = build(replace(Settings(service="notification"), sqlite_dir=tmp_path))
    assert isinstance(application.application, NotificationApplication)
    yield application.application
    application.application.close()


def assigned(sequence: int, *, task_id: uuid.UUID | None = None, version: int = 2,
             assignee: str = "ben") -> InboundEvent:
    task_id = task_id or uuid.uuid4()
    event = execution.TaskAssigned(task_id=task_id, campaign_id=uuid.UUID(int=1),
                                   title="Write brief", assignee_id=assignee,
                                   due_date=dt.date(2027, 5, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:{version}", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=version, sequence=sequence)
    return InboundEvent(envelope, event)


def with_sequence(inbound: InboundEvent, sequence: int) -> InboundEvent:
    """The same event as the relay publishes it again (or as someone forged its position)."""
    return InboundEvent(replace(inbound.envelope, sequence=sequence), inbound.event)


def stored(app: NotificationApplication) -> int:
    """Notifications recorded (not the copies of the work the same events teach)."""
    return sum(1 for recorded in app.recorder.select_notifications(start=1, limit=10_000)
               if recorded.topic.endswith("Notification.Recorded"))


def at(offset: int) -> Delivery:
    return Delivery("marketflow.execution.events", 0, offset)


def test_a_forged_high_sequence_hides_nothing_that_follows(
        app: NotificationApplication) -> None:
    forged = assigned(2**63 - 1)
    assert app.process_inbound(forged, at(0))
    later = [assigned(n) for n in range(1, 6)]  # real events, lower sequences
    assert app.process_inbound_batch([(e, at(n)) for n, e in enumerate(later, 1)]) == (5, 0)
    assert app.process_inbound(assigned(3), at(6))
    assert stored(app) == 7


def test_redelivery_and_republishing_are_applied_once(app: NotificationApplication) -> None:
    first, second = assigned(10), assigned(11)
    assert app.process_inbound_batch([(first, at(0)), (second, at(1))]) == (2, 0)
    # Kafka redelivers the batch; the relay re-publishes the same events with whatever
    # sequence (its notification ids are the same, but nothing relies on it).
    again = [(first, at(0)), (second, at(1)), (with_sequence(first, 999), at(7)),
             (with_sequence(second, 1), at(8))]
    assert app.process_inbound_batch(again) == (0, 4)
    assert not app.process_inbound(with_sequence(first, 5), at(9))
    assert stored(app) == 2


def test_a_batch_holding_one_event_twice_applies_it_once(app: NotificationApplication
                                                         ) -> None:
    event = assigned(1)
    assert app.process_inbound_batch([(event, at(0)), (event, at(1)), (assigned(2), at(2))]
                                     ) == (2, 1)
    assert stored(app) == 2


def started(source: str = "/marketflow/execution") -> InboundEvent:
    """An event notification has no handler for: applying it produces no events."""
    task_id = uuid.UUID(int=42)
    event = execution.TaskStarted(task_id=task_id, campaign_id=uuid.UUID(int=1),
                                   assignee_id="ben")
    envelope = cloudevents.Envelope(
        id=f"{task_id}:3", source=source, type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="ben",
        aggregate_version=3, sequence=1)
    return InboundEvent(envelope, event)


def test_an_event_without_effects_is_remembered_too(app: NotificationApplication) -> None:
    assert app.process_inbound(started())
    assert not app.process_inbound(started())
    assert app.process_inbound_batch([(started(), None)]) == (0, 1)


def test_identities_are_per_source(app: NotificationApplication) -> None:
    """CloudEvents makes (source, id) unique: two systems may use the same id. (Decode
    keeps a marketflow source off every topic but its service's own.)"""
    assert app.process_inbound(started())
    assert app.process_inbound(started(source="/crm"))
    assert set(app.inbox_recorder.select_inbox([started().envelope.id])) == {
        (started().envelope.id, "/marketflow/execution"), (started().envelope.id, "/crm")}


def test_another_message_under_an_applied_identity_is_poison(app: NotificationApplication
                                                             ) -> None:
    task_id = uuid.uuid4()
    genuine = assigned(1, task_id=task_id)
    assert app.process_inbound(genuine)
    impostor = assigned(1, task_id=task_id, assignee="mallory")
    with pytest.raises(PoisonMessage) as caught:
        app.process_inbound(impostor)
    assert caught.value.reason == "conflicting-duplicate"
    # In a batch it fails the batch, so the inbox applies the rest one by one.
    with pytest.raises(PoisonMessage):
        app.process_inbound_batch([(assigned(2), None), (impostor, None)])
    with pytest.raises(PoisonMessage):  # or when both arrive in one batch
        app.process_inbound_batch([(assigned(3, task_id=uuid.UUID(int=7)), None),
                                   (assigned(3, task_id=uuid.UUID(int=7), assignee="x"), None)])
    assert stored(app) == 1


def test_a_whole_batch_is_checked_with_one_query(app: NotificationApplication,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = app.inbox_recorder
    calls: list[int] = []
    original = recorder.select_inbox

    def counting(event_ids: Collection[str]) -> Any:
        calls.append(len(event_ids))
        return original(event_ids)

    monkeypatch.setattr(recorder, "select_inbox", counting)
    batch = [(assigned(n), at(n)) for n in range(1, 201)]
    assert app.process_inbound_batch(batch) == (200, 0)
    assert app.process_inbound_batch(batch) == (0, 200)
    assert calls == [200, 200]


@pytest.mark.parametrize("effects", [True, False])
def test_losing_a_race_leaves_nothing_behind(app: NotificationApplication, effects: bool,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Another replica recorded the event between our check and our commit: our events
    and our inbox row are one transaction, and the identity is unique, so the commit
    fails as a whole (on the events, or on the inbox row alone) and the event is a
    duplicate."""
    event = assigned(1) if effects else started()
    assert app.process_inbound(event)
    before = stored(app)
    recorder = app.inbox_recorder
    original = recorder.select_inbox
    stale: list[dict[Any, Any]] = [{}]  # the first check misses the other replica's row

    def racing(event_ids: Collection[str]) -> Any:
        return stale.pop() if stale else original(event_ids)

    monkeypatch.setattr(recorder, "select_inbox", racing)
    assert not app.process_inbound(event)
    assert not stale
    assert stored(app) == before
