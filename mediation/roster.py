"""The roster of neutrals: mediators and arbitrators, and what a supervisor picks them by.

A neutral is an account with the global role `mediator` or `arbitrator` (invited by a
supervisor, see `portal.accounts.admin`); their profile here says which languages they
work in, their expertise and jurisdiction, and a short text about them. Supervisors
keep every profile and decide who is on the roster; a neutral edits their own profile.
"""

from __future__ import annotations

from typing import Any

from mediation.tables import NeutralProfile
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.errors import FormInvalid
from portal.i18n import _
from portal.procedure import roles

NEUTRAL_ROLES = (roles.MEDIATOR, roles.ARBITRATOR)
LIMITS = {"languages": 100, "jurisdiction": 200, "expertise": 2_000, "profile": 2_000}


async def roster(role: str) -> list[dict[str, Any]]:
    """Every account of a neutral role, with its profile (empty until written)."""
    rows: list[dict[str, Any]] = await User.raw(
        "SELECT u.id, u.name, u.email, u.active, u.totp_enabled, u.password_hash <> '' AS "
        "has_password, p.languages, p.expertise, p.jurisdiction, p.profile, "
        "COALESCE(p.on_roster, TRUE) AS on_roster "
        'FROM portal_user u LEFT JOIN neutral_profile p ON p."user" = u.id '
        "WHERE u.role = {} ORDER BY u.name, u.id",
        role,
    )
    for row in rows:
        row["has_password"] = bool(row["has_password"])
        row["on_roster"] = bool(row["on_roster"])
    return rows


async def profile_of(user_id: int) -> dict[str, Any] | None:
    """A neutral's account and profile; None if the account is not a neutral's."""
    user = (
        await User.select(User.id, User.name, User.email, User.role)
        .where(User.id == user_id)
        .first()
    )
    if user is None or user["role"] not in NEUTRAL_ROLES:
        return None
    profile = await NeutralProfile.select().where(NeutralProfile.user == user_id).first()
    empty = {"languages": "", "expertise": "", "jurisdiction": "", "profile": "", "on_roster": True}
    return {**user, **{key: (profile or empty)[key] for key in empty}}


def check_profile(form: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    values = {}
    for field, limit in LIMITS.items():
        value = form.get(field, "").replace("\r\n", "\n").strip()
        if len(value) > limit:
            errors[field] = _("Keep this under %(n)s characters.", n=limit)
        values[field] = value
    if not values["languages"]:
        errors["languages"] = _("Name the languages this person works in, like English, 中文.")
    if not values["expertise"]:
        errors["expertise"] = _("Describe the expertise, like derivatives trading or custody.")
    if errors:
        raise FormInvalid(errors)
    return values


async def save_profile(user_id: int, form: dict[str, str], *, by_supervisor: bool) -> None:
    """Write a neutral's profile; only a supervisor puts someone on or off the roster."""
    values: dict[str, Any] = check_profile(form)
    if by_supervisor:
        values["on_roster"] = form.get("on_roster") == "yes"
    values["updated_at"] = deadlines.now()
    updated = (
        await NeutralProfile.update(
            {getattr(NeutralProfile, key): value for key, value in values.items()}
        )
        .where(NeutralProfile.user == user_id)
        .returning(NeutralProfile.id)
    )
    if not updated:
        await NeutralProfile.insert(NeutralProfile(user=user_id, **values)).on_conflict(
            target=NeutralProfile.user,
            action="DO UPDATE",
            values=[getattr(NeutralProfile, key) for key in values],
        )
