"""Appends a second and integration lag under that load, then verify over the log built.

While the load runs, a second process runs the portal's background integrator
(`tests.bench.integrator_worker`, the `run_integrator` loop a worker runs, every 0.5 s),
so appends compete with integration for the database exactly as on a server.

- SQLite, one writer: a loop of `append_entry`, each in a transaction of its own.
- SQLite, in the caller's `write_transaction` with one small change row (a case's
  status), as a portal request does it. No target: compare with the row above.
- PostgreSQL, 32 writers (asyncio tasks, a pool of 40) over 256 cases.

The lag of an entry is the `created_at` of the first checkpoint whose tree covers its
leaf index, minus the entry's own `at`. Then `verify_log` runs over the whole log.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import sys
import time
from bisect import bisect_right
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table

from ledger.appender import append_entry
from ledger.entry import parse_time
from ledger.keys import Keyring
from ledger.tables import LedgerCheckpoint, LedgerEntry
from portal.database import bind_tables, write_transaction
from tests.bench import verify_throughput
from tests.bench.databases import ROOT, BenchDatabase, bound, fresh_database
from tests.bench.figures import Figure, Target, heading, percentile, ratio, show
from tests.bench.machine import report_interference
from tests.bench.raw_rates import RawRates
from tests.bench.workload import case_refs, realistic_event

CASES = 256
POSTGRES_WRITERS = 32
POOL_SIZE = 40
SETTLE_TIMEOUT = 120.0
SKIPPED = "PostgreSQL unreachable"
STATUSES = ("awaiting_response", "in_mediation", "offer_pending", "awaiting_info")


@dataclass(frozen=True)
class Sizes:
    sqlite_alone: int
    sqlite_in_transaction: int
    postgres: int

    @classmethod
    def for_run(cls, quick: bool) -> Sizes:
        return cls(2_000, 1_000, 3_000) if quick else cls(20_000, 5_000, 24_000)


class BenchCase(Table, tablename="bench_case"):
    """A stand-in for the portal's case row, whose status a request changes."""

    case_ref = Varchar(length=64, unique=True)
    status = Varchar(length=32)
    updated_at = Timestamptz()


@dataclass(frozen=True)
class Load:
    appended: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.appended / self.seconds


@asynccontextmanager
async def integrator_process(db: BenchDatabase) -> AsyncIterator[None]:
    """The integrator running in a child process for the life of the block."""
    log_path = db.workdir / "integrator.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench.integrator_worker",
            env=db.env(),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            if line.strip() != b"ready":
                raise RuntimeError(
                    f"the integrator process did not start:\n{log_path.read_text()[-3000:]}"
                )
            yield
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    problems = log_path.read_text()
    if problems.strip():
        print(f"  the integrator process wrote to stderr:\n{problems[-3000:]}")


async def appends_alone(keyring: Keyring, count: int, first: int) -> Load:
    cases = case_refs(CASES)
    rng = random.Random(first)
    latencies = []
    start = time.perf_counter()
    for i in range(first, first + count):
        event_type, actor, body = realistic_event(i)
        began = time.perf_counter()
        await append_entry(
            keyring, case=rng.choice(cases), event_type=event_type, actor=actor, body=body
        )
        latencies.append(time.perf_counter() - began)
    return Load(count, time.perf_counter() - start, latencies)


async def appends_in_transaction(engine: object, keyring: Keyring, count: int, first: int) -> Load:
    cases = case_refs(CASES)
    rng = random.Random(first)
    latencies = []
    start = time.perf_counter()
    for i in range(first, first + count):
        case = rng.choice(cases)
        event_type, actor, body = realistic_event(i)
        began = time.perf_counter()
        async with write_transaction(engine):  # type: ignore[arg-type]
            await BenchCase.update(
                {
                    BenchCase.status: STATUSES[i % len(STATUSES)],
                    BenchCase.updated_at: datetime.now(UTC),
                }
            ).where(BenchCase.case_ref == case)
            await append_entry(keyring, case=case, event_type=event_type, actor=actor, body=body)
        latencies.append(time.perf_counter() - began)
    return Load(count, time.perf_counter() - start, latencies)


