"""A bundle against the log: its checkpoint signed by a trusted key (check `checkpoint`),
each entry's inclusion proof leading to the checkpoint's root (`inclusion`), and the
checkpoint consistent with ones seen before (`consistency`). docs/LEDGER-FORMAT.md#checks.
"""

from __future__ import annotations

from ledger.bundle_state import Verification, describe_keys, entries_phrase
from ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from ledger.errors import NoteError, ProofError
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import parse_note, parse_verifier_key
from ledger.phrase import Phrase


def _unverified_checkpoint(note: str) -> Checkpoint | None:
    # Used only after the checkpoint has failed, so that the later checks still say what they
    # can and one report names every problem; the failure already makes the report fail.
    try:
        text, _ = parse_note(note)
        return parse_checkpoint(text)
    except NoteError:
        return None


def check_checkpoint(state: Verification) -> None:
    if state.trusted_keys is None:
        verifiers = state.bundle_keys
    else:
        for number, text in enumerate(state.trusted_keys, start=1):
            try:
                state.trusted.append(parse_verifier_key(text))
            except NoteError as error:
                state.fail(
                    "checkpoint",
                    Phrase(
                        "Trusted key {number} is unusable: {error}.",
                        number=number,
                        error=error,
                    ),
                )
        verifiers = state.trusted
    if state.note is None:
        state.fail(
            "checkpoint",
            Phrase("The bundle has no checkpoint, so none of its entries can be tied to the log."),
        )
        return
    try:
        checkpoint, signers = open_checkpoint(state.note, verifiers, state.origin)
    except NoteError as error:
        state.fail("checkpoint", Phrase("The checkpoint cannot be trusted: {error}.", error=error))
        state.checkpoint = _unverified_checkpoint(state.note)
        return
    state.checkpoint = checkpoint
    state.checkpoint_verified = True
    values: dict[str, object] = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "keys": describe_keys(signers),
    }
    if state.trusted_keys is not None:
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
    state.report("checkpoint", True, phrase)


def check_inclusion(state: Verification) -> None:
    checkpoint = state.checkpoint
    if checkpoint is None:
        state.fail(
            "inclusion",
            Phrase(
                "No entry could be checked against the log: the checkpoint is missing or "
                "unreadable."
            ),
        )
        return
    start = len(state.findings)
    checked = 0
    for item in state.items:
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
            state.fail(
                "inclusion",
                Phrase(
                    "{item} is not proven to be in the log at tree size {size}: {error}.",
                    item=item.sentence_label(),
                    size=checkpoint.size,
                    error=error,
                ),
            )
    if checked and not state.failed("inclusion", start):
        state.report(
            "inclusion",
            True,
            Phrase(
                "{entries} checked: each is in the log's tree of size {size}, at the log "
                "index given.",
                entries=entries_phrase(checked),
                size=checkpoint.size,
            ),
        )


def check_consistency(state: Verification) -> None:
    verifiers = state.bundle_keys if state.trusted_keys is None else state.trusted
    current = state.checkpoint
    for number, note in enumerate(state.previous_checkpoints, start=1):
        label = Phrase("Previous checkpoint {number}", number=number)
        try:
            previous, _ = open_checkpoint(note, verifiers)
        except NoteError as error:
            state.report(
                "consistency",
                True,
                Phrase(
                    "{label} was not compared, because it could not be verified: {error}.",
                    label=label,
                    error=error,
                ),
            )
            continue
        _compare(state, label, previous, current)


def _compare(
    state: Verification, label: Phrase, previous: Checkpoint, current: Checkpoint | None
) -> None:
    """One checkpoint seen before against the bundle's, when they can be compared."""
    if current is None or not state.checkpoint_verified:
        state.report(
            "consistency",
            True,
            Phrase(
                "{label} was not compared, because the bundle's checkpoint could not be verified.",
                label=label,
            ),
        )
    elif previous.origin != current.origin:
        state.report(
            "consistency",
            True,
            Phrase(
                "{label} is for another log ({origin}), so it was not compared.",
                label=label,
                origin=previous.origin,
            ),
        )
    elif previous.size == current.size and previous.root_hash != current.root_hash:
        state.fail(
            "consistency",
            Phrase(
                "{label} and the bundle's checkpoint are both signed for tree size "
                "{size} but have different roots: the log was forked or rewritten.",
                label=label,
                size=current.size,
            ),
        )
    else:
        state.report("consistency", True, _sizes_compared(label, previous, current))


def _sizes_compared(label: Phrase, previous: Checkpoint, current: Checkpoint) -> Phrase:
    """What a checkpoint of the same log, whose root does not contradict the bundle's,
    says of it: the same tree, or an older or newer one that this bundle cannot relate
    to its own (that needs a consistency proof, which it does not carry)."""
    if previous.size == current.size:
        return Phrase(
            "{label} is the same tree as the bundle's checkpoint (size {size}).",
            label=label,
            size=current.size,
        )
    if previous.size < current.size:
        return Phrase(
            "{label} (tree size {old}) is older than the bundle's checkpoint (size "
            "{new}); showing that the log only grew since needs a consistency "
            "proof, which the bundle does not carry, so it was not checked.",
            label=label,
            old=previous.size,
            new=current.size,
        )
    return Phrase(
        "{label} (tree size {old}) is newer than the bundle's checkpoint (size "
        "{new}), so this was not checked: the bundle may leave out entries "
        "written since.",
        label=label,
        old=previous.size,
        new=current.size,
    )
