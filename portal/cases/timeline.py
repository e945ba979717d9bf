"""The case room's view of a case: timeline, statements, evidence and people.

The timeline is read straight from the case's ledger entries, so what the room shows
is what the ledger signed. Each function is one query (or two with names), whatever
the case's length, and filters through the viewer's `CaseAccess`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.cases.events import user_id_of
from portal.cases.tables import CaseParticipant, Evidence, InfoRequest, Proposal, Statement, Survey
from portal.i18n import _, ngettext
from portal.policy import CAUCUS, CaseAccess


@dataclass(frozen=True)
class Event:
    case_seq: int
    type: str
    at: datetime
    actor_id: str
    actor_role: str
    body: dict[str, Any]
    leaf_index: int | None


async def people_on(case_id: int) -> list[dict[str, Any]]:
    """Everyone on the case with their role, in the order they joined."""
    return (
        await CaseParticipant.select(
            CaseParticipant.user.id.as_alias("id"),
            CaseParticipant.user.name.as_alias("name"),
            CaseParticipant.user.email.as_alias("email"),
            CaseParticipant.role,
            CaseParticipant.acts_for,  # a legal user's party; None: the platform
        )
        .where(CaseParticipant.case == case_id)
        .order_by(CaseParticipant.id)
    )


def _visible(access: CaseAccess, body: dict[str, Any]) -> bool:
    channel = body.get("channel")
    if not channel:
        return True
    party = user_id_of(body.get("caucus_party", "")) if channel == CAUCUS else None
    return access.can_read(channel, party)


async def timeline(ref: str, access: CaseAccess, after_seq: int = -1) -> list[Event]:
    rows = (
        await LedgerEntry.select(LedgerEntry.case_seq, LedgerEntry.entry, LedgerEntry.leaf_index)
        .where((LedgerEntry.case_ref == ref) & (LedgerEntry.case_seq > after_seq))
        .order_by(LedgerEntry.case_seq)
    )
    events = []
    for row in rows:
        entry = json.loads(bytes(row["entry"]))
        body = entry.get("body", {})
        if not _visible(access, body):
            continue
        events.append(
            Event(
                case_seq=row["case_seq"],
                type=entry["type"],
                at=datetime.fromisoformat(entry["at"].replace("Z", "+00:00")),
                actor_id=entry["actor"]["id"],
                actor_role=entry["actor"]["role"],
                body=body,
                leaf_index=row["leaf_index"],
            )
        )
    return events


async def names_for(events: list[Event], people: list[dict[str, Any]]) -> dict[str, str]:
    """Names for every actor and person an event mentions: people on the case, plus
    one query for anyone else (someone who has since left the case)."""
    names = {f"user:{p['id']}": p["name"] for p in people}
    wanted = {e.actor_id for e in events} | {
        str(e.body["user"]) for e in events if isinstance(e.body.get("user"), str)
    }
    missing = [i for i in (user_id_of(w) for w in wanted - names.keys()) if i is not None]
    if missing:
        for row in await User.select(User.id, User.name).where(User.id.is_in(missing)):
            names[f"user:{row['id']}"] = row["name"]
    names["system"] = _("The portal")
    return names


def describe(event: Event, names: dict[str, str]) -> str:
    """One line saying what happened, in the reader's language."""
    body = event.body
    if event.type == "case.filed":
        return _("filed the dispute")
    if event.type == "participant.added":
        from portal.procedure.labels import role_label

        name = names.get(str(body.get("user")), _("someone"))
        role = role_label(str(body.get("role")))
        client = body.get("acts_for")
        if isinstance(client, str) and client != "platform":
            return _(
                "added %(name)s as %(role)s for %(party)s",
                name=name,
                role=role,
                party=names.get(client, _("someone")),
            )
        return _("added %(name)s as %(role)s", name=name, role=role)
    if event.type == "statement.submitted":
        return _("wrote in %(channel)s", channel=channel_label(str(body.get("channel"))))
    if event.type == "evidence.added":
        count = len(body.get("files", []))
        return ngettext("added %(num)s file", "added %(num)s files", count)
    if event.type == "case.transitioned":
        from portal.cases.categories import state_label

        return _("moved the case to %(state)s", state=state_label(str(body.get("to"))))
    if event.type == "deadline.reminded":
        from portal.procedure.labels import role_label

        owner = role_label(str(body.get("owner")))
        if body.get("kind") == "overdue":
            return _(
                "sent a reminder that the deadline has passed (next step: %(role)s)", role=owner
            )
        return _("sent a reminder that the deadline is near (next step: %(role)s)", role=owner)
    if event.type == "evidence.downloaded":
        name = str(body.get("name", ""))
        if name.startswith("sha256:"):
            return _("downloaded a file")
        return _("downloaded %(name)s", name=name)
    if event.type == "mediator.proposed":
        return _("proposed %(name)s as the mediator", name=str(body.get("name", "")))
    if event.type == "mediator.disclosed":
        if body.get("disclosure") == "none":
            return _("signed the disclosure: nothing to disclose")
        return _("signed the disclosure: %(text)s", text=str(body.get("disclosure", "")))
    if event.type in ("mediation.started", "mediation.extended"):
        until = str(body.get("period_ends", ""))[:10]
        if event.type == "mediation.started":
            return _("started the mediation, which runs until %(date)s", date=until)
        return _("extended the mediation until %(date)s", date=until)
    simple = _SIMPLE.get(event.type)
    return simple() if simple else event.type


