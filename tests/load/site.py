"""The portal the load runs against: `portal serve --workers 2` in a child process, on a
SQLite file or a PostgreSQL database of its own, and what it wrote, read back.

Plain functions and context managers, no pytest: the benchmark uses them too. A
database that cannot be had raises `Unavailable` with the reason; the tests skip (or,
with PORTAL_REQUIRE_POSTGRES=1, fail) with it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tests.support import (
    free_port,
    portal_env,
    portal_serving,
    postgres_database,
    run_portal,
)

# A liveness bound, never a measurement.
INTEGRATION_DEADLINE = 180.0


def _in_thread(make: Any) -> Any:
    # A thread of its own: the caller's event loop may be running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'portal.sqlite3'}"
    else:
        with postgres_database("portal_load") as url:
            yield url


@dataclass
class Site:
    kind: str
    url: str  # the database's
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def serving(kind: str, url: str, tmp: Path, **extra_env: str) -> Iterator[Site]:
    """`portal migrate`, then `portal serve --workers 2` on a free port until the block ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = portal_env(url, tmp, PORTAL_BASE_URL=base_url, **extra_env)
    run_portal("migrate", env=env)
    log_path = tmp / "serve.log"
    with portal_serving(env, port, log_path) as process:
        yield Site(kind, url, base_url, env, process, log_path, tmp / "data")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return found


def worker_pids(site: Site) -> list[int]:
    """uvicorn's worker processes: the children of `portal serve` that run the app (not
    multiprocessing's resource tracker)."""
    workers = []
    for pid in children(site.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers.append(pid)
    return sorted(workers)


# --- What the portal wrote ------------------------------------------------------------


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query, straight from the database (no portal code)."""
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]

    async def run() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    return _in_thread(run)


def wait_integrated(url: str) -> int:
    """Wait until the portal's own integrator has put every entry in the tree; the size."""
    end = time.monotonic() + INTEGRATION_DEADLINE
    while time.monotonic() < end:
        ((pending, total),) = query(
            url,
            "SELECT SUM(CASE WHEN leaf_index IS NULL THEN 1 ELSE 0 END), COUNT(*) "
            "FROM ledger_entry",
        )
        if not pending:
            return int(total)
        time.sleep(0.5)
    raise AssertionError(f"entries still not integrated after {INTEGRATION_DEADLINE} s")


def tree_size(url: str) -> int:
    ((size,),) = query(url, "SELECT COALESCE(MAX(tree_size), 0) FROM ledger_checkpoint")
    return int(size)


def statements_on_record(url: str) -> dict[str, tuple[str, int, bool]]:
    """Every statement's text -> (case ref, case_seq, whether its ledger entry is there:
    same case, same seq, a statement entry whose bytes carry the statement's hash)."""
    rows = query(
        url,
        "SELECT s.text, c.ref, s.case_seq, s.content_sha256, e.event_type, e.entry "
        'FROM case_statement s JOIN dispute_case c ON c.id = s."case" '
        "LEFT JOIN ledger_entry e ON e.case_ref = c.ref AND e.case_seq = s.case_seq",
    )
    found = {}
    for text, ref, seq, digest, event_type, entry in rows:
        recorded = (
            event_type == "statement.submitted"
            and entry is not None
            and digest.encode() in bytes(entry)
        )
        found[text] = (ref, int(seq), recorded)
    return found


def orphan_statement_entries(url: str) -> int:
    """Statement entries with no statement row: a half-written change."""
    ((count,),) = query(
        url,
        "SELECT COUNT(*) FROM ledger_entry e WHERE e.event_type = 'statement.submitted' "
        "AND NOT EXISTS (SELECT 1 FROM case_statement s JOIN dispute_case c "
        'ON c.id = s."case" WHERE c.ref = e.case_ref AND s.case_seq = e.case_seq)',
    )
    return int(count)


def evidence_on_record(url: str) -> set[tuple[str, str]]:
    """(case ref, sha256) of every evidence row whose ledger entry is there."""
    rows = query(
        url,
        'SELECT c.ref, v.sha256 FROM case_evidence v JOIN dispute_case c ON c.id = v."case" '
        "JOIN ledger_entry e ON e.case_ref = c.ref AND e.case_seq = v.case_seq",
    )
    return {(ref, sha) for ref, sha in rows}


def verify_ledger(site: Site) -> str:
    """`portal ledger verify`, the operator's command: its report (it must exit 0)."""
    result = run_portal("ledger", "verify", env=site.env, check=False)
    if result.returncode != 0:
        raise AssertionError(f"portal ledger verify failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def nothing_lost(site: Site, tally: Any) -> list[str]:
    """Every accepted statement and file in the database with its ledger entry, no
    statement entry without its statement, and the ledger verifies; the problems found.
    Call after `wait_integrated`."""
    problems = []
    on_record = statements_on_record(site.url)
    for accepted in tally.statements:
        found = on_record.get(accepted.text)
        if found is None:
            problems.append(f"accepted but not in the database: {accepted.text}")
        elif found[0] != accepted.case_ref:
            problems.append(f"on the wrong case ({found[0]}): {accepted.text}")
        elif not found[2]:
            problems.append(f"in the database without its ledger entry: {accepted.text}")
    files = evidence_on_record(site.url)
    for accepted in tally.files:
        if (accepted.case_ref, accepted.text) not in files:
            problems.append(f"accepted file not on record with its entry: {accepted.text}")
    if orphans := orphan_statement_entries(site.url):
        problems.append(f"{orphans} statement entries have no statement")
    if unrecorded := [t for t, (_r, _s, ok) in on_record.items() if not ok]:
        problems.append(f"{len(unrecorded)} statements have no ledger entry")
    return problems
