"""Which entries vouch for each table's rows, and how a row finds its entry (`VOUCHERS`).

The entry is found by the row's `case_seq`, by the row's id named in the entry's body, or
by the order in which rows and entries were written together; `mismatches.compare` does
the pairing and `row_checks` the comparing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from piccolo.table import Table

from arbitration.tables import Award, AwardVote, Challenge, Correction, Extension, ProceduralOrder
from mediation.tables import (
    Appointment,
    AppointmentAnswer,
    Offer,
    OfferAnswer,
    Settlement,
    SettlementSignature,
)
from portal.casefile import row_checks as checks
from portal.casefile.row_checks import TRANSITIONS, Check, Entry, of_types
from portal.cases.tables import Case, Evidence, InfoRequest, Proposal, Statement


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


VOUCHERS: tuple[Voucher, ...] = (
    Voucher(Case, of_types("case.filed"), checks.filed, link="last", case_path=Case.id),
    Voucher(Statement, of_types("statement.submitted"), checks.statement, every_entry=True),
    Voucher(Evidence, of_types("evidence.added"), checks.evidence, every_entry=True,
            rows_per_entry=lambda e: len(e.body.get("files", []))),
    Voucher(Proposal, TRANSITIONS, checks.proposal, every_entry=True,
            entries=lambda e: e.body.get("action") in ("propose", "revise_proposal")),
    Voucher(InfoRequest, of_types("case.transitioned", "info.requested"), checks.questions,
            link="order",
            entries=lambda e: e.type == "info.requested" or e.body.get("action") == "request_info"),
    Voucher(Offer, of_types("offer.made"), checks.offer, every_entry=True),
    Voucher(OfferAnswer, of_types("offer.accepted", "offer.rejected", "offer.made"),
            checks.offer_answer, case_path=OfferAnswer.offer.case),
    Voucher(Settlement, of_types("settlement.drafted"), checks.settlement, every_entry=True),
    Voucher(SettlementSignature, of_types("settlement.signed"), checks.settlement_signature,
            case_path=SettlementSignature.settlement.case, every_entry=True),
    Voucher(Appointment, of_types("mediator.disclosed"), checks.disclosure, link="id:appointment",
            applies=lambda row: row["disclosed_at"] is not None),
    Voucher(Appointment, of_types("mediator.declined"), checks.declined, link="id:appointment",
            applies=lambda row: row["status"] == "declined"),
    Voucher(AppointmentAnswer, of_types("mediator.objected", "mediator.agreed"),
            checks.appointment_answer, link="order", case_path=AppointmentAnswer.appointment.case),
    Voucher(Award, of_types("award.issued"), checks.award_issued, every_entry=True,
            applies=lambda row: row["status"] == "issued"),
    Voucher(Award, of_types("award.drafted"), checks.award_draft, link="last",
            applies=lambda row: row["status"] == "draft"),
    Voucher(AwardVote, of_types("award.signed", "award.dissented"), checks.award_vote,
            case_path=AwardVote.award.case),
    Voucher(Correction, of_types("correction.asked"), checks.correction_asked,
            link="id:correction", every_entry=True),
    Voucher(Correction, of_types("correction.refused", "award.addendum"),
            checks.correction_answered, applies=lambda row: row["status"] != "pending"),
    Voucher(ProceduralOrder, of_types("order.issued"), checks.order, every_entry=True),
    Voucher(Challenge, of_types("arbitrator.challenged"), checks.challenge, link="id:challenge",
            every_entry=True),
    Voucher(Challenge, of_types("challenge.decided"), checks.challenge_decided, link="id:challenge",
            applies=lambda row: row["status"] != "pending", every_entry=True),
    Voucher(Extension, of_types("extension.asked"), checks.extension_asked, link="order"),
    Voucher(Extension, of_types("extension.refused", "extension.granted"),
            checks.extension_answered, link="id:extension",
            applies=lambda row: row["status"] != "pending", every_entry=True),
)  # fmt: skip
EVENTS = frozenset().union(*(v.events for v in VOUCHERS), {"info.answered"})
