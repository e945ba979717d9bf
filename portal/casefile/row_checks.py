"""How a stored row is compared with the ledger entry that vouches for it, table by table.

Each check takes a row (as the database returns it), the entry, and the case's other
entries (some rows are vouched for by two), and yields in words each way they differ:
which column, and why it counts as a difference. `vouchers` says which check applies to
which table and how its rows are paired with entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portal.cases.evidence import ledger_name


@dataclass(frozen=True)
class Entry:
    """A ledger entry as a row is compared with it (the audit has checked its bytes)."""

    case_seq: int
    type: str
    actor: str
    role: str
    body: dict[str, Any]


@dataclass
class CaseEntries:
    """One case's entries that vouch for rows, in `case_seq` order."""

    id: int
    ref: str
    entries: list[Entry]
    by_seq: dict[int, Entry] = field(init=False)

    def __post_init__(self) -> None:
        self.by_seq = {e.case_seq: e for e in self.entries}

    def of(self, events: frozenset[str], when: Callable[[Entry], bool]) -> list[Entry]:
        return [e for e in self.entries if e.type in events and when(e)]


Check = Callable[[dict[str, Any], Entry, CaseEntries], Iterator[str]]
"""A table's check: what differs between a row and its entry, in words."""

TRANSITIONS = frozenset({"case.transitioned"})


def of_types(*names: str) -> frozenset[str]:
    return frozenset(names)


def _differs(what: str, stored: Any, attested: Any) -> Iterator[str]:
    if stored != attested:
        yield f"{what}: the stored value differs from the entry's"


def _user(user_id: Any) -> str | None:
    return None if user_id is None else f"user:{user_id}"


def _by(row: dict[str, Any], column: str, entry: Entry) -> Iterator[str]:
    if entry.actor != _user(row[column]):
        yield f"{column}: {_user(row[column])}, but the entry was made by {entry.actor}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hashes_to(what: str, text: str, digest: Any) -> Iterator[str]:
    if _sha256(text) != digest:
        yield f"{what}: its SHA-256 is not the one the entry carries"


