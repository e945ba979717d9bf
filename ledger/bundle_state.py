"""One verification of a proof bundle in progress: what it has read of the bundle so far
(an `Item` for each entry) and the findings it has made. The checks, a module for each
part of docs/LEDGER-FORMAT.md#checks, read and add to it; `ledger.bundle.verify_bundle`
runs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.checkpoint import Checkpoint
from ledger.entry import Entry
from ledger.findings import Finding
from ledger.merkle import leaf_hash
from ledger.note import NoteVerifier
from ledger.phrase import Phrase

FORMAT = "portal-case-proof/v1"


@dataclass(frozen=True)
class FileDigest:
    """An evidence file as hashed by the caller, who streamed it rather than hold it."""

    sha256: str
    size: int


@dataclass
class Item:
    """An entry of the bundle as far as it could be read."""

    position: int
    index: int | None = None
    data: bytes | None = None
    signature: bytes | None = None
    inclusion: list[bytes] | None = None
    entry: Entry | None = None

    @property
    def leaf(self) -> bytes | None:
        return None if self.data is None else leaf_hash(self.data)

    def label(self) -> Phrase:
        if self.entry is not None:
            if self.index is None:
                return Phrase("the entry with case_seq {seq}", seq=self.entry.case_seq)
            return Phrase(
                "the entry with case_seq {seq} (log index {index})",
                seq=self.entry.case_seq,
                index=self.index,
            )
        if self.index is None:
            return Phrase("entry {position} of the bundle", position=self.position)
        return Phrase(
            "entry {position} of the bundle (log index {index})",
            position=self.position,
            index=self.index,
        )

    def sentence_label(self) -> Phrase:
        return self.label().capitalized()


def is_int(value: object) -> bool:
    return type(value) is int


def entries_phrase(number: int) -> Phrase:
    return Phrase("{n} entry", n=number) if number == 1 else Phrase("{n} entries", n=number)


def describe_keys(verifiers: Sequence[NoteVerifier]) -> list[Phrase]:
    return [
        Phrase("{name} (key {kid})", name=verifier.name, kid=verifier.kid) for verifier in verifiers
    ]


class Verification:
    """One run of the checks over one bundle: what has been read, and the findings."""

    def __init__(
        self,
        bundle: Mapping[str, Any],
        trusted_keys: Sequence[str] | None,
        evidence_files: Mapping[str, bytes | FileDigest],
        previous_checkpoints: Sequence[str],
    ) -> None:
        self.bundle = bundle
        self.trusted_keys = trusted_keys
        self.evidence_files = evidence_files
        self.previous_checkpoints = previous_checkpoints
        self.findings: list[Finding] = []
        self.origin: str | None = None
        self.case: str | None = None
        self.note: str | None = None
        self.bundle_keys: list[NoteVerifier] = []
        self.trusted: list[NoteVerifier] = []
        self.items: list[Item] = []
        self.evidence: list[Mapping[str, Any]] = []
        self.checkpoint: Checkpoint | None = None
        self.checkpoint_verified = False

    def report(self, check: str, ok: bool, phrase: Phrase) -> None:
        self.findings.append(Finding.of(check, ok, phrase))

    def fail(self, check: str, phrase: Phrase) -> None:
        self.report(check, False, phrase)

    def failed(self, check: str, since: int) -> bool:
        return any(not f.ok and f.check == check for f in self.findings[since:])
