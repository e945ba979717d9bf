"""What the ledger's two stores share: the shape of what is written and integrated, how a
tree node is keyed, the statements both engines run, and the `LedgerStore` they extend.
How and why the stores work as they do: `ledger.store`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from piccolo.engine.base import Engine

from ledger.merkle import NodeId

T = TypeVar("T")

# A node's key packs (level, index) into one integer: index < 2**48 leaves is ample.
LEVEL_SHIFT = 48
INDEX_MASK = (1 << LEVEL_SHIFT) - 1
# Any constant does; it names "the integrator" among PostgreSQL advisory locks.
INTEGRATOR_LOCK_ID = 0x1ED6E7


def node_key(node: NodeId) -> int:
    level, index = node
    return (level << LEVEL_SHIFT) | index


def node_id(key: int) -> NodeId:
    return key >> LEVEL_SHIFT, key & INDEX_MASK


class Written(Protocol):
    """What the appender stores for one entry (see `ledger.appender.Receipt`)."""

    @property
    def event_type(self) -> str: ...
    @property
    def entry(self) -> bytes: ...
    @property
    def signature(self) -> bytes: ...
    @property
    def leaf_hash(self) -> bytes: ...


W = TypeVar("W", bound=Written)
MakeEntry = Callable[[int, bytes], W]


@dataclass(frozen=True)
class LogState:
    """What the integrator sees when it starts a batch."""

    size: int
    root: bytes
    frontier: dict[NodeId, bytes]
    pending: list[tuple[int, bytes]]  # (entry id, leaf hash), in the order to integrate


@dataclass(frozen=True)
class Batch:
    """One integration: leaf indexes to assign, new nodes and the signed checkpoint."""

    first_index: int
    entry_ids: list[int]
    nodes: dict[NodeId, bytes]
    size: int
    root: bytes
    note: str
    created_at: datetime


PlanBatch = Callable[[LogState], Batch]


SELECT_HEAD = "SELECT next_seq, head_hash FROM ledger_case_head WHERE case_ref = ?"
INSERT_ENTRY = (
    "INSERT INTO ledger_entry (case_ref, case_seq, event_type, entry, signature, leaf_hash)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
UPSERT_HEAD = (
    "INSERT INTO ledger_case_head (case_ref, next_seq, head_hash) VALUES (?, ?, ?)"
    " ON CONFLICT (case_ref) DO UPDATE SET next_seq = excluded.next_seq,"
    " head_hash = excluded.head_hash"
)
SELECT_LOG_HEAD = "SELECT tree_size, root_hash FROM ledger_checkpoint ORDER BY id DESC LIMIT 1"
SELECT_PENDING = (
    "SELECT id, leaf_hash FROM ledger_entry WHERE leaf_index IS NULL ORDER BY id LIMIT ?"
)
SELECT_SIGNED_SIZE = "SELECT tree_size FROM ledger_checkpoint ORDER BY id DESC LIMIT 1"
INSERT_CHECKPOINT = (
    "INSERT INTO ledger_checkpoint (tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?)"
)


def pg(sql: str) -> str:
    """The same statement with PostgreSQL's numbered placeholders."""
    parts = sql.split("?")
    return "".join(f"{part}${i}" if i < len(parts) else part for i, part in enumerate(parts, 1))


class LedgerStore:
    """The ledger's tables behind one engine; `store_for` picks the dialect."""

    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self.engine = engine

    def current_transaction(self) -> Any:
        return self.engine.current_transaction.get()

    def snapshot(self) -> Any:
        """`async with store.snapshot():` every query inside reads one committed state of
        the database, whatever commits meanwhile. Inside a caller's transaction it is
        that transaction, which the caller chose."""
        raise NotImplementedError
