"""The second factor: TOTP secrets (kept encrypted), codes that work once, the QR code."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import segno

from portal import sealed

ISSUER = "Dispute portal"


def new_secret() -> str:
    return pyotp.random_base32()


def seal(secret: str, secret_key: str) -> str:
    return sealed.seal("totp", secret, secret_key)


def unseal(sealed_secret: str, secret_key: str) -> str | None:
    return sealed.unseal("totp", sealed_secret, secret_key)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup: no image request, no script."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2)


def matching_step(
    secret: str, code: str, after_step: int, now: datetime | None = None
) -> int | None:
    """The time step `code` belongs to (allowing one step of clock drift), or None.

    A step at or before `after_step` (the last one used) is refused, so a code
    seen over someone's shoulder cannot be used a second time.
    """
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    moment = now or datetime.now(UTC)
    current = totp.timecode(moment)
    for step in (current, current - 1, current + 1):
        if step > after_step and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
