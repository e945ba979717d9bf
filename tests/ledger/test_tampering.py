"""Tampering with the stored log, each kind on its own: `portal ledger verify` passes the log
as the portal wrote it, then fails once a single row has been changed behind the portal's
back, and names the check that failed and where.

Mallory has write access to the database but not to the signing key. Each tampering is
applied with SQL on the real tables; the verifier is the real `portal` command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from piccolo.querystring import QueryString

from ledger.appender import Receipt, append_entry
from ledger.audit import verify_log
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import Actor, decode_entry, encode_entry, sign_entry
from ledger.integrator import integrate
from ledger.keys import Keyring, publish_keys
from ledger.merkle import leaf_hash
from ledger.note import NoteSigner
from ledger.storage import node_id, node_key
from ledger.tables import LedgerCheckpoint, LedgerEntry, LedgerKey, LedgerNode
from tests.support import ORIGIN, portal_env, run_portal

if TYPE_CHECKING:
    from tests.conftest import Database

WITHDRAWAL = "DR-2026-000101"
TRADE = "DR-2026-000102"
FEES = "DR-2026-000103"
CASES = (WITHDRAWAL, TRADE, FEES)

ALICE = Actor("alice", "claimant")
BOB = Actor("bob", "claimant")
IVY = Actor("ivy", "investigator")
MONA = Actor("mona", "mediator")
LEE = Actor("lee", "legal")
SYSTEM = Actor("system", "system")

CLAIMANTS = {WITHDRAWAL: ALICE, TRADE: BOB, FEES: ALICE}
PROPOSED_REFUND = "1500.00"


def story(case: str) -> list[tuple[str, Actor, dict[str, Any]]]:
    """One case from filing to settlement: 14 events."""
    claimant = CLAIMANTS[case]
    receipt = {
        "sha256": "5e" * 32,
        "name": "receipt.pdf",
        "size": 48213,
        "media_type": "application/pdf",
    }
    return [
        ("case.filed", claimant, {"category": "withdrawal", "amount": "2000.00", "asset": "USDT"}),
        ("evidence.added", claimant, {"file": receipt}),
        ("case.assigned", SYSTEM, {"investigator": "ivy"}),
        ("proposal.made", IVY, {"items": [{"action": "refund", "amount": PROPOSED_REFUND}]}),
        ("proposal.rejected", claimant, {"content_sha256": "a1" * 32}),
        ("mediation.requested", claimant, {}),
        ("mediator.appointed", SYSTEM, {"mediator": "mona"}),
        ("statement.submitted", claimant, {"channel": "caucus", "content_sha256": "b2" * 32}),
        ("statement.submitted", LEE, {"channel": "caucus", "content_sha256": "c3" * 32}),
        ("offer.made", LEE, {"amount": "1200.00"}),
        ("offer.accepted", claimant, {"offer_seq": 9}),
        ("settlement.signed", MONA, {"amount": "1200.00"}),
        ("payment.confirmed", SYSTEM, {"amount": "1200.00", "tx": "4f2a" * 8}),
        ("case.closed", SYSTEM, {"outcome": "settled"}),
    ]


# The three cases' events interleaved, one case after the other: event i is case i % 3's
# event number i // 3. Appended in this order, so the integrated entry at leaf i is event i.
EVENTS = [(CASES[i % 3], *story(CASES[i % 3])[i // 3]) for i in range(40)]
# Integrated in five batches (three calls); the last four entries are left pending.
BATCHES = [(14, 7), (26, 6), (36, 10)]  # (append up to event, integrate with limit)
CHECKPOINT_SIZES = [7, 14, 20, 26, 36]
INTEGRATED = 36

# Leaf 10 is the trade case's proposal #3; its case's next entry is #4 at leaf 13.
TARGET = 10
TARGET_NEXT_IN_CASE = 13
# Leaf 11 is the fees case's #3: a neighbour of the target from another case.
NEIGHBOUR = 11
MIDDLE_CHECKPOINT = 2  # the third of five, size 20
# Event 37, left unintegrated, is the trade case's #12 (a confirmed payment).
UNINTEGRATED = 37


@dataclass
class Log:
    """The log as the portal wrote it, and what a test needs to find its rows."""

    receipts: list[Receipt]
    checkpoint_ids: list[int]
    unintegrated_ids: dict[int, int]  # event number -> ledger_entry.id

    def at(self, leaf: int) -> str:
        """How the verifier names the integrated entry at `leaf`."""
        receipt = self.receipts[leaf]
        return f"leaf {leaf} ({receipt.case} #{receipt.case_seq})"

    def checkpoint(self, number: int, size: int | None = None) -> str:
        """How the verifier names the `number`-th checkpoint (from 0)."""
        size = CHECKPOINT_SIZES[number] if size is None else size
        return f"checkpoint #{self.checkpoint_ids[number]} (size {size})"


@pytest.fixture
async def log(db: Database, keyring: Keyring) -> Log:
    """40 entries in three cases, 36 integrated in five batches, keys published."""
    receipts = []
    appended = 0
    for until, limit in BATCHES:
        for case, event_type, actor, body in EVENTS[appended:until]:
            receipts.append(
                await append_entry(
                    keyring, case=case, event_type=event_type, actor=actor, body=body
                )
            )
        appended = until
        await integrate(keyring, limit=limit)
    for case, event_type, actor, body in EVENTS[appended:]:
        receipts.append(
            await append_entry(keyring, case=case, event_type=event_type, actor=actor, body=body)
        )
    await publish_keys(keyring)

    checkpoints = await LedgerCheckpoint.select(
        LedgerCheckpoint.id, LedgerCheckpoint.tree_size
    ).order_by(LedgerCheckpoint.id)
    assert [row["tree_size"] for row in checkpoints] == CHECKPOINT_SIZES
    pending = await LedgerEntry.select(LedgerEntry.id, LedgerEntry.entry).where(
        LedgerEntry.leaf_index.is_null()
    )
    by_bytes = {bytes(row["entry"]): row["id"] for row in pending}
    unintegrated_ids = {n: by_bytes[receipts[n].entry] for n in range(INTEGRATED, len(EVENTS))}
    assert receipts[TARGET].case == TRADE and receipts[TARGET].case_seq == 3
    assert (
        receipts[TARGET_NEXT_IN_CASE].case == TRADE and receipts[TARGET_NEXT_IN_CASE].case_seq == 4
    )
    assert receipts[NEIGHBOUR].case == FEES
    return Log(receipts, [row["id"] for row in checkpoints], unintegrated_ids)


async def sql(db: Database, text: str, *args: Any) -> None:
    """Run one statement; `{}` marks a parameter, on either database."""
    await db.engine.run_querystring(QueryString(text, *args))


async def stored(db: Database, column: str, leaf: int) -> Any:
    row = (
        await LedgerEntry.select(getattr(LedgerEntry, column))
        .where(LedgerEntry.leaf_index == leaf)
        .first()
    )
    assert row is not None, f"no entry at leaf {leaf}"
    return row[column]


def flipped(data: bytes, position: int = 0) -> bytes:
    """`data` with one bit of one byte inverted."""
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def mallory() -> NoteSigner:
    """An Ed25519 key the log has never trusted, under the log's own name."""
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


