"""Properties of the tree over many shapes: proofs match a literal transcription of RFC 9162
section 2.1, every proof verifies, and any change to a proof or to what it claims fails."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ProofError
from ledger.merkle import (
    HASH_SIZE,
    MemoryTree,
    NodeId,
    append_leaves,
    assemble,
    consistency_ranges,
    frontier,
    inclusion_ranges,
    leaf_hash,
    needed_nodes,
    node_hash,
    range_hash,
    range_nodes,
    root_of,
    verify_consistency,
    verify_inclusion,
)

MAX_LEAVES = 300


# RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 as written: recursive and slow, as a reference.
def reference_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_mth(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_mth(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [reference_mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), reference_mth(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_mth(leaves[:k])]


def make_leaves(count: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + index.to_bytes(4, "big")) for index in range(count)]


def flipped(value: bytes, position: int) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


@st.composite
def tree_and_leaf(draw: st.DrawFn) -> tuple[MemoryTree, int, int]:
    size = draw(st.integers(1, MAX_LEAVES))
    index = draw(st.integers(0, size - 1))
    return MemoryTree(make_leaves(size)), index, size


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[MemoryTree, int, int]:
    new_size = draw(st.integers(2, MAX_LEAVES))
    old_size = draw(st.integers(1, new_size - 1))
    return MemoryTree(make_leaves(new_size)), old_size, new_size


@pytest.fixture(scope="module")
def big_tree() -> MemoryTree:
    return MemoryTree(make_leaves(MAX_LEAVES))


def test_small_trees_match_the_rfc_text_for_every_proof() -> None:
    for size in range(1, 40):
        leaves = make_leaves(size)
        tree = MemoryTree(leaves)
        assert tree.root() == reference_mth(leaves)
        for index in range(size):
            assert tree.inclusion_proof(index) == reference_path(index, leaves)
        for old_size in range(1, size + 1):
            assert tree.consistency_proof(old_size) == reference_subproof(old_size, leaves, True)


@given(tree_and_leaf())
def test_every_inclusion_proof_verifies(case: tuple[MemoryTree, int, int]) -> None:
    tree, index, size = case
    proof = tree.inclusion_proof(index)
    assert proof == reference_path(index, [tree.nodes[(0, i)] for i in range(size)])
    verify_inclusion(tree.nodes[(0, index)], index, size, proof, tree.root())


@given(tree_and_sizes())
def test_every_consistency_proof_verifies(case: tuple[MemoryTree, int, int]) -> None:
    tree, old_size, new_size = case
    proof = tree.consistency_proof(old_size)
    verify_consistency(old_size, new_size, tree.root(old_size), tree.root(), proof)


@given(tree_and_leaf(), st.data())
def test_a_flipped_byte_in_an_inclusion_proof_fails(
    case: tuple[MemoryTree, int, int], data: st.DataObject
) -> None:
    tree, index, size = case
    proof = tree.inclusion_proof(index)
    if not proof:
        return
    element = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, HASH_SIZE - 1))
    proof[element] = flipped(proof[element], position)
    with pytest.raises(ProofError, match="does not lead to the root"):
        verify_inclusion(tree.nodes[(0, index)], index, size, proof, tree.root())


@given(tree_and_leaf(), st.integers(0, HASH_SIZE - 1))
def test_a_flipped_byte_in_the_leaf_fails(case: tuple[MemoryTree, int, int], position: int) -> None:
    tree, index, size = case
    leaf = flipped(tree.nodes[(0, index)], position)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, tree.inclusion_proof(index), tree.root())


@given(tree_and_leaf(), st.data())
def test_an_inclusion_proof_for_another_index_fails(
    case: tuple[MemoryTree, int, int], data: st.DataObject
) -> None:
    tree, index, size = case
    other = data.draw(st.integers(0, size + 3).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(
            tree.nodes[(0, index)], other, size, tree.inclusion_proof(index), tree.root()
        )


@given(tree_and_leaf(), st.data())
def test_an_inclusion_proof_for_another_tree_size_fails(
    case: tuple[MemoryTree, int, int], data: st.DataObject
) -> None:
    _, index, size = case
    other = data.draw(st.integers(index + 1, MAX_LEAVES).filter(lambda n: n != size))
    bigger = MemoryTree(make_leaves(max(size, other)))
    proof = bigger.inclusion_proof(index, size)
    with pytest.raises(ProofError):
        verify_inclusion(bigger.nodes[(0, index)], index, other, proof, bigger.root(other))


@given(tree_and_leaf(), st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE))
def test_a_truncated_or_extended_inclusion_proof_fails(
    case: tuple[MemoryTree, int, int], extra: bytes
) -> None:
    tree, index, size = case
    proof = tree.inclusion_proof(index)
    leaf, root = tree.nodes[(0, index)], tree.root()
    with pytest.raises(ProofError, match="needs"):
        verify_inclusion(leaf, index, size, [*proof, extra], root)
    with pytest.raises(ProofError, match="needs"):
        verify_inclusion(leaf, index, size, [extra, *proof], root)
    if proof:
        with pytest.raises(ProofError, match="needs"):
            verify_inclusion(leaf, index, size, proof[:-1], root)


@given(tree_and_sizes(), st.data())
def test_a_flipped_byte_in_a_consistency_proof_fails(
    case: tuple[MemoryTree, int, int], data: st.DataObject
) -> None:
    tree, old_size, new_size = case
    proof = tree.consistency_proof(old_size)
    element = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, HASH_SIZE - 1))
    proof[element] = flipped(proof[element], position)
    with pytest.raises(ProofError, match="does not lead to the root"):
        verify_consistency(old_size, new_size, tree.root(old_size), tree.root(), proof)


@given(tree_and_sizes(), st.integers(0, HASH_SIZE - 1), st.booleans())
def test_a_flipped_byte_in_either_root_fails(
    case: tuple[MemoryTree, int, int], position: int, old: bool
) -> None:
    tree, old_size, new_size = case
    proof = tree.consistency_proof(old_size)
    old_root, new_root = tree.root(old_size), tree.root()
    if old:
        old_root = flipped(old_root, position)
    else:
        new_root = flipped(new_root, position)
    with pytest.raises(ProofError):
        verify_consistency(old_size, new_size, old_root, new_root, proof)


@given(tree_and_sizes(), st.data())
def test_a_consistency_proof_for_other_sizes_fails(
    case: tuple[MemoryTree, int, int], data: st.DataObject
) -> None:
    tree, old_size, new_size = case
    big = MemoryTree(make_leaves(MAX_LEAVES))
    proof = tree.consistency_proof(old_size)
    other_old = data.draw(st.integers(1, new_size).filter(lambda n: n != old_size))
    with pytest.raises(ProofError):
        verify_consistency(other_old, new_size, big.root(other_old), big.root(new_size), proof)
    other_new = data.draw(st.integers(old_size, MAX_LEAVES).filter(lambda n: n != new_size))
    with pytest.raises(ProofError):
        verify_consistency(old_size, other_new, big.root(old_size), big.root(other_new), proof)


@given(tree_and_sizes(), st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE))
def test_a_truncated_or_extended_consistency_proof_fails(
    case: tuple[MemoryTree, int, int], extra: bytes
) -> None:
    tree, old_size, new_size = case
    proof = tree.consistency_proof(old_size)
    old_root, new_root = tree.root(old_size), tree.root()
    for changed in ([*proof, extra], [extra, *proof], proof[:-1], proof[1:]):
        with pytest.raises(ProofError, match="needs"):
            verify_consistency(old_size, new_size, old_root, new_root, changed)


@given(st.lists(st.integers(1, 40), min_size=1, max_size=12), st.binary(max_size=8))
def test_append_leaves_in_any_batches_builds_the_same_tree(batches: list[int], salt: bytes) -> None:
    leaves = make_leaves(sum(batches), salt)
    nodes: dict[NodeId, bytes] = {}
    size = 0
    for count in batches:
        known = {node: nodes[node] for node in frontier(size)}
        created = append_leaves(size, known, leaves[size : size + count])
        assert not created.keys() & nodes.keys(), "a complete node was created twice"
        nodes.update(created)
        size += count
        assert range_hash(0, size, nodes) == root_of(leaves[:size]) == reference_mth(leaves[:size])
    assert nodes == MemoryTree(leaves).nodes


@given(tree_and_leaf())
def test_proofs_need_only_stored_complete_nodes(case: tuple[MemoryTree, int, int]) -> None:
    tree, index, size = case
    ranges = inclusion_ranges(index, size)
    needed = needed_nodes(ranges)
    assert needed <= tree.nodes.keys()
    assert assemble(ranges, {node: tree.nodes[node] for node in needed}) == tree.inclusion_proof(
        index
    )
    if index:
        consistency = consistency_ranges(index, size)
        assert needed_nodes(consistency) <= tree.nodes.keys()


@given(st.integers(0, 2**40))
def test_the_frontier_is_one_complete_subtree_per_set_bit(size: int) -> None:
    nodes = frontier(size)
    assert len(nodes) == size.bit_count()
    assert [level for level, _ in nodes] == sorted((level for level, _ in nodes), reverse=True)
    covered = 0
    for level, index in nodes:
        assert index << level == covered
        covered += 1 << level
    assert covered == size


def test_ranges_that_are_not_subtrees_are_refused() -> None:
    with pytest.raises(ValueError, match="not a subtree"):
        range_nodes(1, 3)
    with pytest.raises(ValueError, match="not a range"):
        range_nodes(3, 1)
    with pytest.raises(KeyError):
        range_hash(0, 3, {})


def test_proof_arguments_out_of_range_are_refused(big_tree: MemoryTree) -> None:
    with pytest.raises(ValueError):
        inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        consistency_ranges(0, 5)
    with pytest.raises(ValueError):
        consistency_ranges(6, 5)
    with pytest.raises(ValueError):
        big_tree.root(MAX_LEAVES + 1)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(big_tree.nodes[(0, 0)], MAX_LEAVES, MAX_LEAVES, [], big_tree.root())
    with pytest.raises(ProofError, match="cannot grow"):
        verify_consistency(6, 5, big_tree.root(6), big_tree.root(5), [])


def test_equal_sizes_and_the_empty_tree_need_empty_proofs(big_tree: MemoryTree) -> None:
    root = big_tree.root(10)
    verify_consistency(10, 10, root, root, [])
    verify_consistency(0, 10, b"", root, [])
    assert consistency_ranges(10, 10) == []
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(10, 10, root, big_tree.root(9), [])
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(10, 10, root, root, [root])
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(0, 10, b"", root, [root])


def test_malformed_proof_hashes_are_named(big_tree: MemoryTree) -> None:
    proof = big_tree.inclusion_proof(3, 10)
    proof[1] = proof[1][:31]
    with pytest.raises(ProofError, match="hash 2 of the inclusion proof is 31 bytes"):
        verify_inclusion(big_tree.nodes[(0, 3)], 3, 10, proof, big_tree.root(10))
    with pytest.raises(ProofError, match="leaf hash is 4 bytes"):
        verify_inclusion(b"leaf", 3, 10, big_tree.inclusion_proof(3, 10), big_tree.root(10))


@settings(max_examples=20)
@given(st.integers(1, 2**62), st.data())
def test_ranges_are_cheap_for_huge_trees(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    ranges = inclusion_ranges(index, size)
    inner = (index ^ (size - 1)).bit_length()
    assert len(ranges) == inner + (index >> inner).bit_count()
    assert all(len(range_nodes(start, end)) >= 1 for start, end in ranges)