async def appends_concurrent(keyring: Keyring, count: int, writers: int) -> Load:
    cases = case_refs(CASES)
    numbers = itertools.count()
    latencies: list[float] = []

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        while (i := next(numbers)) < count:
            event_type, actor, body = realistic_event(i)
            began = time.perf_counter()
            await append_entry(
                keyring, case=rng.choice(cases), event_type=event_type, actor=actor, body=body
            )
            latencies.append(time.perf_counter() - began)

    start = time.perf_counter()
    await asyncio.gather(*(writer(seed) for seed in range(writers)))
    return Load(count, time.perf_counter() - start, latencies)


async def settle() -> float:
    """Wait until the integrator has given every entry its leaf index; seconds waited."""
    start = time.perf_counter()
    while await LedgerEntry.count().where(LedgerEntry.leaf_index.is_null()):
        if time.perf_counter() - start > SETTLE_TIMEOUT:
            raise RuntimeError(f"entries still unintegrated after {SETTLE_TIMEOUT:.0f} s")
        await asyncio.sleep(0.05)
    return time.perf_counter() - start


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def integration_lags(first_id: int = 0, last_id: int | None = None) -> list[float]:
    """Seconds from each entry's `at` to the first checkpoint covering its leaf index."""
    checkpoints = await LedgerCheckpoint.select(
        LedgerCheckpoint.tree_size, LedgerCheckpoint.created_at
    ).order_by(LedgerCheckpoint.tree_size)
    sizes = [row["tree_size"] for row in checkpoints]
    times = [_as_datetime(row["created_at"]) for row in checkpoints]
    query = (
        LedgerEntry.select(LedgerEntry.leaf_index, LedgerEntry.entry)
        .where(LedgerEntry.id > first_id)
        .order_by(LedgerEntry.id)
    )
    if last_id is not None:
        query = query.where(LedgerEntry.id <= last_id)
    lags = []
    for row in await query:
        signed_at = times[bisect_right(sizes, row["leaf_index"])]
        at = parse_time(json.loads(bytes(row["entry"]))["at"])
        lags.append((signed_at - at).total_seconds())
    return lags


async def _last_id() -> int:
    row = await LedgerEntry.select(LedgerEntry.id).order_by(LedgerEntry.id, ascending=False).first()
    return 0 if row is None else int(row["id"])


def lag_figures(label: str, lags: list[float], what: str) -> list[Figure]:
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    note = f"{len(lags):,} entries, {what}, max {max(lags):.2f} s"
    return [
        show(Figure("integration lag p50", label, p50, "s", note=note)),
        show(
            Figure("integration lag p99", label, p99, "s", Target("<=", 2.0, "<= 2 s"), note=note)
        ),
    ]


