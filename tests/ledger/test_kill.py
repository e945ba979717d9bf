"""Processes killed in the middle of their work: a writer killed with SIGKILL leaves no
half-written entry (an entry commits with the change it records, or neither does), and an
integrator killed mid-batch leaves a log that the next integrator carries on from.

The writers and integrators are real child processes; they are killed at a random moment
once they are busy, and every check is on what the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import random
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ledger.appender import append_entry
from ledger.audit import verify_log
from ledger.entry import Actor
from ledger.keys import Keyring
from ledger.tables import LedgerCaseHead, LedgerCheckpoint, LedgerEntry
from tests.support import ORIGIN, ROOT, portal_env, run_portal

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.slow

APPEND_FOREVER = ROOT / "tests" / "ledger" / "scripts" / "append_forever.py"
CASES = ["DR-2026-000201", "DR-2026-000202", "DR-2026-000203"]
ALICE = Actor("alice", "claimant")
DEADLINE_SECONDS = 180.0


@dataclass
class Child:
    """A child process whose output goes to files the test can read while it runs."""

    name: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @classmethod
    def start(cls, name: str, args: list[str], env: dict[str, str], tmp_path: Path) -> Child:
        stdout, stderr = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, *args],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        return cls(name, process, stdout, stderr)

    def lines(self) -> list[str]:
        """Every complete line printed so far (a line cut off by a kill is not one)."""
        return self.stdout.read_text().split("\n")[:-1]

    def commits(self) -> list[tuple[str, int]]:
        """What an append_forever writer reported as committed: (case, case_seq)."""
        return [(case, int(seq)) for case, seq in (line.split() for line in self.lines())]

    def describe(self) -> str:
        return f"{self.name} exited {self.process.returncode}; stderr:\n{self.stderr.read_text()}"

    def kill(self) -> None:
        """SIGKILL it while it still runs; a child that already ended is a failure."""
        assert self.process.poll() is None, (
            f"{self.describe()}\nIt was meant to be killed while busy."
        )
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        assert self.process.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, running: list[Child]
) -> None:
    """Poll `condition` until it holds; fail if a child ends or the deadline passes first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        for child in running:
            assert child.process.poll() is None, f"while waiting until {what}: {child.describe()}"
        assert loop.time() < deadline, f"gave up waiting until {what}"
        await asyncio.sleep(0.02)


async def pause_at_random(longest: float = 0.25) -> None:
    """A random moment in a child's work: a kill can land anywhere in a transaction."""
    await asyncio.sleep(random.uniform(0, longest))


def child_env(db: Database, keyring: Keyring, tmp_path: Path) -> dict[str, str]:
    return portal_env(db.url, tmp_path, PORTAL_SIGNING_KEY_FILE=str(keyring.path))


async def test_a_killed_writer_leaves_no_half_written_entry(
    db: Database, keyring: Keyring, tmp_path: Path
) -> None:
    env = child_env(db, keyring, tmp_path)
    await db.engine.run_ddl("DROP TABLE IF EXISTS kill_test_change")
    children: list[Child] = []
    try:
        first = Child.start("writer-1", [str(APPEND_FOREVER), *CASES], env, tmp_path)
        children.append(first)
        # The first writer creates the side table; the second starts once it exists.
        await wait_until(lambda: len(first.commits()) >= 1, "writer-1 commits", children)
        second = Child.start("writer-2", [str(APPEND_FOREVER), *CASES], env, tmp_path)
        children.append(second)
        await wait_until(
            lambda: len(first.commits()) >= 300 and len(second.commits()) >= 100,
            "both writers have committed a few hundred changes",
            children,
        )
        await pause_at_random()
        first.kill()
        # The survivor is not held up by anything the killed writer had locked.
        survivor_had = len(second.commits())
        await wait_until(
            lambda: len(second.commits()) >= survivor_had + 50,
            "writer-2 carries on after writer-1 was killed",
            [second],
        )
        await pause_at_random()
        second.kill()
        reported = first.commits() + second.commits()
    finally:
        for child in children:
            child.stop()

    try:
        entries = [
            (row["case_ref"], row["case_seq"])
            for row in await LedgerEntry.select(LedgerEntry.case_ref, LedgerEntry.case_seq)
        ]
        changes = [
            (row["case_ref"], row["seq"])
            for row in await db.engine.run_ddl("SELECT case_ref, seq FROM kill_test_change")
        ]
    finally:
        await db.engine.run_ddl("DROP TABLE IF EXISTS kill_test_change")

    # Each change committed with its entry, and no entry without its change.
    assert len(changes) == len(set(changes)), "a change was recorded twice"
    assert set(changes) == set(entries), (
        f"changes without their entry: {sorted(set(changes) - set(entries))[:5]}; "
        f"entries without their change: {sorted(set(entries) - set(changes))[:5]}"
    )
    # Nothing a writer reported as committed was lost.
    assert set(reported) <= set(entries)
    # Every case's chain runs 0, 1, 2, ... with no gap.
    by_case: dict[str, list[int]] = defaultdict(list)
    for case, seq in entries:
        by_case[case].append(seq)
    assert sorted(by_case) == CASES
    for case, seqs in by_case.items():
        assert sorted(seqs) == list(range(len(seqs))), f"{case}'s chain has a gap"
    heads = {
        row["case_ref"]: row["next_seq"]
        for row in await LedgerCaseHead.select(LedgerCaseHead.case_ref, LedgerCaseHead.next_seq)
    }
    assert heads == {case: len(seqs) for case, seqs in by_case.items()}
    # Every row decodes and its signature verifies; chains link up and heads agree.
    report = await verify_log(ORIGIN, keyring.verifiers)
    assert report.failures == [], report.render()
    assert report.entries == len(entries)

    run_portal("ledger", "integrate", env=env)
    verified = run_portal("ledger", "verify", env=env)
    assert verified.stdout.startswith(
        f"OK: {len(entries)} entries in 3 cases, tree of {len(entries)} leaves"
    )


