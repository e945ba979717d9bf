"""Settlement offers: made by a side or the mediator, answered by the other sides.

An offer stands until it expires or is answered. Every side but its author must accept
it (all sides, when the mediator made it); one rejection or a counter-offer ends it.
When the last acceptance arrives the agreement is drawn up in the same transaction,
every other open offer is superseded, and the signing begins (`mediation.settlement`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ledger.keys import Keyring
from mediation import agreement
from mediation.items import describe, parse_items
from mediation.tables import Offer, OfferAnswer, Settlement
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.sides import mediator_of, sides_of
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed, NotFound
from portal.i18n import _
from portal.notifications.notify import notify
from portal.procedure import acting as A
from portal.procedure.mediation import OFFER, SETTLEMENT, subject
from portal.procedure.table import Refused

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

LONGEST_VALIDITY = timedelta(days=30)
NOTE_LIMIT = 5_000


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _target(name: str) -> str:
    """The status an offer's step leads to (the table `OFFER` says)."""
    found = OFFER.action(name)
    assert found is not None, name
    return found.target


def _sources(name: str) -> list[str]:
    found = OFFER.action(name)
    assert found is not None, name
    return sorted(found.sources)


def _expiry(form: dict[str, str], errors: dict[str, str], at: datetime) -> datetime:
    try:
        day = date.fromisoformat(form.get("expires_on", "").strip())
    except ValueError:
        errors["expires_on"] = _("Enter the date the offer stands until, like 2026-12-01.")
        return at
    expires = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
    if day <= at.date():
        errors["expires_on"] = _("The offer must stand until a day after today.")
    elif expires > at + LONGEST_VALIDITY:
        errors["expires_on"] = _("An offer may stand for at most 30 days.")
    return expires


async def history(case_id: int, at: datetime) -> list[dict[str, Any]]:
    """Every offer of the case, oldest first, with its answers and items described.

    An open offer past its expiry shows as expired even before the sweep marks it.
    """
    rows: list[dict[str, Any]] = (
        await Offer.select(*Offer.all_columns(), Offer.author.name)
        .where(Offer.case == case_id)
        .order_by(Offer.id)
    )
    if not rows:
        return rows
    answers = await OfferAnswer.select(*OfferAnswer.all_columns(), OfferAnswer.party.name).where(
        OfferAnswer.offer.is_in([r["id"] for r in rows])
    )
    names = {s.role: s.name for s in await sides_of(case_id)}
    numbers = {row["id"]: n for n, row in enumerate(rows, start=1)}
    for row in rows:
        row["number"] = numbers[row["id"]]
        row["counter_of_number"] = numbers.get(row["counter_of"])
        row["items"] = json.loads(row["items"])
        row["sentences"] = [describe(item, names) for item in row["items"]]
        row["answers"] = [a for a in answers if a["offer"] == row["id"]]
        if row["status"] in OFFER.open_states and _utc(row["expires_at"]) <= at:
            row["status"] = _target("expire")
    return rows


