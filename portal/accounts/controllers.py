"""Signing up, logging in and out, the second factor, and choosing a language."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from portal.accounts import profile, second_factor, service
from portal.accounts.tables import WebSession
from portal.errors import FormInvalid, PortalError
from portal.i18n import LANGUAGES, current_language
from portal.web.pages import page
from portal.web.sessions import SESSION_COOKIE, rotate_session
from portal.web.viewer import login_required, viewer_of

Req = Request[Any, Any, Any]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must never send anyone elsewhere."""
    if not target:
        return "/cases"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/cases"
    return target


def _address(request: Req) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Req) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def start_session(request: Req, values: dict[str, Any]) -> None:
    """A fresh session ID for new privileges; the old ID is deleted from the store."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await WebSession.delete().where(WebSession.key == old)
    rotate_session(request)
    request.set_session(values)


class AccountController(Controller):
    @get("/signup")
    async def signup_form(self, request: Req) -> Template:
        return page("accounts/signup.html", form={}, errors={})

    @post("/signup")
    async def signup(self, request: Req) -> Template:
        form = await _form(request)
        try:
            email = await service.sign_up(
                form, current_language(), request.app.state.settings.base_url
            )
        except FormInvalid as exc:
            form.pop("password", None)
            form.pop("password_again", None)
            return page("accounts/signup.html", status_code=400, form=form, errors=exc.errors)
        # The same page whether or not the address had an account: the email says which.
        return page("accounts/signup_sent.html", email=email)

    @get("/login")
    async def login_form(self, request: Req, next: str | None = None) -> Template:
        return page("accounts/login.html", form={"next": _safe_next(next)}, errors={}, message="")

    @post("/login")
    async def login(self, request: Req) -> Response[Any] | Template:
        form = await _form(request)
        next_page = _safe_next(form.get("next"))
        try:
            result = await service.authenticate(
                form.get("email", ""), form.get("password", ""), _address(request)
            )
        except PortalError as exc:
            return page(
                "accounts/login.html",
                status_code=400,
                form={"email": form.get("email", ""), "next": next_page},
                errors={},
                message=str(exc),
            )
        if result.needs_code:
            await start_session(
                request,
                {
                    "uid": result.user_id,
                    "epoch": result.epoch,
                    "pending_second_factor": True,
                    "next": next_page,
                },
            )
            return Redirect("/login/code", status_code=303)
        await start_session(request, {"uid": result.user_id, "epoch": result.epoch})
        return Redirect(next_page, status_code=303)

    @get("/login/code")
    async def code_form(self, request: Req) -> Response[Any] | Template:
        if not request.session.get("pending_second_factor"):
            return Redirect("/login", status_code=303)
        return page("accounts/login_code.html", errors={})

    @post("/login/code")
    async def code(self, request: Req) -> Response[Any] | Template:
        session = dict(request.session)
        if not session.get("pending_second_factor"):
            return Redirect("/login", status_code=303)
        form = await _form(request)
        secret_key = request.app.state.settings.secret_key
        try:
            await service.check_code(
                session["uid"], form.get("code", ""), secret_key, _address(request)
            )
        except FormInvalid as exc:
            return page("accounts/login_code.html", status_code=400, errors=exc.errors)
        except PortalError as exc:
            return page("accounts/login_code.html", status_code=400, errors={"code": str(exc)})
        await start_session(
            request, {"uid": session["uid"], "epoch": session["epoch"], "second_factor": True}
        )
        return Redirect(_safe_next(session.get("next")), status_code=303)

    @post("/logout")
    async def logout(self, request: Req) -> Redirect:
        # Deleting the row ends the session for any copy of the cookie, too.
        request.clear_session()
        return Redirect("/login", status_code=303)

    @post("/language")
    async def choose_language(self, request: Req) -> Redirect:
        form = await _form(request)
        choice = form.get("language", "")
        response = Redirect(_safe_next(form.get("next") or "/"), status_code=303)
        if choice in LANGUAGES:
            viewer = viewer_of(request)
            if viewer:
                await profile.choose_language(viewer.id, choice)
            response.set_cookie(
                "portal_lang",
                choice,
                max_age=365 * 86400,
                samesite="lax",
                httponly=True,
                secure=request.app.state.settings.secure_cookies,
            )
        return response

    @get("/account/second-factor", guards=[login_required])
    async def second_factor_form(self, request: Req) -> Template:
        viewer = viewer_of(request)
        assert viewer is not None
        secret = request.session.get("enrol_secret") or second_factor.new_secret()
        request.session["enrol_secret"] = secret
        request.set_session(dict(request.session))
        uri = second_factor.provisioning_uri(secret, viewer.email)
        return page(
            "accounts/second_factor.html",
            qr=second_factor.qr_svg(uri),
            secret=secret,
            errors={},
        )

    @post("/account/second-factor", guards=[login_required])
    async def enrol(self, request: Req) -> Response[Any] | Template:
        viewer = viewer_of(request)
        assert viewer is not None
        secret = request.session.get("enrol_secret")
        if not secret:
            return Redirect("/account/second-factor", status_code=303)
        form = await _form(request)
        settings = request.app.state.settings
        try:
            await service.enrol_second_factor(
                viewer.id, secret, form.get("code", ""), settings.secret_key
            )
        except FormInvalid as exc:
            uri = second_factor.provisioning_uri(secret, viewer.email)
            return page(
                "accounts/second_factor.html",
                status_code=400,
                qr=second_factor.qr_svg(uri),
                secret=secret,
                errors=exc.errors,
            )
        session = {k: v for k, v in request.session.items() if k != "enrol_secret"}
        await start_session(request, {**session, "second_factor": True})
        return Redirect("/cases", status_code=303)
