"""An invited arbitrator's answer: the invitation as they see it, the disclosure
signed by password and the acceptance that puts them on the case, or the refusal.
"""

from __future__ import annotations

from typing import Any

from arbitration import filling, seating
from arbitration.rules import ruleset
from arbitration.tables import Seat
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.lifecycle import owners
from portal.cases.sides import sides_of
from portal.cases.tables import Case, CaseParticipant
from portal.database import write_transaction
from portal.errors import Conflict
from portal.i18n import _
from portal.neutrals.disclosure import (
    Invitee,
    NotInvited,
    decline_reasons,
    may_answer,
    signed_disclosure,
)
from portal.procedure import roles
from portal.procedure.arbitration import SEAT, move


def _open(status: str) -> bool:
    """The seat still waits for the invited arbitrator's answer (either answer may come)."""
    return status in move(SEAT, "accept").sources | move(SEAT, "decline").sources


async def invitation(invitee: Invitee, seat_id: int) -> dict[str, Any]:
    """The seat offered, for the arbitrator invited only and while it is open, on a case
    still in arbitration; `NotInvited` else."""
    seat = await Seat.select().where(Seat.id == seat_id).first()
    if seat is None or not may_answer(invitee, seat["arbitrator"], _open(seat["status"])):
        raise NotInvited()
    case = await Case.select(Case.state).where(Case.id == seat["case"]).first()
    if case is None or case["state"] != "arbitration":
        raise NotInvited()
    seat["seat_label"] = seating.seat_label(seat["seat"])
    return dict(seat)


async def accept(keyring: Keyring, invitee: Invitee, seat_id: int, form: dict[str, str],
                 address: str) -> str:  # fmt: skip
    """The arbitrator signs their disclosure (by password) and accepts; returns the ref."""
    seat = await invitation(invitee, seat_id)
    disclosure = await signed_disclosure(invitee.id, form, address, seating.TEXT_LIMIT)
    at = deadlines.now()
    ref = await seating.ref_of(seat["case"])
    step = move(SEAT, "accept")
    async with write_transaction(Case._meta.db):
        await seating.hold(seat["arbitration"])
        moved = (
            await Seat.update(
                {
                    Seat.status: step.target,
                    Seat.disclosure: disclosure,
                    Seat.disclosed_at: at,
                    Seat.appointed_at: at,
                }
            )
            .where((Seat.id == seat_id) & Seat.status.is_in(sorted(step.sources)))
            .returning(Seat.id)
        )
        if not moved:
            raise Conflict(_("This invitation has been answered already."))
        arbitration = await seating.arbitration_row(seat["arbitration"])
        rules = ruleset(arbitration["ruleset"])
        body = {"seat": seat["seat"], "seat_id": seat_id}
        await record(keyring, ref, "arbitrator.disclosed", actor(invitee.id, roles.ARBITRATOR),
                     {**body, "disclosure": disclosure or "none"})  # fmt: skip
        await CaseParticipant.insert(
            CaseParticipant(case=seat["case"], user=invitee.id, role=roles.ARBITRATOR, added_at=at)
        )
        await record(keyring, ref, "participant.added", SYSTEM,
                     {"user": f"user:{invitee.id}", "role": roles.ARBITRATOR})  # fmt: skip
        until = at + rules.challenge_window
        await record(keyring, ref, "arbitrator.appointed", SYSTEM,
                     {**body, "arbitrator": f"user:{invitee.id}",
                      "challenge_until": seating.iso(until)})  # fmt: skip
        told = [s.user_id for s in await sides_of(seat["case"])]
        told += await owners(seat["case"], roles.SUPERVISOR)
        await seating.tell(told, ref, "appointed", name=invitee.name,
                           seat=seating.seat_label(seat["seat"]), disclosure=disclosure,
                           until=seating.when(until))  # fmt: skip
        await filling.after_appointment(keyring, ref, arbitration, at)
    return ref


async def decline(keyring: Keyring, invitee: Invitee, seat_id: int, form: dict[str, str]) -> str:
    """The arbitrator declines, with their reasons if they give any; returns the ref."""
    seat = await invitation(invitee, seat_id)
    reasons = decline_reasons(form, seating.TEXT_LIMIT)
    at = deadlines.now()
    ref = await seating.ref_of(seat["case"])
    async with write_transaction(Case._meta.db):
        await seating.hold(seat["arbitration"])
        by = actor(invitee.id, roles.ARBITRATOR)
        ended = await filling.end_seat(keyring, ref, seat, "decline", "arbitrator.declined", by,
                                       at, reasons)  # fmt: skip
        if not ended:
            raise Conflict(_("This invitation has been answered already."))
    return ref
