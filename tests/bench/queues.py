"""Staff work queues at 100,000 cases: each queue's page, its queries, and their plans.

THE CASES ARE SEEDED DIRECTLY, not filed, by `tests/bench/seeded_cases.py`: 100,000
`dispute_case` rows in a realistic spread of states with their participants. There are
no ledger entries; the queues never read them.

Then, for each queue (the agent's, the investigator's, the assessor's, the supervisor's
overdue and all-open views, and some with filters), on the first page and on a deep
page (page 100 or the last), these are timed one at a time, after a warm-up:

- `rows`:  the page's query (`queues.page_sql`);
- `flags`: the count of overdue and due-soon cases (`queues.flags_sql`);
- `staff`: who is on the page's cases (`queues.staff_on_sql`);
- `page()`: `queues.queue_page`, all of the above and the supervisor's staff list;
- `HTTP`:  GET /staff/queue through the real app (session, guards, template), logged in
  as that staff member. The app serves requests without its lifespan's background tasks
  (integrator, mailer, deadline sweeper), so that only the page is timed.

Each is printed as median and p99 in milliseconds, then EXPLAIN QUERY PLAN (SQLite) or
EXPLAIN ANALYZE (PostgreSQL) of each page query shows which indexes it walks.

    .venv/bin/python -m tests.bench.queues [--quick]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
from dataclasses import dataclass
from typing import Any

import httpx
import uvloop

from portal.cases import deadlines, queues
from portal.cases.tables import Case
from portal.procedure import roles
from portal.web.viewer import Viewer
from tests.bench.databases import BenchDatabase, bound, fresh_database
from tests.bench.figures import Figure, heading, percentile, show
from tests.bench.machine import report_interference
from tests.bench.seeded_cases import CASES, bench_app, client_of, log_in, seed, timed, viewer_for
from tests.people import Browser

DEEP_PAGE = 100
SKIPPED = "PostgreSQL unreachable"


@dataclass(frozen=True)
class View:
    name: str
    role: str
    params: dict[str, str]


VIEWS = (
    View("agent: untriaged", roles.AGENT, {}),
    View("agent: triage, standard", roles.AGENT, {"state": "triage", "priority": "standard"}),
    View("investigator", roles.INVESTIGATOR, {}),
    View("investigator: kyc_aml", roles.INVESTIGATOR, {"category": "kyc_aml"}),
    View("assessor", roles.ASSESSOR, {}),
    View("supervisor: overdue", roles.SUPERVISOR, {"tab": "overdue"}),
    View("supervisor: all open", roles.SUPERVISOR, {"tab": "open"}),
    View(
        "supervisor: open, priority, liquidation",
        roles.SUPERVISOR,
        {"tab": "open", "priority": "priority", "category": "liquidation"},
    ),
)


async def deep_query(query: queues.QueueQuery, viewer: Viewer) -> tuple[queues.QueueQuery, int]:
    """The query of page DEEP_PAGE, or of the last page if the queue is shorter."""
    number = 1
    while number < DEEP_PAGE:
        shown = await queues.queue_page(query, viewer, deadlines.now())
        if shown.next_cursor is None:
            break
        query = queues.QueueQuery(
            query.queue, query.viewer_id, query.state, query.category, query.priority,
            shown.next_cursor,
        )  # fmt: skip
        number += 1
    return query, number


PLAN_INDEX = re.compile(r"\b(dispute_case_\w+|case_participant_\w+|portal_user_\w+)")


async def plan(db: BenchDatabase, sql: str, args: list[Any]) -> list[str]:
    if db.kind == "sqlite":
        rows = await Case.raw("EXPLAIN QUERY PLAN " + sql, *args)
        return [row["detail"] for row in rows]
    rows = await Case.raw("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, *args)
    return [row["QUERY PLAN"] for row in rows]


def full_scans(db: BenchDatabase, lines: list[str]) -> list[str]:
    """Plan lines that read a whole table instead of walking an index."""
    if db.kind == "sqlite":
        # "SCAN run3" reads a branch's 51 rows back; only a table read whole counts.
        return [line for line in lines if re.fullmatch(r"SCAN (c|p|dispute_case|case_participant)",
                                                       line.strip())]  # fmt: skip
    return [line.strip() for line in lines if "Seq Scan" in line]


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} {percentile(times, 99):7.2f}"


async def measure(kind: str, calls: int, http_calls: int) -> list[Figure]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    figures: list[Figure] = []
    async with fresh_database(kind) as db:
        seeded = await seed(db)
        app = bench_app(db)
        async with bound(db, pool_size=8):
            people = {role: ids[0] for role, ids in seeded.staff.items()}
            clients = {role: client_of(app) for role in people}
            browsers = {role: await log_in(clients[role], people[role]) for role in people}
            print(
                f"\n  {db.label}: milliseconds, median and p99 of {calls} calls each "
                f"({http_calls} for HTTP)\n"
                f"  {'queue':<42} {'page':>5} {'rows':>15} {'flags':>15} {'staff':>15} "
                f"{'page()':>15} {'HTTP':>15}",
                flush=True,
            )
            http_medians, http_p99s, rows_p99s, plans = [], [], [], []
            for view in VIEWS:
                viewer = viewer_for(people[view.role], view.role)
                first = queues.read_query(viewer, **view.params)
                deep, deep_number = await deep_query(first, viewer)
                for number, query in ((1, first), (deep_number, deep)):
                    at = deadlines.now()
                    page_sql = queues.page_sql(query, at)
                    flags_sql = queues.flags_sql(query, at)
                    shown = await queues.queue_page(query, viewer, at)
                    staff_sql = queues.staff_on_sql([row.id for row in shown.rows] or [0])
                    rows_t = await timed(calls, lambda s=page_sql: Case.raw(s[0], *s[1]))
                    flags_t = await timed(calls, lambda s=flags_sql: Case.raw(s[0], *s[1]))
                    staff_t = await timed(calls, lambda s=staff_sql: Case.raw(s[0], *s[1]))
                    page_t = await timed(
                        calls, lambda q=query, v=viewer: queues.queue_page(q, v, deadlines.now())
                    )
                    url = "/staff/queue?" + httpx.QueryParams(query.link(query.after)).__str__()
                    b = browsers[view.role]

                    async def get(b: Browser = b, url: str = url) -> None:
                        response = await b.get(url)
                        assert response.status_code == 200, (
                            url,
                            response.status_code,
                            response.text[-1500:],
                        )

                    http_t = await timed(http_calls, get)
                    print(
                        f"  {view.name:<42} {number:>5} {_ms(rows_t)} {_ms(flags_t)} "
                        f"{_ms(staff_t)} {_ms(page_t)} {_ms(http_t)}  "
                        f"[{len(shown.rows)} rows, {shown.overdue:,} overdue, "
                        f"{shown.due_soon:,} due soon]",
                        flush=True,
                    )
                    http_medians.append(statistics.median(http_t))
                    http_p99s.append(percentile(http_t, 99))
                    rows_p99s.append(percentile(rows_t, 99))
                    plans.append((f"{view.name}, page {number}", page_sql, flags_sql))
            for client in clients.values():
                await client.aclose()

            heading(f"Queue query plans, {db.label}")
            for title, page_sql, flags_sql in plans:
                for what, (sql, args) in (("rows", page_sql), ("flags", flags_sql)):
                    if not sql:
                        continue
                    lines = await plan(db, sql, args)
                    used = sorted(set(PLAN_INDEX.findall("\n".join(lines))))
                    scans = full_scans(db, lines)
                    print(
                        f"  {title} ({what}): indexes {', '.join(used) or 'none'}; "
                        f"full table scans: {'; '.join(scans) if scans else 'none'}"
                    )
            # One plan in full: the investigator's first page, four index walks merged.
            title, (sql, args), _flags = next(p for p in plans if p[0] == "investigator, page 1")
            print(f"\n  The plan of '{title}' (rows), in full:")
            for line in await plan(db, sql, args):
                print(f"    {line}")

    note = f"{CASES:,} cases seeded directly; {len(VIEWS)} queues x first and deep page"
    for name, values in (
        ("queue page over HTTP, worst median", http_medians),
        ("queue page over HTTP, worst p99", http_p99s),
        ("queue rows query, worst p99", rows_p99s),
    ):
        figures.append(show(Figure(name, db.label, max(values), "ms", note=note)))
    report_interference(f"{db.label} queues")
    return figures


async def run(quick: bool, postgres_skipped: str | None) -> list[Figure]:
    calls, http_calls = (30, 20) if quick else (200, 100)
    heading(f"Staff queues at {CASES:,} cases (THE CASES ARE SEEDED DIRECTLY, not filed)")
    figures = await measure("sqlite", calls, http_calls)
    if postgres_skipped:
        print(f"  PostgreSQL figures skipped: {postgres_skipped}")
        figures += [
            Figure(name, "PostgreSQL", None, "ms", note=SKIPPED)
            for name in (
                "queue page over HTTP, worst median",
                "queue page over HTTP, worst p99",
                "queue rows query, worst p99",
            )
        ]
    else:
        figures += await measure("postgres", calls, http_calls)
    return figures


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
    parser.add_argument("--quick", action="store_true", help="fewer repetitions per query")
    sys.exit(uvloop.run(main(parser.parse_args().quick)))
