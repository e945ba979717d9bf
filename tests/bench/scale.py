"""The portal at scale: 100,000 cases and 1,000,000 real ledger entries, on SQLite and PostgreSQL.

Seeding (timed, and printed first):
- cases: `tests/bench/seeded_cases.py` seeds 100,000 cases with their participants
  directly (not filed), as for the queue benchmark;
- entries: `tests/bench/seeded_ledger.py` makes 1,000,000 real entries for those cases
  with the ledger's own `encode_entry`, `sign_entry` and `leaf_hash`, hash-chained per
  case (the first case, "the long case", gets 1,000; the others 9 or 10 each), one process
  per core, and bulk-inserts them (executemany / COPY) with every case's head row. Both
  databases get the same entries, signed once, under the same key;
- integration: the ledger's own `integrate` gives them leaf indexes, stores the tree's
  nodes and signs a checkpoint per batch of 50,000.

Then, on each database, through the real app in this process (no lifespan tasks, so
only the page is timed; `tests/bench/seeded_cases.py`), median and p99 of sequential
calls after a warm-up:
- a bare Litestar page (one handler returning a small HTML page), the baseline every
  HTTP figure is given as a ratio of;
- staff queue pages (GET /staff/queue as that staff member), the first page and page 100
  (or the last, for a queue shorter than that);
- the case room (GET /cases/<ref>, logged in as the claimant) of the long case and of
  a typical 10-entry case;
- an inclusion proof at a random leaf against the latest checkpoint's size, over HTTP
  (GET /ledger/proof/inclusion) and as the function `ledger.proofs.inclusion_proof`;
  a sample of proofs is first checked against the signed root with the entries' own
  leaf hashes;
- `portal ledger verify` over the whole log: the real command in a child process, wall
  time (start-up included) and entries/s, as a ratio of the raw Ed25519 verify rate
  measured at the start of the same run (one core; verify uses one worker per core).

    .venv/bin/python -m tests.bench.scale            # 6-14 minutes on 2 cores, ~1.7 GB disk
    .venv/bin/python -m tests.bench.scale --quick    # 10,000 cases, 100,000 entries: ~4 minutes
    .venv/bin/python -m tests.bench.scale --only sqlite

The full run spends its time on signing a million entries once (40-90 s), inserting them
into each database (10-30 s) and integrating them (15-45 s), and above all on verifying
them with the real command (2-7 minutes per database; the longer times on a machine other
work was using). Each database takes about 850 MB while it runs; both are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from typing import Any

import httpx
from litestar import Litestar, MediaType, get

from ledger.keys import Keyring, verifiers_file
from ledger.merkle import verify_inclusion
from ledger.proofs import inclusion_proof, latest_checkpoint
from ledger.tables import LedgerEntry
from portal.cases import queues
from portal.procedure import roles
from tests.bench.databases import ORIGIN, ROOT, BenchDatabase, bound, fresh_database
from tests.bench.figures import (
    Figure,
    Target,
    heading,
    percentile,
    ratio,
    show,
    summary_table,
)
from tests.bench.machine import report_interference
from tests.bench.raw_rates import RawRates
from tests.bench.seeded_cases import (
    bench_app,
    case_ref,
    client_of,
    log_in,
    seed,
    timed,
    viewer_for,
)
from tests.bench.seeded_ledger import (
    EntryWriter,
    integrate_all,
    made_chunks,
    plan_cases,
    settle,
)

FULL = (100_000, 1_000_000)  # cases, entries
QUICK = (10_000, 100_000)
LONG_CASE_ENTRIES = 1_000
PROOFS_CHECKED = 50
PROOF_TARGET = Target("<=", 1.0, "< 1 ms")
SHARE_OF_RAW_VERIFY = 0.70
VERIFY_TIMEOUT = 3600
QUEUE_VIEWS = ("agent: untriaged", "supervisor: all open")
KINDS = ("sqlite", "postgres")


def bare_litestar() -> Litestar:
    """The baseline of the HTTP figures: Litestar with one handler and nothing else."""

    @get("/", media_type=MediaType.HTML, sync_to_thread=False)
    def hello() -> str:
        return "<!doctype html><title>Hello</title><p>Hello, world.</p>"

    return Litestar([hello])


def ms_figures(name: str, label: str, times: list[float], baseline: float | None,
               note: str, target: Target | None = None) -> list[Figure]:  # fmt: skip
    """Median and p99 of `times`, each beside the bare page's median when given."""
    figures = []
    for stat, value in (("median", statistics.median(times)), ("p99", percentile(times, 99))):
        shown = ratio(value, baseline, "bare Litestar page") if baseline else ""
        figures.append(show(Figure(f"{name}, {stat}", label, value, "ms", target, shown, note)))
    return figures


