"""Accounts: signing up, logging in, creating staff, and the second factor.

Controllers call these; each raises `FormInvalid` or `PortalError` with a message for
the person at the keyboard, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from portal.accounts import roles, throttle
from portal.accounts.passwords import (
    WeakPassword,
    check_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from portal.accounts.second_factor import matching_step, seal, unseal
from portal.accounts.tables import User
from portal.errors import Conflict, FormInvalid, PortalError
from portal.i18n import LANGUAGES, _


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


async def sign_up(form: dict[str, str], language: str) -> int:
    """A claimant or respondent signs themselves up."""
    errors: dict[str, str] = {}
    if form.get("password", "") != form.get("password_again", ""):
        errors["password_again"] = _("The two passwords differ; type the same password twice.")
    try:
        return await create_user(
            email=form.get("email", ""),
            name=form.get("name", ""),
            role=roles.PARTY,
            password=form.get("password", ""),
            language=language,
        )
    except FormInvalid as exc:
        errors = {**exc.errors, **errors}
    raise FormInvalid(errors)


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


async def authenticate(email: str, password: str, address: str) -> LoggedIn:
    """Check a password; count failures per account and address; refuse while locked."""
    account = email.strip().lower()
    lock, failures = await throttle.check(account, address)
    if lock:
        raise PortalError(_locked_message(lock))
    await throttle.slow_down(failures)
    row = await User.select().where(User.email == account).first()
    matches = await verify_password(row["password_hash"] if row else "", password)
    if not row or not matches:
        await throttle.record_failure(account, address)
        raise PortalError(_("The email address or password is not right."))
    if not row["active"]:
        raise PortalError(
            _("This account has been deactivated. Ask a supervisor to reactivate it.")
        )
    await throttle.forget_failures(account)
    if needs_rehash(row["password_hash"]):
        await User.update({User.password_hash: await hash_password(password)}).where(
            User.id == row["id"]
        )
    return LoggedIn(row["id"], row["session_epoch"], needs_code=row["totp_enabled"])


async def check_code(user_id: int, code: str, secret_key: str, address: str) -> None:
    """Accept a second-factor code once; failures count against the account like passwords."""
    row = await User.select().where(User.id == user_id).first()
    if row is None or not row["active"]:
        raise PortalError(_("This account cannot log in."))
    lock, failures = await throttle.check(row["email"], address)
    if lock:
        raise PortalError(_locked_message(lock))
    await throttle.slow_down(failures)
    secret = unseal(row["totp_secret"], secret_key) if row["totp_secret"] else None
    step = matching_step(secret, code, row["totp_last_step"]) if secret else None
    if step is None:
        await throttle.record_failure(row["email"], address)
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
