"""A batch reads what its handlers will need at once: which aggregates do not exist yet
is one query (``remember_missing``), and an aggregate that does exist is still found,
appended to and saved, on both stores, by a process that never saw it before."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts import execution
from services.reporting.domain import Timeline, timeline_id
from services.reporting.wiring import build
from shared import cloudevents
from shared.cloudevents import InboundEvent
from tests.harness import Environment

pytestmark = pytest.mark.integration


def completed(task_id: uuid.UUID, campaign_id: uuid.UUID, version: int) -> InboundEvent:
    event = execution.TaskCompleted(task_id=task_id, campaign_id=campaign_id)
    envelope = cloudevents.Envelope(
        id=f"{task_id}:{version}", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="ben",
        aggregate_version=version, sequence=version)
    return InboundEvent(envelope, event)


def test_which_aggregates_exist_is_one_query_on_both_stores(env: Environment) -> None:
    app = build(env.settings("reporting")).application
    try:
        task_id, campaign_id = uuid.uuid4(), uuid.uuid4()
        assert app.process_inbound_batch([(completed(task_id, campaign_id, 1), None)]) == (1, 0)
        stored = {timeline_id(str(task_id)), timeline_id(str(campaign_id))}
        unknown = {uuid.uuid4(), uuid.uuid4()}
        assert app.inbox_recorder.select_existing(stored | unknown) == stored
        assert app.inbox_recorder.select_existing(set()) == set()
    finally:
        app.close()


def test_a_new_process_appends_to_timelines_it_prefetched_as_existing(
        env: Environment) -> None:
    task_id, campaign_id = uuid.uuid4(), uuid.uuid4()
    first = build(env.settings("reporting")).application
    try:
        assert first.process_inbound_batch([(completed(task_id, campaign_id, 1), None)]) \
            == (1, 0)
    finally:
        first.close()
    # A restarted replica knows no timeline: the prefetch must find both existing ones
    # (a wrong "missing" would start them again and fail the save on a duplicate version).
    second = build(env.settings("reporting")).application
    try:
        other_task = uuid.uuid4()
        batch = [(completed(task_id, campaign_id, 2), None),
                 (completed(other_task, campaign_id, 1), None)]
        assert second.process_inbound_batch(batch) == (2, 0)
        assert second.load(timeline_id(str(task_id)), Timeline).version == 2
        assert second.load(timeline_id(str(campaign_id)), Timeline).version == 3
    finally:
        second.close()
