"""The award: drafted by the tribunal alone, signed by each arbitrator, then issued.

A draft is the tribunal's until it is issued. Its text is drawn up in the case's
language from the reasons, the relief (items, as in mediation offers) and the costs,
and hashed; every save is a ledger entry in the `tribunal` channel carrying only that
hash, so the parties' timeline and proof bundle say nothing of it. Each arbitrator
signs the text (password again) or, on a tribunal of three, records a dissent; both
name the text's SHA-256, and a change to the draft clears them. The award is issued
when every arbitrator signed, or a majority signed and the others dissented: then
`award.issued` carries the text, its hash and the dissents, and the case becomes
`awarded` in the same transaction.

An issued award never changes. Within the ruleset's `correction_window` a side may ask
for a clerical correction; the tribunal answers with an addendum (its own entry, naming
the award's hash) or refuses with reasons.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from piccolo.columns import Column

from arbitration import tribunal
from arbitration.tables import Arbitration, Award, AwardVote
from ledger.keys import Keyring
from mediation.items import describe, parse_items
from portal.accounts.reauth import confirm_password
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.lifecycle import take_system_step
from portal.cases.sides import Side, sides_of
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _, language
from portal.procedure import roles
from portal.procedure.arbitration import ARBITRATION, AWARD, ask, move, subject
from portal.procedure.channels import ALL

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

TEXT_LIMIT = 50_000
TRIBUNAL = "tribunal"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _side_name(role: str) -> str:
    return {
        "claimant": _("the claimant"),
        "respondent": _("the respondent"),
        "platform": _("for the platform"),
    }.get(role, role)


def draw_up(ref: str, case_language: str, sides: list[Side], arbitrators: list[str],
            reasons: str, items: list[dict[str, Any]], costs: str) -> str:  # fmt: skip
    """The award's text, in the case's language; never regenerated once signed."""
    names = {side.role: side.name for side in sides}
    with language(case_language):
        if len(arbitrators) == 1:
            bench = _("Sole arbitrator: %(name)s", name=arbitrators[0])
        else:
            bench = _("The tribunal: %(names)s", names=_(", ").join(arbitrators))
        lines = [
            _("Final award in case %(ref)s", ref=ref),
            "",
            bench,
            _("The parties: %(parties)s", parties=_("; ").join(
                _("%(name)s (%(role)s)", name=side.name, role=_side_name(side.role))
                for side in sides)),
            "",
            _("Reasons"),
            reasons,
            "",
            _("Relief. The tribunal orders:"),
            *(f"{n}. {describe(item, names)}" for n, item in enumerate(items, start=1)),
            "",
            _("Costs"),
            costs,
            "",
            _("This award is final and binds the parties. It takes effect when issued, "
              "signed by the tribunal as the ledger of case %(ref)s records.", ref=ref),
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def text_of(form: dict[str, str], name: str, errors: dict[str, str], message: str) -> str:
    value = form.get(name, "").replace("\r\n", "\n").strip()
    if not value:
        errors[name] = message
    elif len(value) > TEXT_LIMIT:
        errors[name] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
    return value


async def current(case_id: int) -> dict[str, Any] | None:
    """The case's award, draft or issued, with its votes on the present text."""
    row: dict[str, Any] | None = (
        await Award.select().where(Award.case == case_id).order_by(Award.id).first()
    )
    if row is None:
        return None
    row["items"] = json.loads(row["relief"])
    names = {s.role: s.name for s in await sides_of(case_id)}
    row["sentences"] = [describe(item, names) for item in row["items"]]
    row["votes"] = (
        await AwardVote.select(*AwardVote.all_columns(), AwardVote.arbitrator.name)
        .where((AwardVote.award == row["id"]) & (AwardVote.sha256 == row["sha256"]))
        .order_by(AwardVote.id)
    )
    voted = {v["arbitrator"] for v in row["votes"]}
    row["pending"] = [m for m in await tribunal.members(case_id) if m["user"] not in voted]
    row["signatures"] = [v for v in row["votes"] if v["vote"] == "signed"]
    row["dissents"] = [v for v in row["votes"] if v["vote"] == "dissent"]
    return row


