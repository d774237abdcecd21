"""Small figures every report shares, defined once (merge-friendly: one percentile)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``percent`` % of the
    values at or below it, i.e. the ⌈percent/100 · n⌉-th smallest (the smallest for 0).
    Always one of the values (no interpolation); the median is ``percentile(values, 50)``,
    the lower middle value when n is even. None for no values."""
    if not values:
        return None
    if not 0 <= percent <= 100:
        raise ValueError(f"percent: {percent} is not between 0 and 100")
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


MICROS_PER_HOUR = 3_600_000_000


def hours_between(start_micros: int, end_micros: int) -> float:
    """Elapsed hours between two instants given in µs since the epoch (calendar time)."""
    return (end_micros - start_micros) / MICROS_PER_HOUR
