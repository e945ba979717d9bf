"""Checking a case file offline: the seal, the attached proof bundle, the evidence.

Nothing here touches the database or the network: a lawyer runs `portal verify FILE`
with the file and what the portal publishes to pin it (its trust file, or its verifier
keys and seal certificate), and reads one line per check. The public /verify page shows
the same report, pinned to that portal's own keys and seal.

Checks, in order:
- `file`: the file is a PDF, or a zip holding one PDF and evidence files named by SHA-256;
- `seal`: the file's one PAdES signature (its seal) is intact and verifies;
- `after-seal`: the seal covers the whole file: no byte follows its signed range, so no
  incremental update (an annotation, a replaced attachment, a second signature) was added;
- `origin`: pinned, the seal is by a pinned certificate and the log's checkpoint is signed
  by a pinned key; a file from anywhere else is "not issued by" whoever was pinned;
- `attachment`: the PDF carries `ledger-proof.json`;
- every check of docs/LEDGER-FORMAT.md#checks (`ledger.bundle.verify_bundle`), with the
  zip's evidence;
- `missing`: a zip holds every evidence file the bundle lists;
- `complete`: the chain ends with the entry that records this export, so no entry at the
  end was cut off.

The verdict (`CaseFileReport.verdict`) tells apart a file that failed a check, a zip that
is only incomplete, and a file whose integrity holds but whose origin was not checked
because nothing was pinned; `portal verify` exits with a code for each.

Files are read from disk as streams: a zip's evidence is hashed member by member and its
PDF copied to a temporary file, so a case file of hundreds of megabytes is checked in a
few megabytes of memory. Every sentence is a `Phrase`, so the report can be read in
either of the portal's languages (`summary(report, translate)`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import IO, Any

from ledger.bundle import FileDigest, Finding, Report, verify_bundle
from ledger.errors import NoteError
from ledger.note import open_note, parse_verifier_key
from ledger.phrase import Phrase, Translate, english
from portal.casefile.trust import Trust

BUNDLE_NAME = "ledger-proof.json"
EXPORTED = "casefile.exported"
EVIDENCE_DIR = "evidence/"
CHUNK = 1024 * 1024


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


def verify_case_file(
    path: Path, trust: Trust | None = None, name: str | None = None
) -> CaseFileReport:
    """Every finding about the case file at `path` (a PDF or a zip), called `name`.

    Pinned to `trust`; with no trust (or half of it) who issued the file is not checked,
    and the verdict says so.
    """
    trust = trust or Trust()
    name = name or path.name
    with path.open("rb") as handle:
        start = handle.read(5)
    report = CaseFileReport([], pinned=trust.complete, issuer=trust.issuer)
    if start.startswith(b"PK"):
        _verify_zip(path, name, trust, report)
        return report
    if not start.startswith(b"%PDF-"):
        report.findings.append(
            _said("file", False, "{name} is neither a PDF nor a zip.", name=name)
        )
        return report
    size = path.stat().st_size
    report.findings.append(
        _said("file", True, "{name} is a PDF of {size} bytes.", name=name, size=size)
    )
    with path.open("rb") as pdf:
        _verify_pdf(pdf, None, trust, report)
    return report


def _said(check: str, ok: bool, template: str, **values: object) -> Finding:
    return Finding.of(check, ok, Phrase(template, **values))


def _verify_zip(path: Path, name: str, trust: Trust, report: CaseFileReport) -> None:
    findings = report.findings
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError) as error:
        findings.append(
            _said("file", False, "{name} is not a readable zip: {error}.", name=name, error=error)
        )
        return
    with archive, tempfile.TemporaryFile() as pdf:
        try:
            evidence = _read_zip(archive, pdf, findings)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            findings.append(
                _said(
                    "file", False, "{name} is not a readable zip: {error}.", name=name, error=error
                )
            )
            return
        if evidence is None:
            return
        pdf.seek(0)
        _verify_pdf(pdf, evidence, trust, report)


def _read_zip(
    archive: zipfile.ZipFile, pdf: IO[bytes], findings: list[Finding]
) -> dict[str, FileDigest] | None:
    """Copy the zip's one PDF into `pdf` and hash its evidence files; None if no one PDF."""
    names = [n for n in archive.namelist() if not n.endswith("/")]
    pdfs = [n for n in names if n.lower().endswith(".pdf") and "/" not in n]
    if len(pdfs) != 1:
        findings.append(
            _said("file", False, "The zip holds {count} case file PDFs, not one.", count=len(pdfs))
        )
        return None
    with archive.open(pdfs[0]) as member:
        shutil.copyfileobj(member, pdf, CHUNK)
    evidence = {
        n.removeprefix(EVIDENCE_DIR): _digest(archive, n)
        for n in names
        if n.startswith(EVIDENCE_DIR)
    }
    others = sorted(set(names) - {pdfs[0]} - {EVIDENCE_DIR + k for k in evidence})
    if others:
        findings.append(
            _said(
                "file",
                False,
                "The zip holds the case file {pdf} and {count} evidence files, and files it "
                "should not: {others}.",
                pdf=pdfs[0],
                count=len(evidence),
                others=", ".join(others),
            )
        )
    else:
        findings.append(
            _said(
                "file",
                True,
                "The zip holds the case file {pdf} and {count} evidence files.",
                pdf=pdfs[0],
                count=len(evidence),
            )
        )
    return evidence


