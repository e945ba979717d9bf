"""What a row says, the ledger attests: every stored row compared with the entry that
vouches for it, and every stored evidence file with the SHA-256 its entry names.

The room, the case file and the emails read text from the case's tables (a statement's
words, an offer's terms, an award, a decision's reasons); the ledger signed that text,
or its hash, when it was written. Someone who can write to the database but not sign
could change the one without the other; `portal ledger verify` (after the ledger's own
audit) and every export compare them, so that such a change is found and named: which
row of which table, which case, which entry.

Each table says how the ledger vouches for its rows (`VOUCHERS`): the entry is found by
the row's `case_seq`, by the row's id named in the entry's body, or by the order in
which rows and entries were written together. A row that no entry vouches for, and an
entry whose row is gone, are mismatches too. `ledger/` knows nothing of this: it checks
the log; this module checks the portal's rows against it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piccolo.table import Table

from arbitration.tables import Award, AwardVote, Challenge, Correction, Extension, ProceduralOrder
from ledger.tables import LedgerEntry
from mediation.tables import (
    Appointment,
    AppointmentAnswer,
    Offer,
    OfferAnswer,
    Settlement,
    SettlementSignature,
)
from portal.casefile.export import CaseFileRefused
from portal.cases.evidence import ledger_name, stored_sha256
from portal.cases.tables import Case, Evidence, InfoRequest, Proposal, Statement
from portal.cases.timeline import evidence_list
from portal.cases.uploads import stored_path
from portal.i18n import _, ngettext
from portal.policy import CaseAccess

log = logging.getLogger(__name__)

CASES_PER_PAGE = 200
SHOWN_PER_CHECK = 50


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
    id: int
    ref: str
    entries: list[Entry]
    by_seq: dict[int, Entry] = field(init=False)

    def __post_init__(self) -> None:
        self.by_seq = {e.case_seq: e for e in self.entries}

    def of(self, events: frozenset[str], when: Callable[[Entry], bool]) -> list[Entry]:
        return [e for e in self.entries if e.type in events and when(e)]


@dataclass(frozen=True)
class Mismatch:
    check: str  # "rows" or "evidence"
    table: str
    row_id: int | None  # None: the entry vouches for a row that is not there
    case_ref: str
    case_seq: int | None  # None: no entry vouches for the row
    message: str

    @property
    def where(self) -> str:
        row = f"{self.table} row {self.row_id}" if self.row_id is not None else self.table
        entry = f"entry #{self.case_seq}" if self.case_seq is not None else "no entry"
        return f"{row} ({self.case_ref} {entry})"

    def __str__(self) -> str:
        return f"FAIL [{self.check}] {self.where}: {self.message}"


@dataclass
class RowReport:
    cases: int = 0
    rows: int = 0
    files: int | None = None  # None: the stored files were not read
    mismatches: list[Mismatch] = field(default_factory=list)
    hidden: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def add(self, found: Mismatch) -> None:
        if sum(1 for m in self.mismatches if m.check == found.check) < SHOWN_PER_CHECK:
            self.mismatches.append(found)
        else:
            self.hidden[found.check] = self.hidden.get(found.check, 0) + 1

    def render(self) -> str:
        lines = [str(m) for m in self.mismatches]
        lines += [f"FAIL [{check}] ... and {n} more" for check, n in self.hidden.items()]
        checked = f"{self.rows} rows"
        if self.files is not None:
            checked += f" and {self.files} stored evidence files"
        if self.ok:
            unread = (
                ""
                if self.files is not None
                else (" (stored evidence files not read: --evidence reads them)")
            )
            lines.append(
                f"OK: {checked} of {self.cases} cases match the entries that vouch for "
                f"them{unread}; every check holds."
            )
        else:
            total = len(self.mismatches) + sum(self.hidden.values())
            lines.append(
                f"FAILED: {total} mismatches between the ledger and {checked} of "
                f"{self.cases} cases."
            )
        return "\n".join(lines)


# How each table's rows are compared. A check yields what differs, in words.

Check = Callable[[dict[str, Any], Entry, CaseEntries], Iterator[str]]


def _always(_item: Any) -> bool:
    return True


@dataclass(frozen=True)
class Voucher:
    """One way the ledger vouches for the rows of a table.

    `link`: "seq" (the row's `case_seq` names the entry), "id:<key>" (the entry's body
    names the row's id under <key>), "order" (rows and entries were written together,
    one for one, so the n-th row of the case goes with its n-th such entry) or "last"
    (the case's last such entry). `applies`: the rows that must have an entry (a
    pending challenge has no decision yet). `every_entry`: each such entry must have
    its row(s), `rows_per_entry` of them, so that a deleted row is found too.
    """

    table: type[Table]
    events: frozenset[str]
    check: Check
    link: str = "seq"
    case_path: Any = None  # the column that leads to the case, when not `table.case`
    applies: Callable[[dict[str, Any]], bool] = _always
    entries: Callable[[Entry], bool] = _always
    every_entry: bool = False
    rows_per_entry: Callable[[Entry], int] = lambda _entry: 1


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


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _filed(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    for column in ("contested_resolution", "what_happened", "remedy_wanted", "amount", "asset"):
        yield from _differs(column.replace("_", " "), row[column], body.get(column))
    ids = body.get("transaction_ids")
    yield from _differs(
        "transaction ids", row["transaction_ids"], "\n".join(ids) if isinstance(ids, list) else ids
    )
    happened = row["happened_on"]
    yield from _differs("date", happened.isoformat() if happened else None, body.get("happened_on"))


def _statement(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _hashes_to("text", row["text"], body.get("content_sha256"))
    yield from _differs("content_sha256", row["content_sha256"], body.get("content_sha256"))
    yield from _differs("channel", row["channel"], body.get("channel"))
    yield from _differs("caucus party", _user(row["caucus_party"]), body.get("caucus_party"))
    yield from _by(row, "author", entry)


def _evidence(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
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


def _proposal(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    for column in ("findings", "responsibility", "remedy", "amount", "asset", "remedy_details"):
        yield from _differs(column.replace("_", " "), row[column], entry.body.get(column))
    yield from _by(row, "author", entry)


def _questions(row: dict[str, Any], entry: Entry, case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("questions", row["questions"], body.get("questions"))
    answer = row["answer"] if row["answered_at"] is not None else None
    if entry.type == "info.requested":
        yield from _differs("addressee", _user(row["addressee"]), body.get("to"))
        # The respondent's answer is its own entry, naming the request.
        answers = case.of(_events("info.answered"), lambda e: e.body.get("request") == row["id"])
    else:
        # The claimant answers with the step `answer_info`, the next one after the questions.
        answers = [
            e
            for e in case.of(_TRANSITIONS, lambda e: e.body.get("action") == "answer_info")
            if e.case_seq > entry.case_seq
        ]
    yield from _differs("answer", answer, answers[0].body.get("answer") if answers else None)


def _offer(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("items", json.loads(row["items"]), body.get("items"))
    yield from _differs("note", row["note"], body.get("note", ""))
    yield from _differs("expiry", _iso(row["expires_at"]), body.get("expires"))
    yield from _differs("counter_of", row["counter_of"], body.get("counter_of"))
    yield from _by(row, "author", entry)


def _offer_answer(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
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


def _settlement(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("text", row["text"], body.get("text"))
    yield from _hashes_to("text", row["text"], body.get("sha256"))
    yield from _differs("sha256", row["sha256"], body.get("sha256"))
    yield from _differs("offer", row["offer"], body.get("offer"))
    yield from _differs("language", row["language"], body.get("language"))


def _settlement_signature(row: dict[str, Any], entry: Entry,
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


def _award_issued(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("text", row["text"], body.get("text"))
    yield from _hashes_to("text", row["text"], body.get("sha256"))
    yield from _differs("sha256", row["sha256"], body.get("sha256"))
    yield from _differs("language", row["language"], body.get("language"))
    yield from _award_parts(row)


def _award_draft(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _hashes_to("draft", row["text"], entry.body.get("content_sha256"))
    yield from _differs("sha256", row["sha256"], entry.body.get("content_sha256"))
    yield from _award_parts(row)


def _award_vote(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs(
        "vote", row["vote"], "signed" if entry.type == "award.signed" else "dissent"
    )
    yield from _differs("award", row["award"], body.get("award"))
    yield from _differs("sha256", row["sha256"], body.get("sha256"))
    if entry.type == "award.dissented":
        yield from _hashes_to("dissent", row["dissent"], body.get("content_sha256"))
    yield from _by(row, "arbitrator", entry)


def _correction_asked(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("request", row["request"], entry.body.get("request"))
    yield from _differs("award", row["award"], entry.body.get("award"))
    yield from _by(row, "party", entry)


def _correction_answered(row: dict[str, Any], entry: Entry,
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


def _order(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    body = entry.body
    yield from _differs("text", row["text"], body.get("text"))
    yield from _hashes_to("text", row["text"], body.get("sha256"))
    yield from _differs("sha256", row["sha256"], body.get("sha256"))
    yield from _differs("number", row["number"], body.get("number"))
    yield from _by(row, "issued_by", entry)


def _challenge(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("reasons", row["reasons"], entry.body.get("reasons"))
    yield from _differs("seat", row["seat"], entry.body.get("seat_id"))
    yield from _by(row, "party", entry)


def _challenge_decided(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("status", row["status"], entry.body.get("decision"))
    yield from _differs("decision", row["decision"], entry.body.get("reasons"))
    yield from _by(row, "decided_by", entry)


def _extension_asked(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("reasons", row["reasons"], entry.body.get("reasons"))
    yield from _differs("date wanted", _iso(row["wanted"]), entry.body.get("wanted"))
    yield from _by(row, "party", entry)


def _extension_answered(row: dict[str, Any], entry: Entry, case: CaseEntries) -> Iterator[str]:
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


def _disclosure(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    attested = entry.body.get("disclosure")
    yield from _differs("disclosure", row["disclosure"], "" if attested == "none" else attested)


def _declined(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    yield from _differs("status", row["status"], "declined")
    yield from _differs("reasons", row["decline_reasons"], entry.body.get("reasons"))


def _appointment_answer(row: dict[str, Any], entry: Entry, _case: CaseEntries) -> Iterator[str]:
    objects = entry.type == "mediator.objected"
    yield from _differs("answer", bool(row["objects"]), objects)
    yield from _differs("stage", row["stage"], entry.body.get("stage"))
    yield from _differs("appointment", row["appointment"], entry.body.get("appointment"))
    if objects:
        yield from _differs("reasons", row["reasons"], entry.body.get("reasons"))
    yield from _by(row, "party", entry)


_TRANSITIONS = frozenset({"case.transitioned"})


def _events(*names: str) -> frozenset[str]:
    return frozenset(names)


VOUCHERS: tuple[Voucher, ...] = (
    Voucher(Case, _events("case.filed"), _filed, link="last", case_path=Case.id),
    Voucher(Statement, _events("statement.submitted"), _statement, every_entry=True),
    Voucher(Evidence, _events("evidence.added"), _evidence, every_entry=True,
            rows_per_entry=lambda e: len(e.body.get("files", []))),
    Voucher(Proposal, _TRANSITIONS, _proposal, every_entry=True,
            entries=lambda e: e.body.get("action") in ("propose", "revise_proposal")),
    Voucher(InfoRequest, _events("case.transitioned", "info.requested"), _questions,
            link="order",
            entries=lambda e: e.type == "info.requested" or e.body.get("action") == "request_info"),
    Voucher(Offer, _events("offer.made"), _offer, every_entry=True),
    Voucher(OfferAnswer, _events("offer.accepted", "offer.rejected", "offer.made"), _offer_answer,
            case_path=OfferAnswer.offer.case),
    Voucher(Settlement, _events("settlement.drafted"), _settlement, every_entry=True),
    Voucher(SettlementSignature, _events("settlement.signed"), _settlement_signature,
            case_path=SettlementSignature.settlement.case, every_entry=True),
    Voucher(Appointment, _events("mediator.disclosed"), _disclosure, link="id:appointment",
            applies=lambda row: row["disclosed_at"] is not None),
    Voucher(Appointment, _events("mediator.declined"), _declined, link="id:appointment",
            applies=lambda row: row["status"] == "declined"),
    Voucher(AppointmentAnswer, _events("mediator.objected", "mediator.agreed"),
            _appointment_answer, link="order", case_path=AppointmentAnswer.appointment.case),
    Voucher(Award, _events("award.issued"), _award_issued, every_entry=True,
            applies=lambda row: row["status"] == "issued"),
    Voucher(Award, _events("award.drafted"), _award_draft, link="last",
            applies=lambda row: row["status"] == "draft"),
    Voucher(AwardVote, _events("award.signed", "award.dissented"), _award_vote,
            case_path=AwardVote.award.case),
    Voucher(Correction, _events("correction.asked"), _correction_asked,
            link="id:correction", every_entry=True),
    Voucher(Correction, _events("correction.refused", "award.addendum"), _correction_answered,
            applies=lambda row: row["status"] != "pending"),
    Voucher(ProceduralOrder, _events("order.issued"), _order, every_entry=True),
    Voucher(Challenge, _events("arbitrator.challenged"), _challenge, link="id:challenge",
            every_entry=True),
    Voucher(Challenge, _events("challenge.decided"), _challenge_decided, link="id:challenge",
            applies=lambda row: row["status"] != "pending", every_entry=True),
    Voucher(Extension, _events("extension.asked"), _extension_asked, link="order"),
    Voucher(Extension, _events("extension.refused", "extension.granted"), _extension_answered,
            link="id:extension", applies=lambda row: row["status"] != "pending",
            every_entry=True),
)  # fmt: skip
EVENTS = frozenset().union(*(v.events for v in VOUCHERS), {"info.answered"})


def compare(voucher: Voucher, case: CaseEntries, rows: list[dict[str, Any]]) -> Iterator[Mismatch]:
    """Every difference between the case's rows of one table and the entries that vouch
    for them, the way `voucher` links them."""
    table = voucher.table._meta.tablename
    entries = case.of(voucher.events, voucher.entries)

    def mismatch(row: dict[str, Any] | None, entry: Entry | None, message: str) -> Mismatch:
        return Mismatch(
            "rows",
            table,
            None if row is None else row["id"],
            case.ref,
            None if entry is None else entry.case_seq,
            message,
        )

    def unvouched(row: dict[str, Any]) -> Mismatch:
        return mismatch(row, None, "no ledger entry vouches for this row")

    def compared(row: dict[str, Any], entry: Entry) -> Iterator[Mismatch]:
        for message in voucher.check(row, entry, case):
            yield mismatch(row, entry, message)

    def missing(entry: Entry, found: int = 0) -> Mismatch:
        wanted = voucher.rows_per_entry(entry)
        if found:
            return mismatch(None, entry, f"the entry vouches for {wanted} rows, the table "
                                         f"holds {found} (deleted?)")  # fmt: skip
        return mismatch(None, entry, "the entry vouches for a row that is not in the table "
                                     "(deleted?)")  # fmt: skip

    link, _sep, key = voucher.link.partition(":")
    if link == "seq":
        held: dict[int, int] = defaultdict(int)
        for row in rows:
            if not voucher.applies(row):
                continue
            held[row["case_seq"]] += 1
            entry = case.by_seq.get(row["case_seq"])
            if entry is None or entry.type not in voucher.events or not voucher.entries(entry):
                yield unvouched(row)
            else:
                yield from compared(row, entry)
        if voucher.every_entry:
            for entry in entries:
                if held.get(entry.case_seq, 0) < voucher.rows_per_entry(entry):
                    yield missing(entry, held.get(entry.case_seq, 0))
    elif link == "id":
        named: dict[Any, list[Entry]] = defaultdict(list)
        for entry in entries:
            named[entry.body.get(key)].append(entry)
        for row in rows:
            found = named.pop(row["id"], [])
            if not found and voucher.applies(row):
                yield unvouched(row)
            for entry in found:
                yield from compared(row, entry)
        if voucher.every_entry:
            for found in named.values():
                for entry in found:
                    yield missing(entry)
    elif link == "order":
        applying = sorted((r for r in rows if voucher.applies(r)), key=lambda r: r["id"])
        for row, entry in zip(applying, entries, strict=False):
            yield from compared(row, entry)
        for row in applying[len(entries) :]:
            yield unvouched(row)
        for entry in entries[len(applying) :]:
            yield missing(entry)
    elif link == "last":
        for row in rows:
            if not voucher.applies(row):
                continue
            if not entries:
                yield unvouched(row)
            else:
                yield from compared(row, entries[-1])
    else:  # pragma: no cover - a mistake in VOUCHERS
        raise ValueError(f"unknown link {voucher.link!r}")


async def _entries_of(cases: dict[int, str]) -> dict[int, CaseEntries]:
    refs = {ref: case_id for case_id, ref in cases.items()}
    rows = (
        await LedgerEntry.select(
            LedgerEntry.case_ref, LedgerEntry.case_seq, LedgerEntry.event_type, LedgerEntry.entry
        )
        .where(LedgerEntry.case_ref.is_in(list(refs)) & LedgerEntry.event_type.is_in(list(EVENTS)))
        .order_by(LedgerEntry.case_ref)
        .order_by(LedgerEntry.case_seq)
    )
    found: dict[int, list[Entry]] = defaultdict(list)
    for row in rows:
        try:
            entry = json.loads(bytes(row["entry"]))
            actor = entry.get("actor", {})
            body = entry.get("body", {})
            if not isinstance(body, dict):
                raise ValueError("the body is not an object")
        except (ValueError, AttributeError):
            continue  # the ledger's own audit names an entry it cannot read
        found[refs[row["case_ref"]]].append(
            Entry(
                row["case_seq"],
                row["event_type"],
                str(actor.get("id")),
                str(actor.get("role")),
                body,
            )
        )
    return {case_id: CaseEntries(case_id, ref, found[case_id]) for case_id, ref in cases.items()}


async def _rows_of(voucher: Voucher, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    table = voucher.table
    path = voucher.case_path if voucher.case_path is not None else table.case  # type: ignore[attr-defined]
    rows = await table.select(*table.all_columns(), path.as_alias("_case_id")).where(
        path.is_in(case_ids)
    )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.pop("_case_id")].append(row)
    return grouped


async def compare_cases(cases: dict[int, str], report: RowReport) -> None:
    """Compare every row of these cases ({id: ref}) with the entries that vouch for it."""
    if not cases:
        return
    entries = await _entries_of(cases)
    counted: set[tuple[str, int]] = set()
    for voucher in VOUCHERS:
        grouped = await _rows_of(voucher, list(cases))
        for case_id, case in entries.items():
            rows = grouped.get(case_id, [])
            counted.update((voucher.table._meta.tablename, row["id"]) for row in rows)
            for found in compare(voucher, case, rows):
                report.add(found)
    report.cases += len(cases)
    report.rows += len(counted)


async def compare_files(
    data_dir: Path,
    rows: Iterable[dict[str, Any]],
    ref_of: Callable[[dict[str, Any]], str],
    report: RowReport,
) -> None:
    """Hash every stored evidence file the rows name, once each, off the event loop, and
    name every row whose file is missing or no longer hashes to its recorded SHA-256."""
    digests: dict[str, str | None] = {}
    files = 0
    for row in rows:
        expected = row["sha256"]
        if expected not in digests:
            digests[expected] = await asyncio.to_thread(
                stored_sha256, stored_path(data_dir, expected)
            )
            files += 1
        found = digests[expected]
        if found == expected:
            continue
        message = (
            "the stored file is missing from the data directory"
            if found is None
            else f"the stored file's SHA-256 is {found}, not the {expected} its entry names "
            "(the file was changed or replaced)"
        )
        report.add(
            Mismatch(
                "evidence",
                Evidence._meta.tablename,
                row["id"],
                ref_of(row),
                row["case_seq"],
                message,
            )
        )
    report.files = (report.files or 0) + files


async def verify_rows(data_dir: Path | None = None) -> RowReport:
    """Every case's rows against their entries; with `data_dir`, every stored evidence
    file against its SHA-256 too. For `portal ledger verify`, after the ledger's audit."""
    report = RowReport(files=0 if data_dir is not None else None)
    last = -1
    while True:
        page = (
            await Case.select(Case.id, Case.ref)
            .where(Case.id > last)
            .order_by(Case.id)
            .limit(CASES_PER_PAGE)
        )
        if not page:
            break
        cases = {row["id"]: row["ref"] for row in page}
        await compare_cases(cases, report)
        if data_dir is not None:
            rows = (
                await Evidence.select(
                    Evidence.id, Evidence.case, Evidence.sha256, Evidence.case_seq
                )
                .where(Evidence.case.is_in(list(cases)))
                .order_by(Evidence.id)
            )

            def ref_of(row: dict[str, Any], refs: dict[int, str] = cases) -> str:
                return refs[row["case"]]

            await compare_files(data_dir, rows, ref_of, report)
        last = page[-1]["id"]
    return report


