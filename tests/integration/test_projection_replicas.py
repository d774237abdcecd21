"""Two replicas of a service share one read model in their common store: each folds what
the other has not, nothing is applied twice, and a replica whose position is stale (also
on a page with nothing to fold, which only moves the position) re-reads from the
recorded one instead of overwriting it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from services.execution.application import ExecutionApplication
from services.execution.commands import (
    BlockTask,
    StartTask,
)
from services.execution.domain import Task
from services.execution.handlers import HANDLERS
from shared import projections
from shared.domain import EventMeta
from shared.policy import Caller
from shared.projections import Projection
from tests.harness import Environment

pytestmark = pytest.mark.integration
PLANNER = EventMeta(actor="anna")
BEN = Caller.person("ben")


def open_tasks(app: ExecutionApplication, count: int) -> list[uuid.UUID]:
    campaign_id = uuid.uuid4()
    tasks = []
    for index in range(count):
        task = Task(id=uuid.uuid4(), campaign_id=campaign_id, key=f"task-{index}",
                    title=f"Task {index}", role="writer", due_date=dt.date(2027, 6, 1),
                    meta=PLANNER)
        task.make_ready_if_free(PLANNER)
        task.assign("ben", PLANNER)
        tasks.append(task)
    app.save_or_conflict(*tasks)
    return [task.id for task in tasks]


def recorded_position(view: Projection) -> int:
    with view.store.transaction(commit=False) as sql:
        position = view._read_position(sql, lock=False)
    assert position is not None
    return position[0]


def test_replicas_share_a_read_model_without_applying_anything_twice(
        env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every skipped page written at once, so that replicas race on skips too.
    monkeypatch.setattr(projections, "SKIP_WRITE_DISTANCE", 1)
    first = ExecutionApplication(env.settings("execution"), handlers=HANDLERS)
    second = ExecutionApplication(env.settings("execution"), handlers=HANDLERS)
    try:
        for view in (first.board, first.absences, second.board, second.absences):
            view.ensure_open()
        task_ids = open_tasks(first, 3)
        first.start_task(StartTask(task_id=task_ids[0]), BEN)
        first.board.catch_up()
        first.absences.catch_up()  # task events only: a page that just moves the position
        head = first.max_notification_id()
        assert recorded_position(first.absences) == head

        # The second replica is behind in memory; it finds the recorded position moved.
        assert second.board.position == 0 and second.absences.position == 0
        second.absences.catch_up()
        second.board.catch_up()
        assert second.board.position == second.absences.position == head
        assert recorded_position(second.board) == head

        # More work through the second replica; the first folds only what is new.
        second.block_task(BlockTask(task_id=task_ids[0], reason="waiting for the brief"), BEN)
        second.start_task(StartTask(task_id=task_ids[1]), BEN)
        new_events = first.max_notification_id() - head
        assert new_events >= 2
        assert first.board.catch_up().applied == new_events  # not the earlier ones again
        assert first.absences.catch_up().applied == 0
        assert recorded_position(first.absences) == first.max_notification_id()

        rows = first.board.query(today=dt.date(2027, 1, 1)).rows
        assert sorted((row["key"], row["status"]) for row in rows) == [
            ("task-0", "blocked"), ("task-1", "in_progress"), ("task-2", "ready")]
        assert sum(difference.count for difference in first.board.verify()) == 0
    finally:
        first.close()
        second.close()


def test_a_skipped_page_is_written_with_the_next_fold_and_a_restart_rereads_it(
        env: Environment) -> None:
    """Pages with nothing to fold move the position in memory only (a write per query
    saved); a restart re-reads them from the recorded position, folding nothing twice."""
    app = ExecutionApplication(env.settings("execution"), handlers=HANDLERS)
    try:
        app.directory.ensure_open()
        open_tasks(app, 2)
        assert app.directory.catch_up().applied == 0
        head = app.max_notification_id()
        assert app.directory.position == head
        assert recorded_position(app.directory) < head
    finally:
        app.close()
    restarted = ExecutionApplication(env.settings("execution"), handlers=HANDLERS)
    try:
        restarted.directory.ensure_open()
        assert restarted.directory.loaded_position == recorded_position(restarted.directory)
        assert restarted.directory.catch_up().applied == 0
        assert restarted.directory.position == head
        assert sum(difference.count for difference in restarted.directory.verify()) == 0
    finally:
        restarted.close()


def test_the_followers_pass_folds_every_projection_in_one_transaction_once(
        env: Environment) -> None:
    """``catch_up_together`` (the follower's pass) gives the rows one-by-one catch-ups
    give, also when another replica folded part of the log meanwhile."""
    first = ExecutionApplication(env.settings("execution"), handlers=HANDLERS)
    second = ExecutionApplication(env.settings("execution"), handlers=HANDLERS)
    try:
        views = [first.board, first.absences, first.directory]
        task_ids = open_tasks(first, 3)
        projections.catch_up_together(views, projections.SharedLog(first))
        head = first.max_notification_id()
        assert [view.position for view in views] == [head, head, head]
        assert recorded_position(first.board) == recorded_position(first.absences) == head

        # The other replica folds the board further; the first's pass re-reads from
        # there instead of applying those events again.
        second.start_task(StartTask(task_id=task_ids[0]), BEN)
        assert second.board.catch_up().applied > 0
        folded_elsewhere = second.max_notification_id()
        first.block_task(BlockTask(task_id=task_ids[0], reason="waiting"), BEN)
        folded: list[int] = []
        fold = first.board._fold

        def counting(sql: Any, events: Any, last: int) -> None:
            folded.append(len(events))
            fold(sql, events, last)

        first.board._fold = counting  # type: ignore[method-assign]
        projections.catch_up_together(views, projections.SharedLog(first))
        projections.catch_up_together(views, projections.SharedLog(first))
        assert sum(folded) == first.max_notification_id() - folded_elsewhere
        assert first.board.position == first.max_notification_id()
        rows = first.board.query(today=dt.date(2027, 1, 1)).rows
        assert sorted((row["key"], row["status"]) for row in rows) == [
            ("task-0", "blocked"), ("task-1", "ready"), ("task-2", "ready")]
        for view in views:
            assert sum(difference.count for difference in view.verify()) == 0
    finally:
        first.close()
        second.close()
