"""Entry types of a case's own life: filing, people, statements, evidence, moves,
requests for information, reminders, the survey and the case file's export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.i18n import _, ngettext
from portal.procedure.entries.registry import Body, EntryType, Notice, Words, channel_label, declare

STATE_CHANGED = "case.state_changed"
OUTCOME_RECORDED = "case.outcome_recorded"
REMEDY_DUE = "case.remedy_due"

# What a move's form may add to its entry (`portal.cases.lifecycle.parse`), and of that
# what a reader is shown in full.
MOVE_FORM = ("reasons", "questions", "due", "answer", "severity", "category", "in_scope",
             "summary", "findings", "responsibility", "remedy", "amount", "asset",
             "remedy_details", "reference")  # fmt: skip
MOVE_DETAILS = ("category", "severity", "reasons", "questions", "answer", "summary", "findings",
                "remedy_details", "reference")  # fmt: skip


def _added(body: Body, words: Words) -> str:
    name = words.name(body["user"])
    role = words.role(str(body["role"]))
    client = body.get("acts_for")
    if isinstance(client, str) and client != "platform":
        return _("added %(name)s as %(role)s for %(party)s", name=name, role=role,
                 party=words.name(client))  # fmt: skip
    return _("added %(name)s as %(role)s", name=name, role=role)


def _reminded(body: Body, words: Words) -> str:
    owner = words.role(str(body["owner"]))
    if body["kind"] == "overdue":
        return _("sent a reminder that the deadline has passed (next step: %(role)s)", role=owner)
    return _("sent a reminder that the deadline is near (next step: %(role)s)", role=owner)


def _downloaded(body: Body, words: Words) -> str:
    name = str(body["name"])
    if name.startswith("sha256:"):  # a private channel's file: its name stays there
        return _("downloaded a file")
    return _("downloaded %(name)s", name=name)


def _state(context: Mapping[str, Any]) -> str:
    return str(context["state_label"](context["state"]))


def _files(context: Mapping[str, Any]) -> str:
    return ngettext("%(num)d file", "%(num)d files", int(context["count"]))


def _reminder_subject(c: Mapping[str, Any]) -> str:
    if c["overdue"]:
        return _("Case %(ref)s: the deadline has passed", ref=c["ref"])
    return _("Case %(ref)s: the deadline is near", ref=c["ref"])


def _reminder_body(c: Mapping[str, Any]) -> str:
    values = {"ref": c["ref"], "state": _state(c), "deadline": c["deadline"],
              "owner": c["role_label"](c["owner"])}  # fmt: skip
    if c["overdue"]:
        return _("The deadline of case %(ref)s (%(state)s) passed at %(deadline)s. The next "
                 "step is owed by: %(owner)s.", **values)  # fmt: skip
    return _("The deadline of case %(ref)s (%(state)s) is %(deadline)s. The next step is owed "
             "by: %(owner)s.", **values)  # fmt: skip


CASE_MOVED = Notice(
    "case_moved",
    subject=lambda c: _("Case %(ref)s: %(state)s", ref=c["ref"], state=_state(c)),
    body=lambda c: _("Case %(ref)s is now: %(state)s.", ref=c["ref"], state=_state(c)),
)  # fmt: skip

declare(
    EntryType(
        "case.filed",
        lambda b, w: _("filed the dispute"),
        fields=("claimant", "category", "happened_on", "what_happened", "contested_resolution",
                "remedy_wanted", "transaction_ids", "amount", "asset"),
        optional=("api_key",),
        notices=(Notice(
            "case_filed",
            subject=lambda c: _("Case %(ref)s: your dispute has been filed", ref=c["ref"]),
            body=lambda c: _(
                "We have received your dispute and filed it as case %(ref)s. Our staff will "
                "review it and tell you what happens next. You do not need to do anything now; "
                "you can add evidence or write to us in the case at any time.", ref=c["ref"]),
        ),),
    ),
    EntryType(
        "participant.added",
        _added,
        fields=("user", "role"),
        optional=("acts_for", "api_key"),
        notices=(Notice(
            "case_assigned",
            subject=lambda c: _("Case %(ref)s has been assigned to you", ref=c["ref"]),
            body=lambda c: _("Case %(ref)s has been assigned to you. Please open it, read the "
                             "claim and the evidence, and take the next step.", ref=c["ref"]),
        ),),
    ),
    EntryType("participant.removed", lambda b, w: _("removed someone from the case"),
              fields=("user", "role")),
    EntryType(
        "statement.submitted",
        lambda b, w: _("wrote in %(channel)s", channel=channel_label(str(b["channel"]))),
        fields=("channel", "content_sha256"),
        optional=("text", "caucus_party"),
        private=("text",),
        notices=(Notice(
            "statement_posted",
            subject=lambda c: _("Case %(ref)s: %(author)s posted a statement", ref=c["ref"],
                                author=c["author_name"]),
            body=lambda c: _("%(author)s posted a statement in case %(ref)s. Please read it and "
                             "reply in the case if you need to.", author=c["author_name"],
                             ref=c["ref"]),
        ),),
    ),
    EntryType(
        "evidence.added",
        lambda b, w: ngettext("added %(num)s file", "added %(num)s files", len(b["files"])),
        fields=("channel", "files"),
        optional=("caucus_party", "platform_record"),
        private=("name",),  # of each file, in a private channel
        notices=(Notice(
            "evidence_added",
            subject=lambda c: _("Case %(ref)s: %(author)s added %(files)s of evidence",
                                ref=c["ref"], author=c["author_name"], files=_files(c)),
            body=lambda c: _("%(author)s added %(files)s of evidence to case %(ref)s. Please "
                             "look at the evidence and reply in the case if you need to.",
                             author=c["author_name"], files=_files(c), ref=c["ref"]),
        ),),
    ),
    EntryType("evidence.downloaded", _downloaded, fields=("sha256", "name", "mode"),
              optional=("channel", "caucus_party"), private=("name",)),
    EntryType(
        "evidence.integrity_failed",
        lambda b, w: _("found that a stored file failed its integrity check, and did not send it"),
        fields=("sha256", "name", "mode", "by"),
        optional=("channel", "caucus_party"),
        private=("name",),
    ),
    EntryType(
        "case.transitioned",
        lambda b, w: _("moved the case to %(state)s", state=w.state(str(b["to"]))),
        fields=("action", "from", "to"),
        optional=MOVE_FORM,
        details=MOVE_DETAILS,
        notices=(CASE_MOVED,),
        webhooks=(STATE_CHANGED, OUTCOME_RECORDED, REMEDY_DUE),
    ),
    EntryType(
        "deadline.reminded",
        _reminded,
        fields=("kind", "state", "deadline", "owner", "to"),
        notices=(Notice("deadline_reminder", _reminder_subject, _reminder_body),),
    ),
    EntryType("info.requested", lambda b, w: _("asked for more information"),
              fields=("to", "questions", "due"), details=("questions",)),
    EntryType("info.answered", lambda b, w: _("answered a request for information"),
              fields=("request", "answer"), details=("answer",)),
    EntryType("survey.answered", lambda b, w: _("answered the satisfaction survey"),
              fields=("score", "comment"), details=("comment",)),
    EntryType("casefile.exported", lambda b, w: _("exported a signed case file"),
              fields=("audience", "by")),
)  # fmt: skip
