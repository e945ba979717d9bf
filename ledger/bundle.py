"""The case proof bundle (`ledger-proof.json`, format portal-case-proof/v1, described in
docs/LEDGER-FORMAT.md#bundle): building one, and checking one offline with nothing but the
bundle, the verifier keys and the evidence files.

The verifier never stops at the first problem: it runs every check of "What a verifier
checks, and must reject" (docs/LEDGER-FORMAT.md#checks) and reports each finding in words a
reader without the portal can act on, naming the entry (its case_seq and log index)
wherever there is one.
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
from ledger.phrase import Phrase, Translate

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
    """The bundle as a JSON-ready dict, in the shape and key order of
    docs/LEDGER-FORMAT.md#bundle."""
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
class FileDigest:
    """An evidence file as hashed by the caller, who streamed it rather than hold it."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Finding:
    """The outcome of one check, in a sentence.

    `message` is the English; `phrase`, when there is one, is the same sentence as a
    template and its values, for a reader who shows the report in another language.
    """

    check: str
    ok: bool
    message: str
    phrase: Phrase | None = None

    @classmethod
    def of(cls, check: str, ok: bool, phrase: Phrase) -> "Finding":
        return cls(check, ok, str(phrase), phrase)

    def render(self, translate: Translate | None = None) -> str:
        """The sentence, translated by `translate` when it is given and can be."""
        if translate is None or self.phrase is None:
            return self.message
        return self.phrase.render(translate)


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


def _is_int(value: object) -> bool:
    return type(value) is int


def _file_records(value: Any) -> Iterator[Mapping[str, Any]]:
    # LEDGER-FORMAT.md#entry: a file is recorded in a body as an object with "sha256", at any depth.
    if isinstance(value, Mapping):
        if isinstance(value.get("sha256"), str):
            yield value
        for item in value.values():
            yield from _file_records(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_records(item)


def _entries(number: int) -> Phrase:
    return Phrase("{n} entry", n=number) if number == 1 else Phrase("{n} entries", n=number)


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


def _describe_keys(verifiers: Sequence[NoteVerifier]) -> list[Phrase]:
    return [
        Phrase("{name} (key {kid})", name=verifier.name, kid=verifier.kid) for verifier in verifiers
    ]


class _Verification:
    """One run of the checks over one bundle, collecting findings."""

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
        self.items: list[_Item] = []
        self.evidence: list[Mapping[str, Any]] = []
        self.checkpoint: Checkpoint | None = None
        self.checkpoint_verified = False

    def report(self, check: str, ok: bool, phrase: Phrase) -> None:
        self.findings.append(Finding.of(check, ok, phrase))

    def fail(self, check: str, phrase: Phrase) -> None:
        self.report(check, False, phrase)

    def failed(self, check: str, since: int) -> bool:
        return any(not f.ok and f.check == check for f in self.findings[since:])

    def run(self) -> Report:
        if not isinstance(self.bundle, Mapping):
            self.fail(
                "bundle-format",
                Phrase("The bundle is not a JSON object, so nothing in it can be checked."),
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
            self.fail(
                "bundle-format",
                Phrase("The bundle's {key} is missing, empty or not text.", key=repr(key)),
            )
            return None
        return value

    def read_list(self, key: str) -> list[Any]:
        value = self.bundle.get(key)
        if not isinstance(value, list):
            self.fail(
                "bundle-format",
                Phrase("The bundle's {key} is missing or is not a list.", key=repr(key)),
            )
            return []
        return value

    def read_bundle(self) -> None:
        start = len(self.findings)
        format_name = self.bundle.get("format")
        if format_name != FORMAT:
            self.fail(
                "bundle-format",
                Phrase(
                    "The bundle's format is {found}, not {expected}; this verifier reads "
                    "only {format}.",
                    found=repr(format_name),
                    expected=repr(FORMAT),
                    format=FORMAT,
                ),
            )
        self.origin = self.read_string("origin")
        self.case = self.read_string("case")
        self.note = self.read_string("checkpoint")
        for number, text in enumerate(self.read_list("verifier_keys"), start=1):
            try:
                self.bundle_keys.append(parse_verifier_key(text if isinstance(text, str) else ""))
            except NoteError as error:
                self.fail(
                    "bundle-format",
                    Phrase(
                        "Verifier key {number} in the bundle is unusable: {error}.",
                        number=number,
                        error=error,
                    ),
                )
        for position, raw in enumerate(self.read_list("entries"), start=1):
            self.items.append(self.read_item(position, raw))
        for number, item in enumerate(self.read_list("evidence"), start=1):
            if isinstance(item, Mapping) and isinstance(item.get("sha256"), str):
                self.evidence.append(item)
            else:
                self.fail(
                    "bundle-format",
                    Phrase("Evidence item {number} of the bundle has no sha256.", number=number),
                )
        if not self.failed("bundle-format", start):
            files = len(self.evidence)
            self.report(
                "bundle-format",
                True,
                Phrase(
                    "The bundle is a {format} bundle for case {case} in the log {origin}, "
                    "with {entries} and {files} listed.",
                    format=FORMAT,
                    case=self.case,
                    origin=self.origin,
                    entries=_entries(len(self.items)),
                    files=Phrase("{n} evidence file", n=files)
                    if files == 1
                    else Phrase("{n} evidence files", n=files),
                ),
            )

    def read_item(self, position: int, raw: Any) -> _Item:
        item = _Item(position)
        if not isinstance(raw, Mapping):
            self.fail(
                "bundle-format", Phrase("{item} is not a JSON object.", item=item.sentence_label())
            )
            return item
        if _is_int(raw.get("index")) and raw["index"] >= 0:
            item.index = raw["index"]
        else:
            self.fail(
                "bundle-format",
                Phrase("{item} has no valid log index.", item=item.sentence_label()),
            )
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
            self.fail(
                "bundle-format",
                Phrase("{item} has no inclusion proof list.", item=item.sentence_label()),
            )
        return item

    def read_base64(self, item: _Item, raw: Mapping[str, Any], key: str) -> bytes | None:
        value = raw.get(key)
        if not isinstance(value, str):
            self.fail(
                "bundle-format",
                Phrase("{item} has no {key} text.", item=item.sentence_label(), key=repr(key)),
            )
            return None
        try:
            return decode_base64(value)
        except ValueError:
            self.fail(
                "bundle-format",
                Phrase(
                    "The {key} of {item} is not valid base64.", key=repr(key), item=item.label()
                ),
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
            Phrase(
                "Hash {number} of the inclusion proof of {item} is not valid base64.",
                number=number,
                item=item.label(),
            ),
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
                    self.fail(
                        "checkpoint",
                        Phrase(
                            "Trusted key {number} is unusable: {error}.",
                            number=number,
                            error=error,
                        ),
                    )
            verifiers = self.trusted
        if self.note is None:
            self.fail(
                "checkpoint",
                Phrase(
                    "The bundle has no checkpoint, so none of its entries can be tied to the log."
                ),
            )
            return
        try:
            checkpoint, signers = open_checkpoint(self.note, verifiers, self.origin)
        except NoteError as error:
            self.fail(
                "checkpoint", Phrase("The checkpoint cannot be trusted: {error}.", error=error)
            )
            self.checkpoint = _unverified_checkpoint(self.note)
            return
        self.checkpoint = checkpoint
        self.checkpoint_verified = True
        values: dict[str, object] = {
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "keys": _describe_keys(signers),
        }
        if self.trusted_keys is not None:
            phrase = Phrase(
                "The checkpoint of the log {origin} at tree size {size} is signed by {keys}.",
                **values,
            )
        elif len(signers) == 1:
            phrase = Phrase(
                "The checkpoint of the log {origin} at tree size {size} is signed by {keys}, "
                "a key taken from the bundle itself: this shows the bundle is consistent, not "
                "who made it; compare it with the keys the portal publishes.",
                **values,
            )
        else:
            phrase = Phrase(
                "The checkpoint of the log {origin} at tree size {size} is signed by {keys}, "
                "keys taken from the bundle itself: this shows the bundle is consistent, not "
                "who made it; compare them with the keys the portal publishes.",
                **values,
            )
        self.report("checkpoint", True, phrase)

    # -- 2. entry format -------------------------------------------------------------------

    def check_entry_format(self) -> None:
        start = len(self.findings)
        for item in self.items:
            if item.data is None:
                continue
            try:
                entry = decode_entry(item.data)
            except EntryError as error:
                self.fail(
                    "entry-format",
                    Phrase(
                        "{item} is not a valid entry: {error}.",
                        item=item.sentence_label(),
                        error=error,
                    ),
                )
                continue
            item.entry = entry
            if self.origin is not None and entry.log != self.origin:
                self.fail(
                    "entry-format",
                    Phrase(
                        "{item} belongs to the log {found}, not to {expected}.",
                        item=item.sentence_label(),
                        found=repr(entry.log),
                        expected=repr(self.origin),
                    ),
                )
            if self.case is not None and entry.case != self.case:
                self.fail(
                    "entry-format",
                    Phrase(
                        "{item} belongs to case {found}, not to {expected}.",
                        item=item.sentence_label(),
                        found=repr(entry.case),
                        expected=repr(self.case),
                    ),
                )
        checked = sum(1 for item in self.items if item.data is not None)
        if checked and not self.failed("entry-format", start):
            self.report(
                "entry-format",
                True,
                Phrase(
                    "{entries} checked: each is a canonical ledger entry of case {case} in the "
                    "log {origin}.",
                    entries=_entries(checked),
                    case=self.case,
                    origin=self.origin,
                ),
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
                    Phrase(
                        "{item} is signed by an unknown key {kid}: neither the trusted keys nor "
                        "the bundle's keys have that key ID.",
                        item=item.sentence_label(),
                        kid=item.entry.kid,
                    ),
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
                    Phrase(
                        "The signature of {item} does not verify under key {kid}: the entry or "
                        "its signature was altered.",
                        item=item.label(),
                        kid=item.entry.kid,
                    ),
                )
            else:
                used.add(signer)
        if checked and not self.failed("entry-signature", start):
            signatures = (
                Phrase("{n} entry signature", n=checked)
                if checked == 1
                else Phrase("{n} entry signatures", n=checked)
            )
            signers = _describe_keys(sorted(used, key=str))
            untrusted = [
                key for key in used if self.trusted_keys is not None and key not in self.trusted
            ]
            if untrusted:
                phrase = Phrase(
                    "{signatures} checked: each verifies, under {signers}; {untrusted} is listed "
                    "in the bundle but is not among the keys you trust.",
                    signatures=signatures,
                    signers=signers,
                    untrusted=_describe_keys(untrusted),
                )
            else:
                phrase = Phrase(
                    "{signatures} checked: each verifies, under {signers}.",
                    signatures=signatures,
                    signers=signers,
                )
            self.report("entry-signature", True, phrase)

    # -- 4. inclusion in the log -----------------------------------------------------------

    def check_inclusion(self) -> None:
        checkpoint = self.checkpoint
        if checkpoint is None:
            self.fail(
                "inclusion",
                Phrase(
                    "No entry could be checked against the log: the checkpoint is missing or "
                    "unreadable."
                ),
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
                    Phrase(
                        "{item} is not proven to be in the log at tree size {size}: {error}.",
                        item=item.sentence_label(),
                        size=checkpoint.size,
                        error=error,
                    ),
                )
        if checked and not self.failed("inclusion", start):
            self.report(
                "inclusion",
                True,
                Phrase(
                    "{entries} checked: each is in the log's tree of size {size}, at the log "
                    "index given.",
                    entries=_entries(checked),
                    size=checkpoint.size,
                ),
            )

    # -- 5. the case's chain ---------------------------------------------------------------

    def check_chain(self) -> None:
        start = len(self.findings)
        if not self.items:
            self.fail(
                "chain", Phrase("The bundle holds no entries, so it proves nothing about the case.")
            )
            return
        readable: list[tuple[Entry, _Item]] = []
        for item in self.items:
            if item.entry is None:
                self.fail(
                    "chain",
                    Phrase(
                        "{item} could not be read, so the chain cannot be checked through it.",
                        item=item.sentence_label(),
                    ),
                )
            else:
                readable.append((item.entry, item))
        by_seq: dict[int, _Item] = {}
        for entry, item in readable:
            earlier = by_seq.setdefault(entry.case_seq, item)
            if earlier is not item:
                self.fail(
                    "chain",
                    Phrase(
                        "Two entries have case_seq {seq}: {earlier} and the one at log index "
                        "{index}.",
                        seq=entry.case_seq,
                        earlier=earlier.label(),
                        index=item.index,
                    ),
                )
        for (entry, item), (following, following_item) in itertools.pairwise(readable):
            if following.case_seq < entry.case_seq:
                self.fail(
                    "chain",
                    Phrase(
                        "The entries are out of order: {following} comes after {item}.",
                        following=following_item.label(),
                        item=item.label(),
                    ),
                )
        self.check_gaps(by_seq)
        for entry, item in readable:
            before = by_seq.get(entry.case_seq - 1)
            if entry.case_seq > 0 and before is not None and entry.prev != before.leaf:
                self.fail(
                    "chain",
                    Phrase(
                        "{item} does not link to {before}: its prev is not that entry's leaf "
                        "hash, so one of the two was altered or replaced.",
                        item=item.sentence_label(),
                        before=before.label(),
                    ),
                )
        if readable and not self.failed("chain", start):
            self.report(
                "chain",
                True,
                Phrase(
                    "The case's chain runs from case_seq 0 to {last} without a gap, each entry "
                    "linked to the one before. Entries after the last one shown cannot be ruled "
                    "out from the bundle alone.",
                    last=max(by_seq),
                ),
            )

    def check_gaps(self, by_seq: Mapping[int, _Item]) -> None:
        expected = 0
        previous: _Item | None = None
        for seq in sorted(by_seq):
            if seq > expected:
                if seq > expected + 1:
                    missing = Phrase("case_seq {first} to {last}", first=expected, last=seq - 1)
                else:
                    missing = Phrase("case_seq {first}", first=expected)
                if previous is None:
                    phrase = Phrase(
                        "The chain has a gap: no readable entry has {missing}, before {next}. "
                        "Entries are missing from the bundle.",
                        missing=missing,
                        next=by_seq[seq].label(),
                    )
                else:
                    phrase = Phrase(
                        "The chain has a gap: no readable entry has {missing}, after {previous} "
                        "and before {next}. Entries are missing from the bundle.",
                        missing=missing,
                        previous=previous.label(),
                        next=by_seq[seq].label(),
                    )
                self.fail("chain", phrase)
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
                    Phrase(
                        "The evidence list names {name} ({digest}), but no entry of the case "
                        "records a file with that SHA-256.",
                        name=name,
                        digest=digest,
                    ),
                )
            elif not any(_describes(listing, record) for record, _ in recorded[digest]):
                self.fail(
                    "evidence",
                    Phrase(
                        "The evidence list describes {name} ({digest}) differently from the "
                        "entry that records it.",
                        name=name,
                        digest=digest,
                    ),
                )
            if digest not in self.evidence_files:
                self.report(
                    "evidence",
                    True,
                    Phrase(
                        "Evidence file {name} ({digest}) was not supplied, so its content was "
                        "not checked.",
                        name=name,
                        digest=digest,
                    ),
                )
        for key, content in self.evidence_files.items():
            self.check_evidence_file(key, content, recorded, listed)

    def check_evidence_file(
        self,
        key: str,
        content: bytes | FileDigest,
        recorded: Mapping[str, list[tuple[Mapping[str, Any], _Item]]],
        listed: Mapping[str, Mapping[str, Any]],
    ) -> None:
        name = listed.get(key, {}).get("name", key)
        if not isinstance(key, str) or not _SHA256_HEX.fullmatch(key):
            self.fail(
                "evidence",
                Phrase(
                    "The file supplied as {key} is not named by its SHA-256 in lowercase hex.",
                    key=repr(key),
                ),
            )
            return
        if isinstance(content, FileDigest):
            actual, size = content.sha256, content.size
        else:
            actual, size = hashlib.sha256(content).hexdigest(), len(content)
        if actual != key:
            self.fail(
                "evidence",
                Phrase(
                    "The file supplied as {name} ({key}) has SHA-256 {actual}: it is not the "
                    "file the ledger records.",
                    name=name,
                    key=key,
                    actual=actual,
                ),
            )
            return
        records = recorded.get(key)
        if not records:
            self.fail(
                "evidence",
                Phrase(
                    "The file {name} ({key}) is not recorded by any entry of the case.",
                    name=name,
                    key=key,
                ),
            )
            return
        record, item = records[0]
        if _is_int(record.get("size")) and record["size"] != size:
            self.fail(
                "evidence",
                Phrase(
                    "The file {name} ({key}) is {size} bytes, but {item} records {recorded}.",
                    name=name,
                    key=key,
                    size=size,
                    item=item.label(),
                    recorded=record["size"],
                ),
            )
            return
        self.report(
            "evidence",
            True,
            Phrase(
                "Evidence file {name} matches the SHA-256 recorded by {item}.",
                name=name,
                item=item.label(),
            ),
        )

    # -- consistency with checkpoints seen before ------------------------------------------

    def check_consistency(self) -> None:
        verifiers = self.bundle_keys if self.trusted_keys is None else self.trusted
        current = self.checkpoint
        for number, note in enumerate(self.previous_checkpoints, start=1):
            label = Phrase("Previous checkpoint {number}", number=number)
            try:
                previous, _ = open_checkpoint(note, verifiers)
            except NoteError as error:
                self.report(
                    "consistency",
                    True,
                    Phrase(
                        "{label} was not compared, because it could not be verified: {error}.",
                        label=label,
                        error=error,
                    ),
                )
                continue
            if current is None or not self.checkpoint_verified:
                self.report(
                    "consistency",
                    True,
                    Phrase(
                        "{label} was not compared, because the bundle's checkpoint could not be "
                        "verified.",
                        label=label,
                    ),
                )
            elif previous.origin != current.origin:
                self.report(
                    "consistency",
                    True,
                    Phrase(
                        "{label} is for another log ({origin}), so it was not compared.",
                        label=label,
                        origin=previous.origin,
                    ),
                )
            elif previous.size == current.size and previous.root_hash != current.root_hash:
                self.fail(
                    "consistency",
                    Phrase(
                        "{label} and the bundle's checkpoint are both signed for tree size "
                        "{size} but have different roots: the log was forked or rewritten.",
                        label=label,
                        size=current.size,
                    ),
                )
            elif previous.size == current.size:
                self.report(
                    "consistency",
                    True,
                    Phrase(
                        "{label} is the same tree as the bundle's checkpoint (size {size}).",
                        label=label,
                        size=current.size,
                    ),
                )
            elif previous.size < current.size:
                self.report(
                    "consistency",
                    True,
                    Phrase(
                        "{label} (tree size {old}) is older than the bundle's checkpoint (size "
                        "{new}); showing that the log only grew since needs a consistency "
                        "proof, which the bundle does not carry, so it was not checked.",
                        label=label,
                        old=previous.size,
                        new=current.size,
                    ),
                )
            else:
                self.report(
                    "consistency",
                    True,
                    Phrase(
                        "{label} (tree size {old}) is newer than the bundle's checkpoint (size "
                        "{new}), so this was not checked: the bundle may leave out entries "
                        "written since.",
                        label=label,
                        old=previous.size,
                        new=current.size,
                    ),
                )


def verify_bundle(
    bundle: Mapping[str, Any],
    trusted_keys: Sequence[str] | None = None,
    evidence_files: Mapping[str, bytes | FileDigest] | None = None,
    previous_checkpoints: Sequence[str] = (),
) -> Report:
    """Check a proof bundle offline and report every finding.

    With `trusted_keys`, only those keys can vouch for the checkpoint; without, the bundle's
    own `verifier_keys` are used and the report says so. `evidence_files` maps SHA-256 hex
    to a file's content, or to its `FileDigest` when the caller hashed it as a stream;
    files not supplied are reported as not checked. `previous_checkpoints` are signed
    checkpoints seen before, compared with the bundle's.
    """
    return _Verification(bundle, trusted_keys, evidence_files or {}, previous_checkpoints).run()
