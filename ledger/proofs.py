"""Inclusion and consistency proofs from the stored tree, and a case's proof bundle.

A proof reads only the O(log n) complete subtrees it needs, in one query; it never
re-reads the leaves. Proofs are only given for sizes that a signed checkpoint covers:
a proof against an unsigned size would prove nothing to anyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.bundle import BundleEntry, build_bundle
from ledger.errors import ProofError
from ledger.keys import published_verifiers
from ledger.merkle import (
    NodeId,
    assemble,
    consistency_ranges,
    fold,
    inclusion_ranges,
    needed_nodes,
    range_nodes,
)
from ledger.store import store_for
from ledger.tables import LedgerCheckpoint, LedgerEntry

FILE_FIELDS = ("sha256", "name", "size", "media_type")


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str


async def latest_checkpoint() -> SignedCheckpoint | None:
    row = (
        await LedgerCheckpoint.select(
            LedgerCheckpoint.tree_size, LedgerCheckpoint.root_hash, LedgerCheckpoint.note
        )
        .order_by(LedgerCheckpoint.id, ascending=False)
        .first()
    )
    if row is None:
        return None
    return SignedCheckpoint(row["tree_size"], bytes(row["root_hash"]), row["note"])


async def inclusion_proof(index: int, size: int) -> list[bytes]:
    """The audit path for leaf `index` in the tree of `size` (RFC 9162 2.1.3.1)."""
    ranges = inclusion_ranges(index, size) if 0 <= index < size else []
    signed, subtrees, nodes = await _subtrees(ranges)
    if not 0 <= index < size <= signed:
        raise ProofError(
            f"No inclusion proof for leaf {index} in a tree of {size}: the index must be "
            f"below the size, and the size at most {signed}, the latest signed size."
        )
    return [fold(ids, nodes) for ids in subtrees]


async def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of `new_size` extends that of `old_size` (RFC 9162 2.1.4.1)."""
    ranges = consistency_ranges(old_size, new_size) if 1 <= old_size <= new_size else []
    signed, subtrees, nodes = await _subtrees(ranges)
    if not 1 <= old_size <= new_size <= signed:
        raise ProofError(
            f"No consistency proof from {old_size} to {new_size}: need "
            f"1 <= old <= new <= {signed}, the latest signed size."
        )
    return [fold(ids, nodes) for ids in subtrees]


async def _subtrees(
    ranges: list[tuple[int, int]],
) -> tuple[int, list[list[NodeId]], dict[NodeId, bytes]]:
    """The latest signed size; each range's complete subtrees; and their stored hashes.

    One hop for the nodes and the signed size: a proof is mostly its round trip. The
    subtrees are listed once, for the query and then for folding each range's hash.
    """
    subtrees = [range_nodes(start, end) for start, end in ranges]
    signed, nodes = await store_for().signed_nodes({node for ids in subtrees for node in ids})
    return signed, subtrees, nodes


async def case_bundle(case: str, origin: str, through_seq: int | None = None) -> dict[str, Any]:
    """The `ledger-proof.json` (docs/LEDGER-FORMAT.md#bundle) for one case, against the
    latest checkpoint.

    With `through_seq`, the chain stops at that entry: a case file ends with the entry that
    records its export, whatever was written to the case since.
    """
    checkpoint = await latest_checkpoint()
    if checkpoint is None:
        raise ProofError("The log has no signed checkpoint yet; try again in a few seconds.")
    rows = (
        await LedgerEntry.select(
            LedgerEntry.case_seq, LedgerEntry.entry, LedgerEntry.signature, LedgerEntry.leaf_index
        )
        .where(LedgerEntry.case_ref == case)
        .order_by(LedgerEntry.case_seq)
    )
    chain = []
    for row in rows:
        # The chain as far as the checkpoint reaches: entries integrate in case order.
        if row["leaf_index"] is None or row["leaf_index"] >= checkpoint.size:
            break
        if through_seq is not None and row["case_seq"] > through_seq:
            break
        chain.append(row)
    if not chain:
        raise ProofError(f"No entry of case {case} is in a signed checkpoint yet.")
    paths = {
        row["leaf_index"]: inclusion_ranges(row["leaf_index"], checkpoint.size) for row in chain
    }
    nodes = await store_for().nodes(needed_nodes(r for ranges in paths.values() for r in ranges))
    entries = [
        BundleEntry(
            index=row["leaf_index"],
            entry=bytes(row["entry"]),
            signature=bytes(row["signature"]),
            inclusion=tuple(assemble(paths[row["leaf_index"]], nodes)),
        )
        for row in chain
    ]
    evidence: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        for item in _files_in(json.loads(entry.entry)["body"]):
            evidence.setdefault(item["sha256"], item)
    return build_bundle(
        origin=origin,
        verifier_keys=[str(v) for v in await published_verifiers()],
        checkpoint=checkpoint.note,
        case=case,
        entries=entries,
        evidence=list(evidence.values()),
    )


def _files_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every file record ({"sha256", "name", "size", "media_type"}) in an entry's body."""
    if isinstance(value, dict):
        if all(name in value for name in FILE_FIELDS):
            yield {name: value[name] for name in FILE_FIELDS}
        for item in value.values():
            yield from _files_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _files_in(item)