def _signed_text(row: dict[str, Any], body: dict[str, Any]) -> Iterator[str]:
    """A text the entry carries whole: the words, their SHA-256, and the hash the row keeps."""
    yield from _differs("text", row["text"], body.get("text"))
    yield from _hashes_to("text", row["text"], body.get("sha256"))
    yield from _differs("sha256", row["sha256"], body.get("sha256"))


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def filed(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    for column in ("contested_resolution", "what_happened", "remedy_wanted", "amount", "asset"):
        yield from _differs(column.replace("_", " "), row[column], body.get(column))
    ids = body.get("transaction_ids")
    yield from _differs(
        "transaction ids", row["transaction_ids"], "\n".join(ids) if isinstance(ids, list) else ids
    )
    happened = row["happened_on"]
    yield from _differs("date", happened.isoformat() if happened else None, body.get("happened_on"))


def statement(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _hashes_to("text", row["text"], body.get("content_sha256"))
    yield from _differs("content_sha256", row["content_sha256"], body.get("content_sha256"))
    yield from _differs("channel", row["channel"], body.get("channel"))
    yield from _differs("caucus party", _user(row["caucus_party"]), body.get("caucus_party"))
    yield from _by(row, "author", entry)


def evidence(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    record = {
        "sha256": row["sha256"],
        "name": ledger_name(row["name"], row["channel"]),
        "size": row["size"],
        "media_type": row["media_type"],
    }
    if record not in body.get("files", []):
        yield "file: its name, SHA-256, size or type is not one the entry lists"
    yield from _differs("channel", row["channel"], body.get("channel"))
    yield from _differs("caucus party", _user(row["caucus_party"]), body.get("caucus_party"))
    yield from _differs("platform record mark", bool(row["platform_record"]),
                        bool(body.get("platform_record")))  # fmt: skip
    yield from _by(row, "added_by", entry)


def proposal(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    for column in ("findings", "responsibility", "remedy", "amount", "asset", "remedy_details"):
        yield from _differs(column.replace("_", " "), row[column], entry.body.get(column))
    yield from _by(row, "author", entry)


def questions(row: dict[str, Any], entry: Entry, case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("questions", row["questions"], body.get("questions"))
    answer = row["answer"] if row["answered_at"] is not None else None
    if entry.type == "info.requested":
        yield from _differs("addressee", _user(row["addressee"]), body.get("to"))
        # The respondent's answer is its own entry, naming the request.
        answers = case.of(of_types("info.answered"), lambda e: e.body.get("request") == row["id"])
    else:
        # The claimant answers with the step `answer_info`, the next one after the questions.
        answers = [
            e
            for e in case.of(TRANSITIONS, lambda e: e.body.get("action") == "answer_info")
            if e.case_seq > entry.case_seq
        ]
    yield from _differs("answer", answer, answers[0].body.get("answer") if answers else None)


def offer(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("items", json.loads(row["items"]), body.get("items"))
    yield from _differs("note", row["note"], body.get("note", ""))
    yield from _differs("expiry", _iso(row["expires_at"]), body.get("expires"))
    yield from _differs("counter_of", row["counter_of"], body.get("counter_of"))
    yield from _by(row, "author", entry)


def offer_answer(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    if entry.type == "offer.made":  # a counter-offer answers the offer it counters
        yield from _differs("answer", row["answer"], "counter")
        yield from _differs("offer", row["offer"], body.get("counter_of"))
        yield from _differs("reasons", row["reasons"], "")
    else:
        yield from _differs("answer", row["answer"], body.get("answer"))
        yield from _differs("offer", row["offer"], body.get("offer"))
        yield from _differs("reasons", row["reasons"], body.get("reasons", ""))
    yield from _by(row, "party", entry)


def settlement(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _signed_text(row, body)
    yield from _differs("offer", row["offer"], body.get("offer"))
    yield from _differs("language", row["language"], body.get("language"))


def settlement_signature(row: dict[str, Any], entry: Entry,
                          _case: CaseEntries) -> Iterator[str]:  # fmt: skip
    yield from _differs("settlement", row["settlement"], entry.body.get("settlement"))
    yield from _differs("role", row["role"], entry.role)
    yield from _by(row, "signer", entry)


def _award_parts(row: dict[str, Any]) -> Iterator[str]:
    """The reasons and the costs are drawn up into the text the entries hash."""
    if row["reasons"] not in row["text"]:
        yield "reasons: not the reasons written into the award's text"
    if row["costs"] not in row["text"]:
        yield "costs: not the costs written into the award's text"


def award_issued(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _signed_text(row, body)
    yield from _differs("language", row["language"], body.get("language"))
    yield from _award_parts(row)


def award_draft(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _hashes_to("draft", row["text"], entry.body.get("content_sha256"))
    yield from _differs("sha256", row["sha256"], entry.body.get("content_sha256"))
    yield from _award_parts(row)


def award_vote(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs(
        "vote", row["vote"], "signed" if entry.type == "award.signed" else "dissent"
    )
    yield from _differs("award", row["award"], body.get("award"))
    yield from _differs("sha256", row["sha256"], body.get("sha256"))
    if entry.type == "award.dissented":
        yield from _hashes_to("dissent", row["dissent"], body.get("content_sha256"))
    yield from _by(row, "arbitrator", entry)


def correction_asked(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("request", row["request"], entry.body.get("request"))
    yield from _differs("award", row["award"], entry.body.get("award"))
    yield from _by(row, "party", entry)


def correction_answered(row: dict[str, Any], entry: Entry,
                         _case: CaseEntries) -> Iterator[str]:  # fmt: skip
    body = entry.body
    if entry.type == "correction.refused":
        yield from _differs("status", row["status"], "refused")
        yield from _differs("reasons", row["addendum"], body.get("reasons"))
    else:
        yield from _differs("status", row["status"], "corrected")
        yield from _differs("addendum", row["addendum"], body.get("text"))
        yield from _hashes_to("addendum", row["addendum"], body.get("sha256"))
        yield from _differs("addendum_sha256", row["addendum_sha256"], body.get("sha256"))
    yield from _by(row, "decided_by", entry)


def order(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _signed_text(row, body)
    yield from _differs("number", row["number"], body.get("number"))
    yield from _by(row, "issued_by", entry)


def challenge(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("reasons", row["reasons"], entry.body.get("reasons"))
    yield from _differs("seat", row["seat"], entry.body.get("seat_id"))
    yield from _by(row, "party", entry)


def challenge_decided(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("status", row["status"], entry.body.get("decision"))
    yield from _differs("decision", row["decision"], entry.body.get("reasons"))
    yield from _by(row, "decided_by", entry)


def extension_asked(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("reasons", row["reasons"], entry.body.get("reasons"))
    yield from _differs("date wanted", _iso(row["wanted"]), entry.body.get("wanted"))
    yield from _by(row, "party", entry)


def extension_answered(row: dict[str, Any], entry: Entry, case: CaseEntries) -> Iterator[str]:
    if entry.type == "extension.refused":
        yield from _differs("status", row["status"], "refused")
        yield from _differs("decision", row["decision"], entry.body.get("reasons"))
    else:
        yield from _differs("status", row["status"], "granted")
        # A grant's reasons are written into the order it issued.
        orders = case.of(frozenset({"order.issued"}),
                         lambda e: e.body.get("number") == entry.body.get("order"))  # fmt: skip
        text = str(orders[0].body.get("text", "")) if orders else ""
        if row["decision"] and row["decision"] not in text:
            yield "decision: not the reasons written into the order that granted it"
    yield from _by(row, "decided_by", entry)


def disclosure(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    attested = entry.body.get("disclosure")
    yield from _differs("disclosure", row["disclosure"], "" if attested == "none" else attested)


def declined(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("status", row["status"], "declined")
    yield from _differs("reasons", row["decline_reasons"], entry.body.get("reasons"))


def appointment_answer(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    objects = entry.type == "mediator.objected"
    yield from _differs("answer", bool(row["objects"]), objects)
    yield from _differs("stage", row["stage"], entry.body.get("stage"))
    yield from _differs("appointment", row["appointment"], entry.body.get("appointment"))
    if objects:
        yield from _differs("reasons", row["reasons"], entry.body.get("reasons"))
    yield from _by(row, "party", entry)
