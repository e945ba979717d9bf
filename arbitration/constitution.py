"""Constituting a tribunal: the ruleset, the list method, nominations, the arbitrators'
invitations and disclosures, and challenges (BRIEF "Arbitration"; issue 6, 1-4).

    started --(sole)--> list sent to the sides --(all answered, or the deadline)--> closed
            --(three)--> each side names one; both accepted --> list sent to the two
    list closed --> the best combined ranking invited (`arbitration.listing`)
    invited --(discloses, signs by password, accepts)--> active (on the case)
            --(declines, or no answer in `answer_window`)--> declined / lapsed
               --> the next best of the list; a list used up --> a new list, and the
                   supervisors are told; a nominee --> the same side names again
    every seat active --> constituted: the tribunal owes the timetable
    active --(a side challenges within `challenge_window`; a supervisor upholds)-->
            removed (off the case, never invited to it again); the seat is filled
            again by the same method

Who is on a list: arbitrators on the roster (active, `on_roster`), nobody already on the
case in another role (its mediator, staff, a co-arbitrator), and nobody who already held,
declined or lost a seat of this tribunal. The list is in roster order (name, then id).

A ranker's answer stays secret until the list closes: see `arbitration.listing`.

A side that does not name its arbitrator in `nomination_window` is late like any step:
the case's deadline is the nomination's, so the sweep's overdue reminder tells the
supervisors, and from then a supervisor may name an arbitrator for that side.

Each step is one write transaction holding the change and its ledger entries; it first
takes the arbitration's row (a no-op update: a row lock on PostgreSQL, and SQLite's
IMMEDIATE transactions are serial anyway), so two requests or two sweeps cannot both
invite, close or appoint. Steps that follow from time passing run in `advance_due`.

Where each part lives: the states and who may move them are tables
(`portal.procedure.arbitration`); this module starts the arbitration and takes the
nominations; `arbitration.rankings` the lists, `arbitration.disclosure` the invited
arbitrator's answer, `arbitration.challenges` the challenges, `arbitration.filling` what
follows from each (a seat filled, emptied, the tribunal constituted), on the reading and
shared steps of `arbitration.seating`; `arbitration.constitution_view` is what the room shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbitration import filling, seating
from arbitration.rules import DEFAULT, RULESETS, ruleset
from arbitration.tables import Arbitration
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.sides import (
    add_representative,
    chosen_representative,
    needs_representative,
    sides_of,
)
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.arbitration import CONSTITUTING

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


async def start(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> None:
    """A supervisor chooses the rules: a list goes out, or the sides name their arbitrators."""
    if not access.can_start_arbitration:
        raise NotAllowed(_("Only a supervisor starts the arbitration."))
    errors: dict[str, str] = {}
    key = form.get("ruleset") or DEFAULT
    if key not in RULESETS:
        errors["ruleset"] = _("Choose the rules of this arbitration.")
    representative = None
    if await needs_representative(access.case_id):
        representative = await chosen_representative(form, errors)
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    rules = RULESETS[key]
    async with write_transaction(Case._meta.db):
        if await seating.started(access.case_id):
            raise Conflict(_("The arbitration of this case has started already."))
        who = actor(access.viewer.id, roles.SUPERVISOR)
        if representative is not None:
            await add_representative(keyring, ref, access.case_id, representative, who, at)
        await Arbitration.insert(
            Arbitration(
                case=access.case_id,
                ruleset=key,
                started_by=access.viewer.id,
                status=CONSTITUTING,
                started_at=at,
            )
        )
        arbitration = await seating.started(access.case_id)
        assert arbitration is not None
        await record(keyring, ref, "arbitration.started", who, {"ruleset": key})
        if rules.arbitrators == 1:
            await filling.send_new_list(keyring, ref, arbitration, seating.SOLE, at)
            return
        due = at + rules.nomination_window
        await seating.tell([s.user_id for s in await sides_of(access.case_id)], ref, "nominate",
                           due=seating.when(due))  # fmt: skip
        await seating.refresh_deadline(arbitration, at)


async def nominate(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> None:
    """Three members: a side names its arbitrator; after its window, a supervisor may."""
    if not access.can_nominate:
        raise NotAllowed(
            _("Only the sides name arbitrators; a supervisor names one for a side that did "
              "not in time.")
        )  # fmt: skip
    arbitration = await seating.started(access.case_id)
    if arbitration is None:
        raise Conflict(_("Start the arbitration first."))
    if ruleset(arbitration["ruleset"]).arbitrators != 3:
        raise Conflict(
            _("Under these rules the arbitrator is chosen from a list; nobody is named.")
        )
    sides = await sides_of(access.case_id)
    mine = next((s for s in sides if s.user_id == access.viewer.id), None)
    errors: dict[str, str] = {}
    if mine is not None:
        seat = seating.nominee_seat(mine.role)
    else:
        seat = form.get("seat", "")
        if seat not in seating.NOMINEE_SEATS:
            errors["seat"] = _("Choose the side you name an arbitrator for.")
    chosen = form.get("arbitrator", "")
    pool = {
        int(row["id"]): row for row in await seating.eligible(arbitration["id"], access.case_id)
    }
    if not chosen.isdigit() or int(chosen) not in pool:
        errors["arbitrator"] = _("Choose an arbitrator from the roster.")
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await seating.hold(arbitration["id"])
        if await seating.live_seat(arbitration["id"], seat) is not None:
            raise Conflict(_("An arbitrator has already been named for this side."))
        if mine is None:
            due = await seating.nomination_due(arbitration, seat)
            if at < due:
                raise Conflict(
                    _("The side has until %(date)s to name its arbitrator.", date=seating.when(due))
                )
        still = await seating.eligible(arbitration["id"], access.case_id)
        if int(chosen) not in {int(r["id"]) for r in still}:
            raise Conflict(_("This arbitrator can no longer be named on this case."))
        role = mine.role if mine is not None else roles.SUPERVISOR
        await record(
            keyring,
            ref,
            "arbitrator.nominated",
            actor(access.viewer.id, role),
            {"seat": seat, "arbitrator": f"user:{chosen}", "name": pool[int(chosen)]["name"]},
        )
        await filling.invite(keyring, ref, arbitration, seat, int(chosen), "nomination", at)
