"""The benchmarks' own machinery, at a tiny scale: correctness only, never timings.

The scale benchmark's figures mean something only if what it seeds is a log the portal
could have written, so the seeding is checked the way an auditor would: the real
`portal ledger verify` passes on it, fails once one signature is changed, and
inclusion proofs from the integrated tree verify against the signed root. The report
writer must turn a benchmark that fails or does not exist into a section, and go on.
"""

from __future__ import annotations

import os
import sqlite3

import asyncpg
import pytest

from ledger.proofs import latest_checkpoint
from ledger.tables import LedgerCaseHead, LedgerEntry
from portal.cases.tables import Case
from tests.bench import report
from tests.bench.databases import bound, fresh_database, postgres_unreachable
from tests.bench.scale import check_proofs
from tests.bench.seeded_cases import seed
from tests.bench.seeded_ledger import EntryWriter, integrate_all, made_chunks, plan_cases
from tests.support import run_portal

CASES, ENTRIES, LONG_CASE = 200, 2_000, 100


async def require(kind: str) -> None:
    if kind != "postgres":
        return
    reason = await postgres_unreachable()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PORTAL_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


async def flip_a_signature(db_kind: str, url: str) -> None:
    """Change one bit of one entry's signature, as someone with the database could."""
    if db_kind == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        with conn:
            signature = conn.execute("SELECT signature FROM ledger_entry WHERE id = 7").fetchone()
            changed = bytes([signature[0][0] ^ 1]) + bytes(signature[0][1:])
            conn.execute("UPDATE ledger_entry SET signature = ? WHERE id = 7", (changed,))
        conn.close()
        return
    pg = await asyncpg.connect(url)
    try:
        await pg.execute(
            "UPDATE ledger_entry SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1)"
            " WHERE id = 7"
        )
    finally:
        await pg.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_seeded_cases_and_entries_are_a_log_that_verifies(kind: str) -> None:
    await require(kind)
    async with fresh_database(kind) as db:
        keyring = db.keyring()
        seeded = await seed(db, CASES)
        plans = plan_cases(seeded.cases, seeded.participants, ENTRIES, LONG_CASE)
        assert sum(plan[1] for plan in plans) == ENTRIES
        writer = EntryWriter(db)
        await writer.open()
        for chunk in made_chunks(keyring.path, plans):
            await writer.write(chunk)
        await writer.close()
        async with bound(db, pool_size=4):
            batches, size = await integrate_all(keyring)
            assert (size, batches) == (ENTRIES, 1)
            assert await Case.count() == CASES
            assert await LedgerCaseHead.count() == CASES
            assert await LedgerEntry.count().where(LedgerEntry.case_ref == plans[0][0]) == LONG_CASE
            latest = await latest_checkpoint()
            assert latest is not None and latest.size == ENTRIES
            await check_proofs(size, latest.root)  # raises ProofError if one does not verify

        verified = run_portal("ledger", "verify", env=db.env(), check=False)
        assert f"OK: {ENTRIES} entries in {CASES} cases" in verified.stdout, verified.stdout
        # The seeded rows were written beside the log, not by the portal: the row checks
        # after the audit find no entry vouching for them, and only they fail.
        failed = {line.split("]")[0] for line in verified.stdout.splitlines() if "FAIL [" in line}
        assert failed == {"FAIL [rows"}, verified.stdout

        await flip_a_signature(kind, db.url)
        tampered = run_portal("ledger", "verify", env=db.env(), check=False)
        assert tampered.returncode != 0
        assert "FAIL [signature]" in tampered.stdout, tampered.stdout


def test_the_report_shows_a_failed_and_a_missing_benchmark_and_goes_on(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = report.Benchmark(
        "broken", "tests.bench.scale", "A benchmark given an option it refuses", "none",
        options=("--only", "no-such-database"),
    )  # fmt: skip
    missing = report.Benchmark("absent", "tests.bench.no_such_benchmark", "Not here", "none")
    monkeypatch.setattr(report, "BENCHMARKS", (broken, missing))
    monkeypatch.setattr(report, "NAMES", ["broken", "absent"])
    output = tmp_path / "BENCHMARKS.md"

    assert report.main(quick=True, only=[], output=output) == 0

    text = output.read_text()
    assert "## A benchmark given an option it refuses" in text
    assert "**FAILED**" in text and "invalid choice: 'no-such-database'" in text
    assert "**Not run:** tests.bench.no_such_benchmark does not exist on this branch yet" in text
    assert "| cores (`os.cpu_count()`) |" in text
    assert "# Earlier runs" in text  # the hand-written records are carried on
