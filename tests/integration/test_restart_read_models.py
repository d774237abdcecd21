"""A restarted service resumes its read models from their recorded positions: with 50k
events in its store, nothing is refolded at start-up (the position is loaded, not
rebuilt), so readiness does not wait on history."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.execution.domain import Task
from services.notification.domain import Notification
from services.planning.domain.goals import GoalDefinition, Kpi, Measurement, define_goal
from services.reporting.domain import ArchivedEvent, Timeline, timeline_id
from shared.domain import Aggregate, EventMeta
from shared.projections import open_projections
from tests.harness import BUILDERS, Environment, auth, start_service

pytestmark = pytest.mark.integration
EVENTS = 50_000
PER_AGGREGATE = 500
META = EventMeta(actor="system:test-seed")
TODAY = dt.date(2026, 11, 2)


def goals() -> Iterator[Aggregate]:
    definition = GoalDefinition(name="Awareness", kind="awareness", weight=1, kpi=Kpi(
        name="visits", target=1000, period_start=TODAY, period_end=TODAY))
    while True:
        goal = define_goal(definition, META)
        for _ in range(PER_AGGREGATE - 1):
            goal._measured(measurement=Measurement(value=1, measured_on=TODAY,
                                                   source="seed"), meta=META)
        yield goal


def tasks() -> Iterator[Aggregate]:
    while True:
        task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="brief", title="Brief",
                    role="writer", due_date=TODAY, meta=META)
        for n in range(PER_AGGREGATE - 1):
            task.comment(f"note {n}", META)
        yield task


def notifications() -> Iterator[Aggregate]:
    while True:
        note = Notification(id=uuid.uuid4(), recipient_id="ben", kind="task.assigned",
                            subject_id=uuid.uuid4(), text="You were assigned a task.",
                            meta=META)
        note.mark_read(EventMeta(actor="ben"))
        yield note


def timelines() -> Iterator[Aggregate]:
    while True:
        subject = str(uuid.uuid4())

        def entry(version: int, subject: str = subject) -> ArchivedEvent:
            return ArchivedEvent(
                id=f"{subject}:{version}", source="/marketflow/notification",
                type="marketflow.notification.notification.recorded.v1",
                time=dt.datetime(2026, 11, 2, tzinfo=dt.UTC), subject=subject, actor="anna",
                aggregate_version=version, data={"notification_id": subject})

        timeline = Timeline(id=timeline_id(subject), subject=subject, first=entry(1),
                            meta=META)
        for version in range(2, PER_AGGREGATE + 1):
            timeline.archive(entry(version), META)
        yield timeline


SEEDS: dict[str, Callable[[], Iterator[Aggregate]]] = {
    "planning": goals, "execution": tasks, "notification": notifications,
    "reporting": timelines,
}
# Events per aggregate from each seed (notifications: recorded + read).
EVENTS_PER_AGGREGATE = {"planning": PER_AGGREGATE, "execution": PER_AGGREGATE,
                        "notification": 2, "reporting": PER_AGGREGATE}


def seed(env: Environment, service: str) -> int:
    """Write 50k events through the service's own application, fold them once (the
    service's life before the restart), and return the head of the log."""
    parts = BUILDERS[service](env.settings(service))
    app = parts.application
    aggregates = SEEDS[service]()
    try:
        batch: list[Any] = []
        for _ in range(EVENTS // EVENTS_PER_AGGREGATE[service]):
            batch.append(next(aggregates))
            if sum(len(a.pending_events) for a in batch) >= 5000:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
        open_projections(parts.views)
        head: int = app.max_notification_id()
        assert head >= EVENTS
        assert all(view.position == head for view in parts.views)
        return head
    finally:
        app.close()


@pytest.mark.parametrize("service", ["planning", "execution", "notification", "reporting"])
async def test_a_restart_loads_read_model_positions_instead_of_refolding_50k_events(
        sqlite_env: Environment, service: str) -> None:
    head = seed(sqlite_env, service)
    running = await start_service(sqlite_env, service)
    try:
        views = running.runtime.parts.views
        assert views, f"{service} has read models"
        for view in views:
            # Loaded where the previous process stopped: nothing before it was refolded.
            assert view.loaded_position == head, view.name
        response = await running.http.get("/health/live")
        assert response.status_code == 200
        if service == "notification":
            # And the answers come from the persisted rows.
            response = await running.http.get("/notifications?limit=3", headers=auth("ben"))
            assert response.status_code == 200 and len(response.json()) == 3
            assert response.headers["link"]
    finally:
        await running.stop()
