"""The audit of the tree: recomputed from the entries' own bytes and compared node by node
with the stored nodes, then every stored checkpoint opened, its root recomputed, and each
shown consistent with the one before (docs/LEDGER-FORMAT.md#merkle-tree, #checkpoints)."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.audit_report import AuditReport
from ledger.checkpoint import open_checkpoint
from ledger.errors import NoteError, ProofError
from ledger.merkle import (
    NodeId,
    assemble,
    consistency_ranges,
    node_hash,
    range_hash,
    verify_consistency,
)
from ledger.note import NoteVerifier
from ledger.storage import LEVEL_SHIFT, node_id, node_key
from ledger.tables import LedgerCheckpoint, LedgerNode

# Four of the audit's pages of entries (`ledger.audit.PAGE`): a node row is small.
NODES_PER_PAGE = 4 * 5000


def levels_of(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete node, level by level: levels[L][i] is node (L, i)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


class _LevelNodes(dict[NodeId, bytes]):
    """A read-only view of `levels` as the node mapping the Merkle functions take."""

    def __init__(self, levels: list[list[bytes]]) -> None:
        super().__init__()
        self.levels = levels

    def __missing__(self, node: NodeId) -> bytes:
        level, index = node
        return self.levels[level][index]


async def check_nodes(levels: list[list[bytes]], report: AuditReport) -> None:
    """Compare every stored node with the recomputed one; name each missing or extra node."""
    stored_count = 0
    for level, hashes in enumerate(levels):
        high = node_key((level, (1 << LEVEL_SHIFT) - 1))
        last = node_key((level, 0)) - 1
        expected = 0  # the next index this level should hold
        while True:
            rows = (
                await LedgerNode.select(LedgerNode.node_key, LedgerNode.hash)
                .where((LedgerNode.node_key > last) & (LedgerNode.node_key <= high))
                .order_by(LedgerNode.node_key)
                .limit(NODES_PER_PAGE)
            )
            for row in rows:
                _, index = node_id(row["node_key"])
                stored_count += 1
                _missing_nodes(report, level, expected, min(index, len(hashes)))
                expected = index + 1
                if index >= len(hashes):
                    report.fail(
                        "tree", f"node ({level}, {index})", "a stored node lies beyond the tree"
                    )
                elif bytes(row["hash"]) != hashes[index]:
                    report.fail(
                        "tree",
                        f"node ({level}, {index})",
                        "the stored hash differs from the one recomputed from the entries",
                    )
            if len(rows) < NODES_PER_PAGE:
                break
            last = rows[-1]["node_key"]
        _missing_nodes(report, level, expected, len(hashes))
    total = await LedgerNode.count()
    if total != stored_count:
        report.fail(
            "tree", "nodes", f"{total - stored_count} stored nodes have an impossible level"
        )


def _missing_nodes(report: AuditReport, level: int, start: int, end: int) -> None:
    for index in range(start, end):
        report.fail("tree", f"node ({level}, {index})", "the stored node is missing (deleted?)")


async def check_checkpoints(
    origin: str, keys: Sequence[NoteVerifier], levels: list[list[bytes]], report: AuditReport
) -> None:
    size = len(levels[0]) if levels[0] else 0
    nodes = _LevelNodes(levels)
    rows = await LedgerCheckpoint.select(
        LedgerCheckpoint.id,
        LedgerCheckpoint.tree_size,
        LedgerCheckpoint.root_hash,
        LedgerCheckpoint.note,
    ).order_by(LedgerCheckpoint.id)
    report.checkpoints = len(rows)
    previous: tuple[int, bytes, str] | None = None
    for row in rows:
        where = f"checkpoint #{row['id']} (size {row['tree_size']})"
        try:
            checkpoint, _ = open_checkpoint(row["note"], keys, origin=origin)
        except NoteError as exc:
            report.fail("checkpoint", where, str(exc))
            continue
        if checkpoint.size != row["tree_size"] or checkpoint.root_hash != bytes(row["root_hash"]):
            report.fail("checkpoint", where, "the stored size or root differs from the signed note")
        if checkpoint.size > size:
            report.fail(
                "checkpoint",
                where,
                f"signed for {checkpoint.size} leaves but the log holds {size}"
                " (its tail was cut off)",
            )
            continue
        try:
            root = range_hash(0, checkpoint.size, nodes) if checkpoint.size else None
        except (KeyError, IndexError):
            root = None
        if checkpoint.size and root != checkpoint.root_hash:
            report.fail("checkpoint", where, "the signed root is not the root of the log's entries")
        if previous is not None:
            old_size, old_root, old_where = previous
            try:
                if checkpoint.size < old_size:
                    raise ProofError(f"the tree shrank from {old_size} leaves")
                proof = (
                    assemble(consistency_ranges(old_size, checkpoint.size), nodes)
                    if old_size
                    else []
                )
                verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root_hash, proof)
            except ProofError as exc:
                report.fail("consistency", f"{old_where} -> {where}", str(exc))
        previous = (checkpoint.size, checkpoint.root_hash, where)
