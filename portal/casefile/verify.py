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
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.bundle import Finding, Report, verify_bundle

BUNDLE_NAME = "ledger-proof.json"
EXPORTED = "casefile.exported"
EVIDENCE_DIR = "evidence/"


def verify_case_file(
    path: Path, trusted_keys: Sequence[str] | None = None, seal_cert: bytes | None = None
) -> Report:
    """Every finding about the case file at `path` (a PDF or a zip)."""
    return verify_case_bytes(path.read_bytes(), path.name, trusted_keys, seal_cert)


def verify_case_bytes(
    data: bytes,
    name: str,
    trusted_keys: Sequence[str] | None = None,
    seal_cert: bytes | None = None,
) -> Report:
    findings: list[Finding] = []
    evidence: dict[str, bytes] = {}
    pdf = data
    if data.startswith(b"PK"):
        try:
            pdf, evidence = _read_zip(data, findings)
        except (zipfile.BadZipFile, ValueError) as error:
            findings.append(Finding("file", False, f"{name} is not a readable zip: {error}."))
            return Report(findings)
    elif not data.startswith(b"%PDF-"):
        findings.append(Finding("file", False, f"{name} is neither a PDF nor a zip."))
        return Report(findings)
    else:
        findings.append(Finding("file", True, f"{name} is a PDF of {len(data)} bytes."))
    if not pdf:
        return Report(findings)
    findings.extend(check_seal(pdf, seal_cert))
    bundle = _attached_bundle(pdf, findings)
    if bundle is None:
        return Report(findings)
    report = verify_bundle(bundle, trusted_keys=trusted_keys, evidence_files=evidence)
    findings.extend(report.findings)
    findings.append(_check_complete(bundle))
    return Report(findings)


def _read_zip(data: bytes, findings: list[Finding]) -> tuple[bytes, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        pdfs = [n for n in names if n.lower().endswith(".pdf") and "/" not in n]
        if len(pdfs) != 1:
            findings.append(
                Finding("file", False, f"The zip holds {len(pdfs)} case file PDFs, not one.")
            )
            return b"", {}
        evidence = {
            n.removeprefix(EVIDENCE_DIR): archive.read(n)
            for n in names
            if n.startswith(EVIDENCE_DIR)
        }
        others = sorted(set(names) - {pdfs[0]} - {EVIDENCE_DIR + k for k in evidence})
        findings.append(
            Finding(
                "file",
                not others,
                f"The zip holds the case file {pdfs[0]} and {len(evidence)} evidence files"
                + (f", and files it should not: {', '.join(others)}." if others else "."),
            )
        )
        return archive.read(pdfs[0]), evidence


def check_seal(pdf: bytes, seal_cert: bytes | None) -> list[Finding]:
    """The PAdES seal: intact, over the whole file, by the certificate trusted."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import load_cert_from_pemder
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises many kinds on a damaged file
        return [
            Finding(
                "seal", False, f"The PDF cannot be read, so its seal cannot be checked: {error}."
            )
        ]
    if not signatures:
        return [Finding("seal", False, "The PDF carries no seal (no PAdES signature).")]
    signature = signatures[-1]
    try:
        embedded = signature.signer_cert
    except Exception as error:
        return [Finding("seal", False, f"The seal cannot be read: {error}.")]
    fingerprint = hashlib.sha256(embedded.dump()).hexdigest()
    findings = []
    if seal_cert is not None:
        trusted = _load_cert(seal_cert, load_cert_from_pemder)
        if trusted is None:
            return [Finding("seal", False, "The seal certificate given cannot be read.")]
        if trusted.dump() != embedded.dump():
            return [
                Finding(
                    "seal",
                    False,
                    f"The file is sealed by another certificate (SHA-256 {fingerprint}) than "
                    "the one given: it was not sealed by that platform.",
                )
            ]
        root = trusted
    else:
        root = embedded
    try:
        context = ValidationContext(trust_roots=[root], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except Exception as error:
        return [Finding("seal", False, f"The seal could not be validated: {error}.")]
    if not status.intact:
        findings.append(
            Finding(
                "seal", False, "The seal is broken: the sealed bytes were changed after sealing."
            )
        )
    elif not status.valid:
        findings.append(
            Finding("seal", False, "The seal's signature does not verify under its certificate.")
        )
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        findings.append(
            Finding(
                "seal",
                False,
                "The seal does not cover the whole file: something was added after sealing.",
            )
        )
    else:
        if seal_cert is None:
            how = (
                f"by the certificate inside the file (SHA-256 {fingerprint}): compare it with "
                "the fingerprint the platform publishes, or pass --seal"
            )
        else:
            how = f"by the seal certificate given (SHA-256 {fingerprint})"
        findings.append(
            Finding("seal", True, f"The seal is intact and covers the whole file, {how}.")
        )
    return findings


def _load_cert(data: bytes, loader: Any) -> Any:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pem") as handle:
        handle.write(data)
        handle.flush()
        try:
            return loader(handle.name)
        except Exception:
            return None


def _attached_bundle(pdf: bytes, findings: list[Finding]) -> dict[str, Any] | None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        files = dict(_embedded_files(reader.root["/Names"]["/EmbeddedFiles"]))
    except Exception:
        files = {}
    data = files.get(BUNDLE_NAME)
    if data is None:
        findings.append(
            Finding(
                "attachment",
                False,
                f"The PDF has no attached {BUNDLE_NAME}, so nothing "
                "in it can be checked against the ledger.",
            )
        )
        return None
    try:
        bundle = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        findings.append(
            Finding("attachment", False, f"The attached {BUNDLE_NAME} is not JSON: {error}.")
        )
        return None
    findings.append(Finding("attachment", True, f"The PDF carries {BUNDLE_NAME}."))
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
        last = json.loads(base64.b64decode(entries[-1]["entry"]))
    if not isinstance(last, dict):
        return Finding(
            "complete",
            False,
            "The last entry of the bundle cannot be read, so it "
            "cannot be shown that no entry was cut off.",
        )
    if last.get("type") != EXPORTED:
        return Finding(
            "complete",
            False,
            f"The chain ends with the entry with case_seq {last.get('case_seq')} "
            f"({last.get('type')}), not with the entry that records this export: entries "
            "were cut off the end of this file.",
        )
    body = last.get("body") or {}
    return Finding(
        "complete",
        True,
        f"The chain ends with the entry with case_seq {last.get('case_seq')}, which records "
        f"this export (for {body.get('audience')}, by {body.get('by')}) at {last.get('at')}: "
        "no entry was cut off the end.",
    )


CHECK_NAMES = {
    "file": "file",
    "seal": "seal",
    "attachment": "proof attached",
    "bundle-format": "bundle",
    "checkpoint": "checkpoint",
    "entry-format": "entries",
    "entry-signature": "entry signatures",
    "inclusion": "in the log",
    "chain": "chain",
    "evidence": "evidence",
    "consistency": "consistency",
    "complete": "nothing cut off",
}
"""The name each check goes by in the report, in the order the checks run."""


def summary(report: Report) -> str:
    """The verdict first, in one line, then one line per check, named."""
    if report.ok:
        head = "VERIFIED: every check holds."
    else:
        failed = list(dict.fromkeys(CHECK_NAMES.get(f.check, f.check) for f in report.failures()))
        head = f"NOT VERIFIED: {len(report.failures())} failed ({', '.join(failed)})."
    lines = [
        f"{'PASS' if f.ok else 'FAIL'}  [{CHECK_NAMES.get(f.check, f.check)}] {f.message}"
        for f in report.findings
    ]
    return "\n".join([head, *lines])