REWRITE_ENTRY = "UPDATE ledger_entry SET entry = {}, signature = {}, leaf_hash = {} "


# Each tampering changes the database and returns the lines `portal ledger verify` must
# print for it: "FAIL [<check>] <where>:".
Tamper = Callable[["Database", Log], Awaitable[list[str]]]


async def change_case_ref(db: Database, log: Log) -> list[str]:
    await sql(
        db, "UPDATE ledger_entry SET case_ref = {} WHERE leaf_index = {}", "DR-2026-000999", TARGET
    )
    return [f"FAIL [columns] leaf {TARGET} (DR-2026-000999 #3):"]


async def change_case_seq(db: Database, log: Log) -> list[str]:
    await sql(db, "UPDATE ledger_entry SET case_seq = {} WHERE leaf_index = {}", 99, TARGET)
    return [f"FAIL [columns] leaf {TARGET} ({TRADE} #99):"]


async def change_event_type(db: Database, log: Log) -> list[str]:
    await sql(
        db,
        "UPDATE ledger_entry SET event_type = {} WHERE leaf_index = {}",
        "proposal.withdrawn",
        TARGET,
    )
    return [f"FAIL [columns] {log.at(TARGET)}:"]


async def change_an_amount_inside_the_entry(db: Database, log: Log) -> list[str]:
    data = bytes(await stored(db, "entry", TARGET))
    # One byte: the proposed refund of 1500.00 becomes 9500.00, still canonical JSON.
    forged = data.replace(f'"{PROPOSED_REFUND}"'.encode(), b'"9500.00"')
    assert len(forged) == len(data) and sum(a != b for a, b in zip(data, forged, strict=True)) == 1
    assert decode_entry(forged).body["items"][0]["amount"] == "9500.00"
    await sql(db, "UPDATE ledger_entry SET entry = {} WHERE leaf_index = {}", forged, TARGET)
    return [
        f"FAIL [leaf-hash] {log.at(TARGET)}:",
        f"FAIL [signature] {log.at(TARGET)}:",
        f"FAIL [chain] {log.at(TARGET_NEXT_IN_CASE)}:",
    ]


