"""Challenges: a side challenges an appointed arbitrator within the ruleset's
window; a supervisor upholds (the arbitrator leaves, the seat is filled again by the
same method) or dismisses it, with reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbitration import filling, seating
from arbitration.tables import Challenge, Seat
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.lifecycle import owners
from portal.cases.sides import sides_of
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed, NotFound
from portal.i18n import _
from portal.procedure import acting as A
from portal.procedure import roles
from portal.procedure.arbitration import CHALLENGE, SEAT, ask, move, subject

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


async def challenge(keyring: Keyring, ref: str, access: CaseAccess, seat_id: int,
                    form: dict[str, str]) -> None:  # fmt: skip
    """A side challenges an appointed arbitrator, with reasons, within the window."""
    if not access.can_challenge:
        raise NotAllowed(_("Only the parties may challenge an arbitrator."))
    seat = (
        await Seat.select(*Seat.all_columns(), Seat.arbitrator.name)
        .where((Seat.id == seat_id) & (Seat.case == access.case_id))
        .first()
    )
    if seat is None:
        raise NotFound()
    reasons = seating.text_of(form, "reasons")
    if not reasons:
        raise FormInvalid({"reasons": _("Give your reasons for the challenge.")})
    if len(reasons) > seating.TEXT_LIMIT:
        raise FormInvalid({"reasons": _("Keep this under %(n)s characters.", n=seating.TEXT_LIMIT)})
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await seating.hold(seat["arbitration"])
        current = await Seat.select(Seat.status).where(Seat.id == seat_id).first()
        assert current is not None
        until = seating.challenge_until(await seating.arbitration_row(seat["arbitration"]), seat)
        ask(SEAT, "challenge", subject({**seat, **current}, challenge_until=until), access, at,
            _("Only an appointed arbitrator can be challenged."))  # fmt: skip
        if await Challenge.exists().where(
            (Challenge.seat == seat_id)
            & (Challenge.party == access.viewer.id)
            & Challenge.status.is_in(sorted(CHALLENGE.open_states))
        ):
            raise Conflict(
                _("You have already challenged this arbitrator; a supervisor will decide.")
            )
        rows = await Challenge.insert(
            Challenge(
                seat=seat_id,
                case=access.case_id,
                party=access.viewer.id,
                reasons=reasons,
                status=CHALLENGE.initial,
                created_at=at,
            )
        ).returning(Challenge.id)
        await record(
            keyring,
            ref,
            "arbitrator.challenged",
            actor(access.viewer.id, access.acting_role(A.BEFORE_NEUTRAL)),
            {
                "challenge": rows[0]["id"],
                "seat": seat["seat"],
                "seat_id": seat_id,
                "arbitrator": f"user:{seat['arbitrator']}",
                "reasons": reasons,
            },
        )
        told = await owners(access.case_id, roles.SUPERVISOR)
        told += [s.user_id for s in await sides_of(access.case_id)] + [seat["arbitrator"]]
        await seating.tell([u for u in told if u != access.viewer.id], ref, "challenged",
                           name=seat["arbitrator.name"], reasons=reasons)  # fmt: skip


async def decide_challenge(keyring: Keyring, ref: str, access: CaseAccess, challenge_id: int,
                           form: dict[str, str]) -> None:  # fmt: skip
    """A supervisor upholds a challenge (the arbitrator leaves, the seat is filled again
    by the same method) or dismisses it, with reasons."""
    if not access.can_decide_challenge:
        raise NotAllowed(_("Only a supervisor decides a challenge."))
    found = (
        await Challenge.select()
        .where((Challenge.id == challenge_id) & (Challenge.case == access.case_id))
        .first()
    )
    if found is None:
        raise NotFound()
    errors: dict[str, str] = {}
    decision = form.get("decision", "")
    reasons = seating.text_of(form, "reasons")
    if decision not in ("uphold", "dismiss"):
        errors["decision"] = _("Choose whether you uphold or dismiss the challenge.")
    if not reasons:
        errors["reasons"] = _("Give the reasons for your decision.")
    elif len(reasons) > seating.TEXT_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=seating.TEXT_LIMIT)
    if errors:
        raise FormInvalid(errors)
    step = move(CHALLENGE, decision)
    status = step.target
    at = deadlines.now()
    seat = (
        await Seat.select(*Seat.all_columns(), Seat.arbitrator.name)
        .where(Seat.id == found["seat"])
        .first()
    )
    assert seat is not None
    async with write_transaction(Case._meta.db):
        await seating.hold(seat["arbitration"])
        current = await Seat.select(Seat.status).where(Seat.id == seat["id"]).first()
        assert current is not None
        ask(SEAT, "decide_challenge", subject({**seat, **current}), access, at,
            _("This arbitrator is no longer on the tribunal."))  # fmt: skip
        moved = (
            await Challenge.update(
                {
                    Challenge.status: status,
                    Challenge.decided_by: access.viewer.id,
                    Challenge.decision: reasons,
                    Challenge.decided_at: at,
                }
            )
            .where((Challenge.id == challenge_id) & Challenge.status.is_in(sorted(step.sources)))
            .returning(Challenge.id)
        )
        if not moved:
            raise Conflict(_("This challenge has been decided already."))
        body = {"seat": seat["seat"], "seat_id": seat["id"],
                "arbitrator": f"user:{seat['arbitrator']}"}  # fmt: skip
        await record(keyring, ref, "challenge.decided", actor(access.viewer.id, roles.SUPERVISOR),
                     {"challenge": challenge_id, **body, "decision": status,
                      "reasons": reasons})  # fmt: skip
        told = [s.user_id for s in await sides_of(access.case_id)] + [seat["arbitrator"]]
        await seating.tell(told, ref, f"challenge_{status}", name=seat["arbitrator.name"],
                           reasons=reasons)  # fmt: skip
        if step.name == "uphold":
            await filling.remove(keyring, ref, seat, at)
