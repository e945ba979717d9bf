"""Signing the settlement agreement: each side and the mediator, by their password.

A signature is a ledger entry naming who signed, when, and the agreement's SHA-256.
The last one settles the case (`settle` in the state table, taken by the portal in
that signature's transaction) and ends the mediation: the signed agreement is the
case's binding outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.keys import Keyring
from mediation.appointment import end_mediation
from mediation.tables import Settlement, SettlementSignature
from portal.accounts.reauth import confirm_password
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.lifecycle import take_system_step
from portal.cases.sides import mediator_of, sides_of
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, NotAllowed
from portal.i18n import _
from portal.procedure import acting as A
from portal.procedure.channels import ALL
from portal.procedure.mediation import SETTLEMENT, acting, subject
from portal.procedure.table import SYSTEM, Refused

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


async def current(case_id: int) -> dict[str, Any] | None:
    """The agreement being signed or signed, with its signatures and who is still to sign."""
    row: dict[str, Any] | None = (
        await Settlement.select()
        .where(
            (Settlement.case == case_id)
            & Settlement.status.is_in([s.name for s in SETTLEMENT.states])
        )
        .first()
    )
    if row is None:
        return None
    row["signatures"] = (
        await SettlementSignature.select(
            *SettlementSignature.all_columns(), SettlementSignature.signer.name
        )
        .where(SettlementSignature.settlement == row["id"])
        .order_by(SettlementSignature.id)
    )
    signed = {s["signer"] for s in row["signatures"]}
    row["pending"] = [
        {"user": user, "name": name, "role": role}
        for user, name, role in await signers(case_id)
        if user not in signed
    ]
    return row


async def signers(case_id: int) -> list[tuple[int, str, str]]:
    """(user, name, role) of everyone who signs: every side, then the mediator."""
    found = [(s.user_id, s.name, s.role) for s in await sides_of(case_id)]
    mediator = await mediator_of(case_id)
    if mediator:
        found.append((int(str(mediator["user"])), str(mediator["user.name"]), "mediator"))
    return found


async def sign(keyring: Keyring, ref: str, access: CaseAccess, password: str, address: str) -> bool:
    """Sign the agreement; True when this signature was the last and the case is settled."""
    if not access.can_sign_settlement:
        raise NotAllowed(_("Only the parties and the mediator sign the settlement."))
    await confirm_password(access.viewer.id, password, address)
    at = deadlines.now()
    role = access.acting_role(A.BEFORE_NEUTRAL)
    async with write_transaction(Case._meta.db):
        settlement = await current(access.case_id)
        if settlement is None:
            raise Conflict(_("There is no settlement to sign."))
        try:
            SETTLEMENT.check("sign", subject(settlement), access, at)
        except Refused as exc:  # signed already
            raise Conflict(_("There is no settlement to sign.")) from exc
        pending = {p["user"] for p in settlement["pending"]}
        if access.viewer.id not in pending:
            raise Conflict(_("You have signed this settlement already."))
        receipt = await record(
            keyring,
            ref,
            "settlement.signed",
            actor(access.viewer.id, role),
            {"settlement": settlement["id"], "sha256": settlement["sha256"]},
        )
        await SettlementSignature.insert(
            SettlementSignature(
                settlement=settlement["id"],
                signer=access.viewer.id,
                role=role,
                case_seq=receipt.case_seq,
                signed_at=at,
            )
        )
        if pending != {access.viewer.id}:
            return False
        sealed = SETTLEMENT.check("seal", subject(settlement), acting(SYSTEM), at).target
        await Settlement.update({Settlement.status: sealed, Settlement.signed_at: at}).where(
            Settlement.id == settlement["id"]
        )
        await end_mediation(access.case_id, at)
        await take_system_step(
            keyring,
            ref,
            access.case_id,
            "settle",
            {"settlement": settlement["id"], "sha256": settlement["sha256"]},
            at,
        )
    return True


async def record_download(
    keyring: Keyring, ref: str, access: CaseAccess, settlement: dict[str, Any]
) -> None:
    """Every download of the agreement is in the ledger, as every file read is."""
    async with write_transaction(Case._meta.db):
        await record(
            keyring,
            ref,
            "settlement.downloaded",
            actor(access.viewer.id, access.acting_role(ALL)),
            {"settlement": settlement["id"], "sha256": settlement["sha256"]},
        )


__all__ = ["current", "mediator_of", "record_download", "sign", "signers"]