async def append_backlog(keyring: Keyring, count: int, writers: int = 8) -> None:
    """`count` entries over 50 cases, from several concurrent writers."""

    async def write(worker: int) -> None:
        for number in range(worker, count, writers):
            await append_entry(
                keyring,
                case=f"DR-2026-{300 + number % 50:06d}",
                event_type="statement.submitted",
                actor=ALICE,
                body={"channel": "parties", "content_sha256": f"{number:064x}"},
            )

    await asyncio.gather(*(write(worker) for worker in range(writers)))


async def checkpoints() -> list[dict[str, object]]:
    return await LedgerCheckpoint.select(
        LedgerCheckpoint.id,
        LedgerCheckpoint.tree_size,
        LedgerCheckpoint.root_hash,
        LedgerCheckpoint.note,
    ).order_by(LedgerCheckpoint.id)


async def leaf_indexes() -> dict[int, int | None]:
    return {
        row["id"]: row["leaf_index"]
        for row in await LedgerEntry.select(LedgerEntry.id, LedgerEntry.leaf_index)
    }


async def integrate_until_nothing_is_pending(env: dict[str, str]) -> None:
    """Run `portal ledger integrate` to completion.

    On PostgreSQL the killed integrator's session keeps the integrator lock until the server
    notices the client is gone, and an integrator that finds the lock held skips its round
    (exit 0, nothing done); so run it again until it has done the work.
    """

    async def done() -> bool:
        run_portal("ledger", "integrate", env=env)
        return await LedgerEntry.count().where(LedgerEntry.leaf_index.is_null()) == 0

    await wait_until(done, "`portal ledger integrate` has integrated every entry", [])


BACKLOG = 20_000


async def test_the_next_integrator_carries_on_where_a_killed_one_stopped(
    db: Database, keyring: Keyring, tmp_path: Path
) -> None:
    env = child_env(db, keyring, tmp_path)
    await append_backlog(keyring, BACKLOG)
    assert await LedgerEntry.count().where(LedgerEntry.leaf_index.is_null()) == BACKLOG

    integrator = Child.start("integrator", ["-m", "portal", "ledger", "integrate"], env, tmp_path)
    try:

        async def has_signed_a_checkpoint() -> bool:
            return await LedgerCheckpoint.count() >= 1

        await wait_until(
            has_signed_a_checkpoint, "the integrator signs its first checkpoint", [integrator]
        )
        # Well inside the next batch: each of the three left takes a few tenths of a second.
        await pause_at_random(longest=0.1)
        integrator.kill()
    finally:
        integrator.stop()

    signed_before = await checkpoints()
    placed_before = {
        entry: leaf for entry, leaf in (await leaf_indexes()).items() if leaf is not None
    }
    assert 0 < len(placed_before) < BACKLOG, "the kill did not interrupt the integration"
    # What the killed integrator committed is whole: its last checkpoint covers every
    # entry it placed, and no entry is placed beyond it.
    assert signed_before[-1]["tree_size"] == len(placed_before)
    assert sorted(placed_before.values()) == list(range(len(placed_before)))

    await integrate_until_nothing_is_pending(env)
    verified = run_portal("ledger", "verify", env=env)
    assert verified.stdout.startswith(
        f"OK: {BACKLOG} entries in 50 cases, tree of {BACKLOG} leaves"
    )

    signed = await checkpoints()
    assert signed[: len(signed_before)] == signed_before, (
        "a checkpoint signed before the kill was changed"
    )
    sizes = [row["tree_size"] for row in signed]
    assert all(a < b for a, b in itertools.pairwise(sizes)), (
        f"checkpoint sizes do not strictly increase: {sizes}"
    )
    assert sizes[-1] == BACKLOG
    placed = await leaf_indexes()
    assert None not in placed.values()
    assert {entry: placed[entry] for entry in placed_before} == placed_before, "an entry was moved"
