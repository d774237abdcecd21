"""A large inbound batch is recorded in bounded transactions (a single PostgreSQL insert
of many thousand events was seen to hang in psycopg's pipeline), and stays exactly-once:
every message applied once, a redelivery of the whole batch applies nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts import execution
from services.reporting.wiring import build
from shared import application, cloudevents
from shared.cloudevents import InboundEvent
from tests.harness import Environment

pytestmark = pytest.mark.integration


def opened(campaign_id: uuid.UUID) -> InboundEvent:
    task_id = uuid.uuid4()
    event = execution.TaskOpened(task_id=task_id, campaign_id=campaign_id, title="Brief",
                                 role="writer", due_date=dt.date(2027, 5, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:1", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=1, sequence=1)
    return InboundEvent(envelope, event)


def test_a_big_batch_is_recorded_in_bounded_transactions_exactly_once(
        env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build(env.settings("reporting")).application
    transactions: list[int] = []
    record = app._record

    def counting(processing_event: object) -> object:
        transactions.append(len(processing_event.events))  # type: ignore[attr-defined]
        return record(processing_event)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "_record", counting)
    try:
        # Each message is archived on its task's timeline and its campaign's: 2 events.
        campaign = uuid.uuid4()
        batch = [(opened(campaign), None) for _ in range(6000)]
        assert app.process_inbound_batch(batch) == (6000, 0)
        assert sum(transactions) == 12_000
        assert max(transactions) <= application.MAX_EVENTS_PER_TRANSACTION + 1
        assert len(transactions) >= 12
        transactions.clear()
        assert app.process_inbound_batch(batch) == (0, 6000)  # redelivered: nothing new
        assert transactions == []
        assert app.max_notification_id() == 12_000
    finally:
        app.close()
