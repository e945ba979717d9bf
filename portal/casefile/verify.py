"""Checking a case file offline: the seal, the attached proof bundle, the evidence.

Nothing here touches the database or the network: a lawyer runs `portal verify FILE`
with the file, and optionally the verifier key and seal certificate the platform
publishes, and reads one line per check. The public /verify page shows the same report.

Checks, in order:
- `file`: the file is a PDF, or a zip holding one PDF and evidence files named by SHA-256;
- `seal`: the PAdES signature is intact, covers the whole file, and is by the seal
  certificate given (or, without one, the certificate in the file, which the report says);
- `attachment`: the PDF carries `ledger-proof.json`;
- every check of spec ledger-v1 (`ledger.bundle.verify_bundle`), with the zip's evidence;
- `complete`: the chain ends with the entry that records this export, so no entry at the
  end was cut off.

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
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ledger.bundle import FileDigest, Finding, Report, verify_bundle
from ledger.phrase import Phrase, Translate, english

BUNDLE_NAME = "ledger-proof.json"
EXPORTED = "casefile.exported"
EVIDENCE_DIR = "evidence/"
CHUNK = 1024 * 1024


def verify_case_file(
    path: Path,
    trusted_keys: Sequence[str] | None = None,
    seal_cert: bytes | None = None,
    name: str | None = None,
) -> Report:
    """Every finding about the case file at `path` (a PDF or a zip), called `name`."""
    name = name or path.name
    with path.open("rb") as handle:
        start = handle.read(5)
    if start.startswith(b"PK"):
        return _verify_zip(path, name, trusted_keys, seal_cert)
    if not start.startswith(b"%PDF-"):
        return Report([_said("file", False, "{name} is neither a PDF nor a zip.", name=name)])
    size = path.stat().st_size
    findings = [_said("file", True, "{name} is a PDF of {size} bytes.", name=name, size=size)]
    with path.open("rb") as pdf:
        return Report(findings + _verify_pdf(pdf, {}, trusted_keys, seal_cert))


def _said(check: str, ok: bool, template: str, **values: object) -> Finding:
    return Finding.of(check, ok, Phrase(template, **values))


def _verify_zip(
    path: Path, name: str, trusted_keys: Sequence[str] | None, seal_cert: bytes | None
) -> Report:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError) as error:
        return Report(
            [_said("file", False, "{name} is not a readable zip: {error}.", name=name, error=error)]
        )
    findings: list[Finding] = []
    with archive, tempfile.TemporaryFile() as pdf:
        try:
            evidence = _read_zip(archive, pdf, findings)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            findings.append(
                _said(
                    "file", False, "{name} is not a readable zip: {error}.", name=name, error=error
                )
            )
            return Report(findings)
        if evidence is None:
            return Report(findings)
        pdf.seek(0)
        findings.extend(_verify_pdf(pdf, evidence, trusted_keys, seal_cert))
    return Report(findings)


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


def _verify_pdf(
    pdf: IO[bytes],
    evidence: dict[str, FileDigest],
    trusted_keys: Sequence[str] | None,
    seal_cert: bytes | None,
) -> list[Finding]:
    findings = check_seal(pdf, seal_cert)
    bundle = _attached_bundle(pdf, findings)
    if bundle is None:
        return findings
    report = verify_bundle(bundle, trusted_keys=trusted_keys, evidence_files=evidence)
    findings.extend(report.findings)
    findings.append(_check_complete(bundle))
    return findings


def check_seal(pdf: IO[bytes], seal_cert: bytes | None) -> list[Finding]:
    """The PAdES seal: intact, over the whole file, by the certificate trusted."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import load_cert_from_pemder
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

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
    signature = signatures[-1]
    try:
        embedded = signature.signer_cert
    except Exception as error:
        return [_said("seal", False, "The seal cannot be read: {error}.", error=error)]
    fingerprint = hashlib.sha256(embedded.dump()).hexdigest()
    if seal_cert is not None:
        trusted = _load_cert(seal_cert, load_cert_from_pemder)
        if trusted is None:
            return [_said("seal", False, "The seal certificate given cannot be read.")]
        if trusted.dump() != embedded.dump():
            return [
                _said(
                    "seal",
                    False,
                    "The file is sealed by another certificate (SHA-256 {fingerprint}) than "
                    "the one given: it was not sealed by that platform.",
                    fingerprint=fingerprint,
                )
            ]
        root = trusted
    else:
        root = embedded
    try:
        context = ValidationContext(trust_roots=[root], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except Exception as error:
        return [_said("seal", False, "The seal could not be validated: {error}.", error=error)]
    if not status.intact:
        return [
            _said("seal", False, "The seal is broken: the sealed bytes were changed after sealing.")
        ]
    if not status.valid:
        return [_said("seal", False, "The seal's signature does not verify under its certificate.")]
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return [
            _said(
                "seal",
                False,
                "The seal does not cover the whole file: something was added after sealing.",
            )
        ]
    if seal_cert is None:
        return [
            _said(
                "seal",
                True,
                "The seal is intact and covers the whole file, by the certificate inside the "
                "file (SHA-256 {fingerprint}): compare it with the fingerprint the platform "
                "publishes, or pass --seal.",
                fingerprint=fingerprint,
            )
        ]
    return [
        _said(
            "seal",
            True,
            "The seal is intact and covers the whole file, by the seal certificate given "
            "(SHA-256 {fingerprint}).",
            fingerprint=fingerprint,
        )
    ]


def _load_cert(data: bytes, loader: Any) -> Any:
    with tempfile.NamedTemporaryFile(suffix=".pem") as handle:
        handle.write(data)
        handle.flush()
        try:
            return loader(handle.name)
        except Exception:
            return None


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
    "attachment": Phrase("proof attached"),
    "bundle-format": Phrase("bundle"),
    "checkpoint": Phrase("checkpoint"),
    "entry-format": Phrase("entries"),
    "entry-signature": Phrase("entry signatures"),
    "inclusion": Phrase("in the log"),
    "chain": Phrase("chain"),
    "evidence": Phrase("evidence"),
    "consistency": Phrase("consistency"),
    "complete": Phrase("nothing cut off"),
}
"""The name each check goes by in the report, in the order the checks run."""


def check_name(check: str, translate: Translate = english) -> str:
    """What the report calls a check, in the reader's language."""
    name = CHECK_NAMES.get(check)
    return check if name is None else name.render(translate)


def summary(report: Report, translate: Translate = english) -> str:
    """The verdict first, in one line, then one line per check, named."""
    if report.ok:
        head = Phrase("VERIFIED: every check holds.")
    else:
        failed = list(dict.fromkeys(check_name(f.check, translate) for f in report.failures()))
        head = Phrase(
            "NOT VERIFIED: {count} failed ({checks}).",
            count=len(report.failures()),
            checks=", ".join(failed),
        )
    lines = [
        Phrase(
            "{verdict}  [{check}] {message}",
            verdict=Phrase("PASS") if f.ok else Phrase("FAIL"),
            check=check_name(f.check, translate),
            message=f.render(translate),
        ).render(translate)
        for f in report.findings
    ]
    return "\n".join([head.render(translate), *lines])
