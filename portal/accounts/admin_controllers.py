"""The supervisor's user pages: the list, new staff, invitations, (de)activation.

Every route is behind `supervisor_only`: to anyone else `/admin` does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from portal.accounts import admin
from portal.accounts.controllers import _form as read_form
from portal.errors import FormInvalid
from portal.i18n import LANGUAGES, current_language
from portal.procedure import roles
from portal.procedure.labels import role_label
from portal.web.pages import page
from portal.web.viewer import supervisor_only, viewer_of

Req = Request[Any, Any, Any]


def _role_options(allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(role, role_label(role)) for role in allowed]


@dataclass(frozen=True)
class UserForm:
    """Two forms share one template: what differs is where it goes and the roles offered."""

    action: str
    roles: tuple[str, ...]


FORMS = {
    "staff": UserForm("/admin/users/new", roles.STAFF),
    "invite": UserForm("/admin/users/invite", roles.INVITED),
}


def _user_form(
    kind: str, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Template:
    return page(
        "admin/user_form.html",
        status_code=status,
        kind=kind,
        action=FORMS[kind].action,
        role_options=_role_options(FORMS[kind].roles),
        language_options=list(LANGUAGES.items()),
        form=form,
        errors=errors,
    )


class AdminUsersController(Controller):
    path = "/admin/users"
    guards = [supervisor_only]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def list_users(self, role: str = "", q: str = "") -> Template:
        users = await admin.list_users(role, q)
        return page(
            "admin/users.html",
            users=users,
            role=role if role in roles.ALL_ROLES else "",
            q=q,
            role_options=_role_options(roles.ALL_ROLES),
            limit=admin.LIST_LIMIT,
        )

    @get("/new")
    async def new_staff_form(self) -> Template:
        return _user_form("staff", {"language": current_language()}, {})

    @post("/new")
    async def create_staff(self, request: Req) -> Template:
        return await self._invite(request, "staff")

    @get("/invite")
    async def invite_form(self) -> Template:
        return _user_form("invite", {"language": current_language()}, {})

    @post("/invite")
    async def invite(self, request: Req) -> Template:
        return await self._invite(request, "invite")

    async def _invite(self, request: Req, kind: str) -> Template:
        viewer = viewer_of(request)
        assert viewer is not None
        form = await read_form(request)
        try:
            invitation = await admin.invite(
                email=form.get("email", ""),
                name=form.get("name", ""),
                role=form.get("role", ""),
                language=form.get("language", ""),
                invited_by=viewer.id,
                base_url=request.app.state.settings.base_url,
                allowed_roles=FORMS[kind].roles,
            )
        except FormInvalid as exc:
            return _user_form(kind, form, exc.errors, status=400)
        return page(
            "admin/invitation_sent.html",
            status_code=201,
            invitation=invitation,
        )

    @post("/{user_id:int}/invite-again")
    async def invite_again(self, request: Req, user_id: int) -> Template:
        viewer = viewer_of(request)
        assert viewer is not None
        invitation = await admin.invite_again(
            user_id, viewer.id, request.app.state.settings.base_url
        )
        return page("admin/invitation_sent.html", invitation=invitation)

    @post("/{user_id:int}/deactivate")
    async def deactivate(self, request: Req, user_id: int) -> Redirect:
        viewer = viewer_of(request)
        assert viewer is not None
        await admin.deactivate(user_id, by=viewer.id)
        return Redirect("/admin/users", status_code=303)

    @post("/{user_id:int}/reactivate")
    async def reactivate(self, user_id: int) -> Redirect:
        await admin.reactivate(user_id)
        return Redirect("/admin/users", status_code=303)
