"""The global log's Merkle tree (RFC 6962 / RFC 9162 section 2.1).

A node is named by `(level, index)`: the complete subtree over leaves
`[index << level, (index + 1) << level)`. Only complete subtrees are ever stored, because
they never change once their last leaf is appended; every other hash (the root of a tree
whose size is not a power of two, a proof element over a partial range) is folded on demand
from the few complete subtrees that cover it. Everything here is bit arithmetic over leaf
positions, with no recursion over leaves, so that proofs for a log of millions of entries
cost microseconds plus one fetch of the nodes they name.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

from ledger.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 2.1.1: MTH({}) = HASH()
NodeId: TypeAlias = tuple[int, int]

# RFC 9162 2.1.1: domain separation between leaves and interior nodes.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaves that are already hashed; EMPTY_ROOT for none."""
    nodes = append_leaves(0, {}, leaf_hashes)
    return range_hash(0, len(leaf_hashes), nodes)


def _largest_power_of_two_below(n: int) -> int:
    # RFC 9162 2.1.1: k is the largest power of two smaller than n (n > 1).
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees, left to right, whose hashes fold into MTH(D[start:end]).

    The range must be one the RFC 9162 2.1.1 split produces: splitting at the largest power
    of two below its size, again and again, yields one aligned perfect subtree per set bit of
    `end - start`.
    """
    if not 0 <= start <= end:
        raise ValueError(f"[{start}, {end}) is not a range of leaves")
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start & ((1 << level) - 1):
            raise ValueError(
                f"[{start}, {end}) is not a subtree of an RFC 6962 tree: "
                f"leaf {start} does not start a subtree of {1 << level} leaves"
            )
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """MTH(D[start:end]) from the complete nodes of `range_nodes(start, end)`.

    Raises KeyError naming the first node that `nodes` lacks.
    """
    return fold(range_nodes(start, end), nodes)


def fold(ids: Sequence[NodeId], nodes: Mapping[NodeId, bytes]) -> bytes:
    """The MTH of a range from its complete subtrees `ids`, as `range_nodes` lists them.

    Raises KeyError naming the first node that `nodes` lacks.
    """
    if not ids:
        return EMPTY_ROOT
    # RFC 9162 2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])), so the
    # rightmost, smallest subtree is the innermost.
    result = nodes[ids[-1]]
    for node in reversed(ids[:-1]):
        result = node_hash(nodes[node], result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form the audit path for `index` in a tree of `size`.

    RFC 9162 2.1.3.1, leaf side first.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    # The walk runs from the root down; the proof lists siblings from the leaf up.
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form the consistency proof from `old_size` to `new_size`.

    RFC 9162 2.1.4.1. Empty when the sizes are equal.
    """
    if old_size <= 0:
        raise ValueError(f"no consistency proof starts from a tree of {old_size} leaves")
    if old_size > new_size:
        raise ValueError(f"a tree of {old_size} leaves cannot grow into one of {new_size}")
    start, end = 0, new_size
    # RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b): b stays true while the subtree in hand is the
    # whole old tree, whose root the verifier already has.
    whole_old_tree = True
    outer: list[tuple[int, int]] = []
    while old_size != end:
        k = _largest_power_of_two_below(end - start)
        if old_size - start <= k:
            outer.append((start + k, end))
            end = start + k
        else:
            outer.append((start, start + k))
            start += k
            whole_old_tree = False
    inner = [] if whole_old_tree else [(start, end)]
    # Each level appends its sibling after the deeper subproof.
    return inner + outer[::-1]


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[NodeId]:
    """Every complete node that the MTHs of `ranges` are folded from."""
    needed: set[NodeId] = set()
    for start, end in ranges:
        needed.update(range_nodes(start, end))
    return needed


