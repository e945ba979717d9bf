"""Entry types of an arbitration's first part: constituting the tribunal.

Lists of candidates and their rankings, nominations, invitations, disclosures, seats
accepted, declined or lapsed, challenges and their decisions, up to the tribunal being
complete. Their notices use `templates/email/arbitration_constitution.txt`; what the
tribunal does once it sits is declared in `arbitration_proceedings.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.i18n import _
from portal.procedure.entries.registry import EntryType, Notice, Text, declare, paragraph
from portal.procedure.entries.registry import step_notice as _step_notice

SEAT = ("seat", "seat_id", "arbitrator")
Context = Mapping[str, Any]


def _formed(step: str, subject: Text, body: Text) -> Notice:
    """A notice of `templates/email/arbitration_constitution.txt`: forming the tribunal."""
    return _step_notice("arbitration_constitution", step, subject, body)


def _refilled() -> str:
    return _("The seat is being filled again by the same method.")


def _invited(c: Context) -> str:
    said = _(
        "You are invited to sit as %(seat)s in case %(ref)s. Read the summary, sign your "
        "disclosure, and accept or decline by %(due)s.",
        seat=c["seat"],
        ref=c["ref"],
        due=c["due"],
    )
    if not c.get("account_link"):
        return said + "\n"
    link = _("First choose your password here (the link works once):")
    return f"{said}\n\n{link}\n{c['account_link']}\n"


def _declined(c: Context) -> str:
    said = _(
        "%(name)s declined to sit as %(seat)s in case %(ref)s.",
        name=c["name"],
        seat=c["seat"],
        ref=c["ref"],
    )
    if c.get("reasons"):
        said += "\n" + _("Their reasons: %(reasons)s", reasons=c["reasons"])
    return said + "\n\n" + _refilled()


def _appointed(c: Context) -> str:
    said = _(
        "%(name)s accepted to sit as %(seat)s in case %(ref)s. A party may challenge the "
        "appointment, with reasons, until %(until)s.",
        name=c["name"],
        seat=c["seat"],
        ref=c["ref"],
        until=c["until"],
    )
    if c.get("disclosure"):
        said += "\n" + _("They disclosed: %(text)s", text=c["disclosure"])
    return said + "\n"


STARTED = (
    _formed(
        "nominate",
        lambda c: _("Case %(ref)s: name your arbitrator", ref=c["ref"]),
        lambda c: _(
            "The arbitration of case %(ref)s has started under three-member rules. "
            "Name your arbitrator from the roster by %(due)s.",
            ref=c["ref"],
            due=c["due"],
        ),
    ),
)
DECLINED = (
    _formed(
        "declined", lambda c: _("Case %(ref)s: an arbitrator declined", ref=c["ref"]), _declined
    ),
    # The seat of a side's nominee is filled again by the side (after a decline, a lapse
    # or a removal alike).
    _formed(
        "nominate_again",
        lambda c: _("Case %(ref)s: name another arbitrator", ref=c["ref"]),
        lambda c: _(
            "The arbitrator named for your side in case %(ref)s will not sit. Name "
            "another from the roster by %(due)s.",
            ref=c["ref"],
            due=c["due"],
        ),
    ),
)
DECIDED = (
    _formed(
        "challenge_upheld",
        lambda c: _("Case %(ref)s: a challenge is upheld", ref=c["ref"]),
        lambda c: paragraph(
            _(
                "The challenge to %(name)s in case %(ref)s is upheld: %(reasons)s",
                name=c["name"],
                ref=c["ref"],
                reasons=c["reasons"],
            ),
            _refilled(),
        ),
    ),
    _formed(
        "challenge_dismissed",
        lambda c: _("Case %(ref)s: a challenge is dismissed", ref=c["ref"]),
        lambda c: _(
            "The challenge to %(name)s in case %(ref)s is dismissed: %(reasons)s",
            name=c["name"],
            ref=c["ref"],
            reasons=c["reasons"],
        ),
    ),
)

ARBITRATION_LIST_SENT_TOLD = (
    _formed(
        "list_sent",
        lambda c: _("Case %(ref)s: rank the list of arbitrators", ref=c["ref"]),
        lambda c: _(
            "A list of candidates for the %(seat)s of case %(ref)s is ready. Strike up to "
            "%(strikes)s and rank the others by %(due)s; if you do not answer, you are taken to "
            "accept all in list order.",
            seat=c["seat"],
            ref=c["ref"],
            strikes=c["strikes"],
            due=c["due"],
        ),
    ),
)
ARBITRATION_LIST_EXHAUSTED_TOLD = (
    _formed(
        "exhausted",
        lambda c: _("Case %(ref)s: a list of arbitrators is used up", ref=c["ref"]),
        lambda c: _(
            "Every candidate of the list for the %(seat)s of case %(ref)s declined, did not "
            "answer, or was struck. A new list is sent if the roster allows.",
            seat=c["seat"],
            ref=c["ref"],
        ),
    ),
)
ARBITRATION_NO_CANDIDATES_TOLD = (
    _formed(
        "no_candidates",
        lambda c: _("Case %(ref)s: no arbitrator is left on the roster", ref=c["ref"]),
        lambda c: _(
            "No arbitrator on the roster can be put on a list for the %(seat)s of case %(ref)s. "
            "Add arbitrators to the roster, then send a new list from the case.",
            seat=c["seat"],
            ref=c["ref"],
        ),
    ),
)
ARBITRATOR_INVITED_TOLD = (
    _formed(
        "invited",
        lambda c: _("Case %(ref)s: you are invited to arbitrate", ref=c["ref"]),
        _invited,
    ),
)
ARBITRATOR_APPOINTED_TOLD = (
    _formed(
        "appointed",
        lambda c: _("Case %(ref)s: an arbitrator is appointed", ref=c["ref"]),
        _appointed,
    ),
)
ARBITRATOR_LAPSED_TOLD = (
    _formed(
        "lapsed",
        lambda c: _("Case %(ref)s: an arbitrator did not answer in time", ref=c["ref"]),
        lambda c: _(
            "%(name)s did not answer the invitation to sit as %(seat)s in case %(ref)s in time. "
            "The seat is being filled again by the same method.",
            name=c["name"],
            seat=c["seat"],
            ref=c["ref"],
        ),
    ),
)
ARBITRATOR_CHALLENGED_TOLD = (
    _formed(
        "challenged",
        lambda c: _("Case %(ref)s: an arbitrator is challenged", ref=c["ref"]),
        lambda c: paragraph(
            _(
                "%(name)s is challenged in case %(ref)s: %(reasons)s",
                name=c["name"],
                ref=c["ref"],
                reasons=c["reasons"],
            ),
            _("A supervisor decides."),
        ),
    ),
)
TRIBUNAL_CONSTITUTED_TOLD = (
    _formed(
        "constituted",
        lambda c: _("Case %(ref)s: the tribunal is constituted", ref=c["ref"]),
        lambda c: _(
            "The tribunal of case %(ref)s is constituted: %(names)s. It will set the timetable "
            "by %(due)s.",
            ref=c["ref"],
            names=c["names"],
            due=c["due"],
        ),
    ),
)


declare(
    EntryType("arbitration.started", lambda b, w: _("started the arbitration"),
              fields=("ruleset",), notices=STARTED),
    EntryType("arbitration.list_sent", lambda b, w: _("sent a list of candidate arbitrators"),
              fields=("list", "seat", "candidates", "strikes", "due"),
              notices=ARBITRATION_LIST_SENT_TOLD),
    EntryType("arbitration.list_answered",
              lambda b, w: _("struck and ranked the list of candidates"),
              fields=("list", "seat", "content_sha256"), optional=("ranker", "defaulted"),
              private=("ranking",)),
    EntryType("arbitration.list_closed", lambda b, w: _("closed the list of candidates"),
              fields=("list", "seat", "rankings", "answers", "defaulted", "order")),
    EntryType("arbitration.list_exhausted",
              lambda b, w: _("noted that no candidate of a list is left"),
              fields=("list", "seat"), notices=ARBITRATION_LIST_EXHAUSTED_TOLD),
    EntryType("arbitration.no_candidates",
              lambda b, w: _("noted that no arbitrator on the roster can be listed"),
              fields=("seat",), notices=ARBITRATION_NO_CANDIDATES_TOLD),
    EntryType("arbitrator.nominated", lambda b, w: _("named an arbitrator"),
              fields=("seat", "arbitrator", "name")),
    EntryType("arbitrator.invited", lambda b, w: _("invited an arbitrator"),
              fields=(*SEAT, "name", "chosen_by", "answer_due"), notices=ARBITRATOR_INVITED_TOLD),
    EntryType("arbitrator.disclosed", lambda b, w: _("signed an arbitrator's disclosure"),
              fields=("seat", "seat_id", "disclosure"), details=("disclosure",)),
    EntryType("arbitrator.appointed", lambda b, w: _("joined the tribunal"),
              fields=(*SEAT, "challenge_until"), notices=ARBITRATOR_APPOINTED_TOLD),
    EntryType("arbitrator.declined", lambda b, w: _("declined to arbitrate"),
              fields=SEAT, optional=("reasons",), details=("reasons",), notices=DECLINED),
    EntryType("arbitrator.lapsed",
              lambda b, w: _("noted that an arbitrator did not answer in time"), fields=SEAT,
              notices=ARBITRATOR_LAPSED_TOLD),
    EntryType("arbitrator.challenged", lambda b, w: _("challenged an arbitrator"),
              fields=("challenge", *SEAT, "reasons"), details=("reasons",),
              notices=ARBITRATOR_CHALLENGED_TOLD),
    EntryType("challenge.decided", lambda b, w: _("decided a challenge"),
              fields=("challenge", *SEAT, "decision", "reasons"), details=("reasons",),
              notices=DECIDED),
    EntryType("arbitrator.removed", lambda b, w: _("removed an arbitrator"), fields=SEAT),
    EntryType("tribunal.constituted", lambda b, w: _("noted that the tribunal is complete"),
              fields=("ruleset", "arbitrators"), notices=TRIBUNAL_CONSTITUTED_TOLD),
)  # fmt: skip
