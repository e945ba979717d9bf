"""A bundle's entries on their own: each in the entry format (check `entry-format`),
signed by the key its `kid` names (`entry-signature`), and together the case's whole
chain, `case_seq` 0, 1, 2... each naming the one before (`chain`).
docs/LEDGER-FORMAT.md#checks.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from ledger.bundle_state import Item, Verification, describe_keys, entries_phrase
from ledger.entry import Entry, decode_entry, verify_entry_signature
from ledger.errors import EntryError
from ledger.note import NoteVerifier
from ledger.phrase import Phrase


def check_entry_format(state: Verification) -> None:
    start = len(state.findings)
    for item in state.items:
        if item.data is None:
            continue
        try:
            entry = decode_entry(item.data)
        except EntryError as error:
            state.fail(
                "entry-format",
                Phrase(
                    "{item} is not a valid entry: {error}.",
                    item=item.sentence_label(),
                    error=error,
                ),
            )
            continue
        item.entry = entry
        if state.origin is not None and entry.log != state.origin:
            state.fail(
                "entry-format",
                Phrase(
                    "{item} belongs to the log {found}, not to {expected}.",
                    item=item.sentence_label(),
                    found=repr(entry.log),
                    expected=repr(state.origin),
                ),
            )
        if state.case is not None and entry.case != state.case:
            state.fail(
                "entry-format",
                Phrase(
                    "{item} belongs to case {found}, not to {expected}.",
                    item=item.sentence_label(),
                    found=repr(entry.case),
                    expected=repr(state.case),
                ),
            )
    checked = sum(1 for item in state.items if item.data is not None)
    if checked and not state.failed("entry-format", start):
        state.report(
            "entry-format",
            True,
            Phrase(
                "{entries} checked: each is a canonical ledger entry of case {case} in the "
                "log {origin}.",
                entries=entries_phrase(checked),
                case=state.case,
                origin=state.origin,
            ),
        )


def check_signatures(state: Verification) -> None:
    start = len(state.findings)
    keys: dict[str, list[NoteVerifier]] = {}
    for verifier in [*state.trusted, *state.bundle_keys]:
        if verifier not in keys.setdefault(verifier.kid, []):
            keys[verifier.kid].append(verifier)
    used: set[NoteVerifier] = set()
    checked = 0
    for item in state.items:
        if item.entry is None or item.data is None or item.signature is None:
            continue
        checked += 1
        signer = _signer_of(state, item, keys.get(item.entry.kid, []))
        if signer is not None:
            used.add(signer)
    if checked and not state.failed("entry-signature", start):
        state.report("entry-signature", True, _signatures_verified(state, checked, used))


def _signer_of(
    state: Verification, item: Item, candidates: list[NoteVerifier]
) -> NoteVerifier | None:
    """The key, among those with the entry's key ID, under which its signature verifies;
    None, with the failure reported, when no key has that ID or none verifies."""
    if item.entry is None or item.data is None or item.signature is None:
        return None  # not a signed entry: the caller skips these
    if not candidates:
        state.fail(
            "entry-signature",
            Phrase(
                "{item} is signed by an unknown key {kid}: neither the trusted keys nor "
                "the bundle's keys have that key ID.",
                item=item.sentence_label(),
                kid=item.entry.kid,
            ),
        )
        return None
    data, signature = item.data, item.signature
    signer = next(
        (
            verifier
            for verifier in candidates
            if verify_entry_signature(data, signature, verifier.public_key)
        ),
        None,
    )
    if signer is None:
        state.fail(
            "entry-signature",
            Phrase(
                "The signature of {item} does not verify under key {kid}: the entry or "
                "its signature was altered.",
                item=item.label(),
                kid=item.entry.kid,
            ),
        )
    return signer


def _signatures_verified(state: Verification, checked: int, used: set[NoteVerifier]) -> Phrase:
    """Every signature verified: how many, under which keys, and which of those keys the
    reader did not say they trust (the bundle's own list vouches for nothing)."""
    signatures = (
        Phrase("{n} entry signature", n=checked)
        if checked == 1
        else Phrase("{n} entry signatures", n=checked)
    )
    signers = describe_keys(sorted(used, key=str))
    untrusted = [key for key in used if state.trusted_keys is not None and key not in state.trusted]
    if untrusted:
        return Phrase(
            "{signatures} checked: each verifies, under {signers}; {untrusted} is listed "
            "in the bundle but is not among the keys you trust.",
            signatures=signatures,
            signers=signers,
            untrusted=describe_keys(untrusted),
        )
    return Phrase(
        "{signatures} checked: each verifies, under {signers}.",
        signatures=signatures,
        signers=signers,
    )


def check_chain(state: Verification) -> None:
    start = len(state.findings)
    if not state.items:
        state.fail(
            "chain", Phrase("The bundle holds no entries, so it proves nothing about the case.")
        )
        return
    readable = _readable_entries(state)
    by_seq = _by_case_seq(state, readable)
    for (entry, item), (following, following_item) in itertools.pairwise(readable):
        if following.case_seq < entry.case_seq:
            state.fail(
                "chain",
                Phrase(
                    "The entries are out of order: {following} comes after {item}.",
                    following=following_item.label(),
                    item=item.label(),
                ),
            )
    check_gaps(state, by_seq)
    _check_links(state, readable, by_seq)
    if readable and not state.failed("chain", start):
        state.report(
            "chain",
            True,
            Phrase(
                "The case's chain runs from case_seq 0 to {last} without a gap, each entry "
                "linked to the one before. Entries after the last one shown cannot be ruled "
                "out from the bundle alone.",
                last=max(by_seq),
            ),
        )


def _readable_entries(state: Verification) -> list[tuple[Entry, Item]]:
    """The items whose entry could be read; each other one is a break in the chain."""
    readable: list[tuple[Entry, Item]] = []
    for item in state.items:
        if item.entry is None:
            state.fail(
                "chain",
                Phrase(
                    "{item} could not be read, so the chain cannot be checked through it.",
                    item=item.sentence_label(),
                ),
            )
        else:
            readable.append((item.entry, item))
    return readable


def _by_case_seq(state: Verification, readable: list[tuple[Entry, Item]]) -> dict[int, Item]:
    """The items by their entry's case_seq, the first of any two that share one."""
    by_seq: dict[int, Item] = {}
    for entry, item in readable:
        earlier = by_seq.setdefault(entry.case_seq, item)
        if earlier is not item:
            state.fail(
                "chain",
                Phrase(
                    "Two entries have case_seq {seq}: {earlier} and the one at log index {index}.",
                    seq=entry.case_seq,
                    earlier=earlier.label(),
                    index=item.index,
                ),
            )
    return by_seq


def _check_links(
    state: Verification, readable: list[tuple[Entry, Item]], by_seq: Mapping[int, Item]
) -> None:
    """Each entry's prev is the leaf hash of the entry before it, where both are shown."""
    for entry, item in readable:
        before = by_seq.get(entry.case_seq - 1)
        if entry.case_seq > 0 and before is not None and entry.prev != before.leaf:
            state.fail(
                "chain",
                Phrase(
                    "{item} does not link to {before}: its prev is not that entry's leaf "
                    "hash, so one of the two was altered or replaced.",
                    item=item.sentence_label(),
                    before=before.label(),
                ),
            )


def check_gaps(state: Verification, by_seq: Mapping[int, Item]) -> None:
    expected = 0
    previous: Item | None = None
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
            state.fail("chain", phrase)
        expected = seq + 1
        previous = by_seq[seq]
