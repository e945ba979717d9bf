"""Entry types of an arbitration once the tribunal sits: the timetable and its orders,
extensions, and the award with its signatures, dissents and corrections.

Their notices use `templates/email/arbitration_proceedings.txt`; how the tribunal came
to be is declared in `arbitration_constitution.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.i18n import _
from portal.procedure.entries.registry import EntryType, Notice, Text, declare, paragraph
from portal.procedure.entries.registry import step_notice as _step_notice

Context = Mapping[str, Any]


def _proceeding(step: str, subject: Text, body: Text) -> Notice:
    """A notice of `templates/email/arbitration_proceedings.txt`: the tribunal at work."""
    return _step_notice("arbitration_proceedings", step, subject, body)


def _step_of(c: Context) -> str:
    return str(c["step_label"]).lower()


ORDER_ISSUED_TOLD = (
    _proceeding(
        "order",
        lambda c: _("Case %(ref)s: Procedural Order no. %(n)s", ref=c["ref"], n=c["number"]),
        lambda c: _(
            "The tribunal issued Procedural Order no. %(n)s in case %(ref)s. Read it in the case"
            " room.",
            n=c["number"],
            ref=c["ref"],
        ),
    ),
)
EXTENSION_ASKED_TOLD = (
    _proceeding(
        "extension_asked",
        lambda c: _("Case %(ref)s: a party asks for an extension", ref=c["ref"]),
        lambda c: _(
            "A party asks the tribunal of case %(ref)s to extend the date for the %(step)s. "
            "Grant or refuse it in the case room.",
            ref=c["ref"],
            step=_step_of(c),
        ),
    ),
)
EXTENSION_GRANTED_TOLD = (
    _proceeding(
        "extension_granted",
        lambda c: _("Case %(ref)s: your extension is granted", ref=c["ref"]),
        lambda c: _(
            "The tribunal of case %(ref)s granted your extension of the date for the %(step)s. A"
            " procedural order gives the new dates.",
            ref=c["ref"],
            step=_step_of(c),
        ),
    ),
)
EXTENSION_REFUSED_TOLD = (
    _proceeding(
        "extension_refused",
        lambda c: _("Case %(ref)s: your extension is refused", ref=c["ref"]),
        lambda c: _(
            "The tribunal of case %(ref)s refused your extension of the date for the %(step)s. "
            "Its reasons: %(reasons)s",
            ref=c["ref"],
            step=_step_of(c),
            reasons=c["reasons"],
        ),
    ),
)
AWARD_DRAFTED_TOLD = (
    _proceeding(
        "award_drafted",
        lambda c: _("Case %(ref)s: the draft award was changed", ref=c["ref"]),
        lambda c: _(
            "The draft award in case %(ref)s was saved with a changed text. Any earlier "
            "signature on it is cleared: read it and vote again.",
            ref=c["ref"],
        ),
    ),
)
AWARD_SIGNED_TOLD = (
    _proceeding(
        "award_signed",
        lambda c: _("Case %(ref)s: an arbitrator signed the draft award", ref=c["ref"]),
        lambda c: _("An arbitrator signed the draft award in case %(ref)s.", ref=c["ref"]),
    ),
)
AWARD_DISSENTED_TOLD = (
    _proceeding(
        "award_dissented",
        lambda c: _("Case %(ref)s: an arbitrator recorded a dissent", ref=c["ref"]),
        lambda c: _(
            "An arbitrator recorded a dissent from the draft award in case %(ref)s.",
            ref=c["ref"],
        ),
    ),
)
AWARD_ISSUED_TOLD = (
    _proceeding(
        "award_issued",
        lambda c: _("Case %(ref)s: the award is issued", ref=c["ref"]),
        lambda c: paragraph(
            _(
                "The tribunal issued its award in case %(ref)s. The award binds the parties: it "
                "is the outcome of the case. Read it, and download it as a PDF, in the case "
                "room.",
                ref=c["ref"],
            ),
            _("SHA-256 of the award: %(sha)s", sha=c["sha256"]),
        ),
    ),
)
CORRECTION_ASKED_TOLD = (
    _proceeding(
        "correction_asked",
        lambda c: _("Case %(ref)s: a party asks for a correction of the award", ref=c["ref"]),
        lambda c: _(
            "A party asks for a correction of a clerical error in the award of case %(ref)s. "
            "Issue an addendum or refuse it in the case room.",
            ref=c["ref"],
        ),
    ),
)
CORRECTION_REFUSED_TOLD = (
    _proceeding(
        "correction_refused",
        lambda c: _("Case %(ref)s: a correction of the award was refused", ref=c["ref"]),
        lambda c: _(
            "The tribunal of case %(ref)s refused a correction of its award. Its reasons are in "
            "the case room.",
            ref=c["ref"],
        ),
    ),
)
AWARD_ADDENDUM_TOLD = (
    _proceeding(
        "correction_corrected",
        lambda c: _("Case %(ref)s: an addendum to the award", ref=c["ref"]),
        lambda c: _(
            "The tribunal of case %(ref)s issued an addendum correcting its award. The award "
            "itself is unchanged; the addendum follows it.",
            ref=c["ref"],
        ),
    ),
)


declare(
    EntryType("timetable.set", lambda b, w: _("set the timetable"), fields=("order", "dates")),
    EntryType("timetable.next",
              lambda b, w: _("moved the case on to the next date of the timetable"),
              fields=("step", "due", "owner")),
    EntryType("order.issued", lambda b, w: _("issued a procedural order"),
              fields=("number", "sha256", "text"), notices=ORDER_ISSUED_TOLD),
    EntryType("extension.asked", lambda b, w: _("asked for more time"),
              fields=("step", "due", "wanted", "reasons"), details=("reasons",),
              notices=EXTENSION_ASKED_TOLD),
    EntryType("extension.granted", lambda b, w: _("granted more time"),
              fields=("extension", "order", "moved"), notices=EXTENSION_GRANTED_TOLD),
    EntryType("extension.refused", lambda b, w: _("refused more time"),
              fields=("extension", "step", "reasons"), details=("reasons",),
              notices=EXTENSION_REFUSED_TOLD),
    EntryType("award.drafted", lambda b, w: _("saved a draft of the award"),
              fields=("channel", "content_sha256"), private=("text",), notices=AWARD_DRAFTED_TOLD),
    EntryType("award.signed", lambda b, w: _("signed the award"),
              fields=("channel", "award", "sha256"), notices=AWARD_SIGNED_TOLD),
    EntryType("award.dissented", lambda b, w: _("recorded a dissent"),
              fields=("channel", "award", "sha256", "content_sha256"), private=("dissent",),
              notices=AWARD_DISSENTED_TOLD),
    EntryType("award.issued", lambda b, w: _("issued the award"),
              fields=("award", "language", "sha256", "text", "signed_by", "signatures",
                      "dissents"), notices=AWARD_ISSUED_TOLD),
    EntryType("award.downloaded", lambda b, w: _("downloaded the award"),
              fields=("award", "sha256")),
    EntryType("correction.asked", lambda b, w: _("asked for a correction of the award"),
              fields=("correction", "award", "sha256", "request"), details=("request",),
              notices=CORRECTION_ASKED_TOLD),
    EntryType("correction.refused", lambda b, w: _("refused a correction of the award"),
              fields=("correction", "reasons"), details=("reasons",),
              notices=CORRECTION_REFUSED_TOLD),
    EntryType("award.addendum", lambda b, w: _("issued an addendum to the award"),
              fields=("award", "award_sha256", "correction", "number", "sha256", "text"),
              notices=AWARD_ADDENDUM_TOLD),
)  # fmt: skip