async def save_draft(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> None:
    """Write or rewrite the draft; a changed text clears every vote on the old one."""
    if not access.can_conduct_proceedings:
        raise NotAllowed(_("Only the tribunal drafts the award, while it sits."))
    errors: dict[str, str] = {}
    reasons = text_of(form, "reasons", errors, _("Give the tribunal's reasons."))
    sides = await sides_of(access.case_id)
    item_errors: dict[str, str] = {}
    items = parse_items(form, tuple(s.role for s in sides), item_errors)
    if not items:
        item_errors["item-0-kind"] = _("The award needs at least one item of relief.")
    errors.update(item_errors)
    costs = text_of(form, "costs", errors, _("Say who bears the costs, and how much."))
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        # The case row first: one such step of a case at a time (PostgreSQL).
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        case = await Case.select(Case.language).where(Case.id == access.case_id).first()
        assert case is not None
        members = await tribunal.members(access.case_id)
        text = draw_up(ref, case["language"], sides, [m["name"] for m in members], reasons,
                       items, costs)  # fmt: skip
        digest = text_hash(text)
        existing = await Award.select().where(Award.case == access.case_id).first()
        if existing is not None:
            ask(AWARD, "save_draft", subject(existing), access, at,
                _("The award is issued; it is corrected only by an addendum."))  # fmt: skip
        await record(keyring, ref, "award.drafted", actor(access.viewer.id, roles.ARBITRATOR),
                     {"channel": TRIBUNAL, "content_sha256": digest})  # fmt: skip
        values: dict[Column, Any] = {
            Award.reasons: reasons, Award.relief: json.dumps(items), Award.costs: costs,
            Award.language: case["language"], Award.text: text, Award.sha256: digest,
            Award.drafted_by: access.viewer.id, Award.updated_at: at,
        }  # fmt: skip
        if existing is None:
            await Award.insert(Award(case=access.case_id, status=AWARD.initial,
                                     **{c._meta.name: v for c, v in values.items()}))  # fmt: skip
        else:
            done = (
                # Piccolo takes columns or names; a dict of columns is one (dicts are invariant).
                await Award.update(cast("dict[Column | str, Any]", values))
                .where((Award.id == existing["id"]) & Award.status.is_in(sorted(AWARD.open_states)))
                .returning(Award.id)
            )
            if not done:
                raise Conflict(_("The award is issued; it is corrected only by an addendum."))
            if digest != existing["sha256"]:
                await AwardVote.delete().where(AwardVote.award == existing["id"])
        await tribunal.tell_tribunal(access.case_id, ref, "award_drafted", by=access.viewer.id)


async def vote(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str],
               address: str) -> bool:  # fmt: skip
    """Sign the draft, or record a dissent; True when this vote issued the award."""
    if not access.can_conduct_proceedings:
        raise NotAllowed(_("Only the tribunal signs the award, while it sits."))
    choice = form.get("vote", "")
    if choice not in ("sign", "dissent"):
        raise FormInvalid({"vote": _("Choose to sign the award or to record a dissent.")})
    dissent = form.get("dissent", "").replace("\r\n", "\n").strip()
    if choice == "dissent":
        if len(await tribunal.members(access.case_id)) < 3:
            raise FormInvalid({"vote": _("A sole arbitrator signs the award; only a member of "
                                         "a tribunal of three may dissent.")})  # fmt: skip
        if not dissent:
            raise FormInvalid({"dissent": _("Write your dissenting opinion.")})
        if len(dissent) > TEXT_LIMIT:
            raise FormInvalid({"dissent": _("Keep this under %(n)s characters.", n=TEXT_LIMIT)})
    await confirm_password(access.viewer.id, form.get("password", ""), address)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        # The case row first, as every step takes it: two last votes cannot both issue.
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        award = await current(access.case_id)
        if award is None:
            raise Conflict(_("There is no draft award to sign."))
        ask(AWARD, "sign" if choice == "sign" else "dissent", subject(award), access, at,
            _("There is no draft award to sign."))  # fmt: skip
        if access.viewer.id not in {m["user"] for m in award["pending"]}:
            raise Conflict(_("You have voted on this text already."))
        who = actor(access.viewer.id, roles.ARBITRATOR)
        body: dict[str, Any] = {"channel": TRIBUNAL, "award": award["id"],
                                "sha256": award["sha256"]}  # fmt: skip
        if choice == "dissent":
            body["content_sha256"] = text_hash(dissent)
        event = "award.signed" if choice == "sign" else "award.dissented"
        receipt = await record(keyring, ref, event, who, body)
        await AwardVote.insert(
            AwardVote(
                award=award["id"],
                arbitrator=access.viewer.id,
                vote="signed" if choice == "sign" else "dissent",
                dissent=dissent if choice == "dissent" else "",
                sha256=award["sha256"],
                case_seq=receipt.case_seq,
                voted_at=at,
            )
        )
        award = await current(access.case_id)
        assert award is not None
        if not _carried(award, len(await tribunal.members(access.case_id))):
            await tribunal.tell_tribunal(access.case_id, ref, "award_" + event[6:],
                                         by=access.viewer.id)  # fmt: skip
            return False
        await _issue(keyring, ref, access.case_id, award, at)
    return True


