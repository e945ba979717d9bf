"""The case proof bundle (`ledger-proof.json`, format portal-case-proof/v1, described in
docs/LEDGER-FORMAT.md#bundle): building one, and checking one offline with nothing but the
bundle, the verifier keys and the evidence files.

The verifier never stops at the first problem: it runs every check of "What a verifier
checks, and must reject" (docs/LEDGER-FORMAT.md#checks) and reports each finding in words a
reader without the portal can act on, naming the entry (its case_seq and log index)
wherever there is one.
"""

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.bundle_entries import check_chain, check_entry_format, check_signatures
from ledger.bundle_evidence import check_evidence
from ledger.bundle_log import check_checkpoint, check_consistency, check_inclusion
from ledger.bundle_reading import read_bundle
from ledger.bundle_state import FORMAT, FileDigest, Verification
from ledger.findings import Report
from ledger.phrase import Phrase


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
    state = Verification(bundle, trusted_keys, evidence_files or {}, previous_checkpoints)
    if not isinstance(bundle, Mapping):
        state.fail(
            "bundle-format",
            Phrase("The bundle is not a JSON object, so nothing in it can be checked."),
        )
        return Report(state.findings)
    read_bundle(state)
    for check in CHECKS:
        check(state)
    return Report(state.findings)


CHECKS: tuple[Callable[[Verification], None], ...] = (
    check_checkpoint,
    check_entry_format,
    check_signatures,
    check_inclusion,
    check_chain,
    check_evidence,
    check_consistency,
)
"""The checks of docs/LEDGER-FORMAT.md#checks after reading, in the order they run."""
