"""The case proof bundle of spec ledger-v1 (`ledger-proof.json`, format portal-case-proof/v1):
building one, and checking one offline with nothing but the bundle, the verifier keys and
the evidence files.

The verifier never stops at the first problem: it runs every check of the spec's "What a
verifier checks, and must reject" and reports each finding in words a reader without the
portal can act on, naming the entry (its case_seq and log index) wherever there is one.
"""

import base64
import hashlib
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from ledger.entry import Entry, decode_entry, verify_entry_signature
from ledger.errors import EntryError, NoteError, ProofError
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import NoteVerifier, decode_base64, parse_note, parse_verifier_key

FORMAT = "portal-case-proof/v1"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BundleEntry:
    """One entry of the case as the bundle carries it: where it is in the log, its bytes,
    its signature and its audit path to the checkpoint's root."""

    index: int
    entry: bytes
    signature: bytes
    inclusion: tuple[bytes, ...]


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def build_bundle(
    *,
    origin: str,
    verifier_keys: Sequence[str],
    checkpoint: str,
    case: str,
    entries: Sequence[BundleEntry],
    evidence: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The bundle as a JSON-ready dict, in the spec's shape and key order."""
    return {
        "format": FORMAT,
        "origin": origin,
        "verifier_keys": list(verifier_keys),
        "checkpoint": checkpoint,
        "case": case,
        "entries": [
            {
                "index": item.index,
                "entry": _encode(item.entry),
                "signature": _encode(item.signature),
                "inclusion": [_encode(node) for node in item.inclusion],
            }
            for item in entries
        ],
        "evidence": [dict(item) for item in evidence],
    }


@dataclass(frozen=True)
class Finding:
    """The outcome of one check, in a sentence."""

    check: str
    ok: bool
    message: str


@dataclass
class Report:
    """Everything the verifier found, in the order it checked."""

    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """Whether there was something to check and every check passed."""
        return bool(self.findings) and all(finding.ok for finding in self.findings)

    def failures(self) -> list[Finding]:
        """The findings that failed."""
        return [finding for finding in self.findings if not finding.ok]

    def render(self) -> str:
        """One line per finding, PASS or FAIL first."""
        return "\n".join(
            f"{'PASS' if finding.ok else 'FAIL'}  {finding.message}" for finding in self.findings
        )


@dataclass
class _Item:
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

    def label(self) -> str:
        where = "" if self.index is None else f" (log index {self.index})"
        if self.entry is not None:
            return f"the entry with case_seq {self.entry.case_seq}{where}"
        return f"entry {self.position} of the bundle{where}"

    def sentence_label(self) -> str:
        label = self.label()
        return label[0].upper() + label[1:]


def _is_int(value: object) -> bool:
    return type(value) is int


def _file_records(value: Any) -> Iterator[Mapping[str, Any]]:
    # ledger-v1: a file is recorded in a body as an object with "sha256", at any depth.
    if isinstance(value, Mapping):
        if isinstance(value.get("sha256"), str):
            yield value
        for item in value.values():
            yield from _file_records(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_records(item)


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _describes(listed: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    # The evidence list is what a reader sees first; it must not contradict the ledger.
    return all(
        listed[key] == record[key]
        for key in ("name", "size", "media_type")
        if key in listed and key in record
    )


def _unverified_checkpoint(note: str) -> Checkpoint | None:
    # Used only after the checkpoint has failed, so that the later checks still say what they
    # can and one report names every problem; the failure already makes the report fail.
    try:
        text, _ = parse_note(note)
        return parse_checkpoint(text)
    except NoteError:
        return None


def _describe_keys(verifiers: Sequence[NoteVerifier]) -> str:
    return ", ".join(f"{verifier.name} (key {verifier.kid})" for verifier in verifiers)


class _Verification:
    """One run of the checks over one bundle, collecting findings."""

    def __init__(
        self,
        bundle: Mapping[str, Any],
        trusted_keys: Sequence[str] | None,
        evidence_files: Mapping[str, bytes],
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
        self.items: list[_Item] = []
        self.evidence: list[Mapping[str, Any]] = []
        self.checkpoint: Checkpoint | None = None
        self.checkpoint_verified = False

    def report(self, check: str, ok: bool, message: str) -> None:
        self.findings.append(Finding(check, ok, message))

    def fail(self, check: str, message: str) -> None:
        self.report(check, False, message)

    def failed(self, check: str, since: int) -> bool:
        return any(not f.ok and f.check == check for f in self.findings[since:])

    def run(self) -> Report:
        if not isinstance(self.bundle, Mapping):
            self.fail(
                "bundle-format", "The bundle is not a JSON object, so nothing in it can be checked."
            )
            return Report(self.findings)
        self.read_bundle()
        self.check_checkpoint()
        self.check_entry_format()
        self.check_signatures()
        self.check_inclusion()
        self.check_chain()
        self.check_evidence()
        self.check_consistency()
        return Report(self.findings)

    # -- reading ---------------------------------------------------------------------------

    def read_string(self, key: str) -> str | None:
        value = self.bundle.get(key)
        if not isinstance(value, str) or not value:
            self.fail("bundle-format", f"The bundle's {key!r} is missing, empty or not text.")
            return None
        return value

    def read_list(self, key: str) -> list[Any]:
        value = self.bundle.get(key)
        if not isinstance(value, list):
            self.fail("bundle-format", f"The bundle's {key!r} is missing or is not a list.")
            return []
        return value

    def read_bundle(self) -> None:
        start = len(self.findings)
        format_name = self.bundle.get("format")
        if format_name != FORMAT:
            self.fail(
                "bundle-format",
                f"The bundle's format is {format_name!r}, not {FORMAT!r}; this verifier reads "
                f"only {FORMAT}.",
            )
        self.origin = self.read_string("origin")
        self.case = self.read_string("case")
        self.note = self.read_string("checkpoint")
        for number, text in enumerate(self.read_list("verifier_keys"), start=1):
            try:
                self.bundle_keys.append(parse_verifier_key(text if isinstance(text, str) else ""))
            except NoteError as error:
                self.fail(
                    "bundle-format", f"Verifier key {number} in the bundle is unusable: {error}."
                )
        for position, raw in enumerate(self.read_list("entries"), start=1):
            self.items.append(self.read_item(position, raw))
        for number, item in enumerate(self.read_list("evidence"), start=1):
            if isinstance(item, Mapping) and isinstance(item.get("sha256"), str):
                self.evidence.append(item)
            else:
                self.fail("bundle-format", f"Evidence item {number} of the bundle has no sha256.")
        if not self.failed("bundle-format", start):
            self.report(
                "bundle-format",
                True,
                f"The bundle is a {FORMAT} bundle for case {self.case} in the log {self.origin}, "
                f"with {_count(len(self.items), 'entry', 'entries')} and "
                f"{_count(len(self.evidence), 'evidence file', 'evidence files')} listed.",
            )

    def read_item(self, position: int, raw: Any) -> _Item:
        item = _Item(position)
        if not isinstance(raw, Mapping):
            self.fail("bundle-format", f"{item.sentence_label()} is not a JSON object.")
            return item
        if _is_int(raw.get("index")) and raw["index"] >= 0:
            item.index = raw["index"]
        else:
            self.fail("bundle-format", f"{item.sentence_label()} has no valid log index.")
        item.data = self.read_base64(item, raw, "entry")
        item.signature = self.read_base64(item, raw, "signature")
        inclusion = raw.get("inclusion")
        if isinstance(inclusion, list):
            hashes = [
                self.read_hash(item, number, value) for number, value in enumerate(inclusion, 1)
            ]
            if all(value is not None for value in hashes):
                item.inclusion = [value for value in hashes if value is not None]
        else:
            self.fail("bundle-format", f"{item.sentence_label()} has no inclusion proof list.")
        return item

    def read_base64(self, item: _Item, raw: Mapping[str, Any], key: str) -> bytes | None:
        value = raw.get(key)
        if not isinstance(value, str):
            self.fail("bundle-format", f"{item.sentence_label()} has no {key!r} text.")
            return None
        try:
            return decode_base64(value)
        except ValueError:
            self.fail(
                "bundle-format",
                f"The {key!r} of {item.label()} is not valid base64.",
            )
            return None

    def read_hash(self, item: _Item, number: int, value: Any) -> bytes | None:
        try:
            if isinstance(value, str):
                return decode_base64(value)
        except ValueError:
            pass
        self.fail(
            "bundle-format",
            f"Hash {number} of the inclusion proof of {item.label()} is not valid base64.",
        )
        return None

    # -- 1. the checkpoint -----------------------------------------------------------------

    def check_checkpoint(self) -> None:
        if self.trusted_keys is None:
            verifiers = self.bundle_keys
        else:
            for number, text in enumerate(self.trusted_keys, start=1):
                try:
                    self.trusted.append(parse_verifier_key(text))
                except NoteError as error:
                    self.fail("checkpoint", f"Trusted key {number} is unusable: {error}.")
            verifiers = self.trusted
        if self.note is None:
            self.fail(
                "checkpoint",
                "The bundle has no checkpoint, so none of its entries can be tied to the log.",
            )
            return
        try:
            checkpoint, signers = open_checkpoint(self.note, verifiers, self.origin)
        except NoteError as error:
            self.fail("checkpoint", f"The checkpoint cannot be trusted: {error}.")
            self.checkpoint = _unverified_checkpoint(self.note)
            return
        self.checkpoint = checkpoint
        self.checkpoint_verified = True
        message = (
            f"The checkpoint of the log {checkpoint.origin} at tree size {checkpoint.size} "
            f"is signed by {_describe_keys(signers)}"
        )
        if self.trusted_keys is None:
            keys = "a key" if len(signers) == 1 else "keys"
            message += (
                f", {keys} taken from the bundle itself: this shows the bundle is consistent, "
                "not who made it; compare them with the keys the portal publishes"
            )
        self.report("checkpoint", True, message + ".")

    # -- 2. entry format -------------------------------------------------------------------

    def check_entry_format(self) -> None:
        start = len(self.findings)
        for item in self.items:
            if item.data is None:
                continue
            try:
                entry = decode_entry(item.data)
            except EntryError as error:
                self.fail("entry-format", f"{item.sentence_label()} is not a valid entry: {error}.")
                continue
            item.entry = entry
            if self.origin is not None and entry.log != self.origin:
                self.fail(
                    "entry-format",
                    f"{item.sentence_label()} belongs to the log {entry.log!r}, not to "
                    f"{self.origin!r}.",
                )
            if self.case is not None and entry.case != self.case:
                self.fail(
                    "entry-format",
                    f"{item.sentence_label()} belongs to case {entry.case!r}, not to "
                    f"{self.case!r}.",
                )
        checked = sum(1 for item in self.items if item.data is not None)
        if checked and not self.failed("entry-format", start):
            self.report(
                "entry-format",
                True,
                f"{_count(checked, 'entry', 'entries')} checked: each is a canonical ledger entry "
                f"of case {self.case} in the log {self.origin}.",
            )

    # -- 3. entry signatures ---------------------------------------------------------------

    def check_signatures(self) -> None:
        start = len(self.findings)
        keys: dict[str, list[NoteVerifier]] = {}
        for verifier in [*self.trusted, *self.bundle_keys]:
            if verifier not in keys.setdefault(verifier.kid, []):
                keys[verifier.kid].append(verifier)
        used: set[NoteVerifier] = set()
        checked = 0
        for item in self.items:
            if item.entry is None or item.data is None or item.signature is None:
                continue
            checked += 1
            candidates = keys.get(item.entry.kid, [])
            if not candidates:
                self.fail(
                    "entry-signature",
                    f"{item.sentence_label()} is signed by an unknown key {item.entry.kid}: "
                    "neither the trusted keys nor the bundle's keys have that key ID.",
                )
                continue
            signer = next(
                (
                    verifier
                    for verifier in candidates
                    if verify_entry_signature(item.data, item.signature, verifier.public_key)
                ),
                None,
            )
            if signer is None:
                self.fail(
                    "entry-signature",
                    f"The signature of {item.label()} does not verify under key {item.entry.kid}: "
                    "the entry or its signature was altered.",
                )
            else:
                used.add(signer)
        if checked and not self.failed("entry-signature", start):
            signers = _describe_keys(sorted(used, key=str))
            message = (
                f"{_count(checked, 'entry signature', 'entry signatures')} checked: each "
                f"verifies, under {signers}"
            )
            untrusted = [
                key for key in used if self.trusted_keys is not None and key not in self.trusted
            ]
            if untrusted:
                message += (
                    f"; {_describe_keys(untrusted)} is listed in the bundle but is not among the "
                    "keys you trust"
                )
            self.report("entry-signature", True, message + ".")

    # -- 4. inclusion in the log -----------------------------------------------------------

    def check_inclusion(self) -> None:
        checkpoint = self.checkpoint
        if checkpoint is None:
            self.fail(
                "inclusion",
                "No entry could be checked against the log: the checkpoint is missing or "
                "unreadable.",
            )
            return
        start = len(self.findings)
        checked = 0
        for item in self.items:
            if item.data is None or item.index is None or item.inclusion is None:
                continue
            checked += 1
            try:
                verify_inclusion(
                    leaf_hash(item.data),
                    item.index,
                    checkpoint.size,
                    item.inclusion,
                    checkpoint.root_hash,
                )
            except ProofError as error:
                self.fail(
                    "inclusion",
                    f"{item.sentence_label()} is not proven to be in the log at tree size "
                    f"{checkpoint.size}: {error}.",
                )
        if checked and not self.failed("inclusion", start):
            self.report(
                "inclusion",
                True,
                f"{_count(checked, 'entry', 'entries')} checked: each is in the log's tree of "
                f"size {checkpoint.size}, at the log index given.",
            )

    # -- 5. the case's chain ---------------------------------------------------------------

    def check_chain(self) -> None:
        start = len(self.findings)
        if not self.items:
            self.fail("chain", "The bundle holds no entries, so it proves nothing about the case.")
            return
        readable: list[tuple[Entry, _Item]] = []
        for item in self.items:
            if item.entry is None:
                self.fail(
                    "chain",
                    f"{item.sentence_label()} could not be read, so the chain cannot be "
                    "checked through it.",
                )
            else:
                readable.append((item.entry, item))
        by_seq: dict[int, _Item] = {}
        for entry, item in readable:
            earlier = by_seq.setdefault(entry.case_seq, item)
            if earlier is not item:
                self.fail(
                    "chain",
                    f"Two entries have case_seq {entry.case_seq}: {earlier.label()} and the one "
                    f"at log index {item.index}.",
                )
        for (entry, item), (following, following_item) in itertools.pairwise(readable):
            if following.case_seq < entry.case_seq:
                self.fail(
                    "chain",
                    f"The entries are out of order: {following_item.label()} comes after "
                    f"{item.label()}.",
                )
        self.check_gaps(by_seq)
        for entry, item in readable:
            before = by_seq.get(entry.case_seq - 1)
            if entry.case_seq > 0 and before is not None and entry.prev != before.leaf:
                self.fail(
                    "chain",
                    f"{item.sentence_label()} does not link to {before.label()}: its prev is "
                    "not that entry's leaf hash, so one of the two was altered or replaced.",
                )
        if readable and not self.failed("chain", start):
            last = max(by_seq)
            self.report(
                "chain",
                True,
                f"The case's chain runs from case_seq 0 to {last} without a gap, each entry "
                "linked to the one before. Entries after the last one shown cannot be ruled out "
                "from the bundle alone.",
            )

    def check_gaps(self, by_seq: Mapping[int, _Item]) -> None:
        expected = 0
        previous: _Item | None = None
        for seq in sorted(by_seq):
            if seq > expected:
                missing = f"case_seq {expected}"
                if seq > expected + 1:
                    missing += f" to {seq - 1}"
                where = f"after {previous.label()} and " if previous is not None else ""
                self.fail(
                    "chain",
                    f"The chain has a gap: no readable entry has {missing}, {where}before "
                    f"{by_seq[seq].label()}. Entries are missing from the bundle.",
                )
            expected = seq + 1
            previous = by_seq[seq]

    # -- 6. evidence files -----------------------------------------------------------------

    def check_evidence(self) -> None:
        recorded: dict[str, list[tuple[Mapping[str, Any], _Item]]] = {}
        for item in self.items:
            if item.entry is not None:
                for record in _file_records(item.entry.body):
                    recorded.setdefault(record["sha256"], []).append((record, item))
        listed = {str(listing["sha256"]): listing for listing in self.evidence}
        for digest, listing in listed.items():
            name = listing.get("name", "(unnamed)")
            if digest not in recorded:
                self.fail(
                    "evidence",
                    f"The evidence list names {name} ({digest}), but no entry of the case records "
                    "a file with that SHA-256.",
                )
            elif not any(_describes(listing, record) for record, _ in recorded[digest]):
                self.fail(
                    "evidence",
                    f"The evidence list describes {name} ({digest}) differently from the entry "
                    "that records it.",
                )
            if digest not in self.evidence_files:
                self.report(
                    "evidence",
                    True,
                    f"Evidence file {name} ({digest}) was not supplied, so its content was not "
                    "checked.",
                )
        for key, content in self.evidence_files.items():
            self.check_evidence_file(key, content, recorded, listed)

    def check_evidence_file(
        self,
        key: str,
        content: bytes,
        recorded: Mapping[str, list[tuple[Mapping[str, Any], _Item]]],
        listed: Mapping[str, Mapping[str, Any]],
    ) -> None:
        name = listed.get(key, {}).get("name", key)
        if not isinstance(key, str) or not _SHA256_HEX.fullmatch(key):
            self.fail(
                "evidence",
                f"The file supplied as {key!r} is not named by its SHA-256 in lowercase hex.",
            )
            return
        actual = hashlib.sha256(content).hexdigest()
        if actual != key:
            self.fail(
                "evidence",
                f"The file supplied as {name} ({key}) has SHA-256 {actual}: it is not the file "
                "the ledger records.",
            )
            return
        records = recorded.get(key)
        if not records:
            self.fail(
                "evidence",
                f"The file {name} ({key}) is not recorded by any entry of the case.",
            )
            return
        record, item = records[0]
        if _is_int(record.get("size")) and record["size"] != len(content):
            self.fail(
                "evidence",
                f"The file {name} ({key}) is {len(content)} bytes, but {item.label()} records "
                f"{record['size']}.",
            )
            return
        self.report(
            "evidence",
            True,
            f"Evidence file {name} matches the SHA-256 recorded by {item.label()}.",
        )

    # -- consistency with checkpoints seen before ------------------------------------------

    def check_consistency(self) -> None:
        verifiers = self.bundle_keys if self.trusted_keys is None else self.trusted
        current = self.checkpoint
        for number, note in enumerate(self.previous_checkpoints, start=1):
            label = f"Previous checkpoint {number}"
            try:
                previous, _ = open_checkpoint(note, verifiers)
            except NoteError as error:
                self.report(
                    "consistency",
                    True,
                    f"{label} was not compared, because it could not be verified: {error}.",
                )
                continue
            if current is None or not self.checkpoint_verified:
                self.report(
                    "consistency",
                    True,
                    f"{label} was not compared, because the bundle's checkpoint could not be "
                    "verified.",
                )
            elif previous.origin != current.origin:
                self.report(
                    "consistency",
                    True,
                    f"{label} is for another log ({previous.origin}), so it was not compared.",
                )
            elif previous.size == current.size and previous.root_hash != current.root_hash:
                self.fail(
                    "consistency",
                    f"{label} and the bundle's checkpoint are both signed for tree size "
                    f"{current.size} but have different roots: the log was forked or rewritten.",
                )
            elif previous.size == current.size:
                self.report(
                    "consistency",
                    True,
                    f"{label} is the same tree as the bundle's checkpoint (size {current.size}).",
                )
            elif previous.size < current.size:
                self.report(
                    "consistency",
                    True,
                    f"{label} (tree size {previous.size}) is older than the bundle's checkpoint "
                    f"(size {current.size}); showing that the log only grew since needs a "
                    "consistency proof, which the bundle does not carry, so it was not checked.",
                )
            else:
                self.report(
                    "consistency",
                    True,
                    f"{label} (tree size {previous.size}) is newer than the bundle's checkpoint "
                    f"(size {current.size}), so this was not checked: the bundle may leave out "
                    "entries written since.",
                )


def verify_bundle(
    bundle: Mapping[str, Any],
    trusted_keys: Sequence[str] | None = None,
    evidence_files: Mapping[str, bytes] | None = None,
    previous_checkpoints: Sequence[str] = (),
) -> Report:
    """Check a proof bundle offline and report every finding.

    With `trusted_keys`, only those keys can vouch for the checkpoint; without, the bundle's
    own `verifier_keys` are used and the report says so. `evidence_files` maps SHA-256 hex
    to a file's content; files not supplied are reported as not checked.
    `previous_checkpoints` are signed checkpoints seen before, compared with the bundle's.
    """
    return _Verification(bundle, trusted_keys, evidence_files or {}, previous_checkpoints).run()
