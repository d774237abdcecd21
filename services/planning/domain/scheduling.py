"""The working-day scheduler: pure functions from tasks (durations, dependencies, date
rules) and a working calendar to dates.

Scheduling happens first in *working-day indices* relative to the anchor (launch) day —
index 0 is the last working day on or before the anchor, -1 the working day before
it — so a plan's shape does not depend on the calendar, and whether a playbook's date
rules can be satisfied is decided once, when the playbook is defined. Placing the
indices on a team's calendar then skips weekends, public holidays and closed days.

A task of duration ``d`` occupies ``max(d, 1)`` working days ending on its due date; a
milestone (``d == 0``) occupies no time, so a successor may start the same day. A task
that depends on another starts after it finishes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from services.planning.domain.calendar import WorkingCalendar

Mode = Literal["backward", "forward"]


class ScheduleError(Exception):
    """The tasks cannot be scheduled; the message names the tasks and the reason."""


@dataclass(frozen=True)
class SchedulingTask:
    key: str
    duration: int
    depends_on: tuple[str, ...] = ()
    anchor_offset: int | None = None
    """Due this many working days from the anchor; None: follows its predecessors."""

    @property
    def span(self) -> int:
        return max(self.duration, 1)

    @property
    def gap(self) -> int:
        """How much later than this task's due index a successor may start."""
        return 1 if self.duration > 0 else 0


@dataclass(frozen=True)
class Slot:
    start: int
    end: int


@dataclass(frozen=True)
class DatedTask:
    key: str
    start_date: dt.date
    due_date: dt.date


@dataclass(frozen=True)
class Unfit:
    key: str
    reason: str


@dataclass(frozen=True)
class Schedule:
    anchor_date: dt.date
    tasks: dict[str, DatedTask]
    critical_path: list[str]
    unfit: list[Unfit] = field(default_factory=list)


def topological_order(tasks: Sequence[SchedulingTask]) -> list[str]:
    """Keys with every predecessor before its successors (stable: input order breaks
    ties). Unknown references, self-dependencies and cycles raise ``ScheduleError``."""
    by_key = {task.key: task for task in tasks}
    for task in tasks:
        for predecessor in task.depends_on:
            if predecessor == task.key:
                raise ScheduleError(f"tasks.{task.key}.depends_on: a task cannot depend on "
                                    "itself")
            if predecessor not in by_key:
                raise ScheduleError(f"tasks.{task.key}.depends_on: unknown task "
                                    f"'{predecessor}'")
    order: list[str] = []
    state: dict[str, str] = {}  # key -> "visiting" | "done"

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            cycle = [*path[path.index(key):], key]
            raise ScheduleError("tasks: dependency cycle " + " -> ".join(cycle))
        state[key] = "visiting"
        path.append(key)
        for predecessor in by_key[key].depends_on:
            visit(predecessor, path)
        path.pop()
        state[key] = "done"
        order.append(key)

    for task in tasks:
        visit(task.key, [])
    return order


def _successors(tasks: Sequence[SchedulingTask]) -> dict[str, list[str]]:
    successors: dict[str, list[str]] = {task.key: [] for task in tasks}
    for task in tasks:
        for predecessor in task.depends_on:
            successors[predecessor].append(task.key)
    return successors


def _earliest_finish(tasks: Sequence[SchedulingTask], order: list[str]) -> dict[str, int | None]:
    """Earliest due index of each task when only anchored tasks fix time (None: free).
    Raises ``ScheduleError`` when an anchored task cannot start after its predecessors."""
    by_key = {task.key: task for task in tasks}
    finish: dict[str, int | None] = {}
    for key in order:
        task = by_key[key]
        earliest_start: int | None = None
        binding: str | None = None
        for predecessor in task.depends_on:
            pred_finish = finish[predecessor]
            if pred_finish is None:
                continue
            candidate = pred_finish + by_key[predecessor].gap
            if earliest_start is None or candidate > earliest_start:
                earliest_start, binding = candidate, predecessor
        if task.anchor_offset is not None:
            start = task.anchor_offset - task.span + 1
            if earliest_start is not None and start < earliest_start:
                raise ScheduleError(
                    f"tasks.{key}.date_rule: cannot be satisfied: due "
                    f"{_describe_offset(task.anchor_offset)} with {task.span} working day(s) "
                    f"of work, but predecessor '{binding}' finishes "
                    f"{earliest_start - start} working day(s) too late for it to start"
                )
            finish[key] = task.anchor_offset
        else:
            finish[key] = None if earliest_start is None else earliest_start + task.span - 1
    return finish


