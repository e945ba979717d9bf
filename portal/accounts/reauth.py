"""Asking for the password again before a step that binds: signing a disclosure, a
settlement or an award. A signature is only as good as the proof that its signer was
at the keyboard, and a session left open is no such proof.

Wrong passwords count like failed logins, so a signature form cannot be used to guess.
"""

from __future__ import annotations

from typing import Any

from portal.accounts import throttle
from portal.accounts.passwords import verify_password
from portal.accounts.service import user_row
from portal.errors import FormInvalid, PortalError
from portal.i18n import _


async def password_matches(row: dict[str, Any], password: str, address: str) -> bool:
    """Whether `password` is the account's, counting a wrong one as a failed login;
    PortalError while the account is locked."""
    lock, failures = await throttle.check(row["email"], address)
    if lock:
        raise PortalError(
            _(
                "Too many wrong passwords for this account. Try again after %(time)s.",
                time=lock.until.strftime("%H:%M UTC"),
            )
        )
    await throttle.slow_down(failures)
    if await verify_password(row["password_hash"], password):
        return True
    await throttle.record_failure(row["email"], address)
    return False


async def confirm_password(user_id: int, password: str, address: str) -> None:
    """Return if `password` is the user's; FormInvalid naming the field otherwise."""
    if not password:
        raise FormInvalid({"password": _("Enter your password to sign.")})
    if not await password_matches(await user_row(user_id), password, address):
        raise FormInvalid({"password": _("That is not your password.")})
