"""Single-use links: invitations to set a first password, and password resets.

The link carries a random token; the database keeps only its SHA-256, so a copy of
the database (a backup, a leaked dump) holds no usable link. A token is spent by one
conditional UPDATE: of two requests racing with the same link, exactly one succeeds.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from portal.accounts import throttle
from portal.accounts.passwords import WeakPassword, check_strength, hash_password
from portal.accounts.tables import AccountToken, User
from portal.database import write_transaction
from portal.errors import FormInvalid, PortalError
from portal.i18n import _
from portal.notifications.mail import queue_mail

INVITE = "invite"
RESET = "reset"

LIFETIME = {INVITE: timedelta(days=7), RESET: timedelta(hours=1)}

RESETS_PER_HOUR = 3
"""Reset emails one account may be sent in an hour: enough for a lost email, too few to
flood someone's inbox by typing their address again and again."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything the portal writes is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class LinkProblem(Enum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"

    @property
    def status_code(self) -> int:
        # A link we never made is Not Found; one that existed and no longer works is Gone.
        return 404 if self is LinkProblem.UNKNOWN else 410


class LinkUnusable(PortalError):
    """The link cannot be used; `problem` says why, and the message what to do instead."""

    def __init__(self, problem: LinkProblem, purpose: str) -> None:
        self.problem = problem
        self.status_code = problem.status_code
        super().__init__(_link_message(problem, purpose))


def _link_message(problem: LinkProblem, purpose: str) -> str:
    if problem is LinkProblem.DEACTIVATED:
        return _("This account has been deactivated. Ask a supervisor to reactivate it.")
    if purpose == INVITE:
        if problem is LinkProblem.USED:
            return _(
                "This invitation has already been used. Log in with the password you chose, "
                "or use “Forgot your password?” on the login page."
            )
        if problem is LinkProblem.EXPIRED:
            return _(
                "This invitation has expired. Ask the supervisor who invited you to send a new one."
            )
        return _(
            "This invitation link is not valid. Check that you copied the whole link from "
            "the email, or ask a supervisor to send a new invitation."
        )
    if problem is LinkProblem.USED:
        return _(
            "This password reset link has already been used. If you still cannot log in, "
            "ask for a new link."
        )
    if problem is LinkProblem.EXPIRED:
        return _(
            "This password reset link has expired: links work for one hour. Ask for a new one."
        )
    return _(
        "This password reset link is not valid. Check that you copied the whole link from "
        "the email, or ask for a new one."
    )


@dataclass(frozen=True)
class NewToken:
    token: str  # goes into the link and nowhere else
    expires_at: datetime


async def create_token(user_id: int, purpose: str, created_by: int | None = None) -> NewToken:
    """A new link's token; only its hash is stored. Call inside the caller's transaction."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires_at = now + LIFETIME[purpose]
    await AccountToken.insert(
        AccountToken(
            token_hash=token_hash(token),
            purpose=purpose,
            user=user_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return NewToken(token, expires_at)


def link(base_url: str, purpose: str, token: str) -> str:
    path = "/invite/" if purpose == INVITE else "/password/reset/"
    return base_url.rstrip("/") + path + token


@dataclass(frozen=True)
class LinkHolder:
    """Whose link it is, for the page that asks them to choose a password."""

    user_id: int
    email: str
    name: str
    role: str
    expires_at: datetime


async def look_up(token: str, purpose: str) -> LinkHolder:
    """The link's owner while the link can still be used; LinkUnusable otherwise."""
    row = (
        await AccountToken.select(
            AccountToken.used_at,
            AccountToken.expires_at,
            AccountToken.user.id,
            AccountToken.user.email,
            AccountToken.user.name,
            AccountToken.user.role,
            AccountToken.user.active,
        )
        .where((AccountToken.token_hash == token_hash(token)) & (AccountToken.purpose == purpose))
        .first()
    )
    if row is None:
        raise LinkUnusable(LinkProblem.UNKNOWN, purpose)
    if row["used_at"] is not None:
        raise LinkUnusable(LinkProblem.USED, purpose)
    if _utc(row["expires_at"]) <= datetime.now(UTC):
        raise LinkUnusable(LinkProblem.EXPIRED, purpose)
    if not row["user.active"]:
        raise LinkUnusable(LinkProblem.DEACTIVATED, purpose)
    return LinkHolder(
        user_id=row["user.id"],
        email=row["user.email"],
        name=row["user.name"],
        role=row["user.role"],
        expires_at=_utc(row["expires_at"]),
    )


