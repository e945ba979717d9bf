"""The tree reproduces the shared RFC 6962 vectors exactly, whether it is held in memory or
rebuilt batch by batch from stored complete subtrees, and every vector proof verifies."""

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    NodeId,
    append_leaves,
    assemble,
    consistency_ranges,
    frontier,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from tests.support import shared_dir

BATCH_SPLITS = [[7], [1] * 7, [3, 4], [2, 2, 3], [1, 5, 1], [6, 1], [4, 3], [1, 2, 4], [5, 2]]


def vectors_dir() -> Path:
    vectors = shared_dir() / "vectors"
    if not vectors.is_dir():
        pytest.fail(f"The shared test vectors are not at {vectors}; set PORTAL_SHARED_DIR.")
    return vectors


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((vectors_dir() / "merkle-7-leaves.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def leaves(vectors: dict[str, Any]) -> list[bytes]:
    return [leaf_hash(leaf.encode("ascii")) for leaf in vectors["leaves"]]


def hexes(hashes: list[bytes]) -> list[str]:
    return [value.hex() for value in hashes]


def built_in_batches(leaves: list[bytes], split: list[int]) -> dict[NodeId, bytes]:
    """The stored nodes as an appender builds them: each batch sees only the frontier."""
    nodes: dict[NodeId, bytes] = {}
    size = 0
    for count in split:
        known = {node: nodes[node] for node in frontier(size)}
        nodes.update(append_leaves(size, known, leaves[size : size + count]))
        size += count
    return nodes


def test_the_vectors_cover_every_proof_of_a_tree_of_seven(vectors: dict[str, Any]) -> None:
    assert len(vectors["leaves"]) == 7
    assert sorted(int(n) for n in vectors["roots"]) == list(range(8))
    for n in range(1, 8):
        assert sorted(int(m) for m in vectors["inclusion"][str(n)]) == list(range(n))
    for n in range(2, 8):
        assert sorted(int(m) for m in vectors["consistency"][str(n)]) == list(range(1, n))


def test_leaf_hashes(vectors: dict[str, Any], leaves: list[bytes]) -> None:
    assert hexes(leaves) == vectors["leaf_hashes"]


def test_empty_tree_root(vectors: dict[str, Any]) -> None:
    assert EMPTY_ROOT.hex() == vectors["roots"]["0"]
    assert root_of([]) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT


def test_memory_tree_roots(vectors: dict[str, Any], leaves: list[bytes]) -> None:
    tree = MemoryTree(leaves)
    for size, root in vectors["roots"].items():
        assert tree.root(int(size)).hex() == root
        assert root_of(leaves[: int(size)]).hex() == root


def test_memory_tree_grows_one_leaf_at_a_time(vectors: dict[str, Any], leaves: list[bytes]) -> None:
    tree = MemoryTree()
    for index, leaf in enumerate(leaves):
        assert tree.append(leaf) == index
        assert tree.size == index + 1
        assert tree.root().hex() == vectors["roots"][str(index + 1)]


def test_memory_tree_inclusion_proofs(vectors: dict[str, Any], leaves: list[bytes]) -> None:
    tree = MemoryTree(leaves)
    for size, proofs in vectors["inclusion"].items():
        for index, proof in proofs.items():
            assert hexes(tree.inclusion_proof(int(index), int(size))) == proof


def test_memory_tree_consistency_proofs(vectors: dict[str, Any], leaves: list[bytes]) -> None:
    tree = MemoryTree(leaves)
    for new_size, proofs in vectors["consistency"].items():
        for old_size, proof in proofs.items():
            assert hexes(tree.consistency_proof(int(old_size), int(new_size))) == proof


@pytest.mark.parametrize("split", BATCH_SPLITS, ids=str)
def test_nodes_built_in_batches_give_every_root_and_proof(
    split: list[int], vectors: dict[str, Any], leaves: list[bytes]
) -> None:
    nodes = built_in_batches(leaves, split)
    assert nodes == MemoryTree(leaves).nodes
    for size, root in vectors["roots"].items():
        assert range_hash(0, int(size), nodes).hex() == root
    for size, proofs in vectors["inclusion"].items():
        for index, proof in proofs.items():
            assert hexes(assemble(inclusion_ranges(int(index), int(size)), nodes)) == proof
    for new_size, proofs in vectors["consistency"].items():
        for old_size, proof in proofs.items():
            ranges = consistency_ranges(int(old_size), int(new_size))
            assert hexes(assemble(ranges, nodes)) == proof


def test_every_vector_inclusion_proof_verifies(
    vectors: dict[str, Any], leaves: list[bytes]
) -> None:
    for size, proofs in vectors["inclusion"].items():
        root = bytes.fromhex(vectors["roots"][size])
        for index, proof in proofs.items():
            path = [bytes.fromhex(value) for value in proof]
            verify_inclusion(leaves[int(index)], int(index), int(size), path, root)


def test_every_vector_consistency_proof_verifies(vectors: dict[str, Any]) -> None:
    for new_size, proofs in vectors["consistency"].items():
        new_root = bytes.fromhex(vectors["roots"][new_size])
        for old_size, proof in proofs.items():
            old_root = bytes.fromhex(vectors["roots"][old_size])
            path = [bytes.fromhex(value) for value in proof]
            verify_consistency(int(old_size), int(new_size), old_root, new_root, path)
