"""What a case file's pages say: whose copy it is, the people on the case, every entry of
the chain in order, the conversations the audience may read, and the outcome.

The export (`export.py`) decides who the audience is and seals the file; this module only
fills in what the template `pdf/casefile.html` shows, in the case's language, leaving an
entry the audience may not read in its place, as its hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.cases.timeline import Event, _visible, channel_label, describe, statements
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.policy import CAUCUS, STAFF_COPY, CaseAccess

NEUTRAL_ROLES = (roles.MEDIATOR, roles.ARBITRATOR)


def event_of(entry: dict[str, Any], index: int) -> Event:
    """An entry of the bundle as the room's timeline reads it, at its leaf index."""
    return Event(
        case_seq=entry["case_seq"],
        type=entry["type"],
        at=datetime.fromisoformat(entry["at"].replace("Z", "+00:00")),
        actor_id=entry["actor"]["id"],
        actor_role=entry["actor"]["role"],
        body=entry.get("body", {}),
        leaf_index=index,
    )


def timeline(
    access: CaseAccess, events: list[Event], leaves: list[str], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Every entry of the chain, in order, with its leaf hash; an entry the audience may
    not read keeps its place and hash but not who wrote it or what it says."""
    from portal.procedure.labels import role_label

    timeline = []
    for event, leaf in zip(events, leaves, strict=True):
        shown = _visible(access, event.body)
        timeline.append(
            {
                "case_seq": event.case_seq,
                "index": event.leaf_index,
                "at": event.at,
                "who": names.get(event.actor_id, event.actor_id) if shown else "",
                "role": role_label(event.actor_role) if shown else "",
                "what": describe(event, names) if shown else None,
                "shown": shown,
                "leaf": leaf,
            }
        )
    return timeline


async def conversations(
    case_id: int, access: CaseAccess, party_names: dict[Any, str]
) -> list[dict[str, Any]]:
    """The statements of each channel the audience may read, under the channel's name."""
    conversations = []
    for channel in access.readable_channels():
        rows = await statements(case_id, access, channel.name, channel.party_id)
        label = channel_label(channel.name)
        if channel.name == CAUCUS:
            label = _("Caucus with %(name)s", name=party_names.get(channel.party_id, ""))
        conversations.append({"label": label, "statements": rows})
    return conversations


def audience_label(audience: str, access: CaseAccess, party_names: dict[Any, str]) -> str:
    """Whose copy this is and what it leaves as hashes, printed on its first page."""
    if audience == STAFF_COPY:
        return _(
            "Staff copy, for the platform's staff and legal team: the joint channel "
            "and staff notes. Caucus and tribunal entries appear as their hashes."
        )
    if access.counsel_for is not None:
        return _(
            "Copy for %(name)s's legal team: the joint channel. Staff notes, every "
            "caucus and tribunal entries appear as their hashes.",
            name=party_names.get(access.counsel_for, ""),
        )
    return _(
        "Copy for %(name)s, a party: the joint channel and their own caucus. "
        "Staff notes, the other side's caucus and tribunal entries appear as "
        "their hashes.",
        name=party_names.get(access.viewer.id, ""),
    )


def people_by_standing(
    people: list[dict[str, Any]], party_names: dict[Any, str]
) -> dict[str, list[dict[str, Any]]]:
    """The people on the case as the file lists them: parties, staff, counsel, neutrals."""
    from portal.procedure.labels import role_label

    return {
        "parties": [
            {"name": p["name"], "role_label": role_label(p["role"])}
            for p in people
            if p["role"] in roles.PARTY_SIDES
        ],
        "staff": [
            {"name": p["name"], "role_label": role_label(p["role"])}
            for p in people
            if p["role"] in roles.STAFF or (p["role"] == roles.LEGAL and not p["acts_for"])
        ],
        "counsel": [
            {"name": p["name"], "party": party_names.get(p["acts_for"], "")}
            for p in people
            if p["role"] == roles.LEGAL and p["acts_for"]
        ],
        "neutrals": [
            {"name": p["name"], "role_label": role_label(p["role"])}
            for p in people
            if p["role"] in NEUTRAL_ROLES
        ],
    }


async def outcome(case_id: int) -> dict[str, Any] | None:
    """The signed settlement or the issued award, with who signed it."""
    from arbitration import award
    from mediation import settlement

    agreement = await settlement.current(case_id)
    if agreement is not None and agreement["status"] == "signed":
        return {
            "kind": "settlement",
            "title": _("Settlement agreement"),
            "text": agreement["text"],
            "sha256": agreement["sha256"],
            "signatures": [
                {"name": s["signer.name"], "at": s["signed_at"], "case_seq": s["case_seq"]}
                for s in agreement["signatures"]
            ],
        }
    issued = await award.current(case_id)
    if issued is not None and issued["status"] == "issued":
        return {
            "kind": "award",
            "title": _("Award"),
            "text": issued["text"],
            "sha256": issued["sha256"],
            "signatures": [
                {"name": s["arbitrator.name"], "at": s["voted_at"], "case_seq": s["case_seq"]}
                for s in issued["signatures"]
            ],
        }
    return None
