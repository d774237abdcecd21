"""Goals with a weight and a kind, each measured by a KPI with a target over a period.
Measurements come from people (HTTP) or from other systems (a CRM's Kafka events).

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

import datetime as dt
import math
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.planning.domain.text import check_date, check_text
from shared import kpi as kpi_rules
from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, event

GoalKind = Literal["awareness", "image", "sales_support", "custom"]
Aggregation = Literal["sum", "last", "average", "max"]
# A measurement may be dated tomorrow: a reporter east of UTC is a day ahead.
MEASUREMENT_LEEWAY = dt.timedelta(days=1)


class Kpi(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="e.g. qualified leads")
    unit: str = Field(default="", max_length=40, description="e.g. leads, %, EUR")
    target: float = Field(allow_inf_nan=False)
    period_start: dt.date
    period_end: dt.date
    aggregation: Aggregation = Field(
        default="sum", description="how the period's measurements add up: sum (e.g. "
        "leads), last (a level, e.g. followers), average (e.g. NPS) or max (a peak)")

    def aggregate(self, values: list[float]) -> float | None:
        """The period's value (measurements in the order they were taken)."""
        return kpi_rules.aggregate(self.aggregation, values)

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.period_end < self.period_start:
            raise ValueError("period_end must be on or after period_start")
        return self


class GoalDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: GoalKind
    custom_kind: str | None = Field(default=None, max_length=64,
                                    description="the kind's name when kind is custom")
    weight: float = Field(gt=0, le=100, allow_inf_nan=False,
                          description="how much effort this goal deserves, relative to others")
    description: str = Field(default="", max_length=4000)
    kpi: Kpi

    @model_validator(mode="after")
    def _custom_kind(self) -> Self:
        if self.kind == "custom" and not (self.custom_kind or "").strip():
            raise ValueError("custom_kind is required when kind is custom")
        if self.kind != "custom" and self.custom_kind is not None:
            raise ValueError("custom_kind only applies when kind is custom")
        return self


class Measurement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    measured_on: dt.date
    source: str = Field(description="'api', or the system that reported it")
    external_id: str | None = Field(default=None, description="the reporter's own id")


class Goal(Aggregate):
    @event("Defined")
    def __init__(self, definition: GoalDefinition, meta: EventMeta) -> None:
        self.definition = definition
        self.defined_by = meta.actor
        self.measurements: list[Measurement] = []

    def record_measurement(self, measurement: Measurement, meta: EventMeta,
                           today: dt.date) -> None:
        kpi = self.definition.kpi
        if not math.isfinite(measurement.value):
            raise InvalidCommand("value: must be a finite number")
        if not kpi.period_start <= measurement.measured_on <= kpi.period_end:
            raise InvalidCommand(
                f"measured_on: {measurement.measured_on} is outside the KPI period "
                f"{kpi.period_start} to {kpi.period_end}")
        if measurement.measured_on > today + MEASUREMENT_LEEWAY:
            raise InvalidCommand(f"measured_on: {measurement.measured_on} is in the future; "
                                 "report what has been measured")
        if measurement.external_id is not None and any(
                m.external_id == measurement.external_id and m.source == measurement.source
                for m in self.measurements):
            raise Conflict(f"external_id: {measurement.source} already reported "
                           f"{measurement.external_id}")
        self._measured(measurement=measurement, meta=meta)

    @event("Measured")
    def _measured(self, measurement: Measurement, meta: EventMeta) -> None:
        self.measurements.append(measurement)

    @property
    def latest(self) -> Measurement | None:
        if not self.measurements:
            return None
        return max(self.measurements, key=lambda m: m.measured_on)

    @property
    def achieved(self) -> float | None:
        """The period's measurements aggregated as the KPI declares."""
        in_order = sorted(self.measurements, key=lambda m: m.measured_on)  # stable
        return self.definition.kpi.aggregate([m.value for m in in_order])

    @property
    def attainment_percent(self) -> float | None:
        """What the period achieved against the target."""
        return kpi_rules.attainment_percent(self.achieved, self.definition.kpi.target)


def define_goal(definition: GoalDefinition, meta: EventMeta) -> Goal:
    check_text("name", definition.name)
    check_text("description", definition.description, multiline=True)
    kpi = definition.kpi
    check_text("kpi.name", kpi.name)
    check_text("kpi.unit", kpi.unit, multiline=True)
    check_date("kpi.period_start", kpi.period_start)
    check_date("kpi.period_end", kpi.period_end)
    # Checked on define only, so goals stored before these rules still load.
    if kpi.target <= 0:
        raise InvalidCommand(f"kpi.target: must be above 0, not {kpi.target:g} "
                             "(attainment is measured against it)")
    if kpi.unit.strip() == "%" and kpi.target > 100 and kpi.aggregation != "sum":
        raise InvalidCommand(f"kpi.target: {kpi.target:g} % cannot be reached")
    return Goal(definition=definition, meta=meta)