async def break_the_entry_json(db: Database, log: Log) -> list[str]:
    data = bytes(await stored(db, "entry", TARGET))
    assert data.startswith(b"{")
    await sql(
        db, "UPDATE ledger_entry SET entry = {} WHERE leaf_index = {}", b"[" + data[1:], TARGET
    )
    return [f"FAIL [entry-format] {log.at(TARGET)}:", f"FAIL [leaf-hash] {log.at(TARGET)}:"]


async def change_signature(db: Database, log: Log) -> list[str]:
    signature = bytes(await stored(db, "signature", TARGET))
    await sql(
        db,
        "UPDATE ledger_entry SET signature = {} WHERE leaf_index = {}",
        flipped(signature, 17),
        TARGET,
    )
    return [f"FAIL [signature] {log.at(TARGET)}:"]


async def change_leaf_hash(db: Database, log: Log) -> list[str]:
    stored_hash = bytes(await stored(db, "leaf_hash", TARGET))
    await sql(
        db,
        "UPDATE ledger_entry SET leaf_hash = {} WHERE leaf_index = {}",
        flipped(stored_hash, 31),
        TARGET,
    )
    return [f"FAIL [leaf-hash] {log.at(TARGET)}:"]


async def move_an_entry_to_the_end(db: Database, log: Log) -> list[str]:
    await sql(
        db, "UPDATE ledger_entry SET leaf_index = {} WHERE leaf_index = {}", INTEGRATED, TARGET
    )
    return [
        f"FAIL [log] leaves {TARGET}..{TARGET}:",
        f"FAIL [chain] {log.at(TARGET_NEXT_IN_CASE)}:",
    ]


async def change_an_unintegrated_entry(db: Database, log: Log) -> list[str]:
    entry_id = log.unintegrated_ids[UNINTEGRATED]
    data = log.receipts[UNINTEGRATED].entry
    forged = data.replace(b'"1200.00"', b'"1900.00"')
    assert forged != data
    await sql(db, "UPDATE ledger_entry SET entry = {} WHERE id = {}", forged, entry_id)
    where = f"unintegrated entry id {entry_id} ({TRADE} #12)"
    return [f"FAIL [leaf-hash] {where}:", f"FAIL [signature] {where}:"]


async def change_a_tree_node(db: Database, log: Log) -> list[str]:
    key = node_key((1, 5))
    row = await LedgerNode.select(LedgerNode.hash).where(LedgerNode.node_key == key).first()
    assert row is not None
    await sql(
        db, "UPDATE ledger_node SET hash = {} WHERE node_key = {}", flipped(bytes(row["hash"])), key
    )
    return ["FAIL [tree] node (1, 5):"]


async def delete_a_tree_node(db: Database, log: Log) -> list[str]:
    await sql(db, "DELETE FROM ledger_node WHERE node_key = {}", node_key((2, 3)))
    return ["FAIL [tree] node (2, 3):"]


