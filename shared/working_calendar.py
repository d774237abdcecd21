"""Working days: weekends, the public holidays of a country (the ``holidays`` package)
and a team's own closed days. Pure computation, no I/O; planning schedules with it and
notification times its reminders and escalations with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

import holidays

from shared.domain import InvalidCommand

WEEKEND = frozenset({5, 6})  # Saturday, Sunday
# A plan never needs to look further than this from its anchor; a longer walk is a bug.
MAX_WALK_DAYS = 366 * 20


@cache
def supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def check_country(country: str | None, subdivision: str | None = None,
                  field: str = "country") -> None:
    """Refuse a country (or subdivision) the holidays package does not know."""
    if country is None:
        if subdivision is not None:
            raise InvalidCommand("subdivision: needs a country")
        return
    if country not in supported_countries():
        raise InvalidCommand(
            f"{field}: '{country}' is not a supported ISO 3166-1 alpha-2 country code "
            "(e.g. FI, DK, US)"
        )
    if subdivision is not None:
        known = holidays.list_supported_countries()[country]
        if subdivision not in known:
            raise InvalidCommand(
                f"subdivision: '{subdivision}' is not a subdivision of {country}"
                + (f" (known: {', '.join(known[:12])}…)" if known else " (it has none)")
            )


class WorkingCalendar:
    """Which days a team works: Monday to Friday, minus public holidays of its country
    (optionally a subdivision) and the team's closed days."""

    def __init__(self, country: str | None = None, subdivision: str | None = None,
                 closed_days: Iterable[dt.date] = ()) -> None:
        check_country(country, subdivision)
        self.country = country
        self.subdivision = subdivision
        self.closed_days = frozenset(closed_days)
        self._holidays: holidays.HolidayBase | None = (
            holidays.country_holidays(country, subdiv=subdivision) if country else None
        )

    def __repr__(self) -> str:
        return (f"WorkingCalendar(country={self.country!r}, subdivision={self.subdivision!r},"
                f" closed_days={len(self.closed_days)})")

    def why_closed(self, day: dt.date) -> str | None:
        """None on a working day; otherwise why nobody works that day."""
        if day.weekday() in WEEKEND:
            return "weekend"
        if day in self.closed_days:
            return "team closed day"
        if self._holidays is not None:
            name = self._holidays.get(day)
            if name:
                return f"public holiday: {name}"
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return self.why_closed(day) is None

    def on_or_before(self, day: dt.date) -> dt.date:
        """The last working day on or before ``day``."""
        return self._walk(day, -1, include_start=True)

    def on_or_after(self, day: dt.date) -> dt.date:
        """The first working day on or after ``day``."""
        return self._walk(day, 1, include_start=True)

    def shift(self, working_day: dt.date, count: int) -> dt.date:
        """The working day ``count`` working days after (negative: before) ``working_day``."""
        day = working_day
        step = 1 if count > 0 else -1
        for _ in range(abs(count)):
            day = self._walk(day, step, include_start=False)
        return day

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """How many working days lie in [first, last] (0 when last < first)."""
        if last < first:
            return 0
        if self._holidays is None and not self.closed_days:
            # Weekdays only: whole weeks by arithmetic (reports count this per task).
            weeks, extra = divmod((last - first).days + 1, 7)
            return weeks * 5 + sum(
                (first + dt.timedelta(days=weeks * 7 + offset)).weekday() not in WEEKEND
                for offset in range(extra))
        count = 0
        day = first
        while day <= last:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count

    def _walk(self, day: dt.date, step: int, *, include_start: bool) -> dt.date:
        try:
            current = day if include_start else day + dt.timedelta(days=step)
            for _ in range(MAX_WALK_DAYS):
                if self.is_working_day(current):
                    return current
                current += dt.timedelta(days=step)
        except OverflowError:
            raise InvalidCommand(f"dates: the plan around {day} leaves the calendar") from None
        raise InvalidCommand(f"no working day within {MAX_WALK_DAYS} days of {day}")
