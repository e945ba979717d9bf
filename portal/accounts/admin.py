"""What a supervisor does with accounts: list them, create staff, invite outsiders,
deactivate and reactivate.

Nobody but the account's owner ever knows its password: staff and invited people
alike get a single-use link to choose one (`portal.accounts.invitations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.accounts import invitations
from portal.accounts.service import create_user
from portal.accounts.tables import User
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, PortalError
from portal.i18n import _
from portal.notifications.mail import queue_mail
from portal.procedure import roles
from portal.procedure.labels import role_label
from portal.procedure.standing import may_deactivate

LIST_LIMIT = 200
"""Rows on one page of the user list; a filter narrows a longer list."""


class NoSuchUser(PortalError):
    status_code = 404

    def __init__(self) -> None:
        super().__init__(_("There is no such account."))


@dataclass(frozen=True)
class Invitation:
    user_id: int
    name: str
    email: str
    link: str
    expires_at: datetime


async def list_users(role: str = "", search: str = "") -> list[dict[str, Any]]:
    """Accounts, newest first, optionally of one role or matching a name or address."""
    query = (
        User.select(
            User.id,
            User.name,
            User.email,
            User.role,
            User.active,
            User.totp_enabled,
            User.created_at,
            User.password_hash,
        )
        .order_by(User.created_at, ascending=False)
        .order_by(User.id, ascending=False)
    )
    if role in roles.ALL_ROLES:
        query = query.where(User.role == role)
    search = search.strip()
    if search:
        pattern = "%" + search.replace("%", "").replace("_", "") + "%"
        query = query.where(User.email.ilike(pattern) | User.name.ilike(pattern))
    rows: list[dict[str, Any]] = await query.limit(LIST_LIMIT)
    for row in rows:
        # Whether the invitation was accepted; the hash itself never leaves this module.
        row["has_password"] = bool(row.pop("password_hash"))
    return rows


async def invite(
    *,
    email: str,
    name: str,
    role: str,
    language: str,
    invited_by: int | None,
    base_url: str,
    allowed_roles: tuple[str, ...],
    send_email: bool = True,
) -> Invitation:
    """A new account with no password, and a link to choose one (emailed unless told not to).

    `allowed_roles` is what the form offered: staff on the staff form, mediators,
    arbitrators and legal users on the invitation form.
    """
    if role not in allowed_roles:
        raise FormInvalid({"role": _("Choose one of the roles offered.")})
    async with write_transaction(User._meta.db):
        user_id = await create_user(
            email=email, name=name, role=role, password=None, language=language
        )
        return await _send_invitation(user_id, invited_by, base_url, send_email=send_email)


async def invite_again(user_id: int, invited_by: int, base_url: str) -> Invitation:
    """A fresh link for someone whose invitation expired or was lost."""
    async with write_transaction(User._meta.db):
        row = await User.select(User.password_hash, User.active).where(User.id == user_id).first()
        if row is None:
            raise NoSuchUser()
        if row["password_hash"]:
            raise Conflict(
                _(
                    "This person has already chosen a password. If they forgot it, they can "
                    "use “Forgot your password?” on the login page."
                )
            )
        if not row["active"]:
            raise Conflict(_("This account is deactivated. Reactivate it first."))
        return await _send_invitation(user_id, invited_by, base_url, send_email=True)


async def _send_invitation(
    user_id: int, invited_by: int | None, base_url: str, *, send_email: bool
) -> Invitation:
    new = await invitations.create_token(user_id, invitations.INVITE, created_by=invited_by)
    url = invitations.link(base_url, invitations.INVITE, new.token)
    row = (
        await User.select(User.email, User.name, User.role, User.language)
        .where(User.id == user_id)
        .first()
    )
    assert row is not None
    inviter = None
    if invited_by is not None:
        inviter = await User.select(User.name).where(User.id == invited_by).first()
    if send_email:
        await queue_mail(
            row["email"],
            row["language"],
            "invitation",
            name=row["name"],
            role=row["role"],
            role_label=role_label,  # called while the email renders, in its reader's language
            inviter=inviter["name"] if inviter else "",
            link=url,
            expires_at=new.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    return Invitation(user_id, row["name"], row["email"], url, new.expires_at)


async def deactivate(user_id: int, *, by: int) -> None:
    """The account can no longer log in, and every session of it ends on its next request."""
    if not may_deactivate(by, user_id):
        raise Conflict(
            _("You cannot deactivate your own account. Ask another supervisor to do it.")
        )
    updated = (
        await User.update({User.active: False, User.session_epoch: User.session_epoch + 1})
        .where(User.id == user_id)
        .returning(User.id)
    )
    if not updated:
        raise NoSuchUser()


async def reactivate(user_id: int) -> None:
    """The account can log in again (its old sessions stay ended)."""
    updated = await User.update({User.active: True}).where(User.id == user_id).returning(User.id)
    if not updated:
        raise NoSuchUser()
