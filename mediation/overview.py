"""What the case room shows of a mediation, for one viewer.

Everything here is said in the joint channel: who was proposed, objections and their
reasons, the disclosure, offers and the agreement. Caucus conversations are statements
in their own channels (`portal.procedure.policy`), never part of this overview.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mediation import appointment, offers, proposal, settlement
from mediation.items import KIND_LABELS, ROWS
from portal.cases.sides import sides_of, staff_choices
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.mediation import OFFER, SETTLEMENT

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

SHOWN_IN = frozenset(("mediation", "impasse", "settled", "arbitration", "closed", "withdrawn"))


def _roster_line(mediator: dict[str, Any]) -> str:
    details = " · ".join(
        part for part in (mediator["languages"], mediator["jurisdiction"],
                          (mediator["expertise"] or "")[:80]) if part
    )  # fmt: skip
    return f"{mediator['name']} — {details}" if details else mediator["name"]


def appointment_status(status: str) -> str:
    return {
        "proposed": _("proposed"), "invited": _("invited"), "disclosed": _("disclosed"),
        "active": _("mediating"), "objected": _("objected to"), "declined": _("declined"),
        "ended": _("mediation ended"),
    }.get(status, status)  # fmt: skip


def offer_status(status: str) -> str:
    return {
        "open": _("Open"), "accepted": _("Accepted by every side"),
        "rejected": _("Rejected by a side"), "countered": _("Countered"),
        "expired": _("Expired"), "superseded": _("Superseded by an accepted offer"),
    }.get(status, status)  # fmt: skip


def offer_answer(answer: str) -> str:
    return {"accept": _("accepts"), "reject": _("rejects"), "counter": _("counters")}.get(
        answer, answer
    )


async def overview(case: dict[str, Any], access: CaseAccess, at: datetime) -> dict[str, Any] | None:
    """The mediation panel's data, or None when the case never went to mediation."""
    if case["state"] not in SHOWN_IN:
        return None
    past = await appointment.history(access.case_id)
    if case["state"] != "mediation" and not past:
        return None
    live = next((a for a in past if a["status"] in appointment.LIVE), None)
    sides = await sides_of(access.case_id)
    offer_rows = await offers.history(access.case_id, at)
    agreement = await settlement.current(access.case_id)
    return {
        "live": live,
        "past": [a for a in past if a is not live],
        "sides": sides,
        "my_answer": _my_answer(live, access.viewer.id),
        "used_objection": _used_objection(past, access.viewer.id),
        "offers": offer_rows,
        "settlement": agreement,
        "may_sign": _may_sign(agreement, access),
        "answerable": _answerable_offers(offer_rows, access),
        "roster_options": [
            (str(m["id"]), _roster_line(m))
            for m in (await proposal.roster_choices() if access.can_propose_mediator else [])
        ],
        "staff_options": [
            (str(s["id"]), s["name"])
            for s in (await staff_choices() if access.can_propose_mediator else [])
        ],
        "appointment_status": appointment_status,
        "offer_status": offer_status,
        "offer_answer": offer_answer,
        "needs_representative": not any(
            s.role in (roles.RESPONDENT, roles.PLATFORM) for s in sides
        ),
        "kinds": [(kind, label()) for kind, label in KIND_LABELS.items()],
        "rows": range(ROWS),
        "default_expiry": (at + timedelta(days=7)).date().isoformat(),
        "side_roles": [s.role for s in sides]
        + ([roles.PLATFORM] if roles.PLATFORM not in {s.role for s in sides} else []),
    }


def _my_answer(live: dict[str, Any] | None, viewer_id: int) -> dict[str, Any]:
    """This viewer's answer at the live appointment's current stage, if they gave one."""
    if live is None:
        return {}
    stage = proposal.STAGES.get(live["status"], ("disclosure",))[0]
    return next(
        (a for a in live["answers"] if a["party"] == viewer_id and a["stage"] == stage),
        {},
    )


def _used_objection(past: list[dict[str, Any]], viewer_id: int) -> bool:
    """Whether this viewer has objected to a proposed mediator before: a party has one
    objection on a case, so the form offers it no more."""
    return any(
        a["party"] == viewer_id and a["stage"] == "proposal" and a["objects"]
        for a in (answer for row in past for answer in row["answers"])
    )


def _may_sign(agreement: dict[str, Any] | None, access: CaseAccess) -> bool:
    """Whether this viewer's signature is one the open settlement still waits for."""
    return bool(
        agreement
        and not SETTLEMENT.state(agreement["status"]).final
        and access.can_sign_settlement
        and any(p["user"] == access.viewer.id for p in agreement["pending"])
    )


def _answerable_offers(offer_rows: list[dict[str, Any]], access: CaseAccess) -> set[int]:
    """The open offers this viewer may answer: a party's, made by the other side, and
    not answered by them yet."""
    return {
        o["id"]
        for o in offer_rows
        if o["status"] in OFFER.open_states
        and access.can_negotiate
        and access.viewer.id in access.party_ids
        and o["author"] != access.viewer.id
        and all(a["party"] != access.viewer.id for a in o["answers"])
    }