async def change_checkpoint_tree_size(db: Database, log: Log) -> list[str]:
    checkpoint_id = log.checkpoint_ids[MIDDLE_CHECKPOINT]
    await sql(db, "UPDATE ledger_checkpoint SET tree_size = {} WHERE id = {}", 21, checkpoint_id)
    return [f"FAIL [checkpoint] {log.checkpoint(MIDDLE_CHECKPOINT, size=21)}:"]


async def change_checkpoint_root_hash(db: Database, log: Log) -> list[str]:
    checkpoint_id = log.checkpoint_ids[MIDDLE_CHECKPOINT]
    row = (
        await LedgerCheckpoint.select(LedgerCheckpoint.root_hash)
        .where(LedgerCheckpoint.id == checkpoint_id)
        .first()
    )
    assert row is not None
    await sql(
        db,
        "UPDATE ledger_checkpoint SET root_hash = {} WHERE id = {}",
        flipped(bytes(row["root_hash"])),
        checkpoint_id,
    )
    return [f"FAIL [checkpoint] {log.checkpoint(MIDDLE_CHECKPOINT)}:"]


async def change_checkpoint_note(db: Database, log: Log) -> list[str]:
    checkpoint_id = log.checkpoint_ids[MIDDLE_CHECKPOINT]
    row = (
        await LedgerCheckpoint.select(LedgerCheckpoint.note)
        .where(LedgerCheckpoint.id == checkpoint_id)
        .first()
    )
    assert row is not None
    note = row["note"]
    # The signed text claims one more leaf than was signed.
    forged = note.replace(f"{ORIGIN}\n20\n", f"{ORIGIN}\n21\n", 1)
    assert forged != note
    await sql(db, "UPDATE ledger_checkpoint SET note = {} WHERE id = {}", forged, checkpoint_id)
    return [f"FAIL [checkpoint] {log.checkpoint(MIDDLE_CHECKPOINT)}:"]


async def insert_a_checkpoint_signed_by_an_untrusted_key(db: Database, log: Log) -> list[str]:
    latest = (
        await LedgerCheckpoint.select(LedgerCheckpoint.root_hash)
        .where(LedgerCheckpoint.id == log.checkpoint_ids[-1])
        .first()
    )
    assert latest is not None
    # The true size and root: only the key is wrong.
    root = bytes(latest["root_hash"])
    note = sign_checkpoint(Checkpoint(ORIGIN, INTEGRATED, root), [mallory()])
    await LedgerCheckpoint.insert(
        LedgerCheckpoint(
            tree_size=INTEGRATED, root_hash=root, note=note, created_at=datetime.now(UTC)
        )
    )
    inserted = (
        await LedgerCheckpoint.select(LedgerCheckpoint.id)
        .order_by(LedgerCheckpoint.id, ascending=False)
        .first()
    )
    assert inserted is not None
    return [f"FAIL [checkpoint] checkpoint #{inserted['id']} (size {INTEGRATED}):"]


async def swap_two_checkpoints(db: Database, log: Log) -> list[str]:
    """Every row still signed and true on its own; only their order is wrong."""
    first, second = log.checkpoint_ids[1], log.checkpoint_ids[2]
    rows = {
        row["id"]: row
        for row in await LedgerCheckpoint.select(
            LedgerCheckpoint.id,
            LedgerCheckpoint.tree_size,
            LedgerCheckpoint.root_hash,
            LedgerCheckpoint.note,
        ).where(LedgerCheckpoint.id.is_in([first, second]))
    }
    for row_id, source in ((first, rows[second]), (second, rows[first])):
        await sql(
            db,
            "UPDATE ledger_checkpoint SET tree_size = {}, root_hash = {}, note = {} WHERE id = {}",
            source["tree_size"],
            bytes(source["root_hash"]),
            source["note"],
            row_id,
        )
    return [f"FAIL [consistency] checkpoint #{first} (size 20) -> checkpoint #{second} (size 14):"]


