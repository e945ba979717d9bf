"""A case file's report: the findings, the verdict they come to (`portal verify`'s exit
code), and how it reads, in either of the portal's languages: one sentence for the verdict
(`headline`), then one line per check (`summary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from ledger.findings import Finding, Report
from ledger.phrase import Phrase, Translate, english


class Verdict(IntEnum):
    """What the report comes to; the value is `portal verify`'s exit code."""

    VERIFIED = 0
    """Pinned, and every check holds."""
    NOT_VERIFIED = 1
    """A check failed: the file was altered, changed after sealing, or issued elsewhere."""
    INCOMPLETE = 3
    """Every check of what is there holds, but evidence files the bundle lists are missing."""
    ORIGIN_NOT_CHECKED = 4
    """Every check holds, but nothing was pinned, so who issued the file is unknown."""
    # 2 is click's: the command was used wrongly (an unreadable --trust file, say).


@dataclass
class CaseFileReport(Report):
    """The findings, and what they leave unsaid: the origin, the files not supplied."""

    pinned: bool = False
    """Both verifier keys and seal certificates were pinned."""
    missing: list[tuple[str, str]] = field(default_factory=list)
    """(name, SHA-256) of each evidence file the bundle lists and the zip lacks."""
    unchecked_evidence: int = 0
    """Evidence files the bundle lists that were not checked: a PDF was checked alone."""
    issuer: Phrase = field(default_factory=lambda: Phrase("the portal you trust"))

    def failed(self, check: str) -> bool:
        return any(f.check == check for f in self.failures())

    @property
    def verdict(self) -> Verdict:
        failures = self.failures()
        if any(f.check != "missing" for f in failures) or not self.findings:
            return Verdict.NOT_VERIFIED
        if failures:
            return Verdict.INCOMPLETE
        return Verdict.VERIFIED if self.pinned else Verdict.ORIGIN_NOT_CHECKED


def said(check: str, ok: bool, template: str, **values: object) -> Finding:
    return Finding.of(check, ok, Phrase(template, **values))


CHECK_NAMES = {
    "file": Phrase("file"),
    "seal": Phrase("seal"),
    "after-seal": Phrase("nothing after the seal"),
    "origin": Phrase("issued by"),
    "attachment": Phrase("proof attached"),
    "bundle-format": Phrase("bundle"),
    "checkpoint": Phrase("checkpoint"),
    "entry-format": Phrase("entries"),
    "entry-signature": Phrase("entry signatures"),
    "inclusion": Phrase("in the log"),
    "chain": Phrase("chain"),
    "evidence": Phrase("evidence"),
    "missing": Phrase("evidence missing"),
    "consistency": Phrase("consistency"),
    "complete": Phrase("nothing cut off"),
}
"""The name each check goes by in the report, in the order the checks run."""


def how_to_pin() -> Phrase:
    return Phrase(
        "ORIGIN NOT CHECKED: who issued this file was not checked, only whether it is intact. "
        "Pin it with --trust FILE (the trust file the portal publishes at /ledger/trust.json), "
        "or with --key and --seal."
    )


def check_name(check: str, translate: Translate = english) -> str:
    """What the report calls a check, in the reader's language."""
    name = CHECK_NAMES.get(check)
    return check if name is None else name.render(translate)


def missing_files(report: CaseFileReport) -> str:
    return "; ".join(f"{name}, {digest}" for name, digest in report.missing)


def headline(report: CaseFileReport) -> Phrase:
    """The verdict in one sentence (each a literal, so that `make translations` finds it)."""
    verdict = report.verdict
    if verdict == Verdict.NOT_VERIFIED:
        failures = report.failures()
        values: dict[str, object] = {
            "issuer": report.issuer,
            "count": len(failures),
            "checks": list(dict.fromkeys(CHECK_NAMES.get(f.check, f.check) for f in failures)),
        }
        if report.failed("origin"):
            return Phrase(
                "NOT VERIFIED: this file was not issued by {issuer}. {count} failed ({checks}).",
                **values,
            )
        if report.failed("after-seal"):
            return Phrase(
                "NOT VERIFIED: the file was changed after sealing. {count} failed ({checks}).",
                **values,
            )
        return Phrase("NOT VERIFIED: {count} failed ({checks}).", **values)
    if verdict == Verdict.INCOMPLETE:
        count, files = len(report.missing), missing_files(report)
        if count == 1:
            return Phrase("INCOMPLETE: 1 evidence file missing: {files}.", files=files)
        return Phrase(
            "INCOMPLETE: {count} evidence files missing: {files}.", count=count, files=files
        )
    if verdict == Verdict.ORIGIN_NOT_CHECKED:
        if report.unchecked_evidence == 1:
            return Phrase(
                "INTACT: every check holds; the evidence file this PDF lists was not checked "
                "(check the zip to check it too)."
            )
        if report.unchecked_evidence:
            return Phrase(
                "INTACT: every check holds; the {count} evidence files this PDF lists were not "
                "checked (check the zip to check them too).",
                count=report.unchecked_evidence,
            )
        return Phrase("INTACT: every check holds.")
    if report.unchecked_evidence == 1:
        return Phrase(
            "VERIFIED: every check holds; the evidence file this PDF lists was not checked "
            "(check the zip to check it too)."
        )
    if report.unchecked_evidence:
        return Phrase(
            "VERIFIED: every check holds; the {count} evidence files this PDF lists were not "
            "checked (check the zip to check them too).",
            count=report.unchecked_evidence,
        )
    return Phrase("VERIFIED: every check holds.")


def summary(report: CaseFileReport, translate: Translate = english) -> str:
    """The verdict first, then one line per check, named.

    Unpinned, the first line says that the origin was not checked and how to pin it.
    """
    heads = [] if report.pinned else [how_to_pin()]
    heads.append(headline(report))
    lines = [
        Phrase(
            "{verdict}  [{check}] {message}",
            verdict=Phrase("PASS") if f.ok else Phrase("FAIL"),
            check=check_name(f.check, translate),
            message=f.render(translate),
        ).render(translate)
        for f in report.findings
    ]
    return "\n".join([*(head.render(translate) for head in heads), *lines])
