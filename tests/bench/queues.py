"""Staff work queues at 100,000 cases: each queue's page, its queries, and their plans.

THE CASES ARE SEEDED DIRECTLY, not filed: 100,000 `dispute_case` rows in a realistic
spread of states (about half closed), a fifth of them priority, open deadlines from three
days past to twelve days ahead, with their claimant, agent, investigator and assessor in
`case_participant` (a few percent of each queue left unassigned), bulk-inserted by
executemany on SQLite and COPY on PostgreSQL. There are no ledger entries; the queues
never read them. PostgreSQL is VACUUM ANALYZEd after the load, as autovacuum would have
by then; SQLite is left as the portal leaves it (no ANALYZE).

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
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import uvloop

from portal.accounts import roles
from portal.accounts.passwords import hash_password
from portal.accounts.second_factor import new_secret, seal
from portal.accounts.tables import User
from portal.app import create_app
from portal.cases import deadlines, queues
from portal.cases import states as st
from portal.cases.categories import CATEGORIES
from portal.cases.tables import Case
from portal.settings import Settings
from portal.web.viewer import Viewer
from tests.bench.databases import ORIGIN, BenchDatabase, bound, fresh_database
from tests.bench.figures import Figure, heading, percentile, show
from tests.bench.machine import report_interference
from tests.people import PASSWORD, Browser, Person

CASES = 100_000
PARTIES = 20_000
STAFF = {roles.AGENT: 20, roles.INVESTIGATOR: 15, roles.ASSESSOR: 10, roles.SUPERVISOR: 3}
PRIORITY_SHARE = 0.2
UNASSIGNED_SHARE = 0.04  # of the cases in a role's queue, nobody holds yet
DEEP_PAGE = 100
WARM_UP = 10
SECRET = "bench-secret-key-for-sessions-and-csrf-0123456789"
SKIPPED = "PostgreSQL unreachable"

# Percent of all cases in each state: about half closed, as in a portal a year on.
SPREAD = {
    "closed": 48.5, "withdrawn": 4, "rejected": 4, "resolved": 4, "submitted": 4, "triage": 5,
    "awaiting_info": 2, "investigation": 9, "assessment": 6, "proposed": 5, "objected": 1.5,
    "reconsideration": 1.5, "mediation": 1.5, "arbitration": 1, "appealed": 0.5,
    "impasse": 0.5, "settled": 1, "awarded": 1,
}  # fmt: skip
REACHED_INVESTIGATION = frozenset(SPREAD) - {
    "submitted", "triage", "awaiting_info", "rejected", "appealed",
}  # fmt: skip
REACHED_ASSESSMENT = REACHED_INVESTIGATION - {"investigation"}
NO_DEADLINE = st.FINAL_STATES | {"impasse", "settled", "awarded"}


@dataclass(frozen=True)
class Seeded:
    staff: dict[str, list[int]]  # role -> user IDs
    now: datetime


def _rows(now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]],
                                  list[tuple[Any, ...]], dict[str, list[int]]]:  # fmt: skip
    """Users, cases and participants, the same on each database (a fixed seed)."""
    rng = random.Random(2026)
    users: list[tuple[Any, ...]] = []
    staff: dict[str, list[int]] = {}
    for role, count in STAFF.items():
        for number in range(count):
            user_id = len(users) + 1
            staff.setdefault(role, []).append(user_id)
            users.append((user_id, f"{role}{number}@bench.example", f"{role.title()} {number}",
                          role, now))  # fmt: skip
    first_party = len(users) + 1
    for number in range(PARTIES):
        users.append((len(users) + 1, f"party{number}@bench.example", f"Party {number}",
                      roles.PARTY, now))  # fmt: skip
    names, weights = list(SPREAD), list(SPREAD.values())
    cases, participants = [], []

    def holds(case_id: int, user_id: int, role: str, at: datetime) -> None:
        participants.append((len(participants) + 1, case_id, user_id, role, at))

    for case_id in range(1, CASES + 1):
        state = rng.choices(names, weights)[0]
        filed = now - timedelta(days=rng.uniform(0, 365))
        deadline = None
        if state not in NO_DEADLINE:
            deadline = now + timedelta(seconds=rng.uniform(-3 * 86400, 12 * 86400))
        priority = "priority" if rng.random() < PRIORITY_SHARE else "standard"
        owner = deadlines.OWNER.get(state, "")
        category = rng.choice(CATEGORIES)
        cases.append((case_id, f"DR-2025-{case_id:06d}", state, category, priority, deadline,
                      owner, filed, filed, filed))  # fmt: skip
        holds(case_id, rng.randrange(first_party, first_party + PARTIES), roles.CLAIMANT, filed)
        for role, reached in (
            (roles.AGENT, frozenset(SPREAD)),
            (roles.INVESTIGATOR, REACHED_INVESTIGATION),
            (roles.ASSESSOR, REACHED_ASSESSMENT),
        ):
            if state in reached and rng.random() >= UNASSIGNED_SHARE:
                holds(case_id, rng.choice(staff[role]), role, filed)
    return users, cases, participants, staff


USER_COLUMNS = ["id", "email", "name", "role", "created_at"]
CASE_COLUMNS = ["id", "ref", "state", "category", "priority", "deadline_at", "next_step_by",
                "state_since", "filed_at", "updated_at"]  # fmt: skip
PARTICIPANT_COLUMNS = ["id", "case", "user", "role", "added_at"]


def _sqlite_value(value: Any) -> Any:
    # As Piccolo writes a timestamptz on SQLite: the UTC time as str(datetime).
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value


async def seed(db: BenchDatabase) -> Seeded:
    now = deadlines.now()
    users, cases, participants, staff = _rows(now)
    tables = (
        ("portal_user", USER_COLUMNS, users),
        ("dispute_case", CASE_COLUMNS, cases),
        ("case_participant", PARTICIPANT_COLUMNS, participants),
    )
    if db.kind == "sqlite":
        conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
        try:
            with conn:
                for table, columns, rows in tables:
                    quoted = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join("?" for _ in columns)
                    conn.executemany(
                        f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                        ([_sqlite_value(v) for v in row] for row in rows),
                    )
        finally:
            conn.close()
    else:
        pg = await asyncpg.connect(db.url)
        try:
            for table, columns, rows in tables:
                await pg.copy_records_to_table(table, records=rows, columns=columns)
                await pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
                await pg.execute(f"VACUUM ANALYZE {table}")
        finally:
            await pg.close()
    print(
        f"  {db.label:<10} seeded directly: {len(cases):,} cases, {len(participants):,} "
        f"participants, {len(users):,} users",
        flush=True,
    )
    return Seeded(staff, now)


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


async def timed(calls: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    """Milliseconds each of `calls` sequential calls took, after a short warm-up."""
    for _ in range(WARM_UP):
        await call()
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return times


async def log_in(client: httpx.AsyncClient, user_id: int) -> Browser:
    """Give a seeded staff member a password and a second factor, and log in as them."""
    row = await User.select(User.email, User.role).where(User.id == user_id).first()
    secret = new_secret()
    await User.update(
        {
            User.password_hash: await hash_password(PASSWORD),
            User.totp_secret: seal(secret, SECRET),
            User.totp_enabled: True,
        }
    ).where(User.id == user_id)
    b = Browser(client)
    await b.get("/login")
    await b.log_in(Person(row["role"], user_id, row["email"], row["role"], PASSWORD, secret))
    return b


def viewer_for(user_id: int, role: str) -> Viewer:
    return Viewer(user_id, f"{role}@bench.example", role, role, "en", True, True)


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
        settings = Settings(
            env="development", data_dir=db.workdir / "data", database_url=db.url,
            log_origin=ORIGIN, signing_key_file=db.key_file, secret_key=SECRET,
            base_url="http://portal.bench",
        )  # fmt: skip
        app = create_app(settings)
        async with bound(db, pool_size=8):
            people = {role: ids[0] for role, ids in seeded.staff.items()}
            clients = {
                role: httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
                    base_url="http://portal.bench",
                )
                for role in people
            }
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
