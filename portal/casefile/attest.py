"""What a row says, the ledger attests: every stored row compared with the entry that
vouches for it, and every stored evidence file with the SHA-256 its entry names.

The room, the case file and the emails read text from the case's tables (a statement's
words, an offer's terms, an award, a decision's reasons); the ledger signed that text,
or its hash, when it was written. Someone who can write to the database but not sign
could change the one without the other; `portal ledger verify` (after the ledger's own
audit) and every export compare them, so that such a change is found and named: which
row of which table, which case, which entry.

Each table says how the ledger vouches for its rows (`vouchers.VOUCHERS`), each row is
compared with its entry by its table's check (`row_checks`), and the pairs are made and
the differences named in `mismatches`. A row that no entry vouches for, and an entry
whose row is gone, are mismatches too. This module reads the rows and entries, case by
case, and the stored evidence files. `ledger/` knows nothing of this: it checks the log;
this checks the portal's rows against it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ledger.tables import LedgerEntry
from portal.casefile.mismatches import Mismatch, RowReport, compare
from portal.casefile.row_checks import CaseEntries, Entry
from portal.casefile.vouchers import EVENTS, VOUCHERS, Voucher
from portal.cases.evidence import stored_sha256
from portal.cases.tables import Case, Evidence
from portal.cases.timeline import evidence_list
from portal.cases.uploads import stored_path
from portal.errors import PortalError
from portal.i18n import _, ngettext
from portal.procedure.policy import CaseAccess


class CaseFileRefused(PortalError):
    """The case file cannot be made for that case or audience; nothing was recorded."""

    status_code = 404


log = logging.getLogger(__name__)

CASES_PER_PAGE = 200


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