def _latency_note(load: Load) -> str:
    p50 = percentile(load.latencies, 50) * 1000
    p99 = percentile(load.latencies, 99) * 1000
    return (
        f"{load.appended:,} appends in {load.seconds:.1f} s; "
        f"latency p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )


async def sqlite_run(raw: RawRates, sizes: Sizes) -> list[Figure]:
    heading("Appends on SQLite, integrator in a second process (interval 0.5 s)")
    figures: list[Figure] = []
    async with fresh_database("sqlite") as db, bound(db, POOL_SIZE) as engine:
        keyring = db.keyring()
        bind_tables(engine, [BenchCase])
        await BenchCase.create_table(if_not_exists=True)
        now = datetime.now(UTC)
        await BenchCase.insert(
            *(
                BenchCase(case_ref=case, status=STATUSES[0], updated_at=now)
                for case in case_refs(CASES)
            )
        )
        async with integrator_process(db):
            alone = await appends_alone(keyring, sizes.sqlite_alone, 0)
            alone_last = await _last_id()
            together = await appends_in_transaction(
                engine, keyring, sizes.sqlite_in_transaction, sizes.sqlite_alone
            )
            waited = await settle()
        figures.append(
            show(
                Figure(
                    "appends/s, one writer",
                    db.label,
                    alone.rate,
                    "/s",
                    Target(">=", 2000, ">= 2,000/s"),
                    ratio(alone.rate, raw.sign, "raw sign/s"),
                    _latency_note(alone),
                )
            )
        )
        figures.append(
            show(
                Figure(
                    "appends/s, in write_transaction + change row",
                    db.label,
                    together.rate,
                    "/s",
                    ratio=ratio(together.rate, alone.rate, "one writer"),
                    note=_latency_note(together),
                )
            )
        )
        lags = await integration_lags()
        figures += lag_figures(db.label, lags, f"both loads; last settled {waited:.2f} s after")
        alone_lags = await integration_lags(0, alone_last)
        print(
            f"  {'':10} (one-writer load alone: lag p50 {percentile(alone_lags, 50):.2f} s, "
            f"p99 {percentile(alone_lags, 99):.2f} s; in-transaction load: p50 "
            f"{percentile(lags[len(alone_lags) :], 50):.2f} s, "
            f"p99 {percentile(lags[len(alone_lags) :], 99):.2f} s)"
        )
        heading("verify_log over that SQLite log")
        figures += await verify_throughput.measure(db, raw)
        figures.append(await verify_throughput.measure_command(db))
    report_interference("SQLite appends and verify")
    return figures


async def postgres_run(raw: RawRates, sizes: Sizes) -> list[Figure]:
    heading(
        f"Appends on PostgreSQL, {POSTGRES_WRITERS} writers over {CASES} cases, "
        "integrator in a second process (interval 0.5 s)"
    )
    figures: list[Figure] = []
    async with fresh_database("postgres") as db, bound(db, POOL_SIZE) as _:
        keyring = db.keyring()
        async with integrator_process(db):
            load = await appends_concurrent(keyring, sizes.postgres, POSTGRES_WRITERS)
            waited = await settle()
        figures.append(
            show(
                Figure(
                    f"appends/s, {POSTGRES_WRITERS} writers",
                    db.label,
                    load.rate,
                    "/s",
                    Target(">=", 1500, ">= 1,500/s"),
                    ratio(load.rate, raw.sign, "raw sign/s"),
                    _latency_note(load),
                )
            )
        )
        lags = await integration_lags()
        figures += lag_figures(db.label, lags, f"last settled {waited:.2f} s after")
        heading("verify_log over that PostgreSQL log")
        figures += await verify_throughput.measure(db, raw)
        figures.append(await verify_throughput.measure_command(db))
    report_interference("PostgreSQL appends and verify")
    return figures


async def run(raw: RawRates, quick: bool, postgres_skipped: str | None) -> list[Figure]:
    sizes = Sizes.for_run(quick)
    figures = await sqlite_run(raw, sizes)
    if postgres_skipped:
        heading("Appends on PostgreSQL")
        print(f"  PostgreSQL figures skipped: {postgres_skipped}")
        lag_target = Target("<=", 2.0, "<= 2 s")
        figures += [
            Figure(
                f"appends/s, {POSTGRES_WRITERS} writers",
                "PostgreSQL",
                None,
                "/s",
                Target(">=", 1500, ">= 1,500/s"),
                note=SKIPPED,
            ),
            Figure("integration lag p50", "PostgreSQL", None, "s", note=SKIPPED),
            Figure("integration lag p99", "PostgreSQL", None, "s", lag_target, note=SKIPPED),
            Figure("verify_log entries/s", "PostgreSQL", None, "/s", note=SKIPPED),
        ]
    else:
        figures += await postgres_run(raw, sizes)
    return figures