async def delete_an_entry_in_the_middle(db: Database, log: Log) -> list[str]:
    await sql(db, "DELETE FROM ledger_entry WHERE leaf_index = {}", TARGET)
    return [
        f"FAIL [log] leaves {TARGET}..{TARGET}:",
        f"FAIL [chain] {log.at(TARGET_NEXT_IN_CASE)}:",
    ]


async def cut_off_the_tail_carefully(db: Database, log: Log) -> list[str]:
    """Drop the last entries and every trace of them but the signed checkpoints."""
    cut = 30
    await sql(db, "DELETE FROM ledger_entry WHERE leaf_index >= {} OR leaf_index IS NULL", cut)
    for row in await LedgerNode.select(LedgerNode.node_key):
        level, index = node_id(row["node_key"])
        if (index + 1) << level > cut:
            await sql(db, "DELETE FROM ledger_node WHERE node_key = {}", row["node_key"])
    for case in CASES:
        tip = max((r for r in log.receipts[:cut] if r.case == case), key=lambda r: r.case_seq)
        await sql(
            db,
            "UPDATE ledger_case_head SET next_seq = {}, head_hash = {} WHERE case_ref = {}",
            tip.case_seq + 1,
            tip.leaf_hash,
            case,
        )
    return [f"FAIL [checkpoint] {log.checkpoint(len(CHECKPOINT_SIZES) - 1)}:"]


async def swap_two_entries_of_one_case(db: Database, log: Log) -> list[str]:
    first, second = log.receipts[TARGET], log.receipts[TARGET_NEXT_IN_CASE]
    for receipt, leaf in ((second, TARGET), (first, TARGET_NEXT_IN_CASE)):
        await sql(
            db,
            REWRITE_ENTRY + "WHERE leaf_index = {}",
            receipt.entry,
            receipt.signature,
            receipt.leaf_hash,
            leaf,
        )
    return [
        f"FAIL [chain] {log.at(TARGET)}:",
        f"FAIL [columns] {log.at(TARGET)}:",
        f"FAIL [columns] {log.at(TARGET_NEXT_IN_CASE)}:",
    ]


async def swap_the_leaf_indexes_of_two_cases_entries(db: Database, log: Log) -> list[str]:
    # Each case's chain stays in order: only the global log can tell.
    update = "UPDATE ledger_entry SET leaf_index = {} WHERE leaf_index = {}"
    await sql(db, update, -1, TARGET)
    await sql(db, update, TARGET, NEIGHBOUR)
    await sql(db, update, NEIGHBOUR, -1)
    return [
        f"FAIL [tree] node (0, {TARGET}):",
        f"FAIL [tree] node (0, {NEIGHBOUR}):",
        f"FAIL [checkpoint] {log.checkpoint(MIDDLE_CHECKPOINT)}:",
    ]


async def re_sign_an_entry_with_an_untrusted_key(db: Database, log: Log) -> list[str]:
    key = mallory()
    entry = decode_entry(log.receipts[TARGET].entry)
    forged = encode_entry(dataclasses.replace(entry, kid=key.kid))
    await sql(
        db,
        REWRITE_ENTRY + "WHERE leaf_index = {}",
        forged,
        sign_entry(forged, key.private_key),
        leaf_hash(forged),
        TARGET,
    )
    return [f"FAIL [signature] {log.at(TARGET)}:"]


async def publish_mallorys_key_and_re_sign_an_entry(db: Database, log: Log) -> list[str]:
    """The case's latest entry, not yet integrated, so no checkpoint covers it: only the
    key gives it away, and the database cannot vouch for keys it holds itself."""
    key = mallory()
    await LedgerKey.insert(
        LedgerKey(
            kid=key.kid,
            verifier_key=str(key.verifier()),
            public_key=key.public_key,
            created_at=datetime.now(UTC),
        )
    )
    latest = len(EVENTS) - 1
    receipt = log.receipts[latest]
    entry = decode_entry(receipt.entry)
    assert entry.type == "case.closed" and entry.body == {"outcome": "settled"}
    forged = encode_entry(dataclasses.replace(entry, body={"outcome": "withdrawn"}, kid=key.kid))
    entry_id = log.unintegrated_ids[latest]
    signature = sign_entry(forged, key.private_key)
    await sql(db, REWRITE_ENTRY + "WHERE id = {}", forged, signature, leaf_hash(forged), entry_id)
    await sql(
        db,
        "UPDATE ledger_case_head SET head_hash = {} WHERE case_ref = {}",
        leaf_hash(forged),
        receipt.case,
    )
    where = f"unintegrated entry id {entry_id} ({receipt.case} #{receipt.case_seq})"
    return [f"FAIL [signature] {where}:"]


