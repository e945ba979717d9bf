"""A person's own account settings: their name, language and password."""

from __future__ import annotations

from portal.accounts.invitations import check_new_password
from portal.accounts.passwords import hash_password
from portal.accounts.reauth import password_matches
from portal.accounts.service import check_name, user_row
from portal.accounts.tables import User
from portal.errors import FormInvalid
from portal.i18n import LANGUAGES, _


async def rename(user_id: int, name: str) -> None:
    errors: dict[str, str] = {}
    name = check_name(name, errors)
    if errors:
        raise FormInvalid(errors)
    await User.update({User.name: name}).where(User.id == user_id)


async def choose_language(user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise FormInvalid({"language": _("Choose one of the languages offered.")})
    await User.update({User.language: language}).where(User.id == user_id)


async def change_password(user_id: int, current: str, new: str, again: str, address: str) -> int:
    """Replace the password and end every other session; returns the new session epoch.

    The current password is asked for so that someone at an unlocked screen cannot
    take the account over; wrong guesses count like failed logins.
    """
    row = await user_row(user_id)
    errors: dict[str, str] = {}
    if not await password_matches(row, current, address):
        errors["current_password"] = _("That is not your current password.")
    try:
        check_new_password(new, again, email=row["email"], name=row["name"])
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    password_hash = await hash_password(new)
    updated = (
        await User.update(
            {User.password_hash: password_hash, User.session_epoch: User.session_epoch + 1}
        )
        .where(User.id == user_id)
        .returning(User.session_epoch)
    )
    return int(updated[0]["session_epoch"])
