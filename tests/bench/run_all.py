"""`make bench`: every ledger benchmark, then one summary table.

    .venv/bin/python -m tests.bench.run_all            # the full run, 2-3 minutes
    .venv/bin/python -m tests.bench.run_all --quick    # smaller loads, a 100,000-leaf tree

Raw rates come first: every other figure is printed as a ratio of one of them, measured
in the same run. Other processes' CPU use is watched throughout, because a benchmark
sharing two cores with a test run measures the test run.

The benchmarks are imported inside `main()`: the worker processes of `verify_log` import
this module again (multiprocessing does that with a program's main module), and should
not pay for the app, Piccolo and Litestar that the benchmarks import.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime


async def main(quick: bool, only: set[str]) -> int:
    from tests.bench import appends, proofs_at_scale, queues, raw_rates
    from tests.bench.databases import postgres_unreachable, server_version
    from tests.bench.figures import heading, summary_table
    from tests.bench.machine import SECTIONS, WATCH, cpu_model

    started = time.perf_counter()
    skipped = await postgres_unreachable()
    postgres = "unreachable" if skipped else await server_version("postgres")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    print(f"Ledger benchmarks{' (--quick)' if quick else ''}, {when} UTC")
    print(
        f"Machine: {os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()}; "
        f"SQLite {await server_version('sqlite')}; PostgreSQL {postgres}"
    )
    if skipped:
        print(f"PostgreSQL figures will be skipped: {skipped}")
    WATCH.start()
    try:
        raw, figures = raw_rates.measure(quick)
        if "appends" in only:
            figures += await appends.run(raw, quick, skipped)
        if "proofs" in only:
            figures += await proofs_at_scale.run(quick, skipped)
        if "queues" in only:
            figures += await queues.run(quick, skipped)
    finally:
        WATCH.stop()

    heading(f"Summary ({time.perf_counter() - started:.0f} s)")
    print(summary_table(figures))
    print()
    missed = [f for f in figures if f.verdict == "MISS"]
    for figure in missed:
        target = figure.target.text if figure.target else "-"
        print(f"MISSED: {figure.database} {figure.name} = {figure.shown_value()} (target {target})")
    if not missed:
        print("Every measured figure meets its target.")
    if skipped:
        print(f"SKIPPED: every PostgreSQL figure, because {skipped}")
    print("\nOther processes' CPU use while each benchmark ran:")
    for line in SECTIONS:
        print(f"  {line}")
    # Benchmarks report; a missed target is news, not a failed build.
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads, 100,000-leaf tree")
    parser.add_argument(
        "--only",
        action="append",
        choices=["appends", "proofs", "queues"],
        help="run only these benchmarks (raw rates always run); repeatable",
    )
    args = parser.parse_args()
    import uvloop

    # The event loop `portal serve` runs (uvicorn picks uvloop when it is installed): its
    # cheaper wake-ups from aiosqlite's threads are part of what a SQLite append costs.
    sys.exit(uvloop.run(main(args.quick, set(args.only or ["appends", "proofs", "queues"]))))