async def ok_get(client: Any, url: str) -> None:
    response = await client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url}: {response.status_code}\n{response.text[-1500:]}")


async def time_pages(db: BenchDatabase, app: Any, seeded: Any, calls: int) -> list[Figure]:
    from tests.bench.queues import VIEWS, deep_query

    figures: list[Figure] = []
    label = db.label
    bare = client_of(bare_litestar())
    bare_t = await timed(calls, lambda: ok_get(bare, "/"))
    await bare.aclose()
    baseline = statistics.median(bare_t)
    figures += ms_figures("bare Litestar page (baseline)", label, bare_t, None,
                          f"{calls} calls, in-process ASGI")  # fmt: skip

    clients: list[httpx.AsyncClient] = []
    try:
        for view in (v for v in VIEWS if v.name in QUEUE_VIEWS):
            user_id = seeded.staff[view.role][0]
            client = client_of(app)
            clients.append(client)
            browser = await log_in(client, user_id)
            viewer = viewer_for(user_id, view.role)
            first = queues.read_query(viewer, **view.params)
            deep, deep_number = await deep_query(first, viewer)
            for number, query in ((1, first), (deep_number, deep)):
                url = "/staff/queue?" + str(httpx.QueryParams(query.link(query.after)))
                times = await timed(calls, lambda b=browser, u=url: ok_get(b, u))
                figures += ms_figures(f"queue page, {view.name}, page {number}", label, times,
                                      baseline, f"{calls} calls over HTTP")  # fmt: skip

        for case_id in (1, 2):
            ref = case_ref(case_id)
            claimant = next(p[2] for p in seeded.participants
                            if p[1] == case_id and p[3] == roles.CLAIMANT)  # fmt: skip
            entries = await LedgerEntry.count().where(LedgerEntry.case_ref == ref)
            client = client_of(app)
            clients.append(client)
            browser = await log_in(client, claimant)
            times = await timed(calls, lambda b=browser, r=ref: ok_get(b, f"/cases/{r}"))
            figures += ms_figures(f"case room, {entries:,} entries", label, times, baseline,
                                  f"{calls} calls over HTTP as the claimant")  # fmt: skip

        latest = await latest_checkpoint()
        assert latest is not None, "the integrator signed no checkpoint"
        size = latest.size
        await check_proofs(size, latest.root)
        rng = random.Random(6962)
        client = client_of(app)
        clients.append(client)

        async def over_http() -> None:
            await ok_get(client, f"/ledger/proof/inclusion?index={rng.randrange(size)}&size={size}")

        async def function() -> None:
            await inclusion_proof(rng.randrange(size), size)

        note = f"random leaves of {size:,}"
        figures += ms_figures("inclusion proof over HTTP", label, await timed(calls, over_http),
                              baseline, f"{calls} calls; {note}")  # fmt: skip
        figures += ms_figures("inclusion_proof()", label, await timed(calls * 5, function),
                              None, f"{calls * 5} calls; {note}", PROOF_TARGET)  # fmt: skip
    finally:
        for client in clients:
            await client.aclose()
    return figures


async def check_proofs(size: int, root: bytes) -> None:
    """Proofs must verify against the signed root with the entries' own leaf hashes, or
    their timings mean nothing."""
    rng = random.Random(9162)
    for _ in range(PROOFS_CHECKED):
        index = rng.randrange(size)
        row = await LedgerEntry.select(LedgerEntry.leaf_hash).where(
            LedgerEntry.leaf_index == index
        ).first()  # fmt: skip
        verify_inclusion(bytes(row["leaf_hash"]), index, size, await inclusion_proof(index, size),
                         root)  # fmt: skip


async def time_verify(db: BenchDatabase, raw: RawRates, entries: int) -> list[Figure]:
    """The real `portal ledger verify --log-only` in a child process, start-up included:
    the seeded cases have no entries of their own, so their rows are not compared."""
    began = time.perf_counter()
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "portal", "ledger", "verify", "--log-only"],
        env=db.env(),
        cwd=ROOT, capture_output=True, text=True, timeout=VERIFY_TIMEOUT,
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    last = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
    rate = entries / elapsed
    bound_rate = SHARE_OF_RAW_VERIFY * raw.verify
    note = f"{entries:,} entries in {elapsed:.1f} s, child process; it said: {last}"
    if result.returncode != 0:
        note += f"; EXITED {result.returncode}: THE LOG FAILED TO VERIFY"
    return [
        show(Figure("portal ledger verify, wall time", db.label, elapsed, "s", note=note)),
        show(
            Figure(
                "portal ledger verify entries/s", db.label, rate, "/s",
                Target(">=", bound_rate, f">= 0.70 x raw verify ({bound_rate:,.0f}/s)"),
                ratio(rate, raw.verify, "raw verify/s (one core)"), note,
            )
        ),
    ]  # fmt: skip


