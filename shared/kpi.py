"""How a KPI's measurements add up and what they attain, defined once: planning's goals
(``services/planning/domain/goals.py``) and reporting's goal report use these rules."""

from __future__ import annotations

import math
from collections.abc import Sequence


def aggregate(aggregation: str, values: Sequence[float]) -> float | None:
    """The period's value from its measurements in the order they were taken: sum (e.g.
    leads), last (a level), average or max (a peak). None: nothing measured."""
    if not values:
        return None
    if aggregation == "sum":
        return math.fsum(values)
    if aggregation == "last":
        return values[-1]
    if aggregation == "average":
        return math.fsum(values) / len(values)
    return max(values)


def attainment_percent(achieved: float | None, target: float) -> float | None:
    """What was achieved against the target, in percent (one decimal); None when nothing
    was measured or the target is not positive (goals defined before targets had to be)."""
    if achieved is None or target <= 0:
        return None
    return round(100 * achieved / target, 1)