def _digest(archive: zipfile.ZipFile, member: str) -> FileDigest:
    digest, size = hashlib.sha256(), 0
    with archive.open(member) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileDigest(digest.hexdigest(), size)


NOT_SUPPLIED = "Evidence file {name} ({digest}) was not supplied, so its content was not checked."
"""The bundle verifier's line for a listed file it was not given (ledger/bundle.py)."""


def _verify_pdf(
    pdf: IO[bytes],
    evidence: dict[str, FileDigest] | None,
    trust: Trust,
    report: CaseFileReport,
) -> None:
    """Check the PDF; `evidence` is the zip's files, or None for a PDF checked alone."""
    findings = report.findings
    findings.extend(check_seal(pdf, trust))
    bundle = _attached_bundle(pdf, findings)
    if bundle is None:
        return
    if trust.verifier_keys:
        findings.append(_check_signed_by(bundle, trust))
    checked = verify_bundle(
        bundle, trusted_keys=list(trust.verifier_keys) or None, evidence_files=evidence or {}
    )
    listed = _listed_evidence(bundle)
    if evidence is None:
        report.unchecked_evidence = len(listed)
        findings.extend(checked.findings)
    else:
        # In a zip, a listed file that is absent is missing, not merely "not supplied".
        report.missing = [(n, digest) for digest, n in listed.items() if digest not in evidence]
        absent = {digest for _name, digest in report.missing}
        findings.extend(
            f
            for f in checked.findings
            if not (
                f.phrase is not None
                and f.phrase.template == NOT_SUPPLIED
                and f.phrase.params.get("digest") in absent
            )
        )
        findings.extend(
            _said(
                "missing",
                False,
                "Evidence file {name} ({digest}) is listed by the case file but missing from "
                "the zip: the zip is incomplete.",
                name=n,
                digest=digest,
            )
            for n, digest in report.missing
        )
    findings.append(_check_complete(bundle))


def _listed_evidence(bundle: dict[str, Any]) -> dict[str, str]:
    """SHA-256 to name of each evidence file the bundle lists."""
    listed = bundle.get("evidence")
    if not isinstance(listed, list):
        return {}
    return {
        str(item["sha256"]): str(item.get("name", "(unnamed)"))
        for item in listed
        if isinstance(item, dict) and "sha256" in item
    }


def _check_signed_by(bundle: dict[str, Any], trust: Trust) -> Finding:
    """Whether the log's checkpoint in the file is signed by a pinned key."""
    verifiers = [parse_verifier_key(key) for key in trust.verifier_keys]
    try:
        opened = open_note(str(bundle.get("checkpoint")), verifiers)
    except NoteError:
        return _said(
            "origin",
            False,
            "Not issued by {issuer}: the log's checkpoint in the file is not signed by any of "
            "its keys ({keys}).",
            issuer=trust.issuer,
            keys=", ".join(v.kid for v in verifiers),
        )
    return _said(
        "origin",
        True,
        "The log's checkpoint is signed by a key of {issuer} ({keys}).",
        issuer=trust.issuer,
        keys=", ".join(v.kid for v in opened.verified_by),
    )


