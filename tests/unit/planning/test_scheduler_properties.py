"""Property-based tests of the working-day scheduler (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.planning.domain.calendar import WorkingCalendar
from services.planning.domain.scheduling import (
    DatedTask,
    Mode,
    Schedule,
    ScheduleError,
    SchedulingTask,
    check_dependencies,
    critical_path,
    schedule,
    topological_order,
    total_float,
)
from services.planning.playbook_files import shipped_playbooks

PROFILE = settings(max_examples=60, deadline=None,
                   suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
DAYS = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31))


@st.composite
def task_graphs(draw: st.DrawFn) -> list[SchedulingTask]:
    """A random DAG (a task depends only on earlier ones) with random date rules,
    kept only when its date rules can be satisfied."""
    count = draw(st.integers(min_value=1, max_value=8))
    tasks = []
    for index in range(count):
        depends_on = draw(st.lists(st.sampled_from(range(index)), unique=True, max_size=3)
                          if index else st.just([]))
        anchored = draw(st.booleans()) and draw(st.booleans())
        tasks.append(SchedulingTask(
            key=f"t{index}",
            duration=draw(st.integers(min_value=0, max_value=6)),
            depends_on=tuple(f"t{p}" for p in depends_on),
            anchor_offset=draw(st.integers(min_value=-40, max_value=10)) if anchored else None,
        ))
    try:
        check_dependencies(tasks)
    except ScheduleError:
        from hypothesis import reject
        reject()
    return tasks


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    country = draw(st.sampled_from([None, "FI", "DK", "US"]))
    closed = draw(st.lists(DAYS, max_size=30))
    return WorkingCalendar(country=country, closed_days=closed)


def assert_well_formed(tasks: list[SchedulingTask], plan: Schedule,
                       calendar: WorkingCalendar, skip: frozenset[str] = frozenset()) -> None:
    by_key = {task.key: task for task in tasks}
    for task in tasks:
        dated = plan.tasks[task.key]
        # No work on weekends, public holidays or closed days.
        assert calendar.is_working_day(dated.start_date), (task, dated)
        assert calendar.is_working_day(dated.due_date), (task, dated)
        if task.key in skip:
            continue
        assert calendar.working_days_between(dated.start_date, dated.due_date) == task.span
        # Dependencies respected: a task starts after its predecessors finish.
        for predecessor in task.depends_on:
            if predecessor in skip:
                continue
            before = plan.tasks[predecessor]
            if by_key[predecessor].duration > 0:
                assert dated.start_date > before.due_date, (predecessor, task.key, plan)
            else:
                assert dated.start_date >= before.due_date, (predecessor, task.key, plan)


def anchored_due(calendar: WorkingCalendar, anchor: dt.date, offset: int) -> dt.date:
    return calendar.shift(calendar.on_or_before(anchor), offset)


@PROFILE
@given(tasks=task_graphs(), calendar=calendars(), launch=DAYS)
def test_backward_plans_respect_dependencies_working_days_and_anchor_rules(
    tasks: list[SchedulingTask], calendar: WorkingCalendar, launch: dt.date
) -> None:
    plan = schedule(tasks, calendar, anchor_date=launch)
    assert plan.anchor_date == launch
    assert_well_formed(tasks, plan, calendar)
    for task in tasks:
        if task.anchor_offset is not None:
            assert plan.tasks[task.key].due_date == anchored_due(calendar, launch,
                                                                 task.anchor_offset)
    assert set(plan.critical_path) <= {task.key for task in tasks}


@PROFILE
@given(tasks=task_graphs(), calendar=calendars(), start=DAYS)
def test_forward_plans_start_on_or_after_the_start_and_honour_anchor_rules(
    tasks: list[SchedulingTask], calendar: WorkingCalendar, start: dt.date
) -> None:
    plan = schedule(tasks, calendar, mode="forward", start_date=start)
    assert_well_formed(tasks, plan, calendar)
    first_working_day = calendar.on_or_after(start)
    assert min(t.start_date for t in plan.tasks.values()) == first_working_day or any(
        task.anchor_offset is not None for task in tasks)
    assert all(t.start_date >= first_working_day for t in plan.tasks.values())
    assert plan.anchor_date >= first_working_day
    for task in tasks:
        if task.anchor_offset is not None:
            assert plan.tasks[task.key].due_date == anchored_due(
                calendar, plan.anchor_date, task.anchor_offset)


@PROFILE
@given(tasks=task_graphs(), calendar=calendars(), launch=DAYS, moved=DAYS,
       done_mask=st.lists(st.booleans(), min_size=8, max_size=8),
       mode=st.sampled_from(["backward", "forward"]))
def test_rescheduling_never_moves_done_tasks(
    tasks: list[SchedulingTask], calendar: WorkingCalendar, launch: dt.date, moved: dt.date,
    done_mask: list[bool], mode: Mode,
) -> None:
    if mode == "backward":
        first = schedule(tasks, calendar, anchor_date=launch)
    else:
        first = schedule(tasks, calendar, mode="forward", start_date=launch)
    done = {task.key: first.tasks[task.key] for task, is_done in zip(tasks, done_mask,
                                                                     strict=False) if is_done}
    # Moving the anchor keeps a plan's shape (backward or forward) around the new date.
    second = schedule(tasks, calendar, mode=mode, anchor_date=moved, keep=done)
    for key, dated in done.items():
        assert second.tasks[key] == dated
    # Everything not done follows the new anchor and the usual rules.
    assert_well_formed(tasks, second, calendar, skip=frozenset(done))
    for task in tasks:
        if task.key not in done and task.anchor_offset is not None:
            assert second.tasks[task.key].due_date == anchored_due(calendar, moved,
                                                                   task.anchor_offset)
    assert not any(unfit.key in done for unfit in second.unfit)


def test_a_task_keeps_its_dates_object_when_kept() -> None:
    tasks = [SchedulingTask("a", 2)]
    kept = DatedTask("a", dt.date(2027, 1, 4), dt.date(2027, 1, 5))
    plan = schedule(tasks, WorkingCalendar(), anchor_date=dt.date(2027, 6, 1), keep={"a": kept})
    assert plan.tasks["a"] is kept


@PROFILE
@given(tasks=task_graphs())
def test_the_critical_path_is_exactly_the_tasks_without_slack(
        tasks: list[SchedulingTask]) -> None:
    slack = total_float(tasks)
    path = critical_path(tasks)
    assert path, "some task always drives the plan"
    assert all(days >= 0 for days in slack.values()), slack
    assert all(slack[key] == 0 for key in path), (path, slack)
    assert all(slack[task.key] > 0 for task in tasks if task.key not in path), (path, slack)
    # In dependency order; a task fixed by a date rule cannot slip at all.
    order = topological_order(tasks)
    assert path == sorted(path, key=order.index)
    assert {task.key for task in tasks if task.anchor_offset is not None} <= set(path)


def test_a_long_chain_with_working_days_of_slack_is_not_critical() -> None:
    # The old rule took the longest chain of durations, through key-visuals (17 working
    # days of slack before the landing page must start) and launch-post (9).
    tasks = [task.scheduling() for task in shipped_playbooks()["product-launch"].tasks]
    slack = total_float(tasks)
    assert (slack["key-visuals"], slack["launch-post"]) == (17, 9)
    assert critical_path(tasks) == ["positioning", "press-release", "sales-briefing",
                                    "launch-day", "retro"]
