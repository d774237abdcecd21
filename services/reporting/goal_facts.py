"""Goals and their KPI measurements as they were at any instant (projection
``reporting.goals``), in the versioned pattern of ``facts.py``: a goal's definition
(one version per GoalDefined), and one row per KPI measurement planning recorded
(KpiMeasured), valid from the time it was archived.

Only KpiMeasured counts: a CRM's KpiMeasurementReported becomes one once planning has
validated it, so counting both would count it twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.reporting.domain import ArchivedEvent
from services.reporting.facts import PLANNING, VERSION_COLUMNS, FactsView, Kind, Row
from shared.projections import Table

GOAL_DEFINED = PLANNING + "goal.defined.v1"
KPI_MEASURED = PLANNING + "kpi.measured.v1"

GOALS = Table("fact_goals", (("goal_id", "text"), *VERSION_COLUMNS, (
    "name", "text"), ("kind", "text"), ("weight", "real"), ("kpi_name", "text"),
    ("kpi_unit", "text"), ("kpi_target", "real"), ("kpi_aggregation", "text"),
    ("period_start", "text"), ("period_end", "text")), ("goal_id", "version"),
    indexes=(("goal_id", "valid_to"),))
"""A goal's definition: weight, KPI target over its period and aggregation rule."""

MEASUREMENTS = Table("fact_kpi_measurements", (("measurement_id", "text"),
                                               *VERSION_COLUMNS, ("goal_id", "text"),
                                               ("value", "real"), ("measured_on", "text"),
                                               ("source", "text")),
                     ("measurement_id", "version"),
                     indexes=(("measurement_id", "valid_to"), ("goal_id", "valid_from")))
"""One KPI measurement (the archived event's id); ``valid_from``: when it was archived."""


def _goal_subject(entry: ArchivedEvent) -> Sequence[str]:
    return (str(entry.data["goal_id"]),) if entry.type == GOAL_DEFINED else ()


def _goal_fold(entry: ArchivedEvent, _: str, latest: Row | None) -> Row | None:
    data = entry.data
    return {"name": data["name"], "kind": data.get("kind"), "weight": float(data["weight"]),
            "kpi_name": data.get("kpi_name"), "kpi_unit": data.get("kpi_unit", ""),
            "kpi_target": float(data["kpi_target"]),
            # absent in older events: sum (the contract's default)
            "kpi_aggregation": data.get("kpi_aggregation") or "sum",
            "period_start": data.get("period_start"), "period_end": data.get("period_end")}


def _measurement_subject(entry: ArchivedEvent) -> Sequence[str]:
    return (entry.id,) if entry.type == KPI_MEASURED else ()


def _measurement_fold(entry: ArchivedEvent, _: str, latest: Row | None) -> Row | None:
    data = entry.data
    return {"goal_id": str(data["goal_id"]), "value": float(data["value"]),
            "measured_on": data["measured_on"], "source": data.get("source")}


GOAL_KINDS = (
    Kind(GOALS, _goal_subject, _goal_fold),
    Kind(MEASUREMENTS, _measurement_subject, _measurement_fold),
)


class GoalFactsView(FactsView):
    """Goals' definitions and KPI measurements (module doc)."""

    name = "reporting.goals"
    version = 1
    kinds = GOAL_KINDS
