"""The invited neutral's page, one template for mediators and arbitrators.

An area gives what differs as an `Invitation` (its words and where its forms go) and its
own service's invitation row; the case's summary, the disclosure form and the decline form
are the same. A service that finds no open invitation for the person raises `NotInvited`,
which `not_found` answers as the 404 of any page that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.cases.categories import category_label
from portal.neutrals.disclosure import case_summary
from portal.web.pages import handle_error, page


@dataclass(frozen=True)
class Invitation:
    """What one kind of neutral's invitation says, already in the reader's language."""

    title: str  # "Invitation to mediate MD-…": the page's title and heading
    intro: str  # who invited them, to what, and by when to answer
    may_object: str  # what the parties may do with a disclosure
    path: str  # where the forms go: {path}/{id}/accept and {path}/{id}/decline
    forms: str  # the forms' ids: accept-{forms}, decline-{forms}


Wording = Callable[[dict[str, Any], dict[str, Any]], Invitation]
"""An area's words for its invitation, from the case and the invitation's row."""


def when(moment: datetime | None) -> str:
    """A deadline as the pages show it (the `when` filter's format)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


async def invitation_page(invitation: dict[str, Any], wording: Wording,
                          errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                          status: int = 200) -> Template:  # fmt: skip
    """The case's summary, the disclosure and the answer, for the neutral invited."""
    case, parties = await case_summary(invitation["case"])
    return page(
        "neutrals/invitation.html",
        status_code=status,
        invitation=invitation,
        neutral=wording(case, invitation),
        case=case,
        parties=parties,
        category_label=category_label,
        errors=errors or {},
        form=form or {},
    )


def not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """No open invitation (or no such thing) for this person: the portal's 404 page."""
    return handle_error(request, NotFoundException())
