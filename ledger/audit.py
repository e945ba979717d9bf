"""`portal ledger verify`: the whole log checked from the database, trusting none of it.

Every entry's bytes, signature and stored columns; every case chain and its head;
the tree recomputed from the entries' own bytes and compared node by node with what
is stored; every checkpoint's signature and root; consistency between successive
checkpoints. Each failure names where it is (leaf index, case and sequence, node or
checkpoint) and which check failed, so that a changed, deleted, swapped or re-signed
row is found and named rather than merely "the log is bad".

It reads one consistent state of the log, however busy the writers and the integrator
are: the whole audit runs in one read snapshot (`LedgerStore.snapshot`), so it checks
the log up to the newest checkpoint in that snapshot. Read table by table as they
changed, a batch integrated between reading the entries and reading the nodes made a
healthy log look damaged ("a stored node lies beyond the tree").
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ledger.audit_report import AuditReport
from ledger.audit_tree import check_checkpoints, check_nodes, levels_of
from ledger.audit_worker import Checked, Row, check_entries, start_workers
from ledger.entry import ZERO_HASH
from ledger.note import NoteVerifier
from ledger.store import store_for
from ledger.tables import LedgerCaseHead, LedgerEntry, LedgerKey

PAGE = 5000
# Each entry's own checks (decode, canonical form, signature) are most of the work and
# need no other entry, so a large log spreads them over worker processes, one per core
# (`ledger.audit_worker`). This process meanwhile fetches the next page, hands it to the
# workers before they finish the one in hand, and keeps the chains, tree and checkpoints.
# A small log is checked in a thread here: starting the workers would cost more than it saves.
PARALLEL_FROM = 20_000
CHUNK = 500


@dataclass
class _Chain:
    next_seq: int = 0
    head: bytes = ZERO_HASH


class _Verifier:
    """Checks pages of entries, in log order, and follows every case's chain."""

    def __init__(
        self, origin: str, keys: Sequence[NoteVerifier], report: AuditReport, pool: Executor | None
    ) -> None:
        self.origin = origin
        self.keys = {key.kid: key.public_key for key in keys}
        self.report = report
        self.pool = pool
        self.chains: dict[str, _Chain] = {}

    def start(self, rows: list[dict[str, Any]]) -> Awaitable[Sequence[list[Checked]]]:
        """Start checking the rows, off the event loop; the results come in their order."""
        plain: list[Row] = [
            (
                bytes(row["entry"]),
                bytes(row["signature"]),
                bytes(row["leaf_hash"]),
                row["case_ref"],
                row["case_seq"],
                row["event_type"],
            )
            for row in rows
        ]
        if self.pool is None:
            return asyncio.gather(asyncio.to_thread(check_entries, self.origin, self.keys, plain))
        loop = asyncio.get_running_loop()
        return asyncio.gather(
            *(
                loop.run_in_executor(
                    self.pool, check_entries, self.origin, self.keys, plain[i : i + CHUNK]
                )
                for i in range(0, len(plain), CHUNK)
            )
        )

    def finish(self, rows: list[dict[str, Any]], checked: Sequence[list[Checked]]) -> list[bytes]:
        """Report the rows' failures and follow their chains, in log order; return each
        one's leaf hash computed from its bytes."""
        leaves = []
        for row, (leaf, decoded, failures) in zip(
            rows, itertools.chain.from_iterable(checked), strict=True
        ):
            where = _where(row)
            for check, message in failures:
                self.report.fail(check, where, message)
            if decoded is not None:
                self._follow_chain(where, leaf, *decoded)
            leaves.append(leaf)
        return leaves

    def _follow_chain(self, where: str, leaf: bytes, case: str, case_seq: int, prev: bytes) -> None:
        chain = self.chains.setdefault(case, _Chain())
        if case_seq != chain.next_seq:
            self.report.fail(
                "chain",
                where,
                f"case {case} has entry #{case_seq} where #{chain.next_seq} was due "
                "(an entry is missing, duplicated or out of order)",
            )
        elif prev != chain.head:
            self.report.fail(
                "chain",
                where,
                f"case {case} #{case_seq}: prev is not the previous entry's leaf hash",
            )
        chain.next_seq = case_seq + 1
        chain.head = leaf


def _where(row: dict[str, Any]) -> str:
    index = row["leaf_index"]
    label = f"leaf {index}" if index is not None else f"unintegrated entry id {row['id']}"
    return f"{label} ({row['case_ref']} #{row['case_seq']})"


ENTRY_COLUMNS = (
    LedgerEntry.id,
    LedgerEntry.case_ref,
    LedgerEntry.case_seq,
    LedgerEntry.event_type,
    LedgerEntry.entry,
    LedgerEntry.signature,
    LedgerEntry.leaf_hash,
    LedgerEntry.leaf_index,
)


async def verify_log(origin: str, keys: Sequence[NoteVerifier]) -> AuditReport:
    """Check the whole log against `keys` (the keys trusted to have signed it), as it is
    in one snapshot; inside the caller's transaction, as that transaction sees it."""
    async with store_for().snapshot():
        if await LedgerEntry.count() < PARALLEL_FROM:
            return await _verify_log(origin, keys, None)
        with start_workers() as pool:
            return await _verify_log(origin, keys, pool)