def share_key(keyring: Keyring, db: BenchDatabase) -> None:
    """Give `db` the deployment's key, which signed the entries seeded into it."""
    shutil.copy(keyring.path, db.key_file)
    shutil.copy(verifiers_file(keyring.path), verifiers_file(db.key_file))


async def run(quick: bool, raw: RawRates, kinds: list[str],
              postgres_skipped: str | None) -> list[Figure]:  # fmt: skip
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    cases, entries = QUICK if quick else FULL
    calls = 30 if quick else 100
    heading(
        f"Scale: {cases:,} cases and {entries:,} ledger entries (CASES SEEDED DIRECTLY; "
        "ENTRIES MADE AND SIGNED BY THE LEDGER'S OWN FUNCTIONS, BULK-INSERTED, INTEGRATED "
        "BY ITS INTEGRATOR)"
    )
    figures: list[Figure] = []
    if "postgres" in kinds and postgres_skipped:
        print(f"  PostgreSQL figures skipped: {postgres_skipped}")
        kinds = [k for k in kinds if k != "postgres"]
        figures.append(Figure("scale", "PostgreSQL", None, "", note=postgres_skipped))
    async with AsyncExitStack() as stack:
        dbs = [await stack.enter_async_context(fresh_database(kind)) for kind in kinds]
        keyring = Keyring.open(dbs[0].key_file, ORIGIN, create=True)
        for db in dbs[1:]:
            share_key(keyring, db)
        seeded = {}
        for db in dbs:
            began = time.perf_counter()
            seeded[db.kind] = await seed(db, cases)
            figures.append(show(Figure("seed cases and participants", db.label,
                                       time.perf_counter() - began, "s",
                                       note=f"{cases:,} cases, bulk insert")))  # fmt: skip
        first = seeded[dbs[0].kind]
        plans = plan_cases(first.cases, first.participants, entries, LONG_CASE_ENTRIES)
        writers = [EntryWriter(db) for db in dbs]
        for writer in writers:
            await writer.open()
        began = time.perf_counter()
        for chunk in made_chunks(keyring.path, plans):
            for writer in writers:
                await writer.write(chunk)
        made = time.perf_counter() - began
        for writer in writers:
            await writer.close()
        signing = made - sum(w.seconds for w in writers)
        figures.append(show(Figure(
            "make and sign entries", "-", made, "s",
            note=f"{entries:,} entries, one process per core, alongside the inserts; "
                 f"{entries / made:,.0f}/s wall ({signing:.0f} s not spent inserting)",
        )))  # fmt: skip
        for writer in writers:
            figures.append(show(Figure("bulk-insert entries and heads", writer.db.label,
                                       writer.seconds, "s",
                                       note=f"{writer.entries:,} entries")))  # fmt: skip
        report_interference("scale: seeding")

        for db in dbs:
            # Made first: the app binds the tables to an engine of its own, which only its
            # lifespan (not run here) would close; `bound` binds them to one it closes.
            app = bench_app(db)
            async with bound(db, pool_size=8):
                began = time.perf_counter()
                batches, size = await integrate_all(db.keyring())
                took = time.perf_counter() - began
                figures.append(show(Figure(
                    "integrate (ledger.integrator.integrate)", db.label, took, "s",
                    note=f"{size:,} leaves, {batches} batches and checkpoints",
                )))  # fmt: skip
                await settle(db)
                figures += await time_pages(db, app, seeded[db.kind], calls)
            figures += await time_verify(db, raw, entries)
            report_interference(f"scale: {db.label}")
    return figures


async def main(quick: bool, kinds: list[str]) -> int:
    from tests.bench import raw_rates
    from tests.bench.databases import postgres_unreachable
    from tests.bench.machine import WATCH

    WATCH.start()
    try:
        raw, figures = raw_rates.measure(quick)
        figures += await run(quick, raw, kinds, await postgres_unreachable())
    finally:
        WATCH.stop()
    heading("Summary")
    print(summary_table(figures))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10,000 cases, 100,000 entries")
    parser.add_argument("--only", action="append", choices=KINDS, help="one database; repeatable")
    args = parser.parse_args()
    import uvloop

    sys.exit(uvloop.run(main(args.quick, args.only or list(KINDS))))
