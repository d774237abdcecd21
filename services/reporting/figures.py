"""Small figures every report shares, defined once (merge-friendly: one percentile)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from shared.working_calendar import WorkingCalendar

WEEKDAYS = WorkingCalendar()
"""Monday to Friday: reports do not know the teams' holidays (docs/reports.md)."""


def percentile(values: Iterable[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``percent`` % of the
    values at or below it, i.e. the ⌈percent/100 · n⌉-th smallest (the smallest for 0).
    Always one of the values (no interpolation); the median is ``percentile(values, 50)``,
    the lower middle value when n is even. None for no values."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percent: {percent} is not between 0 and 100")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


MICROS_PER_HOUR = 3_600_000_000


def hours_between(start_micros: int, end_micros: int) -> float:
    """Elapsed hours between two instants given in µs since the epoch (calendar time)."""
    return (end_micros - start_micros) / MICROS_PER_HOUR


def working_days_between(earlier: dt.date, later: dt.date) -> int:
    """Working days (Monday to Friday) after ``earlier`` up to and including ``later``;
    0 when ``later`` is not after ``earlier``. Done on Monday, due the Friday before: 1."""
    return WEEKDAYS.working_days_between(earlier + dt.timedelta(days=1), later)


def percent_done(done: int, tasks: int, cancelled: int) -> float:
    """Done ÷ the tasks still to be done or done (cancelled work is neither), in percent
    with one decimal; 0.0 when nothing is left to count."""
    counted = tasks - cancelled
    return round(100 * done / counted, 1) if counted > 0 else 0.0
