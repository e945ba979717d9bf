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
from portal.cases.categories import category_label, severity_label, state_label
from portal.cases.events import user_id_of
from portal.cases.tables import CaseParticipant, Evidence, InfoRequest, Proposal, Statement, Survey
from portal.i18n import _
from portal.procedure import entries
from portal.procedure.entries import Reading, Words
from portal.procedure.entries import channel_label as channel_label  # the room's labels
from portal.procedure.labels import role_label
from portal.procedure.policy import CAUCUS, CaseAccess


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


def words_for(names: dict[str, str]) -> Words:
    """The labels an entry's reading needs, from the case area and the web layer's roles."""
    return Words(names=names, role=role_label, state=state_label, category=category_label,
                 severity=severity_label)  # fmt: skip


def describe(event: Event, names: dict[str, str]) -> Reading:
    """What happened, in the reader's language, as the registry of entry types reads it:
    one line, then the reasons and answers it carries (the case file shows the same)."""
    return entries.read(event.type, event.body, words_for(names))


async def statements(
    case_id: int, access: CaseAccess, channel: str, party_id: int | None
) -> list[dict[str, Any]]:
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
    if access.reads_every_request:
        return rows
    return [r for r in rows if r["addressee"] == access.viewer.id]


async def survey_of(case_id: int) -> dict[str, Any] | None:
    return await Survey.select().where(Survey.case == case_id).first()