def assemble(ranges: Sequence[tuple[int, int]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The MTH of each range, in order: a proof from `inclusion_ranges` or `consistency_ranges`."""
    return [range_hash(start, end, nodes) for start, end in ranges]


def frontier(size: int) -> list[NodeId]:
    """The complete subtrees whose hashes give the root of a tree of `size`.

    They are also exactly the left siblings that appending leaves after `size` can need,
    so an appender only ever has to read these.
    """
    return range_nodes(0, size)


def append_leaves(
    size: int, frontier_hashes: Mapping[NodeId, bytes], new_leaf_hashes: Sequence[bytes]
) -> dict[NodeId, bytes]:
    """Every complete node created by appending `new_leaf_hashes` at `size`, `size + 1`, ...

    That is the level-0 nodes themselves and every parent that becomes complete.
    `frontier_hashes` must hold at least the nodes of `frontier(size)` (KeyError otherwise).
    """
    # The right edge of the tree, largest subtree first: one hash per set bit of the size.
    edge = [frontier_hashes[node] for node in frontier(size)]
    created: dict[NodeId, bytes] = {}
    sha256 = hashlib.sha256
    index = size
    for leaf in new_leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf {index} is {len(leaf)} bytes, not a {HASH_SIZE}-byte hash")
        created[(0, index)] = leaf
        current = leaf
        level = 0
        position = index
        # Leaf `index` completes one parent per trailing one bit of `index`; their left
        # siblings are the smallest subtrees on the edge.
        while position & 1:
            current = sha256(_NODE_PREFIX + edge.pop() + current).digest()
            level += 1
            position >>= 1
            created[(level, position)] = current
        edge.append(current)
        index += 1
    return created


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for number, value in enumerate(hashes, start=1):
        if len(value) != HASH_SIZE:
            raise ProofError(f"hash {number} of the {what} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the leaf hash `leaf` is at `index` in the tree of `size` with `root`.

    RFC 9162 2.1.3.2. `leaf` is the leaf hash, SHA-256(0x00 || entry), not the entry.
    Raises ProofError saying what failed.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"the leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    # RFC 9162 2.1.3.1: one hash per level where the paths to `index` and to the last leaf
    # differ, then one per left subtree the last leaf's path passes.
    inner = (index ^ (size - 1)).bit_length()
    expected = inner + (index >> inner).bit_count()
    if len(proof) != expected:
        raise ProofError(
            f"the inclusion proof has {len(proof)} hashes, but leaf {index} in a tree of "
            f"{size} leaves needs {expected}"
        )
    _check_hashes("inclusion proof", proof)
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0 or result != root:
        raise ProofError(
            f"the inclusion proof for leaf {index} does not lead to the root of the tree of "
            f"{size} leaves"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` with `new_root` extends the one of `old_size`.

    RFC 9162 2.1.4.2. Equal sizes need an empty proof and equal roots; any tree extends the
    empty one. Raises ProofError saying what failed.
    """
    if old_size < 0 or old_size > new_size:
        raise ProofError(f"a tree of {old_size} leaves cannot grow into one of {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError(f"two trees of {old_size} leaves need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two trees of {old_size} leaves have different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    expected = len(consistency_ranges(old_size, new_size))
    if len(proof) != expected:
        raise ProofError(
            f"the consistency proof has {len(proof)} hashes, but from {old_size} to "
            f"{new_size} leaves it needs {expected}"
        )
    _check_hashes("consistency proof", proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # RFC 9162 2.1.4.2 step 2: the old tree is a complete subtree, so its root is
        # the proof's implicit first element.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = path[0]
    for sibling in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            old_result = node_hash(sibling, old_result)
            new_result = node_hash(sibling, new_result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_result = node_hash(new_result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if old_result != old_root:
        raise ProofError(
            f"the consistency proof does not lead to the root of the tree of {old_size} leaves"
        )
    if new_result != new_root:
        raise ProofError(
            f"the consistency proof does not lead to the root of the tree of {new_size} leaves"
        )


class MemoryTree:
    """An in-memory tree built from the same functions, for tests and for verifiers that hold
    all leaves."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self._size = 0
        self.extend(leaf_hashes)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes at once."""
        batch = list(leaf_hashes)
        self.nodes.update(append_leaves(self._size, self.nodes, batch))
        self._size += len(batch)

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; returns the new leaf's index."""
        index = self._size
        self.extend([leaf_hash])
        return index

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return self._size

    def _checked_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"the tree has {self._size} leaves, not {size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree as it was at `size` leaves (now, by default)."""
        return range_hash(0, self._checked_size(size), self.nodes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path for leaf `index` in the tree of `size` (now, by default)."""
        return assemble(inclusion_ranges(index, self._checked_size(size)), self.nodes)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of `new_size` (now, by default) extends that of `old_size`."""
        return assemble(consistency_ranges(old_size, self._checked_size(new_size)), self.nodes)