def _describe_offset(offset: int) -> str:
    if offset == 0:
        return "on the anchor day"
    return f"{abs(offset)} working day(s) {'before' if offset < 0 else 'after'} the anchor"


def check_dependencies(tasks: Sequence[SchedulingTask]) -> None:
    """Refuse unknown references, cycles and date rules that cannot be satisfied."""
    _earliest_finish(tasks, topological_order(tasks))


def backward_slots(tasks: Sequence[SchedulingTask]) -> dict[str, Slot]:
    """Anchored tasks on their rule; the others as late as their successors allow (those
    with no successor are due on the anchor day, or as soon as their predecessors allow
    when those finish after it)."""
    order = topological_order(tasks)
    earliest = _earliest_finish(tasks, order)
    by_key = {task.key: task for task in tasks}
    successors = _successors(tasks)
    slots: dict[str, Slot] = {}
    for key in reversed(order):
        task = by_key[key]
        if task.anchor_offset is not None:
            end = task.anchor_offset
        elif successors[key]:
            end = min(slots[succ].start - task.gap for succ in successors[key])
        else:
            finish = earliest[key]
            end = 0 if finish is None else max(0, finish)
        slots[key] = Slot(end - task.span + 1, end)
    return slots


def forward_slots(tasks: Sequence[SchedulingTask]) -> tuple[dict[str, Slot], int]:
    """Every task as early as possible from index 0 (the start), anchored tasks on their
    rule. Returns slots relative to the start and the anchor's index: the earliest (not
    before the start) at which every anchored task fits after its predecessors; with no
    anchored task, the day the last task finishes."""
    order = topological_order(tasks)
    _earliest_finish(tasks, order)  # refuse unsatisfiable rules before iterating
    by_key = {task.key: task for task in tasks}
    anchored = [task for task in tasks if task.anchor_offset is not None]
    anchor = max([0, *(task.span - 1 - task.anchor_offset for task in anchored
                       if task.anchor_offset is not None)])
    for _ in range(len(tasks) + 2):
        slots: dict[str, Slot] = {}
        deficit = 0
        for key in order:
            task = by_key[key]
            earliest_start = max([0, *(slots[p].end + by_key[p].gap for p in task.depends_on)])
            if task.anchor_offset is not None:
                end = anchor + task.anchor_offset
                start = end - task.span + 1
                deficit = max(deficit, earliest_start - start)
                slots[key] = Slot(start, end)
            else:
                slots[key] = Slot(earliest_start, earliest_start + task.span - 1)
        if deficit <= 0:
            if not anchored:
                anchor = max(slot.end for slot in slots.values())
            return slots, anchor
        anchor += deficit
    raise ScheduleError("tasks: the forward schedule did not settle")  # pragma: no cover


def relative_slots(tasks: Sequence[SchedulingTask], mode: Mode) -> dict[str, Slot]:
    """Slots relative to the anchor (index 0) in the shape ``mode`` gives."""
    if mode == "backward":
        return backward_slots(tasks)
    from_start, anchor_index = forward_slots(tasks)
    return {key: Slot(slot.start - anchor_index, slot.end - anchor_index)
            for key, slot in from_start.items()}