def check_seal(pdf: IO[bytes], trust: Trust | None = None) -> list[Finding]:
    """The PAdES seal: intact, the file's only signature, over the whole file, by whom.

    The seal is the first signature: an export signs once, so anything after it, a second
    signature included, is a change made after sealing, pinned or not.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    trust = trust or Trust()
    try:
        pdf.seek(0)
        reader = PdfFileReader(pdf, strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises many kinds on a damaged file
        return [
            _said(
                "seal",
                False,
                "The PDF cannot be read, so its seal cannot be checked: {error}.",
                error=error,
            )
        ]
    if not signatures:
        return [_said("seal", False, "The PDF carries no seal (no PAdES signature).")]
    signature = min(signatures, key=lambda s: s.signed_revision)
    try:
        embedded = signature.signer_cert
    except Exception as error:
        return [_said("seal", False, "The seal cannot be read: {error}.", error=error)]
    fingerprint = hashlib.sha256(embedded.dump()).hexdigest()
    findings: list[Finding] = []
    try:
        context = ValidationContext(trust_roots=[embedded], allow_fetching=False)
        status = validate_pdf_signature(signature, context, skip_diff=True)
    except Exception as error:
        status = None
        findings.append(
            _said("seal", False, "The seal could not be validated: {error}.", error=error)
        )
    if status is not None and not status.intact:
        findings.append(
            _said("seal", False, "The seal is broken: the sealed bytes were changed after sealing.")
        )
    elif status is not None and not status.valid:
        findings.append(
            _said("seal", False, "The seal's signature does not verify under its certificate.")
        )
    elif status is not None:
        findings.append(
            _said(
                "seal",
                True,
                "The seal is intact and verifies, by the certificate with SHA-256 {fingerprint}.",
                fingerprint=fingerprint,
            )
        )
    findings.append(_check_nothing_after(reader, signature, len(signatures)))
    if trust.seal_certificates:
        findings.append(_check_sealed_by(fingerprint, trust))
    return findings


def _check_nothing_after(reader: Any, signature: Any, count: int) -> Finding:
    """No byte after the seal's signed range: the seal covers the file, all of it."""
    reader.stream.seek(0, 2)
    size = reader.stream.tell()
    byte_range = list(signature.byte_range)
    hole = len(signature.pkcs7_content) * 2 + 2  # the hex string with its angle brackets
    whole = (
        len(byte_range) == 4
        and byte_range[0] == 0
        and byte_range[2] == byte_range[1] + hole
        and byte_range[2] + byte_range[3] == size
    )
    if whole and count == 1:
        return _said(
            "after-seal", True, "The seal covers the whole file: nothing was added after it."
        )
    sealed = byte_range[2] + byte_range[3] if len(byte_range) == 4 else 0
    if count > 1:
        return _said(
            "after-seal",
            False,
            "The file was changed after sealing: it carries {count} signatures, and everything "
            "after the seal ({added} bytes, with {others} more signatures) is not the portal's.",
            count=count,
            added=max(size - sealed, 0),
            others=count - 1,
        )
    return _said(
        "after-seal",
        False,
        "The file was changed after sealing: {added} bytes follow the sealed range (an "
        "update, an annotation or a replaced attachment, say), and the seal does not cover them.",
        added=max(size - sealed, 0),
    )


def _check_sealed_by(fingerprint: str, trust: Trust) -> Finding:
    trusted = trust.seal_fingerprints()
    if fingerprint in trusted:
        return _said(
            "origin",
            True,
            "The seal is the seal of {issuer} (SHA-256 {fingerprint}).",
            issuer=trust.issuer,
            fingerprint=fingerprint,
        )
    return _said(
        "origin",
        False,
        "Not issued by {issuer}: the seal is by another certificate (SHA-256 {fingerprint}), "
        "not by its seal (SHA-256 {trusted}).",
        issuer=trust.issuer,
        fingerprint=fingerprint,
        trusted=", ".join(trusted),
    )


def _attached_bundle(pdf: IO[bytes], findings: list[Finding]) -> dict[str, Any] | None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        pdf.seek(0)
        reader = PdfFileReader(pdf, strict=False)
        files = dict(_embedded_files(reader.root["/Names"]["/EmbeddedFiles"]))
    except Exception:
        files = {}
    data = files.get(BUNDLE_NAME)
    if data is None:
        findings.append(
            _said(
                "attachment",
                False,
                "The PDF has no attached {file}, so nothing in it can be checked against the "
                "ledger.",
                file=BUNDLE_NAME,
            )
        )
        return None
    try:
        bundle = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        findings.append(
            _said(
                "attachment",
                False,
                "The attached {file} is not JSON: {error}.",
                file=BUNDLE_NAME,
                error=error,
            )
        )
        return None
    findings.append(_said("attachment", True, "The PDF carries {file}.", file=BUNDLE_NAME))
    return bundle if isinstance(bundle, dict) else {"format": None}


def _embedded_files(node: Any) -> Any:
    node = node.get_object()
    if "/Names" in node:
        names = node["/Names"]
        for position in range(0, len(names) - 1, 2):
            spec = names[position + 1].get_object()
            yield str(names[position]), spec["/EF"]["/F"].get_object().data
    for kid in node.get("/Kids", []):
        yield from _embedded_files(kid)


def _check_complete(bundle: dict[str, Any]) -> Finding:
    entries = bundle.get("entries")
    last: dict[str, Any] | None = None
    with contextlib.suppress(Exception):
        last = json.loads(base64.b64decode(entries[-1]["entry"]))  # type: ignore[index]
    if not isinstance(last, dict):
        return _said(
            "complete",
            False,
            "The last entry of the bundle cannot be read, so it cannot be shown that no entry "
            "was cut off.",
        )
    if last.get("type") != EXPORTED:
        return _said(
            "complete",
            False,
            "The chain ends with the entry with case_seq {seq} ({type}), not with the entry "
            "that records this export: entries were cut off the end of this file.",
            seq=last.get("case_seq"),
            type=last.get("type"),
        )
    body = last.get("body") or {}
    return _said(
        "complete",
        True,
        "The chain ends with the entry with case_seq {seq}, which records this export (for "
        "{audience}, by {by}) at {at}: no entry was cut off the end.",
        seq=last.get("case_seq"),
        audience=body.get("audience"),
        by=body.get("by"),
        at=last.get("at"),
    )


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
