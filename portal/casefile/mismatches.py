"""Rows paired with the entries that vouch for them, and each difference named: which row
of which table, which case, which entry (`compare`), gathered into a `RowReport`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from portal.casefile.row_checks import CaseEntries, Entry
from portal.casefile.vouchers import Voucher

SHOWN_PER_CHECK = 50


@dataclass(frozen=True)
class Mismatch:
    """One difference between the stored rows or files and the ledger, and where it is."""

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
    """What was compared, and each mismatch found (the first `SHOWN_PER_CHECK` of a check,
    then a count)."""

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


def compare(voucher: Voucher, case: CaseEntries, rows: list[dict[str, Any]]) -> Iterator[Mismatch]:
    """Every difference between the case's rows of one table and the entries that vouch
    for them, the way `voucher` links them."""
    pairing = _Pairing(voucher, case)
    link, _sep, key = voucher.link.partition(":")
    if link == "seq":
        return pairing.by_seq(rows)
    if link == "id":
        return pairing.by_id(rows, key)
    if link == "order":
        return pairing.in_order(rows)
    if link == "last":
        return pairing.to_last(rows)
    raise ValueError(f"unknown link {voucher.link!r}")  # pragma: no cover - a mistake in VOUCHERS


class _Pairing:
    """One table's rows of one case against the entries of the kinds that vouch for them."""

    def __init__(self, voucher: Voucher, case: CaseEntries) -> None:
        self.voucher = voucher
        self.case = case
        self.table = voucher.table._meta.tablename
        self.entries = case.of(voucher.events, voucher.entries)

    def mismatch(self, row: dict[str, Any] | None, entry: Entry | None, message: str) -> Mismatch:
        return Mismatch(
            "rows",
            self.table,
            None if row is None else row["id"],
            self.case.ref,
            None if entry is None else entry.case_seq,
            message,
        )

    def unvouched(self, row: dict[str, Any]) -> Mismatch:
        return self.mismatch(row, None, "no ledger entry vouches for this row")

    def compared(self, row: dict[str, Any], entry: Entry) -> Iterator[Mismatch]:
        for message in self.voucher.check(row, entry, self.case):
            yield self.mismatch(row, entry, message)

    def missing(self, entry: Entry, found: int = 0) -> Mismatch:
        wanted = self.voucher.rows_per_entry(entry)
        if found:
            return self.mismatch(None, entry, f"the entry vouches for {wanted} rows, the table "
                                              f"holds {found} (deleted?)")  # fmt: skip
        return self.mismatch(None, entry, "the entry vouches for a row that is not in the table "
                                          "(deleted?)")  # fmt: skip

    def by_seq(self, rows: list[dict[str, Any]]) -> Iterator[Mismatch]:
        """The row's `case_seq` names its entry."""
        voucher = self.voucher
        held: dict[int, int] = defaultdict(int)
        for row in rows:
            if not voucher.applies(row):
                continue
            held[row["case_seq"]] += 1
            entry = self.case.by_seq.get(row["case_seq"])
            if entry is None or entry.type not in voucher.events or not voucher.entries(entry):
                yield self.unvouched(row)
            else:
                yield from self.compared(row, entry)
        if voucher.every_entry:
            for entry in self.entries:
                if held.get(entry.case_seq, 0) < voucher.rows_per_entry(entry):
                    yield self.missing(entry, held.get(entry.case_seq, 0))

    def by_id(self, rows: list[dict[str, Any]], key: str) -> Iterator[Mismatch]:
        """The entry's body names the row's id under `key`."""
        named: dict[Any, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            named[entry.body.get(key)].append(entry)
        for row in rows:
            found = named.pop(row["id"], [])
            if not found and self.voucher.applies(row):
                yield self.unvouched(row)
            for entry in found:
                yield from self.compared(row, entry)
        if self.voucher.every_entry:
            for found in named.values():
                for entry in found:
                    yield self.missing(entry)

    def in_order(self, rows: list[dict[str, Any]]) -> Iterator[Mismatch]:
        """Rows and entries were written together, one for one."""
        applying = sorted((r for r in rows if self.voucher.applies(r)), key=lambda r: r["id"])
        for row, entry in zip(applying, self.entries, strict=False):
            yield from self.compared(row, entry)
        for row in applying[len(self.entries) :]:
            yield self.unvouched(row)
        for entry in self.entries[len(applying) :]:
            yield self.missing(entry)

    def to_last(self, rows: list[dict[str, Any]]) -> Iterator[Mismatch]:
        """The case's last such entry vouches for the row."""
        for row in rows:
            if not self.voucher.applies(row):
                continue
            if not self.entries:
                yield self.unvouched(row)
            else:
                yield from self.compared(row, self.entries[-1])
