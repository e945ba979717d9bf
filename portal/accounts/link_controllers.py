"""The pages behind single-use links: accepting an invitation, and resetting a password.

Opening a link only shows a form; the link is spent when the form is sent, so a mail
scanner that fetches every link in an email does not use it up.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from portal.accounts import invitations, service
from portal.accounts.controllers import _form as read_form
from portal.accounts.controllers import start_session
from portal.accounts.invitations import INVITE, RESET, LinkUnusable
from portal.errors import FormInvalid
from portal.procedure import roles
from portal.web.pages import page

Req = Request[Any, Any, Any]


def _unusable(exc: LinkUnusable, purpose: str) -> Template:
    return page(
        "accounts/link_unusable.html",
        status_code=exc.status_code,
        purpose=purpose,
        message=str(exc),
    )


async def _password_form(
    token: str, purpose: str, errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    try:
        holder = await invitations.look_up(token, purpose)
    except LinkUnusable as exc:
        return _unusable(exc, purpose)
    action = ("/invite/" if purpose == INVITE else "/password/reset/") + token
    return page(
        "accounts/set_password.html",
        status_code=status,
        purpose=purpose,
        holder=holder,
        needs_second_factor=holder.role in roles.NEEDS_SECOND_FACTOR,
        action=action,
        errors=errors or {},
    )


class InvitationController(Controller):
    @get("/invite/{token:str}")
    async def invitation(self, token: str) -> Template:
        return await _password_form(token, INVITE)

    @post("/invite/{token:str}")
    async def accept(self, request: Req, token: str) -> Response[Any] | Template:
        form = await read_form(request)
        try:
            user_id, epoch = await invitations.accept_invitation(
                token, form.get("password", ""), form.get("password_again", "")
            )
        except FormInvalid as exc:
            return await _password_form(token, INVITE, exc.errors, status=400)
        except LinkUnusable as exc:
            return _unusable(exc, INVITE)
        await start_session(request, {"uid": user_id, "epoch": epoch})
        row = await service.user_row(user_id)
        if row["role"] in roles.NEEDS_SECOND_FACTOR:
            return Redirect("/account/second-factor", status_code=303)
        return Redirect("/cases", status_code=303)


class PasswordResetController(Controller):
    path = "/password"

    @get("/forgot")
    async def forgot_form(self) -> Template:
        return page("accounts/password_forgot.html", form={}, errors={})

    @post("/forgot")
    async def forgot(self, request: Req) -> Template:
        form = await read_form(request)
        try:
            email = service.normal_email(form.get("email", ""))
        except FormInvalid as exc:
            return page(
                "accounts/password_forgot.html", status_code=400, form=form, errors=exc.errors
            )
        await invitations.request_reset(email, request.app.state.settings.base_url)
        # The same page whether or not there is such an account: it must not tell.
        return page("accounts/password_forgot_sent.html", email=email)

    @get("/reset/{token:str}")
    async def reset_form(self, token: str) -> Template:
        return await _password_form(token, RESET)

    @post("/reset/{token:str}")
    async def reset(self, request: Req, token: str) -> Template:
        form = await read_form(request)
        try:
            await invitations.reset_password(
                token, form.get("password", ""), form.get("password_again", "")
            )
        except FormInvalid as exc:
            return await _password_form(token, RESET, exc.errors, status=400)
        except LinkUnusable as exc:
            return _unusable(exc, RESET)
        return page("accounts/password_changed.html")
