"""Writing a case's events to the ledger, in the caller's transaction.

Each event names its actor the way the ledger does (`user:<id>` with their role on the
case, or the portal itself), so that the case room can put names to a timeline read
straight from the ledger's entries.

The first event a request records also claims the one-time token of the form that asked
for it (`portal.cases.submissions`), in the same transaction, so that the same form sent
twice is recorded once; every service records through here, so none has to remember.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.appender import Receipt, append_entry
from ledger.entry import Actor
from ledger.keys import Keyring
from portal.cases import submissions
from portal.cases.tables import SentForm
from portal.database import write_transaction

SYSTEM = Actor(id="system", role="system")


def actor(user_id: int, role: str) -> Actor:
    return Actor(id=f"user:{user_id}", role=role)


def user_id_of(actor_id: str) -> int | None:
    prefix, _sep, number = actor_id.partition(":")
    return int(number) if prefix == "user" and number.isdigit() else None


async def record(
    keyring: Keyring, case_ref: str, event_type: str, who: Actor, body: Mapping[str, Any]
) -> Receipt:
    form = submissions.unclaimed()
    if form is None:
        return await append_entry(
            keyring, case=case_ref, event_type=event_type, actor=who, body=body
        )
    # Joins the caller's transaction; opens one only where the caller had none (an append
    # outside one is allowed on PostgreSQL), so that the claim and the entry stay together.
    async with write_transaction(SentForm._meta.db):
        receipt = await append_entry(
            keyring, case=case_ref, event_type=event_type, actor=who, body=body
        )
        await submissions.claim(form, receipt.case, receipt.case_seq)
    return receipt
