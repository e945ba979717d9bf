"""Entry types of a mediation: the mediator's appointment, the period, offers and the
settlement agreement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.i18n import _
from portal.procedure.entries.registry import (
    Body,
    EntryType,
    Notice,
    Text,
    Words,
    declare,
    paragraph,
)
from portal.procedure.entries.registry import step_notice as _step_notice

Context = Mapping[str, Any]


def _told(step: str, subject: Text, body: Text) -> tuple[Notice, ...]:
    """The notice `templates/email/mediation.txt` tells of this step."""
    return (_step_notice("mediation", step, subject, body),)


def _first_password(c: Context) -> str:
    """The new mediator's link to choose a password, spaced as this email always was."""
    if not c.get("account_link"):
        return "\n"
    link = _("First choose your password here (the link works once):")
    return f"\n\n{link}\n{c['account_link']}\n"


def _declined(c: Context) -> str:
    said = _("%(mediator)s declined to mediate case %(ref)s.", mediator=c["mediator"], ref=c["ref"])
    if c.get("reasons"):
        said += "\n" + _("Their reasons: %(reasons)s", reasons=c["reasons"])
    return said + "\n\n" + _("Propose another mediator.")


PROPOSED = _told(
    "proposed",
    lambda c: _("Case %(ref)s: a mediator is proposed", ref=c["ref"]),
    lambda c: _(
        "A supervisor proposed %(mediator)s as the mediator of case %(ref)s. You may "
        "agree, or object once with your reasons, until %(due)s.",
        mediator=c["mediator"],
        ref=c["ref"],
        due=c["due"],
    ),
)
OBJECTED = _told(
    "objected",
    lambda c: _("Case %(ref)s: a party objected to the mediator", ref=c["ref"]),
    lambda c: paragraph(
        _(
            "A party objected to %(mediator)s as the mediator of case %(ref)s: %(reasons)s",
            mediator=c["mediator"],
            ref=c["ref"],
            reasons=c["reasons"],
        ),
        _("A supervisor will propose someone else."),
    ),
)
INVITED = _told(
    "invited",
    lambda c: _("Case %(ref)s: you are invited to mediate", ref=c["ref"]),
    lambda c: (
        _(
            "You are invited to mediate case %(ref)s. Read the summary, sign your "
            "disclosure, and accept or decline by %(due)s.",
            ref=c["ref"],
            due=c["due"],
        )
        + _first_password(c)
    ),
)
DECLINED = _told(
    "declined", lambda c: _("Case %(ref)s: the mediator declined", ref=c["ref"]), _declined
)
LAPSED = _told(
    "lapsed",
    lambda c: _("Case %(ref)s: the mediator did not answer in time", ref=c["ref"]),
    lambda c: _(
        "%(mediator)s did not answer the invitation to mediate case %(ref)s in time. "
        "Propose another mediator.",
        mediator=c["mediator"],
        ref=c["ref"],
    ),
)
DISCLOSED = _told(
    "disclosed",
    lambda c: _("Case %(ref)s: the mediator made a disclosure", ref=c["ref"]),
    lambda c: _(
        "%(mediator)s agreed to mediate case %(ref)s and disclosed something you should "
        "read. You may object until %(due)s.",
        mediator=c["mediator"],
        ref=c["ref"],
        due=c["due"],
    ),
)
STARTED = _told(
    "started",
    lambda c: _("Case %(ref)s: the mediation has started", ref=c["ref"]),
    lambda c: _(
        "The mediation of case %(ref)s has started. It runs until %(due)s. You can talk "
        "to the mediator jointly or in private.",
        ref=c["ref"],
        due=c["due"],
    ),
)
EXTENDED = _told(
    "extended",
    lambda c: _("Case %(ref)s: the mediation is extended", ref=c["ref"]),
    lambda c: _(
        "The mediator extended the mediation of case %(ref)s until %(due)s.",
        ref=c["ref"],
        due=c["due"],
    ),
)
OFFER_MADE = _told(
    "offer_made",
    lambda c: _("Case %(ref)s: a settlement offer was made", ref=c["ref"]),
    lambda c: _(
        "A settlement offer was made in case %(ref)s. Read it and accept, reject or counter it.",
        ref=c["ref"],
    ),
)
OFFER_REJECTED = _told(
    "offer_rejected",
    lambda c: _("Case %(ref)s: an offer was rejected", ref=c["ref"]),
    lambda c: _("An offer in case %(ref)s was rejected.", ref=c["ref"]),
)
OFFER_ACCEPTED = _told(
    "offer_accepted_by_one",
    lambda c: _("Case %(ref)s: an offer was accepted by one side", ref=c["ref"]),
    lambda c: _(
        "An offer in case %(ref)s was accepted by one side; the other side has yet to answer.",
        ref=c["ref"],
    ),
)
SETTLEMENT_READY = _told(
    "settlement_ready",
    lambda c: _("Case %(ref)s: the settlement is ready to sign", ref=c["ref"]),
    lambda c: _("Every party accepted the same offer in case %(ref)s. Read the settlement "
                "agreement and sign it with your password.", ref=c["ref"]),
)  # fmt: skip


