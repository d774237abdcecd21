"""Planning's working days: the one working calendar in ``shared.working_calendar`` (moved
there so notification's reminders count days the same way)."""

from shared.working_calendar import (
    MAX_WALK_DAYS,
    WEEKEND,
    WorkingCalendar,
    check_country,
    supported_countries,
)

__all__ = ["MAX_WALK_DAYS", "WEEKEND", "WorkingCalendar", "check_country",
           "supported_countries"]
