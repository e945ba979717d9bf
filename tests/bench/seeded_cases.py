"""Cases seeded directly, not filed, and the app that serves them in-process.

THE CASES ARE SEEDED DIRECTLY: `dispute_case` rows in a realistic spread of states (about
half closed), a fifth of them priority, open deadlines from three days past to twelve
days ahead, with their claimant, agent, investigator and assessor in `case_participant`
(a few percent of each queue left unassigned), bulk-inserted by executemany on SQLite and
COPY on PostgreSQL. PostgreSQL is VACUUM ANALYZEd after the load, as autovacuum would
have by then; SQLite is left as the portal leaves it (no ANALYZE). Filing 100,000 cases
through the app would take hours; the queues, the dashboard and the case room only read
these rows, so how they got there does not change what is timed.

Shared by the queue, dashboard and scale benchmarks, with what they need to time pages
through the real app: a logged-in client, and `timed` for sequential calls.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from portal.accounts.passwords import hash_password
from portal.accounts.second_factor import new_secret, seal
from portal.accounts.tables import User
from portal.app import create_app
from portal.cases import deadlines
from portal.cases.categories import CATEGORIES
from portal.procedure import case as st
from portal.procedure import roles
from portal.settings import Settings
from portal.web.viewer import Viewer
from tests.bench.databases import ORIGIN, BenchDatabase
from tests.people import PASSWORD, Browser, Person

CASES = 100_000
PARTIES_PER_CASE = 0.2  # 20,000 parties for 100,000 cases
STAFF = {roles.AGENT: 20, roles.INVESTIGATOR: 15, roles.ASSESSOR: 10, roles.SUPERVISOR: 3}
PRIORITY_SHARE = 0.2
UNASSIGNED_SHARE = 0.04  # of the cases in a role's queue, nobody holds yet
WARM_UP = 10
SECRET = "bench-secret-key-for-sessions-and-csrf-0123456789"
BASE_URL = "http://portal.bench"

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


def case_ref(case_id: int) -> str:
    return f"DR-2025-{case_id:06d}"


@dataclass(frozen=True)
class Seeded:
    staff: dict[str, list[int]]  # role -> user IDs
    now: datetime
    # (id, case id, user id, role, added at) of every participant, in case order
    participants: list[tuple[Any, ...]]
    # (id, ref, state, category, priority, ...) of every case, as CASE_COLUMNS
    cases: list[tuple[Any, ...]]


Rows = list[tuple[Any, ...]]


def _rows(now: datetime, count: int) -> tuple[Rows, Rows, Rows, dict[str, list[int]]]:
    """Users, cases and participants, the same on each database (a fixed seed)."""
    rng = random.Random(2026)
    users: list[tuple[Any, ...]] = []
    staff: dict[str, list[int]] = {}
    for role, number_of in STAFF.items():
        for number in range(number_of):
            user_id = len(users) + 1
            staff.setdefault(role, []).append(user_id)
            users.append((user_id, f"{role}{number}@bench.example", f"{role.title()} {number}",
                          role, now))  # fmt: skip
    parties = max(1, round(count * PARTIES_PER_CASE))
    first_party = len(users) + 1
    for number in range(parties):
        users.append((len(users) + 1, f"party{number}@bench.example", f"Party {number}",
                      roles.PARTY, now))  # fmt: skip
    names, weights = list(SPREAD), list(SPREAD.values())
    cases, participants = [], []

    def holds(case_id: int, user_id: int, role: str, at: datetime) -> None:
        participants.append((len(participants) + 1, case_id, user_id, role, at))

    for case_id in range(1, count + 1):
        state = rng.choices(names, weights)[0]
        filed = now - timedelta(days=rng.uniform(0, 365))
        deadline = None
        if state not in NO_DEADLINE:
            deadline = now + timedelta(seconds=rng.uniform(-3 * 86400, 12 * 86400))
        priority = "priority" if rng.random() < PRIORITY_SHARE else "standard"
        owner = deadlines.OWNER.get(state, "")
        category = rng.choice(CATEGORIES)
        cases.append((case_id, case_ref(case_id), state, category, priority, deadline,
                      owner, filed, filed, filed))  # fmt: skip
        holds(case_id, rng.randrange(first_party, first_party + parties), roles.CLAIMANT, filed)
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


def sqlite_value(value: Any) -> Any:
    # As Piccolo writes a timestamptz on SQLite: the UTC time as str(datetime).
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value


async def seed(db: BenchDatabase, count: int = CASES) -> Seeded:
    now = deadlines.now()
    users, cases, participants, staff = _rows(now, count)
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
                        ([sqlite_value(v) for v in row] for row in rows),
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
    return Seeded(staff, now, participants, cases)


def bench_app(db: BenchDatabase) -> Any:
    """The real app on `db`, served without its lifespan's background tasks (integrator,
    mailer, deadline sweeper), so that only the pages are timed."""
    settings = Settings(
        env="development", data_dir=db.workdir / "data", database_url=db.url,
        log_origin=ORIGIN, signing_key_file=db.key_file, secret_key=SECRET, base_url=BASE_URL,
    )  # fmt: skip
    return create_app(settings)


def client_of(app: Any) -> httpx.AsyncClient:
    """An HTTP client that calls `app` in this process, as one browser."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)), base_url=BASE_URL
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
    """Give a seeded user a password and a second factor, and log in as them."""
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
