"""Filing a dispute for one of the platform's users, through the API.

The body is checked by the web form's own checks (`portal.cases.filing.check_filing`)
and filed by the same `file_case`, in one transaction with the claimant's account when
it is new: the account, its invitation, the case and every ledger entry commit together
or not at all. The ledger names the integration as the filer and the key it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.keys import Keyring
from portal.accounts.service import normal_email
from portal.accounts.tables import User
from portal.cases.filing import Filed, Filer, check_filing, file_case
from portal.database import write_transaction
from portal.errors import FormInvalid
from portal.i18n import _
from portal.integrations.keys import ApiCaller
from portal.integrations.schemas import NewCase
from portal.procedure import roles
from portal.procedure.people import Viewer


@dataclass(frozen=True)
class FiledForUser:
    filed: Filed
    claimant_is_new: bool


def _claimant_email(text: str) -> str:
    try:
        return normal_email(text)
    except FormInvalid:
        raise FormInvalid(
            {"claimant_email": _("Enter the user's email address, like name@example.com.")}
        ) from None


def _unfit(account: dict[str, Any]) -> str | None:
    """Why a case cannot be filed for this existing account, if it cannot."""
    if account["role"] != roles.PARTY:
        return _(
            "This address belongs to platform staff or a neutral, not a customer; "
            "file with the customer's own address."
        )
    if not account["active"]:
        return _(
            "This customer's account is deactivated; a supervisor must reactivate "
            "it before a case can be filed for them."
        )
    return None


async def _claimant(email: str, body: NewCase, now: datetime) -> tuple[Viewer, bool]:
    """The claimant's account, made (active, with no password yet) when there is none."""
    row = (
        await User.select(User.id, User.email, User.name, User.role, User.language, User.active)
        .where(User.email == email)
        .first()
    )
    if row is not None:
        if problem := _unfit(row):
            raise FormInvalid({"claimant_email": problem})
        is_new = False
    else:
        name = " ".join(body.claimant_name.split()) or email.split("@")[0]
        rows = await User.insert(
            User(
                email=email,
                name=name,
                role=roles.PARTY,
                language=body.language,
                created_at=now,
            )
        ).returning(User.id)
        row = {"id": rows[0]["id"], "email": email, "name": name, "language": body.language}
        is_new = True
    viewer = Viewer(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=roles.PARTY,
        language=row["language"] or "en",
        totp_enabled=False,
        second_factor_passed=False,
    )
    return viewer, is_new


async def file_for_user(keyring: Keyring, caller: ApiCaller, body: NewCase) -> FiledForUser:
    """File the case; FormInvalid names each field to fix, and then nothing is written."""
    errors: dict[str, str] = {}
    email = ""
    try:
        email = _claimant_email(body.claimant_email)
        account = await User.select(User.role, User.active).where(User.email == email).first()
        if account and (problem := _unfit(account)):
            errors["claimant_email"] = problem  # said now, with the rest; checked again below
    except FormInvalid as exc:
        errors.update(exc.errors)
    try:
        filing = check_filing(body.as_form())
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    if filing.respondent_email and filing.respondent_email == email:
        raise FormInvalid(
            {"respondent_email": _("The respondent must be someone other than the claimant.")}
        )
    async with write_transaction(User._meta.db):
        claimant, is_new = await _claimant(email, body, datetime.now(UTC))
        filer = Filer(
            actor=caller.actor,
            name=caller.integration_name,
            note={"api_key": caller.key_prefix},
            claimant_is_new=is_new,
        )
        filed = await file_case(keyring, claimant, filing, [], filer)
    return FiledForUser(filed, is_new)
