"""`portal ledger verify` throughput: entries a second of `verify_log` over a whole log.

Run over the log an append benchmark has just built (entries, case heads, tree nodes and
every checkpoint the integrator signed), in the same process, trusting the key files as
the command does. Target: at least 70% of the raw Ed25519 verify rate, since checking the
signature is the one step that cannot be made cheaper.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from ledger.audit import verify_log
from ledger.keys import trusted_verifiers
from ledger.tables import LedgerEntry
from tests.bench.databases import ORIGIN, ROOT, BenchDatabase
from tests.bench.figures import Figure, Target, ratio, show
from tests.bench.raw_rates import RawRates

SHARE_OF_RAW_VERIFY = 0.70


async def measure(db: BenchDatabase, raw: RawRates) -> list[Figure]:
    """Verify the log bound now; the tables must be bound to `db`."""
    # The command's trust root: the key files, never the keys the database publishes.
    keys = trusted_verifiers(db.keyring())
    start = time.perf_counter()
    report = await verify_log(ORIGIN, keys)
    elapsed = time.perf_counter() - start
    if not report.ok:
        print(report.render())
    rate = report.entries / elapsed
    bound = SHARE_OF_RAW_VERIFY * raw.verify
    return [
        show(
            Figure(
                "verify_log entries/s",
                db.label,
                rate,
                "/s",
                Target(">=", bound, f">= 0.70 x raw verify ({bound:,.0f}/s)"),
                ratio(rate, raw.verify, "raw verify/s"),
                note=(
                    f"{report.entries:,} entries, {report.checkpoints} checkpoints, "
                    f"{elapsed:.1f} s" + ("" if report.ok else "; THE LOG FAILED TO VERIFY")
                ),
            )
        )
    ]


async def measure_command(db: BenchDatabase) -> Figure:
    """The real `portal ledger verify`, start-up included, in a child process."""
    entries = await LedgerEntry.count()
    start = time.perf_counter()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "portal", "ledger", "verify"],
        env=db.env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    ok = result.returncode == 0
    if not ok:
        print(result.stdout[-2000:], result.stderr[-2000:])
    return show(
        Figure(
            "portal ledger verify (command) entries/s",
            db.label,
            entries / elapsed,
            "/s",
            note=f"child process, start-up included, {elapsed:.1f} s"
            + ("" if ok else f"; EXITED {result.returncode}"),
        )
    )
