"""The checks of `portal ledger verify` that an entry needs alone, and the processes that run them.

Decoding an entry strictly and checking its signature are most of verify's work and need
no other entry, so a large log spreads them over worker processes, one per core. The
workers are forked from a fork server that has imported this module once, so each starts
in milliseconds, and never from the verifying process itself, whose database threads a
forked child must not inherit. The module imports no database driver, no Piccolo and no
web framework; besides it a worker imports only the program's main module, as
multiprocessing does for every start method but fork (for `python -m portal`, nothing).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.entry import decode_entry
from ledger.errors import EntryError
from ledger.merkle import leaf_hash

# What a worker needs of one row: entry bytes, signature, stored leaf hash, and the stored
# case_ref, case_seq and event_type.
Row = tuple[bytes, bytes, bytes, str, int, str]
# What it returns: the leaf hash from the bytes, the decoded (case, case_seq, prev) or None,
# and the failures as (check, message), in the order they were found.
Checked = tuple[bytes, tuple[str, int, bytes] | None, list[tuple[str, str]]]

_public_keys: dict[bytes, Ed25519PublicKey] = {}


def check_entries(origin: str, keys: dict[str, bytes], rows: list[Row]) -> list[Checked]:
    """Every check of an entry that needs no other entry."""
    results: list[Checked] = []
    for data, signature, stored_leaf, case_ref, case_seq, event_type in rows:
        failures: list[tuple[str, str]] = []
        leaf = leaf_hash(data)
        if stored_leaf != leaf:
            failures.append(
                ("leaf-hash", "the stored leaf_hash is not the hash of the entry's bytes")
            )
        try:
            entry = decode_entry(data)
        except EntryError as exc:
            failures.append(("entry-format", str(exc)))
            results.append((leaf, None, failures))
            continue
        if entry.log != origin:
            failures.append(("origin", f"entry names log {entry.log!r}, not {origin!r}"))
        for column, stored, value in (
            ("case_ref", case_ref, entry.case),
            ("case_seq", case_seq, entry.case_seq),
            ("event_type", event_type, entry.type),
        ):
            if stored != value:
                failures.append(
                    ("columns", f"stored {column} {stored!r} differs from the entry's {value!r}")
                )
        public = keys.get(entry.kid)
        if public is None:
            failures.append(("signature", f"signed by an unknown key {entry.kid}"))
        else:
            key = _public_keys.get(public)
            if key is None:
                key = _public_keys[public] = Ed25519PublicKey.from_public_bytes(public)
            try:
                key.verify(signature, data)
            except InvalidSignature:
                failures.append(
                    ("signature", f"the signature does not verify under key {entry.kid}")
                )
        results.append((leaf, (entry.case, entry.case_seq, entry.prev), failures))
    return results


def start_workers() -> ProcessPoolExecutor:
    """One worker process per core, forked from a fork server that has imported this module."""
    context = multiprocessing.get_context("forkserver")
    # The server imports only this module, not the verifying program's __main__.
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context)