def _disclosed(body: Body, words: Words) -> str:
    if body["disclosure"] == "none":
        return _("signed the disclosure: nothing to disclose")
    return _("signed the disclosure: %(text)s", text=str(body["disclosure"]))


def _until(body: Body) -> str:
    return str(body["period_ends"])[:10]


declare(
    EntryType("mediator.proposed",
              lambda b, w: _("proposed %(name)s as the mediator", name=str(b["name"])),
              fields=("appointment", "mediator", "name", "objections_due"), notices=PROPOSED),
    EntryType("mediator.objected", lambda b, w: _("objected to the mediator"),
              fields=("appointment", "stage", "reasons"), details=("reasons",), notices=OBJECTED),
    EntryType("mediator.agreed", lambda b, w: _("agreed to the mediator"),
              fields=("appointment", "stage")),
    EntryType("mediator.invited", lambda b, w: _("invited the mediator"),
              fields=("appointment", "mediator", "answer_due"), notices=INVITED),
    EntryType("mediator.disclosed", _disclosed, fields=("appointment", "disclosure"),
    notices=DISCLOSED),
    EntryType("mediator.declined", lambda b, w: _("declined to mediate"),
              fields=("appointment", "reasons"), details=("reasons",), notices=DECLINED),
    EntryType("mediator.lapsed", lambda b, w: _("noted that the mediator did not answer in time"),
              fields=("appointment",), notices=LAPSED),
    EntryType("mediation.started",
              lambda b, w: _("started the mediation, which runs until %(date)s", date=_until(b)),
              fields=("appointment", "period_ends"), notices=STARTED),
    EntryType("mediation.extended",
              lambda b, w: _("extended the mediation until %(date)s", date=_until(b)),
              fields=("appointment", "days", "period_ends", "reasons"), details=("reasons",),
              notices=EXTENDED),
    EntryType("offer.made", lambda b, w: _("made a settlement offer"),
              fields=("items", "expires"), optional=("note", "counter_of"), notices=OFFER_MADE),
    EntryType("offer.accepted", lambda b, w: _("accepted an offer"),
              fields=("offer", "answer"), optional=("reasons",), details=("reasons",),
              notices=OFFER_ACCEPTED),
    EntryType("offer.rejected", lambda b, w: _("rejected an offer"),
              fields=("offer", "answer"), optional=("reasons",), details=("reasons",),
              notices=OFFER_REJECTED),
    EntryType("offer.expired", lambda b, w: _("noted that an offer expired"), fields=("offer",)),
    EntryType("settlement.drafted", lambda b, w: _("drew up the settlement agreement"),
              fields=("offer", "language", "sha256", "text"), notices=SETTLEMENT_READY),
    EntryType("settlement.signed", lambda b, w: _("signed the settlement agreement"),
              fields=("settlement", "sha256")),
    EntryType("settlement.downloaded", lambda b, w: _("downloaded the settlement agreement"),
              fields=("settlement", "sha256")),
)  # fmt: skip
