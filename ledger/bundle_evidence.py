"""A bundle's evidence (check `evidence`): each file given alongside hashes to the SHA-256
its entry records, and the bundle's list of files agrees with the ledger's file records.
docs/LEDGER-FORMAT.md#checks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ledger.bundle_state import FileDigest, Item, Verification, is_int
from ledger.phrase import Phrase

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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


def _describes(listed: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    # The evidence list is what a reader sees first; it must not contradict the ledger.
    return all(
        listed[key] == record[key]
        for key in ("name", "size", "media_type")
        if key in listed and key in record
    )


def check_evidence(state: Verification) -> None:
    recorded: dict[str, list[tuple[Mapping[str, Any], Item]]] = {}
    for item in state.items:
        if item.entry is not None:
            for record in _file_records(item.entry.body):
                recorded.setdefault(record["sha256"], []).append((record, item))
    listed = {str(listing["sha256"]): listing for listing in state.evidence}
    for digest, listing in listed.items():
        name = listing.get("name", "(unnamed)")
        if digest not in recorded:
            state.fail(
                "evidence",
                Phrase(
                    "The evidence list names {name} ({digest}), but no entry of the case "
                    "records a file with that SHA-256.",
                    name=name,
                    digest=digest,
                ),
            )
        elif not any(_describes(listing, record) for record, _ in recorded[digest]):
            state.fail(
                "evidence",
                Phrase(
                    "The evidence list describes {name} ({digest}) differently from the "
                    "entry that records it.",
                    name=name,
                    digest=digest,
                ),
            )
        if digest not in state.evidence_files:
            state.report(
                "evidence",
                True,
                Phrase(
                    "Evidence file {name} ({digest}) was not supplied, so its content was "
                    "not checked.",
                    name=name,
                    digest=digest,
                ),
            )
    for key, content in state.evidence_files.items():
        check_evidence_file(state, key, content, recorded, listed)


def check_evidence_file(
    state: Verification,
    key: str,
    content: bytes | FileDigest,
    recorded: Mapping[str, list[tuple[Mapping[str, Any], Item]]],
    listed: Mapping[str, Mapping[str, Any]],
) -> None:
    name = listed.get(key, {}).get("name", key)
    if not isinstance(key, str) or not _SHA256_HEX.fullmatch(key):
        state.fail(
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
    item = _recording_item(state, key, name, actual, size, recorded.get(key))
    if item is None:
        return
    state.report(
        "evidence",
        True,
        Phrase(
            "Evidence file {name} matches the SHA-256 recorded by {item}.",
            name=name,
            item=item.label(),
        ),
    )


def _recording_item(
    state: Verification,
    key: str,
    name: Any,  # the bundle's list names the file: whatever its JSON holds
    actual: str,
    size: int,
    records: list[tuple[Mapping[str, Any], Item]] | None,
) -> Item | None:
    """The entry that records this file, when the file is the one it records (its hash,
    and its size where the entry gives one); None, with the failure reported, if not."""
    if actual != key:
        state.fail(
            "evidence",
            Phrase(
                "The file supplied as {name} ({key}) has SHA-256 {actual}: it is not the "
                "file the ledger records.",
                name=name,
                key=key,
                actual=actual,
            ),
        )
        return None
    if not records:
        state.fail(
            "evidence",
            Phrase(
                "The file {name} ({key}) is not recorded by any entry of the case.",
                name=name,
                key=key,
            ),
        )
        return None
    record, item = records[0]
    if is_int(record.get("size")) and record["size"] != size:
        state.fail(
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
        return None
    return item
