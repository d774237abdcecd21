"""Benchmark figures: every one beside a raw baseline measured in the same run."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    baseline: float
    ratio: float
    scale: str
    note: str = ""


def result(name: str, value: float, unit: str, baseline: float, scale: str,
           note: str = "") -> Result:
    """``ratio`` is value / baseline: for rates, below 1 is slower than the raw baseline;
    for latencies and memory, above 1 is slower or larger."""
    ratio = value / baseline if baseline else float("nan")
    return Result(name, round(value, 3), unit, round(baseline, 3), round(ratio, 3), scale, note)


def size_label(events: int) -> str:
    """How a figure names the size it was measured at: 600, 1.2k, 30k, 1M."""
    if events >= 1_000_000:
        return f"{events / 1_000_000:g}M"
    if events >= 1000:
        return f"{events / 1000:g}k"
    return str(events)


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[round(fraction * 100) - 1]


def print_table(results: list[Result]) -> None:
    header = f"{'figure':<46} {'value':>12} {'baseline':>12} {'ratio':>7}  unit"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<46} {r.value:>12.2f} {r.baseline:>12.2f} {r.ratio:>7.3f}  {r.unit}")


def write_json(results: list[Result], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
