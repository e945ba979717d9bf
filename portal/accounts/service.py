"""Accounts: signing up, logging in, creating staff, and the second factor.

Controllers call these; each raises `FormInvalid` or `PortalError` with a message for
the person at the keyboard, before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email

from portal.accounts import throttle
from portal.accounts.passwords import (
    WeakPassword,
    check_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from portal.accounts.second_factor import matching_step, seal, unseal
from portal.accounts.tables import LoginAttempt, User
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, PortalError
from portal.i18n import LANGUAGES, _
from portal.notifications.mail import queue_mail, render_mail
from portal.notifications.notify import notify
from portal.notifications.tables import Notification, OutboundMail
from portal.procedure import roles

log = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254  # RFC 5321 4.5.3.1: a path of 256 octets, less its angle brackets


def normal_email(text: str) -> str:
    """The address as we store it, or FormInvalid saying what is wrong with it."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise FormInvalid({"email": _("Enter an email address like name@example.com.")}) from None


def check_name(name: str, errors: dict[str, str]) -> str:
    name = " ".join(name.split())
    if not name:
        errors["name"] = _("Enter your name.")
    elif len(name) > 200:
        errors["name"] = _("Use at most 200 characters.")
    return name


async def email_taken(email: str) -> bool:
    return await User.exists().where(User.email == email)


async def create_user(
    *, email: str, name: str, role: str, password: str | None, language: str = "en"
) -> int:
    """A new account; `password` None leaves it unusable until an invitation is accepted."""
    errors: dict[str, str] = {}
    try:
        email = normal_email(email)
    except FormInvalid as exc:
        errors.update(exc.errors)
    name = check_name(name, errors)
    if role not in roles.ALL_ROLES:
        errors["role"] = _("Choose one of the roles offered.")
    if password is not None:
        try:
            check_strength(password, email=email, name=name)
        except WeakPassword as exc:
            errors["password"] = str(exc)
    if not errors.get("email") and await email_taken(email):
        errors["email"] = _("An account with this email address already exists.")
    if errors:
        raise FormInvalid(errors)
    password_hash = await hash_password(password) if password is not None else ""
    rows = await User.insert(
        User(
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            language=language if language in LANGUAGES else "en",
            created_at=datetime.now(UTC),
        )
    ).returning(User.id)
    return int(rows[0]["id"])


SIGNUP_NOTICES_PER_HOUR = 3
"""Emails an existing account is sent in an hour about sign-ups with its address: enough
for its owner to notice, too few to flood an inbox by signing up again and again."""


async def sign_up(form: dict[str, str], language: str, base_url: str) -> str:
    """A claimant or respondent signs themselves up; the normalised address is returned.

    The answer does not say whether the address already has an account: both ways the
    form is checked the same, the password is hashed (so both take as long), and an
    email goes to the address. A new account gets a welcome; an existing one is told
    that someone tried, and how to log in or choose a new password.
    """
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normal_email(form.get("email", ""))
    except FormInvalid as exc:
        errors.update(exc.errors)
    name = check_name(form.get("name", ""), errors)
    password = form.get("password", "")
    try:
        check_strength(password, email=email, name=name)
    except WeakPassword as exc:
        errors["password"] = str(exc)
    if password != form.get("password_again", ""):
        errors["password_again"] = _("The two passwords differ; type the same password twice.")
    if errors:
        raise FormInvalid(errors)
    password_hash = await hash_password(password)
    language = language if language in LANGUAGES else "en"
    try:
        async with write_transaction(User._meta.db):
            if not await _tell_existing_account(email, base_url):
                await User.insert(
                    User(
                        email=email,
                        name=name,
                        role=roles.PARTY,
                        password_hash=password_hash,
                        language=language,
                        created_at=datetime.now(UTC),
                    )
                )
                await queue_mail(
                    email, language, "signup_welcome", name=name, **_account_links(base_url)
                )
    except Exception as exc:
        # Two sign-ups with one new address at once (PostgreSQL): the second finds the
        # first one's account, as it would a moment later.
        if not await email_taken(email):
            raise
        log.info("Concurrent sign-ups for one address: %r", exc)
        async with write_transaction(User._meta.db):
            await _tell_existing_account(email, base_url)
    return email


