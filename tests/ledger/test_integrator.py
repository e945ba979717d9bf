"""The global log: integration, signed checkpoints, and proofs read from stored nodes."""

from __future__ import annotations

import pytest

from ledger.appender import append_entry
from ledger.bundle import verify_bundle
from ledger.checkpoint import open_checkpoint
from ledger.entry import Actor
from ledger.errors import LedgerError, ProofError
from ledger.integrator import integrate
from ledger.keys import publish_keys
from ledger.merkle import MemoryTree, verify_consistency, verify_inclusion
from ledger.proofs import case_bundle, consistency_proof, inclusion_proof, latest_checkpoint
from ledger.storage import node_key
from ledger.store import store_for
from ledger.tables import LedgerCheckpoint, LedgerEntry, LedgerNode

ALICE = Actor("alice", "claimant")


async def fill(keyring, count, cases=3):
    receipts = []
    for n in range(count):
        receipts.append(
            await append_entry(
                keyring,
                case=f"DR-2026-{n % cases:06d}",
                event_type="statement.submitted",
                actor=ALICE,
                body={"n": n},
            )
        )
    return receipts


async def test_entries_get_leaf_indexes_in_commit_order_and_one_checkpoint_per_batch(db, keyring):
    receipts = await fill(keyring, 23)

    done = await integrate(keyring, limit=10)

    assert (done.batches, done.entries, done.size) == (3, 23, 23)
    rows = await LedgerEntry.select(LedgerEntry.leaf_hash, LedgerEntry.leaf_index).order_by(
        LedgerEntry.id
    )
    assert [row["leaf_index"] for row in rows] == list(range(23))
    sizes = [
        row["tree_size"] for row in await LedgerCheckpoint.select().order_by(LedgerCheckpoint.id)
    ]
    assert sizes == [10, 20, 23]
    tree = MemoryTree(r.leaf_hash for r in receipts)
    checkpoint, signed_by = open_checkpoint(
        (await latest_checkpoint()).note, keyring.verifiers, origin=keyring.origin
    )
    assert checkpoint.size == 23 and checkpoint.root_hash == tree.root()
    assert [v.kid for v in signed_by] == [keyring.kid]


async def test_integration_with_nothing_pending_signs_nothing(db, keyring):
    assert (await integrate(keyring)).batches == 0
    await fill(keyring, 2)
    await integrate(keyring)
    assert (await integrate(keyring)).batches == 0
    assert await LedgerCheckpoint.count() == 1


async def test_the_stored_tree_holds_exactly_the_complete_subtrees(db, keyring):
    receipts = await fill(keyring, 13)
    await integrate(keyring, limit=4)

    tree = MemoryTree(r.leaf_hash for r in receipts)
    stored = {row["node_key"]: bytes(row["hash"]) for row in await LedgerNode.select()}
    assert stored == {node_key(node): value for node, value in tree.nodes.items()}


async def test_proofs_from_stored_nodes_match_the_in_memory_tree_and_verify(db, keyring):
    receipts = await fill(keyring, 21)
    await integrate(keyring, limit=8)
    tree = MemoryTree(r.leaf_hash for r in receipts)

    for size in (8, 16, 21):
        for index in range(size):
            proof = await inclusion_proof(index, size)
            assert proof == tree.inclusion_proof(index, size)
            verify_inclusion(receipts[index].leaf_hash, index, size, proof, tree.root(size))
        for old in range(1, size + 1):
            proof = await consistency_proof(old, size)
            assert proof == tree.consistency_proof(old, size)
            verify_consistency(old, size, tree.root(old), tree.root(size), proof)


@pytest.mark.parametrize(
    ("prove", "args"),
    [
        (inclusion_proof, (5, 5)),  # index must be below the size
        (inclusion_proof, (0, 11)),  # size beyond the latest checkpoint
        (consistency_proof, (0, 4)),
        (consistency_proof, (6, 4)),
        (consistency_proof, (4, 11)),
    ],
)
async def test_proofs_are_refused_for_sizes_no_checkpoint_signs(db, keyring, prove, args):
    await fill(keyring, 10)
    await integrate(keyring)
    with pytest.raises(ProofError, match="latest signed size"):
        await prove(*args)


async def test_no_proof_is_given_before_the_first_checkpoint(db, keyring):
    await fill(keyring, 3)
    with pytest.raises(ProofError, match="at most 0, the latest signed size"):
        await inclusion_proof(0, 1)


@pytest.mark.parametrize("absent", [0, 1, 40, 600])
async def test_proof_nodes_come_with_the_signed_size_however_many_are_asked(db, keyring, absent):
    # Up to a few hundred nodes come in one statement, more in several; a node asked for
    # but not stored is left out, never invented.
    receipts = await fill(keyring, 40)
    await integrate(keyring)
    tree = MemoryTree(r.leaf_hash for r in receipts)
    asked = [*tree.nodes, *((0, 1000 + n) for n in range(absent))]

    size, nodes = await store_for().signed_nodes(asked)

    assert size == 40
    assert nodes == tree.nodes


async def test_a_case_bundle_verifies_offline_and_stops_at_the_checkpoint(db, keyring):
    await publish_keys(keyring)
    await fill(keyring, 12, cases=2)
    await integrate(keyring)
    await fill(keyring, 2, cases=2)  # written after the checkpoint: not in the bundle yet

    bundle = await case_bundle("DR-2026-000000", keyring.origin)

    assert [e["index"] for e in bundle["entries"]] == [0, 2, 4, 6, 8, 10]
    report = verify_bundle(bundle, trusted_keys=[str(keyring.current.verifier())])
    assert report.ok, report.render()


async def test_a_case_bundle_lists_the_evidence_files_its_entries_record(db, keyring):
    await publish_keys(keyring)
    evidence = {
        "sha256": "ab" * 32,
        "name": "order-history.csv",
        "size": 120,
        "media_type": "text/csv",
    }
    await append_entry(
        keyring,
        case="DR-2026-000009",
        event_type="evidence.added",
        actor=ALICE,
        body={"file": evidence},
    )
    await integrate(keyring)

    bundle = await case_bundle("DR-2026-000009", keyring.origin)

    assert bundle["evidence"] == [evidence]


async def test_the_integrator_refuses_to_sign_over_tampered_nodes(db, keyring):
    await fill(keyring, 6)
    await integrate(keyring)
    await fill(keyring, 3)
    await LedgerNode.update({LedgerNode.hash: b"\x00" * 32}).where(
        LedgerNode.node_key == node_key((2, 0))
    )

    with pytest.raises(LedgerError, match="refusing to sign"):
        await integrate(keyring)

    assert await LedgerCheckpoint.count() == 1
    assert await LedgerEntry.count().where(LedgerEntry.leaf_index.is_null()) == 3


async def test_no_bundle_before_the_first_checkpoint(db, keyring):
    await fill(keyring, 1)
    with pytest.raises(ProofError, match="no signed checkpoint"):
        await case_bundle("DR-2026-000000", keyring.origin)