_SIMPLE = {
    "mediator.objected": lambda: _("objected to the mediator"),
    "mediator.agreed": lambda: _("agreed to the mediator"),
    "mediator.invited": lambda: _("invited the mediator"),
    "mediator.declined": lambda: _("declined to mediate"),
    "mediator.lapsed": lambda: _("noted that the mediator did not answer in time"),
    "offer.made": lambda: _("made a settlement offer"),
    "offer.accepted": lambda: _("accepted an offer"),
    "offer.rejected": lambda: _("rejected an offer"),
    "offer.expired": lambda: _("noted that an offer expired"),
    "settlement.drafted": lambda: _("drew up the settlement agreement"),
    "settlement.signed": lambda: _("signed the settlement agreement"),
    "settlement.downloaded": lambda: _("downloaded the settlement agreement"),
    "arbitration.started": lambda: _("started the arbitration"),
    "arbitration.list_sent": lambda: _("sent a list of candidate arbitrators"),
    "arbitration.list_answered": lambda: _("struck and ranked the list of candidates"),
    "arbitration.list_exhausted": lambda: _("noted that no candidate of a list is left"),
    "arbitration.no_candidates": lambda: _("noted that no arbitrator on the roster can be listed"),
    "participant.removed": lambda: _("removed someone from the case"),
    "arbitration.list_closed": lambda: _("closed the list of candidates"),
    "arbitrator.nominated": lambda: _("named an arbitrator"),
    "arbitrator.invited": lambda: _("invited an arbitrator"),
    "arbitrator.disclosed": lambda: _("signed an arbitrator's disclosure"),
    "arbitrator.appointed": lambda: _("joined the tribunal"),
    "arbitrator.declined": lambda: _("declined to arbitrate"),
    "arbitrator.lapsed": lambda: _("noted that an arbitrator did not answer in time"),
    "arbitrator.challenged": lambda: _("challenged an arbitrator"),
    "challenge.decided": lambda: _("decided a challenge"),
    "arbitrator.removed": lambda: _("removed an arbitrator"),
    "tribunal.constituted": lambda: _("noted that the tribunal is complete"),
    "timetable.set": lambda: _("set the timetable"),
    "timetable.next": lambda: _("moved the case on to the next date of the timetable"),
    "order.issued": lambda: _("issued a procedural order"),
    "extension.asked": lambda: _("asked for more time"),
    "extension.granted": lambda: _("granted more time"),
    "extension.refused": lambda: _("refused more time"),
    "award.drafted": lambda: _("saved a draft of the award"),
    "award.signed": lambda: _("signed the award"),
    "award.dissented": lambda: _("recorded a dissent"),
    "award.issued": lambda: _("issued the award"),
    "award.downloaded": lambda: _("downloaded the award"),
    "correction.asked": lambda: _("asked for a correction of the award"),
    "award.addendum": lambda: _("issued an addendum to the award"),
    "correction.refused": lambda: _("refused a correction of the award"),
    "casefile.exported": lambda: _("exported a signed case file"),
    "evidence.integrity_failed": lambda: _(
        "found that a stored file failed its integrity check, and did not send it"
    ),
}


def channel_label(channel: str) -> str:
    return {
        "all": _("All"),
        "staff": _("Staff notes"),
        "caucus": _("Caucus"),
        "tribunal": _("Tribunal"),
    }.get(channel, channel)


async def statements(case_id: int, access: CaseAccess, channel: str, party_id: int | None):
    if not access.can_read(channel, party_id):
        return []
    query = Statement.select(
        Statement.id,
        Statement.text,
        Statement.created_at,
        Statement.case_seq,
        Statement.content_sha256,
        Statement.author.name.as_alias("author_name"),
        Statement.author.id.as_alias("author_id"),
    ).where((Statement.case == case_id) & (Statement.channel == channel))
    if channel == CAUCUS:
        query = query.where(Statement.caucus_party == party_id)
    return await query.order_by(Statement.id)


async def evidence_list(case_id: int, access: CaseAccess) -> list[dict[str, Any]]:
    rows = (
        await Evidence.select(
            Evidence.id,
            Evidence.channel,
            Evidence.caucus_party,
            Evidence.name,
            Evidence.media_type,
            Evidence.size,
            Evidence.sha256,
            Evidence.case_seq,
            Evidence.created_at,
            Evidence.added_by.name.as_alias("added_by_name"),
            Evidence.platform_record,
        )
        .where(Evidence.case == case_id)
        .order_by(Evidence.id)
    )
    return [r for r in rows if access.can_see_file(r["channel"], r["caucus_party"])]


async def current_proposal(case_id: int) -> dict[str, Any] | None:
    """The latest proposal (a revision replaces the one before)."""
    return (
        await Proposal.select(*Proposal.all_columns(), Proposal.author.name.as_alias("author_name"))
        .where(Proposal.case == case_id)
        .order_by(Proposal.id, ascending=False)
        .first()
    )


async def info_requests(case_id: int, access: CaseAccess) -> list[dict[str, Any]]:
    """Questions put to the parties: staff see all; a party sees those put to them."""
    rows = (
        await InfoRequest.select(
            *InfoRequest.all_columns(), InfoRequest.asked_by.name.as_alias("asked_by_name")
        )
        .where(InfoRequest.case == case_id)
        .order_by(InfoRequest.id)
    )
    if access.is_staff:
        return rows
    return [r for r in rows if r["addressee"] == access.viewer.id]


async def survey_of(case_id: int) -> dict[str, Any] | None:
    return await Survey.select().where(Survey.case == case_id).first()