def _account_links(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {"login_link": f"{base}/login", "reset_link": f"{base}/password/forgot"}


async def _tell_existing_account(email: str, base_url: str) -> bool:
    """If `email` has an account, queue (within the hourly bound) the email telling its
    owner of the attempt, and return True; False when there is no such account."""
    query = User.select(User.id, User.name, User.language).where(User.email == email)
    if User._meta.db.engine_type == "postgres":
        query = query.lock_rows()  # concurrent attempts count in turn
    row = await query.first()
    if row is None:
        return False
    subject, _body = render_mail(
        "signup_existing", row["language"], name=row["name"], **_account_links(base_url)
    )
    recent = await OutboundMail.count().where(
        (OutboundMail.to_address == email)
        & (OutboundMail.subject == subject)
        & (OutboundMail.created_at > datetime.now(UTC) - timedelta(hours=1))
    )
    if recent < SIGNUP_NOTICES_PER_HOUR:
        await queue_mail(
            email, row["language"], "signup_existing", name=row["name"], **_account_links(base_url)
        )
    return True


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    epoch: int
    needs_code: bool


def _locked_message(lock: throttle.Lock) -> str:
    at = lock.until.strftime("%H:%M UTC")
    if lock.by_address:
        return _("Too many failed logins from your network. Try again after %(time)s.", time=at)
    return _(
        "Too many failed logins for this account. Try again after %(time)s, "
        "or reset your password.",
        time=at,
    )


def login_account(email: str) -> str:
    """The throttle's key for a typed address, or PortalError before anything is stored
    when it is longer than an address can be (RFC 5321 4.5.3.1: 254 characters)."""
    account = email.strip().lower()
    if len(account) > MAX_EMAIL_LENGTH:
        raise PortalError(
            _(
                "An email address has at most %(n)s characters; check the address you typed.",
                n=MAX_EMAIL_LENGTH,
            )
        )
    return account


async def authenticate(email: str, password: str, address: str) -> LoggedIn:
    """Check a password; count failures per address and per account-and-address; refuse
    while either is locked. The account itself is only slowed, never locked."""
    account = login_account(email)
    lock, failures = await throttle.check(account, address)
    if lock:
        raise PortalError(_locked_message(lock))
    await throttle.slow_down(failures)
    row = await User.select().where(User.email == account).first()
    matches = await verify_password(row["password_hash"] if row else "", password)
    if not row or not matches:
        await throttle.record_failure(account, address)
        if row and row["active"]:
            await _warn_of_guessing(row)
        raise PortalError(_("The email address or password is not right."))
    if not row["active"]:
        raise PortalError(
            _("This account has been deactivated. Ask a supervisor to reactivate it.")
        )
    await throttle.forget_failures(account, address)
    if needs_rehash(row["password_hash"]):
        await User.update({User.password_hash: await hash_password(password)}).where(
            User.id == row["id"]
        )
    return LoggedIn(row["id"], row["session_epoch"], needs_code=row["totp_enabled"])


GUESSING_NOTICE = "login_guessing"


async def _warn_of_guessing(row: dict[str, Any]) -> None:
    """Tell the owner (once a day at most) when wrong passwords for their account pile up,
    from however many addresses: the account is never locked, so they should know."""
    since = datetime.now(UTC) - throttle.WINDOW
    count = await throttle.recent_failures(row["email"], since)
    if count < throttle.NOTICE_AFTER or await _told_of_guessing(row["id"]):
        return  # most failures past the threshold end here, without a write transaction
    async with write_transaction(User._meta.db):
        query = User.select(User.id).where(User.id == row["id"])
        if User._meta.db.engine_type == "postgres":
            query = query.lock_rows()  # two workers at the threshold: one email
        await query.first()
        if await _told_of_guessing(row["id"]):
            return
        addresses = (
            await LoginAttempt.select(LoginAttempt.address)
            .where((LoginAttempt.account == row["email"]) & (LoginAttempt.at > since))
            .distinct()
        )
        await notify(
            [row["id"]],
            GUESSING_NOTICE,
            link="/password/forgot",
            template="login_guessing",
            minutes=int(throttle.WINDOW.total_seconds() // 60),
            count=count,
            addresses=len(addresses),
        )


async def _told_of_guessing(user_id: int) -> bool:
    return await Notification.exists().where(
        (Notification.user == user_id)
        & (Notification.kind == GUESSING_NOTICE)
        & (Notification.created_at > datetime.now(UTC) - throttle.NOTICE_INTERVAL)
    )


async def check_code(user_id: int, code: str, secret_key: str, address: str) -> None:
    """Accept a second-factor code once. Wrong codes lock the account itself: only
    someone who knows the password gets this far, so no stranger can cause it."""
    row = await User.select().where(User.id == user_id).first()
    if row is None or not row["active"]:
        raise PortalError(_("This account cannot log in."))
    key = throttle.code_key(user_id)
    lock, failures = await throttle.check(key, address, whole_account=True)
    if lock:
        raise PortalError(_locked_message(lock))
    await throttle.slow_down(failures)
    secret = unseal(row["totp_secret"], secret_key) if row["totp_secret"] else None
    step = matching_step(secret, code, row["totp_last_step"]) if secret else None
    if step is None:
        await throttle.record_failure(key, address)
        raise FormInvalid(
            {
                "code": _(
                    "That code is not right, or was already used. Enter the current 6-digit code."
                )
            }
        )
    # Only one request can move the step forward: a code raced twice works once.
    updated = (
        await User.update({User.totp_last_step: step})
        .where((User.id == user_id) & (User.totp_last_step < step))
        .returning(User.id)
    )
    if not updated:
        raise FormInvalid({"code": _("That code was already used. Wait for the next one.")})
    await throttle.forget_failures(key)


async def enrol_second_factor(user_id: int, secret: str, code: str, secret_key: str) -> None:
    """Turn the second factor on once the user proves their app shows the right code."""
    step = matching_step(secret, code, 0)
    if step is None:
        raise FormInvalid(
            {
                "code": _(
                    "That code does not match. Scan the code again and enter the 6 digits "
                    "your app shows."
                )
            }
        )
    await User.update(
        {
            User.totp_secret: seal(secret, secret_key),
            User.totp_enabled: True,
            User.totp_last_step: step,
        }
    ).where(User.id == user_id)


async def user_row(user_id: int) -> dict[str, Any]:
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise Conflict(_("This account no longer exists."))
    return row
