"""Reminders and escalations on PostgreSQL: the same walk as on SQLite
(``tests/unit/test_notification_timers.py``), with a restart in the middle."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.harness import Environment
from tests.unit.test_notification_timers import (
    LATE_TIMELINE,
    Scenario,
    assigned,
    directory,
    planned,
    task,
)

pytestmark = pytest.mark.integration


async def test_a_late_task_escalates_once_each_across_a_restart_on_postgresql(
        postgres_env: Environment) -> None:
    scenario = Scenario(postgres_env.sqlite_dir, dt.date(2025, 3, 3),
                        settings=postgres_env.settings("notification"))
    write = task("blog-post")
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 18))
    scenario.restart()
    scenario.clock.set(dt.date(2025, 3, 18))
    scenario.walk(dt.date(2025, 3, 28))
    assert scenario.timed() == LATE_TIMELINE
    scenario.app.close()
