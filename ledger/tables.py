"""Where the ledger keeps its entries, the heads of case chains, tree nodes, checkpoints and keys.

Columns other than `entry` and `signature` repeat what the entry's bytes say, so that
queries need not parse JSON; `portal ledger verify` checks that they agree.
"""

from piccolo.columns import BigInt, BigSerial, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class LedgerEntry(Table, tablename="ledger_entry"):
    """One signed entry, exactly as written: its bytes are never serialised again."""

    id = BigSerial(primary_key=True)
    case_ref = Varchar(length=64)
    case_seq = Integer()
    event_type = Varchar(length=64)
    entry = Bytea()
    signature = Bytea()
    leaf_hash = Bytea()
    leaf_index = BigInt(null=True, default=None, unique=True)


class LedgerCaseHead(Table, tablename="ledger_case_head"):
    """The tip of one case's chain; locking this row serialises appends to the case."""

    case_ref = Varchar(length=64, primary_key=True)
    next_seq = Integer()
    head_hash = Bytea()


class LedgerNode(Table, tablename="ledger_node"):
    """A complete subtree of the global Merkle tree, keyed by `node_key(level, index)`."""

    node_key = BigInt(primary_key=True)
    hash = Bytea()


class LedgerCheckpoint(Table, tablename="ledger_checkpoint"):
    """Every signed checkpoint the log has issued, in order; none is ever removed."""

    id = BigSerial(primary_key=True)
    tree_size = BigInt(index=True)
    root_hash = Bytea()
    note = Text()
    created_at = Timestamptz()


class LedgerKey(Table, tablename="ledger_key"):
    """Every public key that has signed for this log; old keys stay published."""

    kid = Varchar(length=8, primary_key=True)
    verifier_key = Text()
    public_key = Bytea()
    created_at = Timestamptz()
    retired_at = Timestamptz(null=True, default=None)
    dual_sign_until = Timestamptz(null=True, default=None)


LEDGER_TABLES: list[type[Table]] = [
    LedgerEntry,
    LedgerCaseHead,
    LedgerNode,
    LedgerCheckpoint,
    LedgerKey,
]
