"""Reading a proof bundle (docs/LEDGER-FORMAT.md#bundle) into a `Verification`: each field
checked for its type and form, each problem a `bundle-format` finding, and as much read
as can be, so that the checks after it still say what they can."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.bundle_state import FORMAT, Item, Verification, entries_phrase, is_int
from ledger.errors import NoteError
from ledger.note import decode_base64, parse_verifier_key
from ledger.phrase import Phrase


def read_string(state: Verification, key: str) -> str | None:
    value = state.bundle.get(key)
    if not isinstance(value, str) or not value:
        state.fail(
            "bundle-format",
            Phrase("The bundle's {key} is missing, empty or not text.", key=repr(key)),
        )
        return None
    return value


def read_list(state: Verification, key: str) -> list[Any]:
    value = state.bundle.get(key)
    if not isinstance(value, list):
        state.fail(
            "bundle-format",
            Phrase("The bundle's {key} is missing or is not a list.", key=repr(key)),
        )
        return []
    return value


def read_bundle(state: Verification) -> None:
    start = len(state.findings)
    format_name = state.bundle.get("format")
    if format_name != FORMAT:
        state.fail(
            "bundle-format",
            Phrase(
                "The bundle's format is {found}, not {expected}; this verifier reads "
                "only {format}.",
                found=repr(format_name),
                expected=repr(FORMAT),
                format=FORMAT,
            ),
        )
    state.origin = read_string(state, "origin")
    state.case = read_string(state, "case")
    state.note = read_string(state, "checkpoint")
    for number, text in enumerate(read_list(state, "verifier_keys"), start=1):
        try:
            state.bundle_keys.append(parse_verifier_key(text if isinstance(text, str) else ""))
        except NoteError as error:
            state.fail(
                "bundle-format",
                Phrase(
                    "Verifier key {number} in the bundle is unusable: {error}.",
                    number=number,
                    error=error,
                ),
            )
    for position, raw in enumerate(read_list(state, "entries"), start=1):
        state.items.append(read_item(state, position, raw))
    for number, item in enumerate(read_list(state, "evidence"), start=1):
        if isinstance(item, Mapping) and isinstance(item.get("sha256"), str):
            state.evidence.append(item)
        else:
            state.fail(
                "bundle-format",
                Phrase("Evidence item {number} of the bundle has no sha256.", number=number),
            )
    if not state.failed("bundle-format", start):
        files = len(state.evidence)
        state.report(
            "bundle-format",
            True,
            Phrase(
                "The bundle is a {format} bundle for case {case} in the log {origin}, "
                "with {entries} and {files} listed.",
                format=FORMAT,
                case=state.case,
                origin=state.origin,
                entries=entries_phrase(len(state.items)),
                files=Phrase("{n} evidence file", n=files)
                if files == 1
                else Phrase("{n} evidence files", n=files),
            ),
        )


def read_item(state: Verification, position: int, raw: Any) -> Item:
    item = Item(position)
    if not isinstance(raw, Mapping):
        state.fail(
            "bundle-format", Phrase("{item} is not a JSON object.", item=item.sentence_label())
        )
        return item
    if is_int(raw.get("index")) and raw["index"] >= 0:
        item.index = raw["index"]
    else:
        state.fail(
            "bundle-format",
            Phrase("{item} has no valid log index.", item=item.sentence_label()),
        )
    item.data = read_base64(state, item, raw, "entry")
    item.signature = read_base64(state, item, raw, "signature")
    inclusion = raw.get("inclusion")
    if isinstance(inclusion, list):
        hashes = [
            read_hash(state, item, number, value) for number, value in enumerate(inclusion, 1)
        ]
        if all(value is not None for value in hashes):
            item.inclusion = [value for value in hashes if value is not None]
    else:
        state.fail(
            "bundle-format",
            Phrase("{item} has no inclusion proof list.", item=item.sentence_label()),
        )
    return item


def read_base64(state: Verification, item: Item, raw: Mapping[str, Any], key: str) -> bytes | None:
    value = raw.get(key)
    if not isinstance(value, str):
        state.fail(
            "bundle-format",
            Phrase("{item} has no {key} text.", item=item.sentence_label(), key=repr(key)),
        )
        return None
    try:
        return decode_base64(value)
    except ValueError:
        state.fail(
            "bundle-format",
            Phrase("The {key} of {item} is not valid base64.", key=repr(key), item=item.label()),
        )
        return None


def read_hash(state: Verification, item: Item, number: int, value: Any) -> bytes | None:
    try:
        if isinstance(value, str):
            return decode_base64(value)
    except ValueError:
        pass
    state.fail(
        "bundle-format",
        Phrase(
            "Hash {number} of the inclusion proof of {item} is not valid base64.",
            number=number,
            item=item.label(),
        ),
    )
    return None