async def change_a_case_heads_next_seq(db: Database, log: Log) -> list[str]:
    await sql(db, "UPDATE ledger_case_head SET next_seq = next_seq - 1 WHERE case_ref = {}", FEES)
    return [f"FAIL [chain] case {FEES}:"]


async def change_a_case_heads_hash(db: Database, log: Log) -> list[str]:
    await sql(
        db,
        "UPDATE ledger_case_head SET head_hash = {} WHERE case_ref = {}",
        log.receipts[TARGET].leaf_hash,
        FEES,
    )
    return [f"FAIL [chain] case {FEES}:"]


TAMPERINGS: list[Tamper] = [
    change_case_ref,
    change_case_seq,
    change_event_type,
    change_an_amount_inside_the_entry,
    break_the_entry_json,
    change_signature,
    change_leaf_hash,
    move_an_entry_to_the_end,
    change_an_unintegrated_entry,
    change_a_tree_node,
    delete_a_tree_node,
    change_checkpoint_tree_size,
    change_checkpoint_root_hash,
    change_checkpoint_note,
    insert_a_checkpoint_signed_by_an_untrusted_key,
    swap_two_checkpoints,
    delete_an_entry_in_the_middle,
    cut_off_the_tail_carefully,
    swap_two_entries_of_one_case,
    swap_the_leaf_indexes_of_two_cases_entries,
    re_sign_an_entry_with_an_untrusted_key,
    publish_mallorys_key_and_re_sign_an_entry,
    change_a_case_heads_next_seq,
    change_a_case_heads_hash,
]


def verify(db: Database, keyring: Keyring, tmp_path: Path) -> tuple[int, list[str]]:
    env = portal_env(db.url, tmp_path, PORTAL_SIGNING_KEY_FILE=str(keyring.path))
    result = run_portal("ledger", "verify", env=env, check=False)
    # A crash exits 1 too; a verdict is printed on stdout and nothing on stderr.
    assert not result.stderr.strip(), result.stderr
    return result.returncode, result.stdout.splitlines()


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
async def test_verify_passes_the_log_then_fails_on_each_tampering_and_names_it(
    db: Database, log: Log, keyring: Keyring, tmp_path: Path, tamper: Tamper
) -> None:
    code, lines = verify(db, keyring, tmp_path)
    assert code == 0, "\n".join(lines)
    assert lines == [
        f"OK: 40 entries in 3 cases, tree of {INTEGRATED} leaves, 5 checkpoints; every check holds."
    ]

    expected = await tamper(db, log)

    code, lines = verify(db, keyring, tmp_path)
    assert code == 1, "verify passed the tampered log:\n" + "\n".join(lines)
    assert lines[-1].startswith("FAILED: ")
    missing = [line for line in expected if not any(shown.startswith(line) for shown in lines)]
    assert not missing, f"verify did not report {missing}; it printed:\n" + "\n".join(lines)


async def test_verify_log_reports_every_tampering_not_just_the_first(
    db: Database, log: Log, keyring: Keyring
) -> None:
    trusted = keyring.verifiers
    assert (await verify_log(ORIGIN, trusted)).failures == []

    signature = bytes(await stored(db, "signature", 4))
    await sql(
        db, "UPDATE ledger_entry SET signature = {} WHERE leaf_index = {}", flipped(signature), 4
    )
    await change_checkpoint_root_hash(db, log)

    failures = {(f.check, f.where) for f in (await verify_log(ORIGIN, trusted)).failures}
    assert ("signature", log.at(4)) in failures
    assert ("checkpoint", log.checkpoint(MIDDLE_CHECKPOINT)) in failures
