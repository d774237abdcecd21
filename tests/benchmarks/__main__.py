"""`make bench [SCALE=small|full]`: throughput, latency, replay, audit, start-up and
memory, each figure beside a raw baseline measured in the same run on the same Kafka and
PostgreSQL."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks import reports, scenarios, startup
from tests.benchmarks.context import ROOT, BenchContext
from tests.benchmarks.results import Result, print_table, write_json

DEFAULT_OUTPUT = ROOT / "var" / "bench" / "results.json"


def run(scale: str, output: Path, only: set[str] | None = None) -> list[Result]:
    context = BenchContext.create(scale)
    memory: dict[str, float] = {}
    results: list[Result] = []
    steps: dict[str, Callable[[], list[Result]]] = {
        "commands": lambda: scenarios.durable_commands(context),
        "http": lambda: scenarios.http_commands(context, memory),
        "pipeline": lambda: scenarios.event_pipeline(context, memory),
        "replay": lambda: scenarios.replay_and_audit(context),
        "reports": lambda: reports.reports_and_export(
            context, scenarios.SIZES[scale]["audit"], scenarios.SIZES[scale]["queries"]),
        "startup": lambda: startup.startup_with_history(
            context, scenarios.SIZES[scale]["startup"], scenarios.SIZES[scale]["starts"]),
    }
    try:
        for name, step in steps.items():
            if only and name not in only:
                continue
            started = time.perf_counter()
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            results += step()
            print(f"[bench] {name} done in {time.perf_counter() - started:.1f}s",
                  file=sys.stderr, flush=True)
        results += scenarios.memory_results(memory, scale)
    finally:
        context.close()
    print_table(results)
    write_json(results, output)
    print(f"\nresults written to {output}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--scale", choices=sorted(scenarios.SIZES), default="small")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # A terminated benchmark still stops the service processes it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run(arguments.scale, arguments.out, set(arguments.only) if arguments.only else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
