"""Procedural orders: the tribunal's numbered decisions on how the case proceeds.

Order no. 1 sets the timetable; a granted extension is recorded by a later order, and
the tribunal may issue an order in its own words at any time. An order's text is drawn
up once, in the case's language, and its ledger entry carries the text and its
SHA-256; an order is never edited, only followed by another.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from arbitration import tribunal
from arbitration.tables import ProceduralOrder
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import FormInvalid, NotAllowed
from portal.i18n import _, language
from portal.procedure import roles

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

TEXT_LIMIT = 20_000


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_up(ref: str, case_language: str, number: int, paragraphs: list[str]) -> str:
    """An order's text: its heading, then `paragraphs` (already in the case's language)."""
    with language(case_language):
        heading = _("Procedural Order no. %(n)s in case %(ref)s", n=number, ref=ref)
    return "\n\n".join([heading, *paragraphs]) + "\n"


async def issue(
    keyring: Keyring,
    ref: str,
    case_id: int,
    by: int,
    paragraphs: Any,
    at: datetime,
) -> dict[str, Any]:
    """The next numbered order, in the caller's write transaction.

    `paragraphs` is called with nothing, inside the case's language, and returns the
    order's paragraphs. The case row is touched first, so two orders of one case
    written at once are numbered one after the other.
    """
    await Case.update({Case.updated_at: at}).where(Case.id == case_id)
    case = await Case.select(Case.language).where(Case.id == case_id).first()
    assert case is not None  # touched just above, in this transaction
    number = await ProceduralOrder.count().where(ProceduralOrder.case == case_id) + 1
    with language(case["language"]):
        body = paragraphs()
    text = draw_up(ref, case["language"], number, body)
    digest = text_hash(text)
    receipt = await record(
        keyring,
        ref,
        "order.issued",
        actor(by, roles.ARBITRATOR),
        {"number": number, "sha256": digest, "text": text},
    )
    await ProceduralOrder.insert(
        ProceduralOrder(
            case=case_id,
            number=number,
            text=text,
            sha256=digest,
            issued_by=by,
            case_seq=receipt.case_seq,
            issued_at=at,
        )
    )
    await tribunal.tell_everyone(case_id, ref, "order", by=by, number=number)
    return {"number": number, "sha256": digest, "text": text, "case_seq": receipt.case_seq}


async def issue_free_order(
    keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]
) -> int:
    """An order in the tribunal's own words; returns its number."""
    if not access.can_conduct_proceedings:
        raise NotAllowed(_("Only the tribunal issues procedural orders, while it sits."))
    text = form.get("text", "").replace("\r\n", "\n").strip()
    if not text:
        raise FormInvalid({"text": _("Write what the tribunal orders.")})
    if len(text) > TEXT_LIMIT:
        raise FormInvalid({"text": _("Keep this under %(n)s characters.", n=TEXT_LIMIT)})
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        order = await issue(keyring, ref, access.case_id, access.viewer.id, lambda: [text], at)
    return int(order["number"])


async def history(case_id: int) -> list[dict[str, Any]]:
    """Every order of the case, in number order, with who issued it."""
    rows: list[dict[str, Any]] = (
        await ProceduralOrder.select(*ProceduralOrder.all_columns(), ProceduralOrder.issued_by.name)
        .where(ProceduralOrder.case == case_id)
        .order_by(ProceduralOrder.number)
    )
    return rows
