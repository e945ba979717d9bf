"""The registry of entry types: every entry the portal writes is declared, reads in both
languages for every kind of reader without a raw key or a missing field, and the room, a
notice and a webhook of one real entry read the same declaration."""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.cases.categories import CATEGORIES, state_label
from portal.cases.timeline import words_for
from portal.i18n import language
from portal.integrations.tables import WebhookDelivery
from portal.notifications.tables import Notification
from portal.procedure import entries, roles
from portal.procedure.entries.case import CASE_MOVED
from portal.procedure.labels import role_label
from tests.integrations.conftest import api, integration, settings, sue  # noqa: F401 (fixtures)
from tests.portal.test_case_room import open_case
from tests.portal.test_journeys import step
from tests.support import ROOT

LANGUAGES = ("en", "zh_Hans")
READERS = (roles.CLAIMANT, roles.RESPONDENT, roles.AGENT, roles.INVESTIGATOR, roles.ASSESSOR,
           roles.SUPERVISOR, roles.MEDIATOR, roles.ARBITRATOR, roles.LEGAL)  # fmt: skip
NAMES = {"user:1": "Alice Chen", "user:2": "Bob Li", "user:7": "Mona Haddad",
         "user:8": "Ari Levin", "system": "The portal"}  # fmt: skip
RAW_KEY = re.compile(r"\b[a-z]+\.[a-z_]+\b|\b[a-z]+_[a-z_]+\b|%\(|\{\{")

# A realistic value for every body field a type declares, by the field's name.
TEXT = "The mark price moved 4% in a minute; the order book shows no trade at that price."
VALUES: dict[str, Any] = {
    "user": "user:2", "claimant": "user:1", "mediator": "user:7", "arbitrator": "user:8",
    "ranker": "user:1", "to": "user:2", "by": "user:1", "acts_for": "user:1",
    "candidates": ["user:8"], "signed_by": ["user:8"], "order": 2, "number": 2,
    "name": "Order book, 28 October", "disclosure": "I advised the platform in 2019.",
    "reasons": TEXT, "questions": "Which address did you send the funds to?",
    "answer": "To my wallet at the other exchange.", "summary": TEXT, "findings": TEXT,
    "remedy_details": "Refund of the liquidation loss.", "reference": "TX-0091",
    "request": "The amount in paragraph 3 should read 500 USDT.", "comment": "Quick and fair.",
    "category": "liquidation", "severity": "high", "in_scope": True, "responsibility": "shared",
    "remedy": "refund", "amount": "500", "asset": "USDT", "score": 4, "kind": "overdue",
    "owner": roles.AGENT, "state": "triage", "from": "triage", "to_state": "investigation",
    "action": "accept", "channel": "all", "caucus_party": "user:1", "text": TEXT,
    "files": [{"name": "chart.png", "sha256": "ab" * 32, "size": 146, "media_type": "image/png"}],
    "period_ends": "2027-01-06T23:01:32Z", "due": "2026-12-12T23:59:00Z",
    "deadline": "2026-12-12T23:59:00Z", "stage": "proposal", "decision": "upheld",
}  # fmt: skip


def body_of(entry_type: entries.EntryType, role: str) -> dict[str, Any]:
    body = {}
    for key in (*entry_type.fields, *entry_type.optional):
        body[key] = VALUES.get(key, 1 if key in ("list", "seat_id", "appointment") else "x")
    if entry_type.name == "case.transitioned":
        body["to"] = "investigation"
    if "role" in body or "owner" in body:
        body["role" if "role" in body else "owner"] = role
    return body


def assert_reads(text: str, where: str) -> None:
    assert text.strip(), where
    found = RAW_KEY.findall(text)
    assert not found, f"{where}: {found} in {text!r}"


class Names(dict[str, str]):
    """The case's names, noting every person a reading asked for and did not find."""

    missed: list[str]

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.missed.append(key)
        return super().get(key, default)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("reader", READERS)
def test_every_type_reads_in_both_languages_for_every_reader(lang, reader):
    names = Names(NAMES)
    names.missed = []
    words = words_for(names)
    with language(lang):
        for entry_type in entries.REGISTRY.values():
            reading = entries.read(entry_type.name, body_of(entry_type, reader), words)
            assert_reads(reading.line, entry_type.name)
            assert not names.missed, (entry_type.name, names.missed)
            for label, text in reading.details:
                assert_reads(label, entry_type.name)
                assert text, entry_type.name