def total_float(tasks: Sequence[SchedulingTask]) -> dict[str, int]:
    """Working days each task can slip without moving the launch, an anchored task or a
    task due right after its predecessors: its latest start (the backward plan) minus
    its earliest start, both relative to the anchor. The earliest start is a forward pass
    from the backward plan's first day (its lead time), anchored tasks on their rule."""
    late = backward_slots(tasks)
    first_day = min(slot.start for slot in late.values())
    by_key = {task.key: task for task in tasks}
    early: dict[str, int] = {}
    for key in topological_order(tasks):
        task = by_key[key]
        if task.anchor_offset is not None:
            early[key] = task.anchor_offset - task.span + 1
        else:
            early[key] = max([first_day, *(early[p] + by_key[p].span - 1 + by_key[p].gap
                                           for p in task.depends_on)])
    return {key: late[key].start - early[key] for key in late}


def critical_path(tasks: Sequence[SchedulingTask]) -> list[str]:
    """The tasks with zero total float, in dependency order: any slip of one of them
    moves the launch or a fixed date. (The longest chain of durations is not it: date
    rules fix tasks in time, so a long chain may still have days of slack.)"""
    if not tasks:
        return []
    slack = total_float(tasks)
    return [key for key in topological_order(tasks) if slack[key] == 0]


def place(slots: Mapping[str, Slot], calendar: WorkingCalendar,
          anchor_day: dt.date) -> dict[str, DatedTask]:
    """Working-day indices relative to ``anchor_day`` (a working day) as dates."""
    if not slots:
        return {}
    low = min(slot.start for slot in slots.values())
    high = max(slot.end for slot in slots.values())
    days = {0: anchor_day}
    day = anchor_day
    for index in range(-1, low - 1, -1):
        day = calendar.shift(day, -1)
        days[index] = day
    day = anchor_day
    for index in range(1, high + 1):
        day = calendar.shift(day, 1)
        days[index] = day
    return {key: DatedTask(key, days[slot.start], days[slot.end]) for key, slot in slots.items()}


def schedule(tasks: Sequence[SchedulingTask], calendar: WorkingCalendar, *,
             mode: Mode = "backward", anchor_date: dt.date | None = None,
             start_date: dt.date | None = None, not_before: dt.date | None = None,
             keep: Mapping[str, DatedTask] | None = None) -> Schedule:
    """Backward from ``anchor_date`` or forward from ``start_date`` (a forward plan
    given an ``anchor_date`` keeps its forward shape around that anchor).

    ``keep``: tasks already done keep these dates (rescheduling). ``not_before``: tasks
    that would have to start earlier are reported as not fitting before the launch.
    """
    if anchor_date is not None:
        # Backward from the launch; or a forward plan whose launch moved: same shape.
        slots = relative_slots(tasks, mode)
        anchor_day = calendar.on_or_before(anchor_date)
        resolved_anchor = anchor_date
    elif mode == "forward" and start_date is not None:
        from_start, anchor_index = forward_slots(tasks)
        slots = {key: Slot(slot.start - anchor_index, slot.end - anchor_index)
                 for key, slot in from_start.items()}
        anchor_day = calendar.shift(calendar.on_or_after(start_date), anchor_index)
        resolved_anchor = anchor_day
    elif mode == "forward":
        raise ScheduleError("start_date: forward scheduling needs a start date")
    else:
        raise ScheduleError("launch_date: backward scheduling needs the launch date")
    dated = place(slots, calendar, anchor_day)
    if keep:
        dated.update({key: kept for key, kept in keep.items() if key in dated})
    unfit = []
    if not_before is not None:
        for task in tasks:
            if keep and task.key in keep:
                continue
            start = dated[task.key].start_date
            if start < not_before:
                unfit.append(Unfit(task.key, f"would have to start on {start.isoformat()}, "
                                             f"before {not_before.isoformat()}"))
    return Schedule(anchor_date=resolved_anchor, tasks=dated,
                    critical_path=critical_path(tasks), unfit=unfit)

