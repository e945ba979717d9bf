"""Reading a sealed case file's PDF: its one PAdES seal (intact, over the whole file, by
whom) and the proof bundle attached to it. pyHanko is imported only when a file is read."""

from __future__ import annotations

import hashlib
import json
from typing import IO, Any

from ledger.findings import Finding
from portal.casefile.report import said
from portal.casefile.trust import Trust

BUNDLE_NAME = "ledger-proof.json"


def check_seal(pdf: IO[bytes], trust: Trust | None = None) -> list[Finding]:
    """The PAdES seal: intact, the file's only signature, over the whole file, by whom.

    The seal is the first signature: an export signs once, so anything after it, a second
    signature included, is a change made after sealing, pinned or not.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    trust = trust or Trust()
    try:
        pdf.seek(0)
        reader = PdfFileReader(pdf, strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises many kinds on a damaged file
        return [
            said(
                "seal",
                False,
                "The PDF cannot be read, so its seal cannot be checked: {error}.",
                error=error,
            )
        ]
    if not signatures:
        return [said("seal", False, "The PDF carries no seal (no PAdES signature).")]
    signature = min(signatures, key=lambda s: s.signed_revision)
    try:
        embedded = signature.signer_cert
    except Exception as error:
        return [said("seal", False, "The seal cannot be read: {error}.", error=error)]
    fingerprint = hashlib.sha256(embedded.dump()).hexdigest()
    findings = [_check_validity(signature, embedded, fingerprint)]
    findings.append(_check_nothing_after(reader, signature, len(signatures)))
    if trust.seal_certificates:
        findings.append(_check_sealed_by(fingerprint, trust))
    return findings


def _check_validity(signature: Any, embedded: Any, fingerprint: str) -> Finding:
    """Whether the sealed bytes are unchanged and the signature verifies under the
    certificate it carries; who that certificate belongs to is `_check_sealed_by`'s."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        context = ValidationContext(trust_roots=[embedded], allow_fetching=False)
        status = validate_pdf_signature(signature, context, skip_diff=True)
    except Exception as error:
        return said("seal", False, "The seal could not be validated: {error}.", error=error)
    if not status.intact:
        return said(
            "seal", False, "The seal is broken: the sealed bytes were changed after sealing."
        )
    if not status.valid:
        return said("seal", False, "The seal's signature does not verify under its certificate.")
    return said(
        "seal",
        True,
        "The seal is intact and verifies, by the certificate with SHA-256 {fingerprint}.",
        fingerprint=fingerprint,
    )


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
        return said(
            "after-seal", True, "The seal covers the whole file: nothing was added after it."
        )
    sealed = byte_range[2] + byte_range[3] if len(byte_range) == 4 else 0
    if count > 1:
        return said(
            "after-seal",
            False,
            "The file was changed after sealing: it carries {count} signatures, and everything "
            "after the seal ({added} bytes, with {others} more signatures) is not the portal's.",
            count=count,
            added=max(size - sealed, 0),
            others=count - 1,
        )
    return said(
        "after-seal",
        False,
        "The file was changed after sealing: {added} bytes follow the sealed range (an "
        "update, an annotation or a replaced attachment, say), and the seal does not cover them.",
        added=max(size - sealed, 0),
    )


def _check_sealed_by(fingerprint: str, trust: Trust) -> Finding:
    trusted = trust.seal_fingerprints()
    if fingerprint in trusted:
        return said(
            "origin",
            True,
            "The seal is the seal of {issuer} (SHA-256 {fingerprint}).",
            issuer=trust.issuer,
            fingerprint=fingerprint,
        )
    return said(
        "origin",
        False,
        "Not issued by {issuer}: the seal is by another certificate (SHA-256 {fingerprint}), "
        "not by its seal (SHA-256 {trusted}).",
        issuer=trust.issuer,
        fingerprint=fingerprint,
        trusted=", ".join(trusted),
    )


def attached_bundle(pdf: IO[bytes], findings: list[Finding]) -> dict[str, Any] | None:
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
            said(
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
            said(
                "attachment",
                False,
                "The attached {file} is not JSON: {error}.",
                file=BUNDLE_NAME,
                error=error,
            )
        )
        return None
    findings.append(said("attachment", True, "The PDF carries {file}.", file=BUNDLE_NAME))
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
