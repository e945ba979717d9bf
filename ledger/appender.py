"""Appending an event to a case's chain, in the caller's database transaction.

`case_seq` and `prev` come from the committed tip of the chain, and no two appends to
the same case can ever get the same `case_seq`: the entry is built and signed while the
case's head row is held (a write transaction on SQLite, the row's lock on PostgreSQL),
or, on PostgreSQL outside any transaction, it is written only if the tip it was built on
is still the tip (see `ledger.postgres_store.PostgresStore.append`). The entry gets its place in
the global log later, from the integrator; its receipt (bytes, signature, leaf hash) is
valid at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.entry import Actor, Entry, encode_entry, sign_entry
from ledger.keys import Keyring
from ledger.merkle import leaf_hash
from ledger.store import store_for


@dataclass(frozen=True)
class Receipt:
    """An appended entry: what a participant can be shown before integration."""

    case: str
    case_seq: int
    event_type: str
    entry: bytes
    signature: bytes
    leaf_hash: bytes
    kid: str


async def append_entry(
    keyring: Keyring,
    *,
    case: str,
    event_type: str,
    actor: Actor,
    body: Mapping[str, Any],
    at: datetime | None = None,
) -> Receipt:
    """Append one event to `case`; inside the caller's transaction when one is open.

    On SQLite the caller's transaction must be a write transaction
    (`portal.database.write_transaction`). Invalid fields raise `EntryError` before
    the entry is stored, and the caller's transaction then rolls back its change too.
    """
    signer = keyring.current

    def make(case_seq: int, prev: bytes) -> Receipt:
        entry = _entry(
            keyring.origin, case, case_seq, prev, event_type, actor, at, body, signer.kid
        )
        data = encode_entry(entry)
        return Receipt(
            case=case,
            case_seq=case_seq,
            event_type=event_type,
            entry=data,
            signature=sign_entry(data, signer.private_key),
            leaf_hash=leaf_hash(data),
            kid=signer.kid,
        )

    return await store_for().append(case, make)


def _entry(
    origin: str,
    case: str,
    case_seq: int,
    prev: bytes,
    event_type: str,
    actor: Actor,
    at: datetime | None,
    body: Mapping[str, Any],
    kid: str,
) -> Entry:
    return Entry(
        log=origin,
        case=case,
        case_seq=case_seq,
        prev=prev,
        type=event_type,
        actor=actor,
        # The time is taken after the chain's tip was read, so after the previous entry's:
        # it never runs backwards in a chain.
        at=at or datetime.now(UTC),
        body=body,
        kid=kid,
    )
