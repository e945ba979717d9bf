"""Web figures under load: fifty simulated people (tests/load/driver.py) on
`portal serve --workers 2`, on SQLite and PostgreSQL, beside a bare Litestar page
served the same way, measured in the same run with the same driver.

    .venv/bin/python -m tests.bench.load            # 50 people, 60 s each
    .venv/bin/python -m tests.bench.load --quick    # 20 people, 15 s each

Prints requests a second and p50/p99 latency for opening the case room, posting a
statement and adding a file, and for the bare page, with the ratios to the bare page.
The load generator shares the machine's cores with the servers, as it does in the
load tests: these are figures of the whole machine, not of the portal alone.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from tests.bench.figures import Figure, heading, ratio, show, summary_table
from tests.bench.machine import SECTIONS, WATCH, cpu_model, report_interference
from tests.load.driver import Tally, populate, run_bare, run_load
from tests.load.site import database, serving
from tests.support import ROOT, Unavailable, free_port

KINDS = {"room": "case room GET", "statement": "statement POST", "evidence": "evidence POST"}


def bare_page(users: int, seconds: float) -> Tally:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.bench.bare_app:app", "--port", str(port),
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT,
    )  # fmt: skip
    try:
        end = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
        return asyncio.run(run_bare(f"http://127.0.0.1:{port}", users, seconds))
    finally:
        process.terminate()
        process.wait(timeout=30)


def portal(kind: str, users: int, seconds: float) -> Tally | None:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        try:
            url = stack.enter_context(database(kind, tmp))
        except Unavailable as exc:
            print(f"  {kind}: skipped ({exc})")
            return None
        site = stack.enter_context(serving(kind, url, tmp))
        people = asyncio.run(populate(site.base_url, users))
        WATCH.interference()  # the setting up is not the measured part
        return asyncio.run(run_load(site.base_url, people, seconds))


def figures(label: str, tally: Tally, baseline: Tally) -> list[Figure]:
    bare_rate, bare_p50, bare_p99, _n = baseline.figures("bare")
    shown = []
    for kind, name in KINDS.items():
        rate, p50, p99, _n = tally.figures(kind)
        shown += [
            show(Figure(f"{name} rate", label, rate, "/s", ratio=ratio(rate, bare_rate, "bare/s"))),
            show(Figure(f"{name} p50", label, p50, "ms", ratio=ratio(p50, bare_p50, "bare p50"))),
            show(Figure(f"{name} p99", label, p99, "ms", ratio=ratio(p99, bare_p99, "bare p99"))),
        ]
    if tally.failures:
        print(f"  {label}: {len(tally.failures)} requests FAILED, e.g. {tally.failures[0]}")
    return shown


def main(quick: bool) -> None:
    users, seconds = (20, 15.0) if quick else (50, 60.0)
    print(f"Load: {users} people, {seconds:.0f} s each; {cpu_model()}")
    WATCH.start()
    try:
        heading("Bare Litestar page, uvicorn, 2 workers")
        WATCH.interference()
        baseline = bare_page(users, seconds)
        rate, p50, p99, _n = baseline.figures("bare")
        shown = [
            show(Figure("bare page rate", "-", rate, "/s")),
            show(Figure("bare page p50", "-", p50, "ms")),
            show(Figure("bare page p99", "-", p99, "ms")),
        ]
        report_interference("bare page")
        for kind, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
            heading(f"portal serve --workers 2, {label}")
            tally = portal(kind, users, seconds)
            if tally is not None:
                shown += figures(label, tally, baseline)
                report_interference(f"{label} load")
    finally:
        WATCH.stop()
    print("\n" + summary_table(shown))
    for line in SECTIONS:
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 people for 15 s")
    main(parser.parse_args().quick)