def _carried(award: dict[str, Any], members: int) -> bool:
    """Every arbitrator signed; or a majority signed and every other one dissented."""
    signed = len(award["signatures"])
    if award["pending"] or members == 0:
        return False
    return signed == members or (members >= 3 and signed > members // 2)


async def _issue(keyring: Keyring, ref: str, case_id: int, award: dict[str, Any],
                 at: datetime) -> None:  # fmt: skip
    step = move(AWARD, "issue")
    issued = (
        await Award.update({Award.status: step.target, Award.issued_at: at})
        .where((Award.id == award["id"]) & Award.status.is_in(sorted(step.sources)))
        .returning(Award.id)
    )
    if not issued:
        raise Conflict(_("The award has been issued already."))
    receipt = await record(
        keyring,
        ref,
        "award.issued",
        actor(award["signatures"][-1]["arbitrator"], roles.ARBITRATOR),
        {
            "award": award["id"],
            "language": award["language"],
            "sha256": award["sha256"],
            "text": award["text"],
            "signed_by": [f"user:{v['arbitrator']}" for v in award["signatures"]],
            "signatures": [v["case_seq"] for v in award["signatures"]],
            "dissents": [
                {"by": f"user:{v['arbitrator']}", "content_sha256": text_hash(v["dissent"]),
                 "text": v["dissent"]}
                for v in award["dissents"]
            ],
        },
    )  # fmt: skip
    await Award.update({Award.case_seq: receipt.case_seq}).where(Award.id == award["id"])
    await Arbitration.update({Arbitration.status: move(ARBITRATION, "issue_award").target}).where(
        Arbitration.case == case_id
    )
    await take_system_step(keyring, ref, case_id, "issue_award",
                           {"award": award["id"], "sha256": award["sha256"]}, at)  # fmt: skip
    await tribunal.tell_everyone(case_id, ref, "award_issued", sha256=award["sha256"])


async def record_download(keyring: Keyring, ref: str, access: CaseAccess,
                          award: dict[str, Any]) -> None:  # fmt: skip
    """Every download of the issued award is in the ledger, as every file read is."""
    async with write_transaction(Case._meta.db):
        await record(keyring, ref, "award.downloaded",
                     actor(access.viewer.id, access.acting_role(ALL)),
                     {"award": award["id"], "sha256": award["sha256"]})  # fmt: skip
