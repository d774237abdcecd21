"""Goal attainment follows the KPI's declared aggregation over its period; targets that
cannot be measured against and measurements from the future are refused."""

from __future__ import annotations

import datetime as dt

import pytest

from services.planning.domain import GoalDefinition, Measurement, define_goal
from services.planning.domain.goals import Goal
from shared.domain import EventMeta, InvalidCommand

ANNA = EventMeta(actor="anna")
TODAY = dt.date(2026, 12, 31)


def goal(aggregation: str | None, target: float = 200, unit: str = "leads") -> Goal:
    kpi = {"name": "leads", "unit": unit, "target": target, "period_start": "2026-01-01",
           "period_end": "2026-12-31"}
    if aggregation is not None:
        kpi["aggregation"] = aggregation
    return define_goal(GoalDefinition.model_validate(
        {"name": "Leads", "kind": "sales_support", "weight": 10, "kpi": kpi}), ANNA)


def measured(target: Goal, *values_by_day: tuple[int, float]) -> Goal:
    for month, value in values_by_day:
        target.record_measurement(Measurement(value=value, measured_on=dt.date(2026, month, 1),
                                              source="api"), ANNA, today=TODAY)
    return target


@pytest.mark.parametrize("aggregation, attainment", [
    (None, 85.0),  # sum: the period's total, unless the KPI says otherwise
    ("sum", 85.0), ("last", 25.0), ("average", 42.5), ("max", 60.0)])
def test_attainment_follows_the_declared_aggregation(aggregation: str | None,
                                                     attainment: float) -> None:
    # Recorded out of order: "last" is the latest measured, not the latest reported.
    subject = measured(goal(aggregation), (2, 120), (5, 50))
    assert subject.attainment_percent == attainment


def test_no_measurement_yet_is_no_attainment() -> None:
    assert goal("sum").attainment_percent is None


@pytest.mark.parametrize("target", [0, -5])
def test_a_target_that_cannot_be_measured_against_is_refused(target: float) -> None:
    with pytest.raises(InvalidCommand, match=r"kpi\.target: must be above 0"):
        goal("sum", target=target)


def test_a_percentage_level_above_100_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="cannot be reached"):
        goal("last", target=120, unit="%")


def test_a_measurement_from_the_future_is_refused() -> None:
    subject = goal("sum")
    with pytest.raises(InvalidCommand, match="measured_on: 2026-12-31 is in the future"):
        subject.record_measurement(Measurement(value=1, measured_on=dt.date(2026, 12, 31),
                                               source="api"), ANNA, today=dt.date(2026, 6, 1))
    # A reporter a time zone ahead may already be in tomorrow.
    subject.record_measurement(Measurement(value=1, measured_on=dt.date(2026, 6, 2),
                                           source="api"), ANNA, today=dt.date(2026, 6, 1))
