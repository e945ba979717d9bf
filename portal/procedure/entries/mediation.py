"""Entry types of a mediation: the mediator's appointment, the period, offers and the
settlement agreement."""

from __future__ import annotations

from portal.i18n import _
from portal.procedure.entries import Body, EntryType, Words, declare


def _disclosed(body: Body, words: Words) -> str:
    if body["disclosure"] == "none":
        return _("signed the disclosure: nothing to disclose")
    return _("signed the disclosure: %(text)s", text=str(body["disclosure"]))


def _until(body: Body) -> str:
    return str(body["period_ends"])[:10]


declare(
    EntryType("mediator.proposed",
              lambda b, w: _("proposed %(name)s as the mediator", name=str(b["name"])),
              fields=("appointment", "mediator", "name", "objections_due")),
    EntryType("mediator.objected", lambda b, w: _("objected to the mediator"),
              fields=("appointment", "stage", "reasons"), details=("reasons",)),
    EntryType("mediator.agreed", lambda b, w: _("agreed to the mediator"),
              fields=("appointment", "stage")),
    EntryType("mediator.invited", lambda b, w: _("invited the mediator"),
              fields=("appointment", "mediator", "answer_due")),
    EntryType("mediator.disclosed", _disclosed, fields=("appointment", "disclosure")),
    EntryType("mediator.declined", lambda b, w: _("declined to mediate"),
              fields=("appointment", "reasons"), details=("reasons",)),
    EntryType("mediator.lapsed", lambda b, w: _("noted that the mediator did not answer in time"),
              fields=("appointment",)),
    EntryType("mediation.started",
              lambda b, w: _("started the mediation, which runs until %(date)s", date=_until(b)),
              fields=("appointment", "period_ends")),
    EntryType("mediation.extended",
              lambda b, w: _("extended the mediation until %(date)s", date=_until(b)),
              fields=("appointment", "days", "period_ends", "reasons"), details=("reasons",)),
    EntryType("offer.made", lambda b, w: _("made a settlement offer"),
              fields=("items", "expires"), optional=("note", "counter_of")),
    EntryType("offer.accepted", lambda b, w: _("accepted an offer"),
              fields=("offer", "answer"), optional=("reasons",), details=("reasons",)),
    EntryType("offer.rejected", lambda b, w: _("rejected an offer"),
              fields=("offer", "answer"), optional=("reasons",), details=("reasons",)),
    EntryType("offer.expired", lambda b, w: _("noted that an offer expired"), fields=("offer",)),
    EntryType("settlement.drafted", lambda b, w: _("drew up the settlement agreement"),
              fields=("offer", "language", "sha256", "text")),
    EntryType("settlement.signed", lambda b, w: _("signed the settlement agreement"),
              fields=("settlement", "sha256")),
    EntryType("settlement.downloaded", lambda b, w: _("downloaded the settlement agreement"),
              fields=("settlement", "sha256")),
)  # fmt: skip