async def make_offer(
    keyring: Keyring,
    ref: str,
    access: CaseAccess,
    form: dict[str, str],
    counter_of: int | None = None,
) -> int:
    """A new offer, or a counter-offer to `counter_of`, which it ends."""
    if not access.can_negotiate:
        raise NotAllowed(
            _("Only the parties and the mediator make offers, once a mediator is on the case.")
        )
    at = deadlines.now()
    sides = await sides_of(access.case_id)
    errors: dict[str, str] = {}
    items = parse_items(form, tuple(s.role for s in sides), errors)
    expires = _expiry(form, errors, at)
    note = form.get("note", "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = _("Keep this under %(n)s characters.", n=NOTE_LIMIT)
    if errors:
        raise FormInvalid(errors)
    role = access.acting_role(A.BEFORE_NEUTRAL)
    async with write_transaction(Case._meta.db):
        await _no_settlement_yet(access.case_id)
        body: dict[str, Any] = {"items": items, "expires": _iso(expires)}
        if note:
            body["note"] = note
        if counter_of is not None:
            await _answerable(access, counter_of, at, "counter")
            body["counter_of"] = counter_of
        receipt = await record(keyring, ref, "offer.made", actor(access.viewer.id, role), body)
        if counter_of is not None:
            await OfferAnswer.insert(
                OfferAnswer(
                    offer=counter_of,
                    party=access.viewer.id,
                    answer="counter",
                    reasons="",
                    case_seq=receipt.case_seq,
                    created_at=at,
                )
            )
            await Offer.update({Offer.status: _target("counter"), Offer.closed_at: at}).where(
                Offer.id == counter_of
            )
        rows = await Offer.insert(
            Offer(
                case=access.case_id,
                author=access.viewer.id,
                author_role=role,
                items=json.dumps(items),
                note=note,
                expires_at=expires,
                status=OFFER.initial,
                counter_of=counter_of,
                case_seq=receipt.case_seq,
                created_at=at,
            )
        ).returning(Offer.id)
        await _tell_everyone(access, ref, "offer_made", expires=_iso(expires))
    return int(rows[0]["id"])


async def _no_settlement_yet(case_id: int) -> None:
    if await Settlement.exists().where(
        (Settlement.case == case_id) & Settlement.status.is_in([s.name for s in SETTLEMENT.states])
    ):
        raise Conflict(_("An offer has been accepted; the settlement is being signed."))


async def _answerable(access: CaseAccess, offer_id: int, at: datetime,
                      step: str) -> dict[str, Any]:  # fmt: skip
    """The offer, if the viewer may answer it now; Conflict or NotAllowed saying why not."""
    offer = (
        await Offer.select().where((Offer.id == offer_id) & (Offer.case == access.case_id)).first()
    )
    if offer is None:
        raise NotFound()
    if access.viewer.id not in access.party_ids:
        raise NotAllowed(_("Only the parties answer an offer."))
    if offer["author"] == access.viewer.id:
        raise NotAllowed(_("You made this offer; the other side answers it."))
    if offer["status"] not in OFFER.open_states:
        raise Conflict(_("This offer is no longer open."))
    try:
        OFFER.check(step, subject(offer), access, at)
    except Refused as exc:  # it expired
        raise Conflict(str(exc)) from exc
    if await OfferAnswer.exists().where(
        (OfferAnswer.offer == offer_id) & (OfferAnswer.party == access.viewer.id)
    ):
        raise Conflict(_("You have already answered this offer."))
    return offer


async def answer(
    keyring: Keyring, ref: str, access: CaseAccess, offer_id: int, form: dict[str, str]
) -> str:
    """Accept or reject an offer; returns the offer's status after the answer."""
    if not access.can_negotiate:
        raise NotAllowed(_("Only the parties answer an offer, while the mediation lasts."))
    choice = form.get("answer", "")
    if choice not in ("accept", "reject"):
        raise FormInvalid({"answer": _("Choose to accept or reject the offer.")})
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()[:NOTE_LIMIT]
    at = deadlines.now()
    role = access.acting_role(A.BEFORE_NEUTRAL)
    async with write_transaction(Case._meta.db):
        offer = await _answerable(access, offer_id, at, choice)
        await _no_settlement_yet(access.case_id)
        body: dict[str, Any] = {"offer": offer_id, "answer": choice}
        if reasons:
            body["reasons"] = reasons
        event = "offer.rejected" if choice == "reject" else "offer.accepted"
        receipt = await record(keyring, ref, event, actor(access.viewer.id, role), body)
        await OfferAnswer.insert(
            OfferAnswer(
                offer=offer_id,
                party=access.viewer.id,
                answer=choice,
                reasons=reasons,
                case_seq=receipt.case_seq,
                created_at=at,
            )
        )
        if choice == "reject":
            await Offer.update({Offer.status: _target("reject"), Offer.closed_at: at}).where(
                Offer.id == offer_id
            )
            await _tell_everyone(access, ref, "offer_rejected")
            return _target("reject")
        accepted = {
            row["party"]
            for row in await OfferAnswer.select(OfferAnswer.party).where(
                (OfferAnswer.offer == offer_id) & (OfferAnswer.answer == "accept")
            )
        }
        needed = set(access.party_ids) - {offer["author"]}
        if not needed <= accepted:
            await _tell_everyone(access, ref, "offer_accepted_by_one")
            return str(offer["status"])
        await _conclude(keyring, ref, access, offer, at)
        return _target("conclude")


async def _conclude(
    keyring: Keyring, ref: str, access: CaseAccess, offer: dict[str, Any], at: datetime
) -> None:
    """Every side accepted: draw up the agreement, and end every other open offer."""
    await Offer.update({Offer.status: _target("conclude"), Offer.closed_at: at}).where(
        Offer.id == offer["id"]
    )
    await Offer.update({Offer.status: _target("supersede"), Offer.closed_at: at}).where(
        (Offer.case == access.case_id) & Offer.status.is_in(_sources("supersede"))
    )
    case = await Case.select(Case.language).where(Case.id == access.case_id).first()
    assert case is not None, "the case of an offer being accepted exists"
    mediator = await mediator_of(access.case_id)
    text = agreement.draw_up(
        ref,
        case["language"],
        await sides_of(access.case_id),
        str(mediator["user.name"]) if mediator else "",
        json.loads(offer["items"]),
        await Offer.count().where((Offer.case == access.case_id) & (Offer.id <= offer["id"])),
    )
    digest = agreement.text_hash(text)
    receipt = await record(
        keyring,
        ref,
        "settlement.drafted",
        SYSTEM,
        {"offer": offer["id"], "language": case["language"], "sha256": digest, "text": text},
    )
    await Settlement.insert(
        Settlement(
            case=access.case_id,
            offer=offer["id"],
            language=case["language"],
            text=text,
            sha256=digest,
            status=SETTLEMENT.initial,
            case_seq=receipt.case_seq,
            created_at=at,
        )
    )
    await _tell_everyone(access, ref, "settlement_ready", include_self=True)


async def _tell_everyone(
    access: CaseAccess, ref: str, step: str, include_self: bool = False, **context: Any
) -> None:
    told = [s.user_id for s in await sides_of(access.case_id)]
    mediator = await mediator_of(access.case_id)
    if mediator:
        told.append(int(str(mediator["user"])))
    await notify(
        sorted({u for u in told if include_self or u != access.viewer.id}),
        f"mediation_{step}",
        case_ref=ref,
        link=f"/cases/{ref}",
        template="mediation",
        step=step,
        **context,
    )


async def expire_due(keyring: Keyring, at: datetime) -> int:
    """Mark open offers past their expiry, each with its ledger entry."""
    done = 0
    for offer in await Offer.select(Offer.id, Offer.case, Offer.case.ref).where(
        Offer.status.is_in(_sources("expire")) & (Offer.expires_at <= at)
    ):
        async with write_transaction(Case._meta.db):
            moved = (
                await Offer.update({Offer.status: _target("expire"), Offer.closed_at: at})
                .where((Offer.id == offer["id"]) & Offer.status.is_in(_sources("expire")))
                .returning(Offer.id)
            )
            if moved:
                await record(
                    keyring, offer["case.ref"], "offer.expired", SYSTEM, {"offer": offer["id"]}
                )
                done += 1
    return done