def _integrated_after(last: int) -> Any:
    return (
        LedgerEntry.select(*ENTRY_COLUMNS)
        .where(LedgerEntry.leaf_index > last)
        .order_by(LedgerEntry.leaf_index)
        .limit(PAGE)
    )


def _unintegrated_after(last: int) -> Any:
    return (
        LedgerEntry.select(*ENTRY_COLUMNS)
        .where(LedgerEntry.leaf_index.is_null() & (LedgerEntry.id > last))
        .order_by(LedgerEntry.id)
        .limit(PAGE)
    )


async def _verify_log(
    origin: str, keys: Sequence[NoteVerifier], pool: Executor | None
) -> AuditReport:
    report = AuditReport()
    verifier = _Verifier(origin, keys, report, pool)
    leaves: list[bytes] = []
    pages = _Pages(verifier, leaves)

    rows = await _integrated_after(-1)
    while rows:
        following = (
            asyncio.ensure_future(_integrated_after(rows[-1]["leaf_index"]).run())
            if len(rows) == PAGE
            else None
        )
        await pages.check(rows, _places_in_tree(rows, leaves, report))
        rows = await following if following is not None else []
    report.tree_size = len(leaves)

    rows = await _unintegrated_after(0)
    while rows:
        following = (
            asyncio.ensure_future(_unintegrated_after(rows[-1]["id"]).run())
            if len(rows) == PAGE
            else None
        )
        await pages.check(rows, None)
        rows = await following if following is not None else []
    await pages.finish()
    report.entries = await LedgerEntry.count()
    report.cases = len(verifier.chains)

    await _check_published_keys(keys, report)
    await _check_heads(verifier)
    levels = levels_of(leaves)
    await check_nodes(levels, report)
    await check_checkpoints(origin, keys, levels, report)
    return report


def _places_in_tree(
    rows: list[dict[str, Any]], leaves: list[bytes], report: AuditReport
) -> list[int]:
    """Each integrated row's place in `leaves`, held until its leaf is checked; leaf
    indexes no row holds are reported and kept as zero hashes, so the tree keeps its
    shape and every later check still runs."""
    places = []
    for row in rows:
        index = row["leaf_index"]
        if index != len(leaves):
            report.fail(
                "log",
                f"leaves {len(leaves)}..{index - 1}",
                "no entry holds these leaf indexes (deleted?)",
            )
            leaves.extend([ZERO_HASH] * (index - len(leaves)))
        places.append(len(leaves))
        leaves.append(ZERO_HASH)
    return places


class _Pages:
    """Pages handed to the checkers and not yet reported, oldest first: (rows, each row's
    place in `leaves` or None when not integrated, the checks under way). One page queued
    behind the one being checked keeps every worker busy."""

    def __init__(self, verifier: _Verifier, leaves: list[bytes]) -> None:
        self.verifier = verifier
        self.leaves = leaves
        self.checking: deque[
            tuple[list[dict[str, Any]], list[int] | None, Awaitable[Sequence[list[Checked]]]]
        ] = deque()

    async def check(self, rows: list[dict[str, Any]], places: list[int] | None) -> None:
        self.checking.append((rows, places, self.verifier.start(rows)))
        if len(self.checking) > 1:
            await self._report_oldest()

    async def finish(self) -> None:
        while self.checking:
            await self._report_oldest()

    async def _report_oldest(self) -> None:
        rows, places, under_way = self.checking.popleft()
        found = self.verifier.finish(rows, await under_way)
        if places is not None:
            for place, leaf in zip(places, found, strict=True):
                self.leaves[place] = leaf


async def _check_published_keys(keys: Sequence[NoteVerifier], report: AuditReport) -> None:
    """A key the database publishes but the verifier was not given is a warning sign:
    whoever can write to the database can publish a key, so it is never trusted."""
    trusted = {(key.kid, key.public_key) for key in keys}
    for row in await LedgerKey.select(LedgerKey.kid, LedgerKey.public_key):
        if (row["kid"], bytes(row["public_key"])) not in trusted:
            report.fail(
                "keys",
                f"key {row['kid']}",
                "ledger_key publishes a key that is not among the trusted keys "
                "(the key file's record, or --key)",
            )


async def _check_heads(verifier: _Verifier) -> None:
    report = verifier.report
    heads = {
        row["case_ref"]: row
        for row in await LedgerCaseHead.select(
            LedgerCaseHead.case_ref, LedgerCaseHead.next_seq, LedgerCaseHead.head_hash
        )
    }
    for case, chain in verifier.chains.items():
        head = heads.pop(case, None)
        if head is None:
            report.fail("chain", f"case {case}", "the case has entries but no head row")
        elif head["next_seq"] != chain.next_seq or bytes(head["head_hash"]) != chain.head:
            report.fail(
                "chain",
                f"case {case}",
                f"the head says the chain has {head['next_seq']} entries ending at "
                f"{bytes(head['head_hash']).hex()[:16]}…, but it has {chain.next_seq} ending at "
                f"{chain.head.hex()[:16]}… (entries removed or the tail cut off)",
            )
    for case in heads:
        report.fail("chain", f"case {case}", "the head row names a case with no entries")
