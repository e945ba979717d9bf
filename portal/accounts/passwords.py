"""Password hashes: argon2id, computed in a worker thread.

Hashing takes tens of milliseconds of CPU on purpose; on the event loop it would stall
every other request of the worker, so it always runs in a thread.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.i18n import _

_hasher = PasswordHasher()  # argon2id with the library's current RFC 9106 parameters

MIN_LENGTH = 10
MAX_LENGTH = 1024  # a bound on the work one request can cause


class WeakPassword(ValueError):
    """The chosen password is not acceptable; the message says why."""


def check_strength(password: str, *, email: str = "", name: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(_("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise WeakPassword(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if (email and lowered == email.lower()) or (name and lowered == name.lower()):
        raise WeakPassword(_("Do not use your email address or name as your password."))
    if len(set(password)) < 4:
        raise WeakPassword(_("Use a password with more different characters."))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; a missing or malformed hash never matches."""
    if not stored_hash or len(password) > MAX_LENGTH:
        # Spend the same time as a real check, so timing does not reveal the account.
        await asyncio.to_thread(_hasher.hash, password[:MAX_LENGTH])
        return False

    def check() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
