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

The verdict (`report.CaseFileReport.verdict`) tells apart a file that failed a check, a zip that
is only incomplete, and a file whose integrity holds but whose origin was not checked
because nothing was pinned; `portal verify` exits with a code for each.

Files are read from disk as streams: a zip's evidence is hashed member by member and its
PDF copied to a temporary file, so a case file of hundreds of megabytes is checked in a
few megabytes of memory. Every sentence is a `Phrase`, so the report can be read in
either of the portal's languages (`report.summary`). The seal and the attachment are read
in `sealed_pdf`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

from ledger.bundle import verify_bundle
from ledger.bundle_state import FileDigest
from ledger.errors import NoteError
from ledger.findings import Finding
from ledger.note import open_note, parse_verifier_key
from portal.casefile.report import CaseFileReport, said
from portal.casefile.sealed_pdf import attached_bundle, check_seal
from portal.casefile.trust import Trust

EXPORTED = "casefile.exported"
EVIDENCE_DIR = "evidence/"
CHUNK = 1024 * 1024


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
        report.findings.append(said("file", False, "{name} is neither a PDF nor a zip.", name=name))
        return report
    size = path.stat().st_size
    report.findings.append(
        said("file", True, "{name} is a PDF of {size} bytes.", name=name, size=size)
    )
    with path.open("rb") as pdf:
        _verify_pdf(pdf, None, trust, report)
    return report


def _verify_zip(path: Path, name: str, trust: Trust, report: CaseFileReport) -> None:
    findings = report.findings
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError) as error:
        findings.append(
            said("file", False, "{name} is not a readable zip: {error}.", name=name, error=error)
        )
        return
    with archive, tempfile.TemporaryFile() as pdf:
        try:
            evidence = _read_zip(archive, pdf, findings)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            findings.append(
                said(
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
            said("file", False, "The zip holds {count} case file PDFs, not one.", count=len(pdfs))
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
            said(
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
            said(
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
    bundle = attached_bundle(pdf, findings)
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
            said(
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
        return said(
            "origin",
            False,
            "Not issued by {issuer}: the log's checkpoint in the file is not signed by any of "
            "its keys ({keys}).",
            issuer=trust.issuer,
            keys=", ".join(v.kid for v in verifiers),
        )
    return said(
        "origin",
        True,
        "The log's checkpoint is signed by a key of {issuer} ({keys}).",
        issuer=trust.issuer,
        keys=", ".join(v.kid for v in opened.verified_by),
    )


def _check_complete(bundle: dict[str, Any]) -> Finding:
    entries = bundle.get("entries")
    last: dict[str, Any] | None = None
    with contextlib.suppress(Exception):
        last = json.loads(base64.b64decode(entries[-1]["entry"]))  # type: ignore[index]
    if not isinstance(last, dict):
        return said(
            "complete",
            False,
            "The last entry of the bundle cannot be read, so it cannot be shown that no entry "
            "was cut off.",
        )
    if last.get("type") != EXPORTED:
        return said(
            "complete",
            False,
            "The chain ends with the entry with case_seq {seq} ({type}), not with the entry "
            "that records this export: entries were cut off the end of this file.",
            seq=last.get("case_seq"),
            type=last.get("type"),
        )
    body = last.get("body") or {}
    return said(
        "complete",
        True,
        "The chain ends with the entry with case_seq {seq}, which records this export (for "
        "{audience}, by {by}) at {at}: no entry was cut off the end.",
        seq=last.get("case_seq"),
        audience=body.get("audience"),
        by=body.get("by"),
        at=last.get("at"),
    )