class CaseFileWithheld(CaseFileRefused):
    """What the case file would print no longer matches the ledger: nothing is sealed."""

    status_code = 409


async def require_attested(data_dir: Path, case: dict[str, Any], access: CaseAccess) -> None:
    """Before a case file is made: every row of the case matches its entry, and every
    evidence file the audience's copy lists still hashes to its SHA-256. Otherwise the
    export is refused (nothing recorded, nothing sealed) and the operators are told
    which row, file and entry, in the log; the person exporting learns which entry."""
    report = RowReport(files=0)
    await compare_cases({case["id"]: case["ref"]}, report)
    files = await evidence_list(case["id"], access)
    await compare_files(data_dir, files, lambda _row: case["ref"], report)
    if report.ok:
        return
    for found in report.mismatches:
        log.error("Case file of %s withheld: %s", case["ref"], found)
    entries = sorted({m.case_seq for m in report.mismatches if m.case_seq is not None})
    count = len(report.mismatches) + sum(report.hidden.values())
    raise CaseFileWithheld(
        ngettext(
            "The case file of %(ref)s was not made: %(num)s stored record or file no "
            "longer matches the ledger (entry %(entries)s). Nothing was sealed; the "
            "platform's operators have been told.",
            "The case file of %(ref)s was not made: %(num)s stored records or files no "
            "longer match the ledger (entries %(entries)s). Nothing was sealed; the "
            "platform's operators have been told.",
            count,
            ref=case["ref"],
            entries=_(", ").join(f"#{seq}" for seq in entries) or "-",
        )
    )
