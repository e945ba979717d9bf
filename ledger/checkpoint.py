"""C2SP tlog-checkpoint: the signed statement "the log named origin had this many entries,
with this Merkle root", which every proof is checked against."""

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import NoteError
from ledger.merkle import HASH_SIZE
from ledger.note import NoteSigner, NoteVerifier, decode_base64, open_note, sign_note

# C2SP tlog-checkpoint: ASCII decimal with no leading zeroes. Go reads it as a uint64.
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_TREE_SIZE = 2**64 - 1


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and the root hash at that size."""

    origin: str
    size: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint's origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise NoteError(
                f"a checkpoint's tree size must be between 0 and 2^64-1, not {self.size}"
            )
        if len(self.root_hash) != HASH_SIZE:
            raise NoteError(
                f"a checkpoint's root hash is {HASH_SIZE} bytes, not {len(self.root_hash)}"
            )

    def body(self) -> str:
        """The note text: origin, size and base64 root, each ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint from a note's text (not from the signed note: see `open_checkpoint`).

    Extension lines after the root hash are allowed and ignored, as C2SP tlog-checkpoint says.
    """
    if not text.endswith("\n"):
        raise NoteError("a checkpoint's text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(
            "a checkpoint has at least three lines (origin, tree size, root hash), "
            f"not {len(lines)}"
        )
    origin, size_line, root_line = lines[:3]
    if any(not line for line in lines):
        raise NoteError("a checkpoint's lines, extension lines included, must not be empty")
    # 20 digits hold any uint64; checking first keeps int() away from huge inputs.
    if len(size_line) > 20 or not _TREE_SIZE.fullmatch(size_line):
        raise NoteError(
            f"the checkpoint's tree size {size_line[:30]!r} is not a decimal number below 2^64 "
            "without leading zeroes"
        )
    try:
        root_hash = decode_base64(root_line)
    except ValueError:
        raise NoteError(f"the checkpoint's root hash {root_line!r} is not valid base64") from None
    return Checkpoint(origin, int(size_line), root_hash)


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    note: str, verifiers: Sequence[NoteVerifier], origin: str | None = None
) -> tuple[Checkpoint, tuple[NoteVerifier, ...]]:
    """Verify a signed checkpoint and read it; with `origin`, it must be that log's."""
    opened = open_note(note, verifiers)
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for the log {checkpoint.origin!r}, not for {origin!r}")
    return checkpoint, opened.verified_by