NOTICE = {"ref": "DR-2026-000001", "state": "investigation", "state_label": state_label,
          "role_label": role_label, "owner": roles.AGENT, "overdue": True, "deadline": "1 Dec",
          "author_name": "Bob Li", "count": 2, "mediator": "Mona Haddad", "due": "9 Dec",
          "reasons": TEXT, "account_link": "", "name": "Ari Levin", "seat": "sole",
          "strikes": 2, "until": "20 Dec", "disclosure": "", "names": "Ari Levin",
          "number": 2, "step_label": "Statement of claim", "sha256": "ab" * 32}  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_notice_reads_in_both_languages(lang):
    told = [n for t in entries.REGISTRY.values() for n in t.notices]
    assert len(told) >= 40
    with language(lang):
        for notice in told:
            context = {**NOTICE, "step": notice.step}
            for text in (notice.subject(context), notice.body(context)):
                assert_reads(text.replace("DR-2026-000001", ""), f"{notice.template}:{notice.step}")
    assert len({(n.template, n.step) for n in told}) == len(told)  # one declaration each


def test_an_unknown_type_reads_as_such_not_as_its_key():
    reading = entries.read("future.thing", {}, words_for({}))
    assert "future" not in reading.line and reading.line


def written_types() -> Iterator[tuple[str, str]]:
    """Every entry type a `record(...)` or `append_entry(...)` call of the code writes: its
    type is a literal, a name bound to literals in the module, or a parameter whose
    callers in the module pass literals."""
    for folder in ("portal", "mediation", "arbitration"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield from _types_in(path)


def _literals(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and re.fullmatch(r"[a-z]+\.[a-z_]+", n.value)]  # fmt: skip


def _types_in(path: Path) -> Iterator[tuple[str, str]]:
    tree = ast.parse(path.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    for call in calls:
        name = getattr(call.func, "id", getattr(call.func, "attr", ""))
        if name == "record" and len(call.args) >= 3:
            written = call.args[2]
        elif name == "append_entry":
            written = next((k.value for k in call.keywords if k.arg == "event_type"), None)
        else:
            continue
        if isinstance(written, ast.Constant):
            yield path.name, written.value
        elif isinstance(written, ast.Name):
            yield from ((path.name, t) for t in _bound(tree, calls, written.id))


def _bound(tree: ast.Module, calls: list[ast.Call], name: str) -> list[str]:
    found = [
        t
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == name for t in n.targets)
        for t in _literals(n.value)
    ]
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef)):
        params = [a.arg for a in function.args.args]
        if name in params:
            index = params.index(name)
            for call in calls:
                if getattr(call.func, "id", "") == function.name and len(call.args) > index:
                    found += _literals(call.args[index])
    return found  # fmt: skip


def test_every_entry_type_written_anywhere_is_registered():
    written = set(written_types())
    assert len({t for _path, t in written}) >= 55  # the scan finds the code's entries
    missing = sorted(f"{t} ({path})" for path, t in written if t not in entries.REGISTRY)
    assert not missing, missing
    assert entries.webhook_events("case.transitioned") == (
        "case.state_changed",
        "case.outcome_recorded",
        "case.remedy_due",
    )
    assert "survey.answered" in entries.REGISTRY and CATEGORIES  # the key once shown raw


async def test_the_room_a_notice_and_a_webhook_read_the_same_declaration(
    api,  # noqa: F811 (the imported fixture)
    integration,  # noqa: F811 (the imported fixture)
    people,
    browser,
):
    client = await api(integration.token)
    hook = await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.text
    alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await step(ada, ref, "start_review")
    await step(ada, ref, "reject", reasons=TEXT, in_scope="no")

    moved = {"action": "reject", "from": "triage", "to": "rejected", "reasons": TEXT}
    room = html.unescape((await alice.get(f"/cases/{ref}")).text)
    reading = entries.read("case.transitioned", moved, words_for({}))
    assert reading.line in room and reading.details == (("Reasons", TEXT),)
    assert TEXT in room  # the reasons the ledger holds are shown, beneath the line
    told = (
        await Notification.select()
        .where((Notification.user == people["alice"].id) & (Notification.kind == "case_moved"))
        .order_by(Notification.id, ascending=False)
        .first()
    )
    context = {"ref": ref, "state": "rejected", "state_label": state_label}
    assert told["message"] == CASE_MOVED.subject(context)
    events = {d["event_type"] for d in await WebhookDelivery.select().where(
        WebhookDelivery.case_ref == ref)}  # fmt: skip
    assert events and events <= set(entries.webhook_events("case.transitioned"))
