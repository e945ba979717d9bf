"""The staff dashboard at 100,000 cases: the page and each chart's CSV over HTTP.

THE CASES ARE SEEDED DIRECTLY, by `tests/bench/seeded_cases.py`'s `seed` (100,000 cases in a
realistic spread of states over the last year, with their participants), and then given
what the dashboard counts and the queue benchmark does not need: a closing time 1 to 90
days after filing for every closed or withdrawn case, an outcome for every case that has
one (a closed case's drawn from resolved, settled, awarded, rejected, impasse), a missed
deadline for one case in four, and a survey answer for 60% of closed cases.

Then, logged in as a supervisor, one at a time after a warm-up, median and p99 ms of:

- the page: the last 52 weeks (the default), and with a category and a priority chosen;
- each chart's CSV file over the last 52 weeks;
- each chart's query alone (`portal.dashboard.queries`).

and each query's plan (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE), to show which index it reads.

    .venv/bin/python -m tests.bench.dashboard [--quick]
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sqlite3
import statistics
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import uvloop

from portal.app import create_app
from portal.cases.tables import Case
from portal.dashboard import figures, queries
from portal.dashboard.filters import read_filters
from portal.settings import Settings
from tests.bench.databases import ORIGIN, BenchDatabase, bound, fresh_database
from tests.bench.figures import Figure, heading, percentile, show
from tests.bench.machine import report_interference
from tests.bench.seeded_cases import CASES, SECRET, log_in, seed, timed

OUTCOME_OF_CLOSED = ("resolved", "settled", "awarded", "rejected", "impasse")
NAMED = ("withdrawn", "resolved", "settled", "awarded", "rejected")
MISSABLE = ("submitted", "triage", "investigation", "assessment", "proposed", "objected")
QUERIES = {
    "open cases (3 charts)": queries.open_cases_sql,
    "weekly": queries.weekly_sql,
    "missed deadlines": queries.missed_sql,
    "resolution time": queries.resolution_sql,
    "outcomes": queries.outcomes_sql,
    "satisfaction": queries.satisfaction_sql,
}


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sqlite_value(value: Any) -> Any:
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value


async def add_dashboard_facts(db: BenchDatabase) -> None:
    """Closing times, outcomes, missed deadlines and survey answers for the seeded cases."""
    rng = random.Random(7)
    cases = await Case.raw("SELECT id, state, filed_at FROM dispute_case ORDER BY id")
    updates, reminders, surveys = [], [], []
    for case in cases:
        filed = _moment(case["filed_at"])
        state = case["state"]
        since = filed
        if state in ("closed", "withdrawn"):
            since = filed + timedelta(hours=rng.randrange(24, 90 * 24))
        outcome, outcome_at = "", None
        if state in NAMED:
            outcome, outcome_at = state, since
        elif state == "closed":
            outcome, outcome_at = rng.choice(OUTCOME_OF_CLOSED), filed + (since - filed) / 2
        elif state == "appealed":
            outcome, outcome_at = "rejected", filed
        updates.append((since, outcome, outcome_at, case["id"]))
        if rng.random() < 0.25:
            deadline = filed + timedelta(hours=rng.randrange(4, 200))
            reminders.append((case["id"], deadline, "overdue", rng.choice(MISSABLE), deadline))
        if state == "closed" and rng.random() < 0.6:
            surveys.append((case["id"], rng.randint(1, 5), "", since + timedelta(hours=2)))
    if db.kind == "sqlite":
        conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
        try:
            with conn:
                conn.executemany(
                    "UPDATE dispute_case SET state_since = ?, outcome = ?, outcome_at = ? "
                    "WHERE id = ?",
                    ([_sqlite_value(v) for v in row] for row in updates),
                )
                conn.executemany(
                    'INSERT INTO deadline_reminder ("case", deadline_at, kind, stage, sent_at) '
                    "VALUES (?, ?, ?, ?, ?)",
                    ([_sqlite_value(v) for v in row] for row in reminders),
                )
                conn.executemany(
                    'INSERT INTO case_survey ("case", score, comment, created_at) '
                    "VALUES (?, ?, ?, ?)",
                    ([_sqlite_value(v) for v in row] for row in surveys),
                )
        finally:
            conn.close()
    else:
        pg = await asyncpg.connect(db.url)
        try:
            await pg.execute(
                "CREATE TEMP TABLE facts (since timestamptz, outcome varchar(16), "
                "outcome_at timestamptz, id integer)"
            )
            await pg.copy_records_to_table("facts", records=updates)
            await pg.execute(
                "UPDATE dispute_case c SET state_since = f.since, outcome = f.outcome, "
                "outcome_at = f.outcome_at FROM facts f WHERE c.id = f.id"
            )
            await pg.copy_records_to_table(
                "deadline_reminder", records=reminders,
                columns=["case", "deadline_at", "kind", "stage", "sent_at"],
            )  # fmt: skip
            await pg.copy_records_to_table(
                "case_survey", records=surveys, columns=["case", "score", "comment", "created_at"]
            )
            for table in ("dispute_case", "deadline_reminder", "case_survey"):
                await pg.execute(f"VACUUM ANALYZE {table}")
        finally:
            await pg.close()
    print(
        f"  {db.label:<10} then given {len(reminders):,} missed deadlines and "
        f"{len(surveys):,} survey answers",
        flush=True,
    )


async def plan(db: BenchDatabase, sql: str, args: list[Any]) -> list[str]:
    if db.kind == "sqlite":
        rows = await Case.raw("EXPLAIN QUERY PLAN " + sql, *args)
        return [row["detail"] for row in rows]
    rows = await Case.raw("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, *args)
    return [row["QUERY PLAN"] for row in rows]


INDEX = re.compile(r"\b(dispute_case_\w+|deadline_reminder_\w+|case_survey_\w+)")


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times):8.2f} {percentile(times, 99):8.2f}"


async def measure(kind: str, calls: int) -> list[Figure]:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    async with fresh_database(kind) as db:
        seeded = await seed(db)
        settings = Settings(
            env="development", data_dir=db.workdir / "data", database_url=db.url,
            log_origin=ORIGIN, signing_key_file=db.key_file, secret_key=SECRET,
            base_url="http://portal.bench",
        )  # fmt: skip
        app = create_app(settings)
        async with bound(db, pool_size=8):
            await add_dashboard_facts(db)
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
                base_url="http://portal.bench",
            )
            sue = await log_in(client, seeded.staff["supervisor"][0])
            print(
                f"\n  {db.label}: milliseconds, median and p99 of {calls} calls each\n"
                f"  {'request':<58} {'median':>8} {'p99':>8}",
                flush=True,
            )
            requests = [("page, last 52 weeks", "/staff/dashboard"),
                        ("page, liquidation, priority",
                         "/staff/dashboard?category=liquidation&priority=priority")]  # fmt: skip
            requests += [(f"{slug}.csv", f"/staff/dashboard/{slug}.csv")
                         for slug in figures.FIGURES]  # fmt: skip
            medians, p99s = {}, {}
            for name, url in requests:

                async def get(url: str = url) -> None:
                    response = await sue.get(url)
                    assert response.status_code == 200, (url, response.text[-800:])

                times = await timed(calls, get)
                medians[name], p99s[name] = statistics.median(times), percentile(times, 99)
                print(f"  {name:<58} {_ms(times)}", flush=True)
            await client.aclose()

            filters = read_filters(datetime.now(UTC).date())
            print(f"\n  {'query alone':<58} {'median':>8} {'p99':>8}")
            for name, make in QUERIES.items():
                sql, args = make(filters)
                times = await timed(calls, lambda s=sql, a=args: Case.raw(s, *a))
                print(f"  {name:<58} {_ms(times)}", flush=True)

            heading(f"Dashboard query plans, {db.label}")
            for name, make in QUERIES.items():
                sql, args = make(filters)
                lines = await plan(db, sql, args)
                used = sorted(set(INDEX.findall("\n".join(lines))))
                print(f"  {name}: indexes {', '.join(used) or 'none'}")
                for line in lines:
                    print(f"      {line}")

    note = f"{CASES:,} cases seeded directly"
    csv_names = [name for name in medians if name.endswith(".csv")]
    found = [
        show(Figure("dashboard page, median", db.label, medians["page, last 52 weeks"], "ms",
                    note=note)),
        show(Figure("dashboard page, p99", db.label, p99s["page, last 52 weeks"], "ms",
                    note=note)),
        show(Figure("dashboard CSV, worst median", db.label,
                    max(medians[n] for n in csv_names), "ms", note=note)),
        show(Figure("dashboard CSV, worst p99", db.label,
                    max(p99s[n] for n in csv_names), "ms", note=note)),
    ]  # fmt: skip
    report_interference(f"{db.label} dashboard")
    return found


async def run(quick: bool, postgres_skipped: str | None) -> list[Figure]:
    calls = 10 if quick else 50
    heading(f"Staff dashboard at {CASES:,} cases (THE CASES ARE SEEDED DIRECTLY, not filed)")
    found = await measure("sqlite", calls)
    if postgres_skipped:
        print(f"  PostgreSQL figures skipped: {postgres_skipped}")
    else:
        found += await measure("postgres", calls)
    return found


async def main(quick: bool) -> int:
    from tests.bench.databases import postgres_unreachable
    from tests.bench.machine import WATCH

    WATCH.start()
    try:
        await run(quick, await postgres_unreachable())
    finally:
        WATCH.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions per request")
    sys.exit(uvloop.run(main(parser.parse_args().quick)))
