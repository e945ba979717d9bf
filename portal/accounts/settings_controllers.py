"""`/account`: every logged-in person's own settings page and its forms."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from portal.accounts import profile, service
from portal.accounts.controllers import _address, start_session
from portal.accounts.controllers import _form as read_form
from portal.errors import FormInvalid
from portal.i18n import LANGUAGES
from portal.web.pages import page
from portal.web.viewer import login_required, viewer_of

Req = Request[Any, Any, Any]

SAVED = ("name", "language", "password")
"""What `?saved=` may name after a form was sent; anything else shows no message."""


async def _settings_page(
    request: Req,
    *,
    saved: str = "",
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    viewer = viewer_of(request)
    assert viewer is not None
    row = await service.user_row(viewer.id)
    return page(
        "accounts/settings.html",
        status_code=status,
        account=row,
        needs_second_factor=viewer.must_use_second_factor,
        language_options=list(LANGUAGES.items()),
        saved=saved if saved in SAVED else "",
        errors=errors or {},
        form=form or {},
    )


class SettingsController(Controller):
    path = "/account"
    guards = [login_required]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def show(self, request: Req, saved: str = "") -> Template:
        return await _settings_page(request, saved=saved)

    @post("/name")
    async def rename(self, request: Req) -> Response[Any] | Template:
        viewer = viewer_of(request)
        assert viewer is not None
        form = await read_form(request)
        try:
            await profile.rename(viewer.id, form.get("name", ""))
        except FormInvalid as exc:
            return await _settings_page(request, errors=exc.errors, form=form, status=400)
        return Redirect("/account?saved=name", status_code=303)

    @post("/language")
    async def choose_language(self, request: Req) -> Response[Any] | Template:
        viewer = viewer_of(request)
        assert viewer is not None
        form = await read_form(request)
        try:
            await profile.choose_language(viewer.id, form.get("language", ""))
        except FormInvalid as exc:
            return await _settings_page(request, errors=exc.errors, status=400)
        response = Redirect("/account?saved=language", status_code=303)
        # The cookie keeps the choice on the login page after logging out.
        response.set_cookie(
            "portal_lang",
            form["language"],
            max_age=365 * 86400,
            samesite="lax",
            httponly=True,
            secure=request.app.state.settings.secure_cookies,
        )
        return response

    @post("/password")
    async def change_password(self, request: Req) -> Response[Any] | Template:
        viewer = viewer_of(request)
        assert viewer is not None
        form = await read_form(request)
        try:
            epoch = await profile.change_password(
                viewer.id,
                form.get("current_password", ""),
                form.get("password", ""),
                form.get("password_again", ""),
                _address(request),
            )
        except FormInvalid as exc:
            return await _settings_page(request, errors=exc.errors, status=400)
        # Every other session ended with the old epoch; this one goes on under the new one.
        session = {key: value for key, value in request.session.items() if key != "epoch"}
        await start_session(request, {**session, "epoch": epoch})
        return Redirect("/account?saved=password", status_code=303)
