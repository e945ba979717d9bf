"""The events the benchmarks append: what a busy portal writes, about 400 bytes an entry.

A mix of the spec's event types over many cases, with file records and content hashes
where a real event carries them, so the entry bytes (JCS), the hashing and the signing
cost what they cost in production.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from ledger.entry import Actor, Entry, encode_entry, sign_entry
from ledger.keys import Keyring

PEOPLE = (
    Actor("u-alice-0001", "claimant"),
    Actor("u-bob-0002", "respondent"),
    Actor("u-mona-0003", "mediator"),
    Actor("u-ari-0004", "arbitrator"),
)


def case_refs(count: int, prefix: str = "DR-2026") -> list[str]:
    return [f"{prefix}-{n:06d}" for n in range(1, count + 1)]


def _digest(i: int, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{i}".encode()).hexdigest()


def realistic_event(i: int) -> tuple[str, Actor, dict[str, Any]]:
    """Event `i` of the workload: (type, actor, body)."""
    actor = PEOPLE[i % len(PEOPLE)]
    kind = i % 3
    if kind == 0:
        return (
            "evidence.added",
            actor,
            {
                "file": {
                    "sha256": _digest(i, "file"),
                    "name": f"invoice-{i % 9000 + 1000}.pdf",
                    "size": 180_000 + i % 50_000,
                    "media_type": "application/pdf",
                },
            },
        )
    if kind == 1:
        return (
            "statement.submitted",
            actor,
            {
                "content_sha256": _digest(i, "statement"),
                "language": "en",
                "words": 300 + i % 700,
                "amount_claimed": f"{1200 + i % 5000}.50",
            },
        )
    return (
        "offer.made",
        actor,
        {
            "offer_id": f"of-{i:08d}",
            "amount": f"{900 + i % 4000}.00",
            "currency": "EUR",
            "expires_in_days": 14,
            "content_sha256": _digest(i, "offer"),
        },
    )


def sample_entry(keyring: Keyring, i: int = 1) -> bytes:
    """The bytes of a typical entry (mid-chain, so `prev` is a real hash)."""
    event_type, actor, body = realistic_event(i)
    entry = Entry(
        log=keyring.origin,
        case="DR-2026-000123",
        case_seq=17,
        prev=hashlib.sha256(b"previous").digest(),
        type=event_type,
        actor=actor,
        at=datetime.now(UTC),
        body=body,
        kid=keyring.kid,
    )
    return encode_entry(entry)


def signed_sample(keyring: Keyring, i: int = 1) -> tuple[bytes, bytes]:
    data = sample_entry(keyring, i)
    return data, sign_entry(data, keyring.current.private_key)
