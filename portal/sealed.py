"""Secrets the portal must read back, kept encrypted at rest: TOTP seeds and webhook
signing secrets. A database copy alone does not reveal them; PORTAL_SECRET_KEY does.

Each purpose gets its own key derived from PORTAL_SECRET_KEY, so a value sealed for one
use cannot be unsealed as another.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def _fernet(purpose: str, secret_key: str) -> Fernet:
    digest = hashlib.sha256(f"portal {purpose} secret\x00".encode() + secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def seal(purpose: str, secret: str, secret_key: str) -> str:
    return _fernet(purpose, secret_key).encrypt(secret.encode()).decode()


def unseal(purpose: str, sealed: str, secret_key: str) -> str | None:
    """The secret, or None when this PORTAL_SECRET_KEY cannot read it."""
    try:
        return _fernet(purpose, secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
