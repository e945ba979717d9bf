"""Mediation's sub-procedures as tables: the mediator's appointment, an offer, the settlement.

Each is a `Procedure` over the status its row keeps in the database (`mediator_appointment`,
`settlement_offer`, `settlement_agreement`), with the exact strings stored there. The
services in `mediation/` ask these tables whether a step may be taken (`check`), which
statuses are still open, and who owes the next step, instead of comparing strings:

    appointment
    proposed --(every side agrees, or the objection window passes)--> invited
    invited  --(disclosed nothing, accepted)--> active
             --(disclosed something, accepted)--> disclosed --(no objection)--> active
             --(declined, or no answer in time)--> declined
    proposed | disclosed --(a side objects)--> objected
    active   --(settled, impasse)--> ended

    offer
    open --(the last side accepts)--> accepted     open --(a side rejects)--> rejected
    open --(a side counters)--> countered          open --(its day passes)--> expired
    open --(another offer is accepted)--> superseded

    settlement
    signing --(every side and the mediator signed)--> signed

A row's mapping is given to `check` through `subject`, which names its status `state`
as the kernel expects. Steps the portal takes itself (an invitation after the window, the
last signature's seal) are `SYSTEM`'s and are checked with `acting(SYSTEM)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.i18n import _
from portal.procedure import roles
from portal.procedure.table import SYSTEM, Procedure, State, action

SIDES = roles.PARTY_SIDES
"""Who answers a proposed mediator or an offer, and signs: the claimant, the respondent,
or whoever speaks for the platform."""


@dataclass(frozen=True)
class Acting:
    """Someone who asks a table by role alone: the invited mediator, who is not yet on
    the case, or the portal itself (`SYSTEM`)."""

    roles: frozenset[str]


def acting(*held: str) -> Acting:
    return Acting(frozenset(held))


def subject(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the tables read it: its `status` is the procedure's `state`."""
    return {**row, "state": row["status"]}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def within_objection_window(row: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """The sides answer a proposal, or a disclosure, until its objection window ends."""
    if _utc(row["objection_due"]) < now:
        return _("The time to answer ended on %(date)s.", date=_when(row["objection_due"]))
    return None


def not_extended(row: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """The mediation period may be extended once."""
    if row["extended"]:
        return _(
            "The mediation period has been extended once already; it cannot be extended again."
        )
    return None


APPOINTMENT = Procedure(
    name="appointment",
    states=(
        State("proposed", "proposed", owner=roles.CLAIMANT,
              meaning="The sides may agree to the mediator proposed, or object, in the window."),
        State("invited", "invited", owner=roles.SUPERVISOR,
              meaning="The mediator reads the summary, discloses and answers; they are not "
                      "on the case yet, so the supervisors watch the deadline."),
        State("disclosed", "disclosed", owner=roles.CLAIMANT,
              meaning="The mediator accepted and disclosed something the sides may object to."),
        State("active", "mediating", owner=roles.MEDIATOR,
              meaning="The mediator is on the case and the mediation period runs."),
        State("objected", "objected to", final=True,
              meaning="A side objected; a supervisor proposes someone else."),
        State("declined", "declined", final=True,
              meaning="The mediator declined, or did not answer in time."),
        State("ended", "mediation ended", final=True,
              meaning="The case was settled or reached an impasse."),
    ),
    actions=(
        action("agree_to_proposal", ["proposed"], "proposed", SIDES,
               "Agree to the proposed mediator", within_objection_window),
        action("object_to_proposal", ["proposed"], "objected", SIDES,
               "Object to the proposed mediator", within_objection_window),
        action("invite", ["proposed"], "invited", [SYSTEM], "Invite the mediator"),
        action("accept", ["invited"], "active", [roles.MEDIATOR], "Accept"),
        action("disclose", ["invited"], "disclosed", [roles.MEDIATOR],
               "Disclose and accept"),
        action("decline", ["invited"], "declined", [roles.MEDIATOR], "Decline"),
        action("lapse", ["invited"], "declined", [SYSTEM], "Treat as declined"),
        action("agree_to_disclosure", ["disclosed"], "disclosed", SIDES,
               "Agree despite the disclosure", within_objection_window),
        action("object_to_disclosure", ["disclosed"], "objected", SIDES,
               "Object to the disclosure", within_objection_window),
        action("start", ["disclosed"], "active", [SYSTEM], "Start the mediation"),
        action("extend", ["active"], "active", [roles.MEDIATOR], "Extend the mediation",
               not_extended),
        action("end", ["active"], "ended", [SYSTEM], "End the mediation"),
    ),
    initial="proposed",
)  # fmt: skip


def unexpired(row: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """An offer is answered only while it stands."""
    if _utc(row["expires_at"]) <= now:
        return _("This offer expired on %(date)s.", date=_when(row["expires_at"]))
    return None


OFFER = Procedure(
    name="offer",
    states=(
        State("open", "Open", meaning="The other sides may accept, reject or counter it."),
        State("accepted", "Accepted by every side", final=True,
              meaning="The agreement is drawn up from it."),
        State("rejected", "Rejected by a side", final=True),
        State("countered", "Countered", final=True, meaning="A side answered with an offer."),
        State("expired", "Expired", final=True),
        State("superseded", "Superseded by an accepted offer", final=True),
    ),
    actions=(
        action("accept", ["open"], "open", SIDES, "Accept the offer", unexpired),
        action("reject", ["open"], "rejected", SIDES, "Reject the offer", unexpired),
        action("counter", ["open"], "countered", SIDES, "Make a counter-offer", unexpired),
        action("conclude", ["open"], "accepted", [SYSTEM], "Every side accepted"),
        action("expire", ["open"], "expired", [SYSTEM], "Expire"),
        action("supersede", ["open"], "superseded", [SYSTEM], "Supersede"),
    ),
    initial="open",
)  # fmt: skip

SETTLEMENT = Procedure(
    name="settlement",
    states=(
        State("signing", "being signed", meaning="Every side and the mediator sign the text."),
        State("signed", "signed", final=True,
              meaning="The last signature settled the case; the agreement binds."),
    ),
    actions=(
        action("sign", ["signing"], "signing", [*SIDES, roles.MEDIATOR], "Sign the settlement"),
        action("seal", ["signing"], "signed", [SYSTEM], "The last signature"),
    ),
    initial="signing",
)  # fmt: skip

PROCEDURES = (APPOINTMENT, OFFER, SETTLEMENT)

__all__ = [
    "APPOINTMENT", "OFFER", "PROCEDURES", "SETTLEMENT", "SIDES", "Acting", "acting", "subject",
]  # fmt: skip
