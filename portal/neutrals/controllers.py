"""The invited neutral's page, one template for mediators and arbitrators.

An area gives what differs as an `Invitation` (its words and where its forms go) and its
own service's invitation row; the case's summary, the disclosure form and the decline form
are the same, and so are the handlers' bodies (`show_invitation`, `accept_invitation`,
`decline_invitation`): each area's controller keeps its own routes and path parameters.
A service that finds no open invitation for the person raises `NotInvited`, which
`not_found` answers as the 404 of any page that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from ledger.keys import Keyring
from portal.accounts.controllers import _address
from portal.cases.categories import category_label
from portal.errors import FormInvalid
from portal.neutrals.disclosure import Invitee, case_summary
from portal.web.pages import handle_error, page
from portal.web.viewer import viewer_of

Req = Request[Any, Any, Any]


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


class InvitationService(Protocol):
    """An area's invitation service (`mediation.invitation`, `arbitration.disclosure`):
    the open invitation of a person, by its id, and their two answers (each returns the
    case's ref)."""

    async def invitation(self, invitee: Invitee, invitation_id: int, /) -> dict[str, Any]: ...

    async def accept(self, keyring: Keyring, invitee: Invitee, invitation_id: int,
                     form: dict[str, str], address: str, /) -> str: ...  # fmt: skip

    async def decline(self, keyring: Keyring, invitee: Invitee, invitation_id: int,
                      form: dict[str, str], /) -> str: ...  # fmt: skip


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


def _invitee(request: Req) -> Invitee:
    viewer = viewer_of(request)
    assert viewer is not None  # the controller's guard ran
    return viewer


async def _form(request: Req) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


async def show_invitation(request: Req, service: InvitationService, wording: Wording,
                          invitation_id: int, errors: dict[str, str] | None = None,
                          form: dict[str, str] | None = None,
                          status: int = 200) -> Template:  # fmt: skip
    """The invitation's page, for the neutral invited (`NotInvited` for anyone else)."""
    invited = await service.invitation(_invitee(request), invitation_id)
    return await invitation_page(invited, wording, errors, form, status)


async def accept_invitation(request: Req, service: InvitationService, wording: Wording,
                            invitation_id: int) -> Response[Any] | Template:  # fmt: skip
    """Sign the disclosure and accept: to the case's room, or the page again with what to
    fix (never with the password)."""
    form = await _form(request)
    try:
        ref = await service.accept(request.app.state.keyring, _invitee(request), invitation_id,
                                   form, _address(request))  # fmt: skip
    except FormInvalid as exc:
        form.pop("password", None)
        return await show_invitation(request, service, wording, invitation_id, exc.errors, form,
                                     status=400)  # fmt: skip
    return Redirect(f"/cases/{ref}", status_code=303)


async def decline_invitation(request: Req, service: InvitationService,
                             invitation_id: int) -> Response[Any]:  # fmt: skip
    """Decline: back to the list of cases (the invitation is gone)."""
    await service.decline(request.app.state.keyring, _invitee(request), invitation_id,
                          await _form(request))  # fmt: skip
    return Redirect("/cases", status_code=303)


def not_found(request: Req, exc: Exception) -> Response[Any]:
    """No open invitation (or no such thing) for this person: the portal's 404 page."""
    return handle_error(request, NotFoundException())