async def consume(token: str, purpose: str) -> int:
    """Spend the token and return its user's ID; LinkUnusable if it was spent or expired.

    Call inside the transaction that does what the link allows, so that a failure
    afterwards leaves the link unspent.
    """
    now = datetime.now(UTC)
    spent = (
        await AccountToken.update({AccountToken.used_at: now})
        .where(
            (AccountToken.token_hash == token_hash(token))
            & (AccountToken.purpose == purpose)
            & AccountToken.used_at.is_null()
            & (AccountToken.expires_at > now)
        )
        .returning(AccountToken.user)
    )
    if not spent:
        await look_up(token, purpose)  # raises, naming what is wrong
        raise LinkUnusable(LinkProblem.USED, purpose)  # spent a moment ago by a twin request
    return int(spent[0]["user"])


def check_new_password(password: str, again: str, *, email: str, name: str) -> None:
    """FormInvalid unless the two passwords match and the password is strong enough."""
    errors: dict[str, str] = {}
    try:
        check_strength(password, email=email, name=name)
    except WeakPassword as exc:
        errors["password"] = str(exc)
    if password != again:
        errors["password_again"] = _("The two passwords differ; type the same password twice.")
    if errors:
        raise FormInvalid(errors)


async def accept_invitation(token: str, password: str, again: str) -> tuple[int, int]:
    """Set the invited person's first password; (user ID, session epoch) to log them in."""
    holder = await look_up(token, INVITE)
    check_new_password(password, again, email=holder.email, name=holder.name)
    password_hash = await hash_password(password)  # outside the transaction: it takes a while
    async with write_transaction(User._meta.db):
        user_id = await consume(token, INVITE)
        # An invitation chooses the first password only: one set since (by a reset link)
        # is not replaced by an old invitation that was never opened.
        updated = (
            await User.update({User.password_hash: password_hash})
            .where((User.id == user_id) & User.active.eq(True) & (User.password_hash == ""))
            .returning(User.session_epoch)
        )
        if not updated:
            active = await User.exists().where((User.id == user_id) & User.active.eq(True))
            raise LinkUnusable(LinkProblem.USED if active else LinkProblem.DEACTIVATED, INVITE)
    return user_id, int(updated[0]["session_epoch"])


async def reset_password(token: str, password: str, again: str) -> int:
    """Set a new password from a reset link and end every session of the account."""
    holder = await look_up(token, RESET)
    check_new_password(password, again, email=holder.email, name=holder.name)
    password_hash = await hash_password(password)
    async with write_transaction(User._meta.db):
        user_id = await consume(token, RESET)
        updated = (
            await User.update(
                {User.password_hash: password_hash, User.session_epoch: User.session_epoch + 1}
            )
            .where((User.id == user_id) & User.active.eq(True))
            .returning(User.id)
        )
        if not updated:
            raise LinkUnusable(LinkProblem.DEACTIVATED, RESET)
        # The other reset links in flight were sent for the password just replaced.
        await AccountToken.update({AccountToken.used_at: datetime.now(UTC)}).where(
            (AccountToken.user == user_id)
            & (AccountToken.purpose == RESET)
            & AccountToken.used_at.is_null()
        )
        await throttle.forget_failures(holder.email)
    return user_id


async def request_reset(email: str, base_url: str) -> None:
    """Queue a reset link for an active account with this address, if it has one.

    Says nothing either way: the page shown after asking is the same whether or not
    the account exists, and whether or not the hourly limit was reached.
    """
    async with write_transaction(User._meta.db):
        user = await _lock_user(email)
        if user is None or not user["active"]:
            return
        since = datetime.now(UTC) - timedelta(hours=1)
        recent = await AccountToken.count().where(
            (AccountToken.user == user["id"])
            & (AccountToken.purpose == RESET)
            & (AccountToken.created_at > since)
        )
        if recent >= RESETS_PER_HOUR:
            return
        new = await create_token(user["id"], RESET)
        await queue_mail(
            user["email"],
            user["language"],
            "password_reset",
            name=user["name"],
            link=link(base_url, RESET, new.token),
            minutes=int(LIFETIME[RESET].total_seconds() // 60),
        )


async def _lock_user(email: str) -> dict[str, Any] | None:
    """The account's row, locked on PostgreSQL so that concurrent requests count in turn.

    SQLite needs no lock: a write transaction there begins IMMEDIATE and holds the
    database's write lock already.
    """
    query = User.select(User.id, User.email, User.name, User.language, User.active).where(
        User.email == email
    )
    if User._meta.db.engine_type == "postgres":
        query = query.lock_rows()
    row: dict[str, Any] | None = await query.first()
    return row
