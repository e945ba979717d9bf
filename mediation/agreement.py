"""The settlement agreement's text, drawn up from the accepted offer's items.

It is written in the case's language (not the reader's): the parties sign one text,
and its SHA-256 over UTF-8 is what every signature names in the ledger. Once drawn up
it is never regenerated, so a later change to a translation cannot alter what was
signed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mediation.items import describe
from portal.cases.sides import Side
from portal.i18n import _, language


def _side_name(role: str) -> str:
    return {
        "claimant": _("claimant"),
        "respondent": _("respondent"),
        "platform": _("representative of the platform"),
    }.get(role, role)


def draw_up(
    ref: str,
    case_language: str,
    sides: list[Side],
    mediator: str,
    items: list[dict[str, Any]],
    offer_number: int,
) -> str:
    names = {side.role: side.name for side in sides}
    with language(case_language):
        parties = [
            _("%(name)s, the %(role)s", name=side.name, role=_side_name(side.role))
            for side in sides
        ]
        lines = [
            _("Settlement agreement in case %(ref)s", ref=ref),
            "",
            _(
                "Between %(parties)s, with the help of the mediator %(mediator)s.",
                parties=_("; and ").join(parties),
                mediator=mediator,
            ),
            "",
            _("The parties agree as follows (offer no. %(offer)s):", offer=offer_number),
            "",
            *(f"{n}. {describe(item, names)}" for n, item in enumerate(items, start=1)),
            "",
            _(
                "This agreement settles the dispute in case %(ref)s in full. It binds the "
                "parties once every party and the mediator have signed it.",
                ref=ref,
            ),
        ]
    return "\n".join(lines) + "\n"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
