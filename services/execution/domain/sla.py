"""SLA status of a task, computed from its dates and state (never stored)."""

import datetime as dt

AT_RISK_DAYS = 2
"""A task not finished this many days before it is due is at risk."""

ON_TIME, AT_RISK, LATE = "on_time", "at_risk", "late"
NOT_STARTED = ("planned", "ready")


def sla_status(state: str, due_date: dt.date, start_date: dt.date | None, today: dt.date,
               finished_on: dt.date | None = None) -> str | None:
    """``on_time``, ``at_risk`` or ``late``; None for a cancelled task."""
    if state == "cancelled":
        return None
    if state == "done":
        return LATE if finished_on is not None and finished_on > due_date else ON_TIME
    if today > due_date:
        return LATE
    if (due_date - today).days <= AT_RISK_DAYS or state == "blocked":
        return AT_RISK
    if start_date is not None and today > start_date and state in NOT_STARTED:
        return AT_RISK
    return ON_TIME
