"""The registry's types and lookups: how an entry type is declared and how it is read.

The declarations are in `case.py`, `mediation.py` and `arbitration.py`; the package
(`portal.procedure.entries`) loads them all, so look entries up through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.i18n import _

Body = Mapping[str, Any]


def _same(key: str) -> str:
    return key


@dataclass(frozen=True)
class Words:
    """What a reading may name: the people of the case by their ledger id (`user:<id>`)
    and the labels of roles, states, categories and severities, in the reader's language."""

    names: Mapping[str, str] = field(default_factory=dict)
    role: Callable[[str], str] = _same
    state: Callable[[str], str] = _same
    category: Callable[[str], str] = _same
    severity: Callable[[str], str] = _same

    def name(self, who: object) -> str:
        return self.names.get(str(who), _("someone"))


Line = Callable[[Body, Words], str]
Text = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Notice:
    """The notification an entry causes: `templates/email/<template>.txt` (and its `step`,
    where one template tells of several entries) gives the greeting and the link; the
    subject (also the line shown in the portal's list) and the first paragraph are these.
    Both read the context the service passes to `notify`."""

    template: str
    subject: Text
    body: Text
    step: str = ""


def step_notice(template: str, step: str, subject: Text, body: Text) -> Notice:
    return Notice(template, subject, body, step)


def paragraph(*lines: str) -> str:
    """Lines of one paragraph of a notice; an empty one (a missing option) is left out."""
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class EntryType:
    """One type of ledger entry.

    `fields` are always in the body, `optional` only sometimes. `private` names the texts
    a private channel (staff notes, a caucus, the tribunal) keeps out of the entry: the
    entry carries only their SHA-256 (`content_sha256`). `details` are the fields read in
    full beneath the line, in the room and in the case file alike."""

    name: str
    line: Line
    fields: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()
    webhooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """An entry as its reader reads it: the timeline's line, then (label, text) pairs."""

    line: str
    details: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.line


REGISTRY: dict[str, EntryType] = {}


def declare(*types: EntryType) -> None:
    for entry_type in types:
        if entry_type.name in REGISTRY:
            raise ValueError(f"The entry type {entry_type.name} is declared twice.")
        REGISTRY[entry_type.name] = entry_type


def channel_label(channel: str) -> str:
    return {
        "all": _("All"),
        "staff": _("Staff notes"),
        "caucus": _("Caucus"),
        "tribunal": _("Tribunal"),
    }.get(channel, channel)


def _detail_labels() -> dict[str, str]:
    return {
        "reasons": _("Reasons"),
        "questions": _("Questions"),
        "answer": _("Answer"),
        "summary": _("Summary"),
        "findings": _("Findings"),
        "remedy_details": _("Details of the remedy"),
        "reference": _("Reference"),
        "category": _("Category"),
        "severity": _("Severity"),
        "request": _("Correction asked for"),
        "comment": _("Comment"),
        "disclosure": _("Disclosure"),
    }


def _detail(key: str, value: object, words: Words) -> str:
    if key == "category":
        return words.category(str(value))
    if key == "severity":
        return words.severity(str(value))
    return str(value).strip()


def read(type_name: str, body: Body, words: Words) -> Reading:
    """How an entry reads for the room and the case file, in the current language. A type
    the registry does not know (an entry of a later version) reads as such, never as its key."""
    entry_type = REGISTRY.get(type_name)
    if entry_type is None:
        return Reading(_("recorded an entry this version of the portal does not describe"))
    labels = _detail_labels()
    details = tuple(
        (labels[key], _detail(key, body[key], words))
        for key in entry_type.details
        if body.get(key) not in (None, "", "none")
    )
    return Reading(entry_type.line(body, words), details)


def notice_for(template: str, step: str = "") -> Notice | None:
    """The declared notice told with `template` (and `step`), if an entry causes it."""
    for entry_type in REGISTRY.values():
        for notice in entry_type.notices:
            if notice.template == template and notice.step == step:
                return notice
    return None


def notice_text(template: str, context: Mapping[str, Any]) -> dict[str, str]:
    """`notice_subject` and `notice_body` for an email template, in the current language;
    empty when no entry declares that template (an account's email, say)."""
    notice = notice_for(template, str(context.get("step", "")))
    if notice is None:
        return {}
    return {"notice_subject": notice.subject(context), "notice_body": notice.body(context)}


def webhook_events(type_name: str) -> tuple[str, ...]:
    """The webhook events an entry of this type may announce (the area decides which apply)."""
    entry_type = REGISTRY.get(type_name)
    return entry_type.webhooks if entry_type else ()


def all_webhook_events() -> tuple[str, ...]:
    seen: list[str] = []
    for entry_type in REGISTRY.values():
        seen.extend(e for e in entry_type.webhooks if e not in seen)
    return tuple(seen)
