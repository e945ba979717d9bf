"""The invited neutral's answer: the disclosure they sign, or their reasons for declining.

Both a mediator's and an arbitrator's invitation read these forms the same way, so the
messages a neutral sees, and the limits, are the same whichever they are invited as.
"""

from __future__ import annotations

from typing import Any, Protocol

from portal.accounts.reauth import confirm_password
from portal.cases.tables import Case, CaseParticipant
from portal.errors import FormInvalid, NotFound
from portal.i18n import _
from portal.procedure import roles

TEXT_LIMIT = 5_000


class NotInvited(NotFound):
    """No open invitation for this person: the web answers 404, as for a page not there."""


class Invitee(Protocol):
    """Who opens an invitation: an account (the web's viewer fits)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def cleared_for_cases(self) -> bool: ...


def may_answer(invitee: Invitee, invited: int, still_open: bool) -> bool:
    """Only the neutral invited, while the invitation is open, sees the case's summary
    before joining it."""
    return invitee.cleared_for_cases and invited == invitee.id and still_open


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").replace("\r\n", "\n").strip()


async def signed_disclosure(user_id: int, form: dict[str, str], address: str,
                            limit: int = TEXT_LIMIT) -> str:  # fmt: skip
    """What the neutral discloses ("" for nothing), once their password confirms it.

    Every mistake in the form is raised at once, the password's with the others.
    """
    errors: dict[str, str] = {}
    kind = form.get("disclosure", "")
    text = _text(form, "disclosure_text")
    if kind not in ("none", "disclose"):
        errors["disclosure"] = _("Say whether you have anything to disclose.")
    elif kind == "disclose" and not text:
        errors["disclosure_text"] = _("Write what you disclose.")
    elif len(text) > limit:
        errors["disclosure_text"] = _("Keep this under %(n)s characters.", n=limit)
    try:
        await confirm_password(user_id, form.get("password", ""), address)
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    return text if kind == "disclose" else ""


def decline_reasons(form: dict[str, str], limit: int = TEXT_LIMIT) -> str:
    """Why the neutral declines: optional, cut to the limit rather than refused."""
    return _text(form, "reasons")[:limit]


async def case_summary(case_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case and its parties, as the invited neutral reads them before joining."""
    case = await Case.select().where(Case.id == case_id).first()
    assert case is not None, case_id  # an invitation's case is never deleted
    parties: list[dict[str, Any]] = await CaseParticipant.select(
        CaseParticipant.role, CaseParticipant.user.name
    ).where((CaseParticipant.case == case_id) & CaseParticipant.role.is_in(list(roles.PARTY_SIDES)))
    return case, parties
