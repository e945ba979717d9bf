"""Filing a dispute: checking the form, issuing the reference, and recording it all.

The case, its participants, its evidence and their ledger entries are written in one
transaction: a filing is either complete or absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.entry import Actor
from ledger.keys import Keyring
from portal.accounts.tables import User
from portal.cases import evidence
from portal.cases.categories import CATEGORIES
from portal.cases.events import SYSTEM, actor, record
from portal.cases.tables import Case, CaseCounter, CaseParticipant
from portal.cases.uploads import ReceivedFile
from portal.database import write_transaction
from portal.errors import FormInvalid
from portal.i18n import _
from portal.notifications.notify import notify
from portal.procedure import acting as A
from portal.procedure import roles
from portal.procedure.people import Viewer

TEXT_LIMIT = 20_000
ASSET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,19}$")


@dataclass(frozen=True)
class Filing:
    """A dispute as the claimant described it, checked."""

    category: str
    contested_resolution: str
    what_happened: str
    happened_on: date
    transaction_ids: list[str]
    amount: str
    asset: str
    remedy_wanted: str
    respondent_email: str


def check_filing(form: dict[str, str], today: date | None = None) -> Filing:
    """The form as a Filing, or FormInvalid naming what to fix next to each field."""
    today = today or datetime.now(UTC).date()
    errors: dict[str, str] = {}

    def text(name: str, required: bool, message: str) -> str:
        value = form.get(name, "").replace("\r\n", "\n").strip()
        if required and not value:
            errors[name] = message
        elif len(value) > TEXT_LIMIT:
            errors[name] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
        return value

    category = form.get("category", "")
    if category not in CATEGORIES:
        errors["category"] = _("Choose what the dispute is about.")
    contested = text(
        "contested_resolution",
        True,
        _("Say how the platform resolved your complaint, and what you disagree with."),
    )
    what = text("what_happened", True, _("Describe what happened."))
    remedy = text("remedy_wanted", True, _("Say what you want the platform to do."))

    happened_on = today
    raw_date = form.get("happened_on", "").strip()
    try:
        happened_on = date.fromisoformat(raw_date)
        if happened_on > today:
            errors["happened_on"] = _("The date cannot be in the future.")
        elif happened_on.year < 2000:
            errors["happened_on"] = _("Enter the date it happened, after the year 2000.")
    except ValueError:
        errors["happened_on"] = _("Enter the date it happened, like 2026-03-14.")

    ids = [part.strip() for part in re.split(r"[\s,;]+", form.get("transaction_ids", ""))]
    ids = [part for part in ids if part]
    if len(ids) > 50:
        errors["transaction_ids"] = _("List at most 50 transaction or order IDs.")
    elif any(len(part) > 100 for part in ids):
        errors["transaction_ids"] = _("Each ID can be at most 100 characters.")

    amount = form.get("amount", "").strip().replace(",", "")
    asset = form.get("asset", "").strip().upper()
    if amount:
        try:
            value = Decimal(amount)
            if not value.is_finite() or value <= 0:
                raise InvalidOperation
            if value.as_tuple().exponent < -18 or len(amount) > 40:  # type: ignore[operator]
                errors["amount"] = _("Use at most 18 decimal places.")
            amount = format(value.normalize(), "f")
        except InvalidOperation:
            errors["amount"] = _("Enter the amount as a positive number, like 1250.50.")
        if not asset:
            errors["asset"] = _("Say which asset the amount is in, like USDT or BTC.")
    if asset and not ASSET.match(asset):
        errors["asset"] = _("Enter the asset's symbol, like USDT or BTC.")
    if asset and not amount and "amount" not in errors:
        errors["amount"] = _("Enter the amount claimed, or leave the asset empty.")

    respondent = form.get("respondent_email", "").strip().lower()
    if respondent:
        from portal.accounts.service import normal_email

        try:
            respondent = normal_email(respondent)
        except FormInvalid:
            errors["respondent_email"] = _(
                "Enter the other side's email address like name@example.com, or leave it empty."
            )
    if errors:
        raise FormInvalid(errors)
    return Filing(
        category=category,
        contested_resolution=contested,
        what_happened=what,
        happened_on=happened_on,
        transaction_ids=ids,
        amount=amount,
        asset=asset,
        remedy_wanted=remedy,
        respondent_email=respondent,
    )


async def next_reference(year: int) -> str:
    """`DR-<year>-<6 digits>`: one counter row per year, bumped under the write lock.

    The upsert takes the row lock on PostgreSQL; on SQLite the transaction is already
    IMMEDIATE. Either way two concurrent filings never get the same number.
    """
    rows = await CaseCounter.raw(
        "INSERT INTO case_counter (year, last) VALUES ({}, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = case_counter.last + 1 RETURNING last",
        year,
    )
    return f"DR-{year}-{rows[0]['last']:06d}"


async def least_busy_agent() -> int | None:
    """The active agent with the fewest open cases: new cases are shared out evenly."""
    rows = await User.raw(
        "SELECT u.id FROM portal_user u "
        "LEFT JOIN case_participant p ON p.\"user\" = u.id AND p.role = 'agent' "
        'LEFT JOIN dispute_case c ON c.id = p."case" '
        "AND c.state NOT IN ('closed', 'withdrawn', 'rejected', 'resolved') "
        "WHERE u.role = 'agent' AND u.active "
        "GROUP BY u.id ORDER BY COUNT(c.id), u.id LIMIT 1"
    )
    return rows[0]["id"] if rows else None


@dataclass(frozen=True)
class Filer:
    """Who files, when it is not the claimant at their own screen: the platform's
    integration, filing for one of its users (`portal.integrations`).

    The ledger names the filer as the actor of what the filing writes, with `note` (the
    API key that filed) in each entry's body; the claimant stays the `claimant` of the
    case. A claimant whose account was made for the filing is invited to choose a
    password instead of being told of a case they cannot yet open.
    """

    actor: Actor
    name: str
    note: dict[str, Any]
    claimant_is_new: bool = False


@dataclass(frozen=True)
class Filed:
    ref: str
    case_id: int
    agent_id: int | None
    respondent_id: int | None
    respondent_is_new: bool


def filing_body(filing: Filing, claimant: Viewer) -> dict[str, Any]:
    return {
        "category": filing.category,
        "claimant": claimant.actor_id,
        "contested_resolution": filing.contested_resolution,
        "what_happened": filing.what_happened,
        "happened_on": filing.happened_on.isoformat(),
        "transaction_ids": filing.transaction_ids,
        "amount": filing.amount,
        "asset": filing.asset,
        "remedy_wanted": filing.remedy_wanted,
    }


async def file_case(
    keyring: Keyring,
    claimant: Viewer,
    filing: Filing,
    files: list[ReceivedFile],
    filer: Filer | None = None,
) -> Filed:
    """Write the case, its people and its files, and their entries, in one transaction."""
    from portal.cases import deadlines

    now = deadlines.now()
    first_review = await deadlines.stage_deadline("submitted", "standard", now)
    engine = Case._meta.db
    async with write_transaction(engine):
        ref = await next_reference(now.year)
        rows = await Case.insert(
            Case(
                ref=ref,
                state="submitted",
                category=filing.category,
                language=claimant.language,
                contested_resolution=filing.contested_resolution,
                what_happened=filing.what_happened,
                happened_on=filing.happened_on,
                transaction_ids="\n".join(filing.transaction_ids),
                amount=filing.amount,
                asset=filing.asset,
                remedy_wanted=filing.remedy_wanted,
                deadline_at=first_review,
                next_step_by=roles.AGENT,
                state_since=now,
                filed_at=now,
                updated_at=now,
            )
        ).returning(Case.id)
        case_id = rows[0]["id"]
        await _add_participant(case_id, claimant.id, roles.CLAIMANT, now)
        await record(
            keyring,
            ref,
            "case.filed",
            filer.actor if filer else actor(claimant.id, roles.CLAIMANT),
            {**filing_body(filing, claimant), **(filer.note if filer else {})},
        )
        agent_id = await least_busy_agent()
        if agent_id is not None:
            await _add_participant(case_id, agent_id, roles.AGENT, now)
            await record(
                keyring,
                ref,
                "participant.added",
                SYSTEM,
                {"user": f"user:{agent_id}", "role": roles.AGENT},
            )
        respondent_id, is_new = None, False
        if filing.respondent_email:
            respondent_id, is_new = await add_respondent(
                keyring,
                ref,
                case_id,
                filing.respondent_email,
                claimant,
                roles.CLAIMANT,
                now,
                filer,
            )
        if files:
            await evidence.record_files(
                keyring, ref, case_id, files, claimant, roles.CLAIMANT, "all", None, now
            )
        link = f"/cases/{ref}"
        if filer and filer.claimant_is_new:
            await invite_new_claimant(claimant.id, filer.name, ref)
        else:
            await notify(
                [claimant.id], "case_filed", case_ref=ref, link=link, template="case_filed"
            )
        if agent_id is not None:
            await notify(
                [agent_id], "case_assigned", case_ref=ref, link=link, template="case_assigned"
            )
    return Filed(ref, case_id, agent_id, respondent_id, is_new)


async def _add_participant(case_id: int, user_id: int, role: str, now: datetime) -> None:
    await CaseParticipant.insert(
        CaseParticipant(case=case_id, user=user_id, role=role, added_at=now)
    )


async def add_respondent(
    keyring: Keyring,
    ref: str,
    case_id: int,
    email: str,
    by: Viewer,
    by_role: str,
    now: datetime,
    filer: Filer | None = None,
) -> tuple[int, bool]:
    """Put the other side on the case, creating their account (to be invited) if needed.

    Returns the respondent's user ID and whether the account is new (so the caller
    sends an invitation to set a password rather than a plain notice).
    """
    from portal.errors import Conflict

    user = await User.select(User.id, User.role).where(User.email == email).first()
    is_new = user is None
    if user is None:
        rows = await User.insert(
            User(
                email=email,
                name=email.split("@")[0],
                role=roles.PARTY,
                language=by.language,
                created_at=now,
            )
        ).returning(User.id)
        user_id = rows[0]["id"]
    else:
        user_id = user["id"]
        if user["role"] != roles.PARTY:
            raise FormInvalid(
                {
                    "respondent_email": _(
                        "This address belongs to platform staff or a neutral, "
                        "not a customer; enter the other customer's address."
                    )
                }
            )
    if user_id == by.id:
        raise FormInvalid({"respondent_email": _("You cannot name yourself as the other side.")})
    already = await CaseParticipant.exists().where(
        (CaseParticipant.case == case_id) & (CaseParticipant.user == user_id)
    )
    if already:
        raise Conflict(_("This person is already on the case."))
    await _add_participant(case_id, user_id, roles.RESPONDENT, now)
    await record(
        keyring,
        ref,
        "participant.added",
        filer.actor if filer else actor(by.id, by_role),
        {"user": f"user:{user_id}", "role": roles.RESPONDENT, **(filer.note if filer else {})},
    )
    await tell_respondent(ref, user_id, is_new, by)
    return user_id, is_new


async def tell_respondent(ref: str, user_id: int, is_new: bool, by: Viewer) -> None:
    """The other side is told of the case; a new account gets a link to set its password,
    which then leads to the case."""
    link = f"/cases/{ref}"
    if is_new:
        await invite_new_respondent(user_id, by, ref)
        return
    await notify(
        [user_id],
        "respondent_invited",
        case_ref=ref,
        link=link,
        template="respondent_invited",
        claimant_name=by.name,
    )


async def invite_new_respondent(user_id: int, by: Viewer, ref: str) -> None:
    """Someone without an account is named: one email with the case and a single-use
    link to choose a password (the same invitation link outsiders get)."""
    from portal.accounts import invitations
    from portal.notifications.mail import queue_mail
    from portal.notifications.notify import absolute_link

    new = await invitations.create_token(user_id, invitations.INVITE, created_by=by.id)
    row = await User.select(User.email, User.language).where(User.id == user_id).first()
    assert row is not None
    await queue_mail(
        row["email"],
        row["language"] if row["language"] else by.language,
        "respondent_new_account",
        ref=ref,
        claimant_name=by.name,
        link=absolute_link(f"/invite/{new.token}"),
        expires_at=new.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


async def invite_new_claimant(user_id: int, filer_name: str, ref: str) -> None:
    """A claimant whose account the platform made when it filed for them: one email with
    the case and a single-use link to choose a password (the link outsiders get)."""
    from portal.accounts import invitations
    from portal.notifications.mail import queue_mail
    from portal.notifications.notify import absolute_link

    new = await invitations.create_token(user_id, invitations.INVITE)
    row = await User.select(User.email, User.language).where(User.id == user_id).first()
    assert row is not None
    await queue_mail(
        row["email"],
        row["language"],
        "case_filed_for_you",
        ref=ref,
        filer_name=filer_name,
        link=absolute_link(f"/invite/{new.token}"),
        expires_at=new.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


async def invite_respondent(
    keyring: Keyring, ref: str, case_id: int, email: str, by: Viewer, access: Any
) -> tuple[int, bool]:
    """Someone on the case names the other side after filing."""
    from portal.accounts.service import normal_email
    from portal.errors import Conflict

    try:
        address = normal_email(email)
    except FormInvalid:
        raise FormInvalid(
            {"respondent_email": _("Enter the other side's email address like name@example.com.")}
        ) from None
    if roles.RESPONDENT in access.other_roles:
        raise Conflict(_("This case already has a respondent."))
    by_role = access.acting_role(A.INVITING)
    async with write_transaction(Case._meta.db):
        return await add_respondent(keyring, ref, case_id, address, by, by_role, datetime.now(UTC))


ASSIGNABLE = (roles.AGENT, roles.INVESTIGATOR, roles.ASSESSOR, roles.LEGAL)
"""What a supervisor puts people on a case as; neutrals come by appointment instead."""


async def _side_acted_for(case_id: int, role: str, acts_for: str) -> int | None:
    """The party a new legal participant acts for (None: the platform), from the form."""
    from portal.procedure.policy import sides

    if not acts_for:
        return None
    if role != roles.LEGAL:
        raise FormInvalid({"acts_for": _("Only a legal user acts for a side of the case.")})
    participants = await CaseParticipant.select(CaseParticipant.user, CaseParticipant.role).where(
        CaseParticipant.case == case_id
    )
    party = int(acts_for) if acts_for.isdigit() and len(acts_for) < 19 else None
    if party is None or party not in sides(participants):
        raise FormInvalid({"acts_for": _("Choose the platform or a party of this case.")})
    return party


async def assign(
    keyring: Keyring,
    ref: str,
    case_id: int,
    email: str,
    role: str,
    by: Viewer,
    acts_for: str = "",
) -> int:
    """A supervisor puts a staff member or a legal user on the case, and tells them.

    A legal user acts for a side: the platform (`acts_for` empty, its legal team) or one
    party of the case (`acts_for` that party's user id), whose lawyer then reads what the
    policy lets a party's lawyer read. The side is in the ledger entry, so who could read
    what is on the record."""
    from portal.accounts.service import normal_email

    address = normal_email(email)
    if role not in ASSIGNABLE:
        raise FormInvalid({"role": _("Choose agent, investigator, assessor or legal.")})
    party = await _side_acted_for(case_id, role, acts_for.strip())
    user = await User.select(User.id, User.role, User.active).where(User.email == address).first()
    if user is None or not user["active"] or user["role"] != role:
        raise FormInvalid(
            {"email": _("There is no active %(role)s with this email address.", role=role)}
        )
    already = await CaseParticipant.exists().where(
        (CaseParticipant.case == case_id)
        & (CaseParticipant.user == user["id"])
        & (CaseParticipant.role == role)
    )
    if already:
        raise FormInvalid({"email": _("This person already has this role on the case.")})
    now = datetime.now(UTC)
    async with write_transaction(Case._meta.db):
        await CaseParticipant.insert(
            CaseParticipant(case=case_id, user=user["id"], role=role, added_at=now, acts_for=party)
        )
        body = {"user": f"user:{user['id']}", "role": role}
        if role == roles.LEGAL:
            body["acts_for"] = f"user:{party}" if party is not None else "platform"
        await record(keyring, ref, "participant.added", actor(by.id, roles.SUPERVISOR), body)
        await notify(
            [user["id"]],
            "case_assigned",
            case_ref=ref,
            link=f"/cases/{ref}",
            template="case_assigned",
        )
    return int(user["id"])
