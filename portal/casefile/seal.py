"""The platform's seal: the certificate and key that put a PAdES signature on case files.

Like the ledger's signing key, development makes a self-signed certificate on first use and
keeps it beside the ledger key; production refuses to seal without one given by
PORTAL_SEAL_CERT_FILE and PORTAL_SEAL_KEY_FILE, because a seal that changes with every
deployment vouches for nothing.

The key is RSA (3072 bits) with SHA-256. pyHanko raises a document's PDF version to 2.0
when it signs with EdDSA or with an ECDSA curve of ISO 32002 (P-256 included: checked with
pyHanko 0.38), and PDF/A-3 is based on PDF 1.7, so such a seal would make the file stop
being PDF/A-3. With RSA the sealed file stays at version 1.7.

Publication and rotation: the portal publishes every seal certificate it trusts at
/ledger/seal.pem and in /ledger/trust.json, the current one first, then those in
`<cert>.previous.pem` beside it. To rotate the seal, append the old certificate to that file
before replacing the current one: case files sealed before the rotation keep verifying.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from portal.errors import PortalError

log = logging.getLogger(__name__)

VALIDITY = timedelta(days=10 * 365)


class SealMissing(PortalError):
    """Production has no seal certificate: no case file can be sealed."""

    status_code = 503


@dataclass(frozen=True)
class Seal:
    cert_file: Path
    key_file: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert_file.read_bytes()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER bytes, lowercase hex."""
        return certificate_fingerprint(self.cert_pem)

    @property
    def previous_file(self) -> Path:
        """Certificates this portal sealed with before a rotation (PEM, may be absent)."""
        return self.cert_file.with_name(self.cert_file.stem + ".previous.pem")

    def certificates(self) -> list[x509.Certificate]:
        """Every seal certificate this portal vouches for: the current one first."""
        found = x509.load_pem_x509_certificates(self.cert_pem)[:1]
        if self.previous_file.is_file():
            found += x509.load_pem_x509_certificates(self.previous_file.read_bytes())
        unique = {cert.fingerprint(hashes.SHA256()): cert for cert in reversed(found)}
        return sorted(unique.values(), key=lambda cert: cert != found[0])


def published_pem(certificates: list[x509.Certificate]) -> str:
    """The certificates as one PEM file, each preceded by its fingerprint and validity.

    The comment lines sit outside the PEM blocks, where RFC 7468 section 2 allows text:
    openssl and every PEM reader skip them, and a person reads what each block is.
    """
    parts = []
    for number, cert in enumerate(certificates):
        parts.append(
            f"# {'Current seal' if number == 0 else 'Earlier seal'}: "
            f"{cert.subject.rfc4514_string()}\n"
            f"# SHA-256 fingerprint: {cert.fingerprint(hashes.SHA256()).hex()}\n"
            f"# Valid from {cert.not_valid_before_utc.isoformat()} "
            f"to {cert.not_valid_after_utc.isoformat()}\n"
            + cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        )
    return "".join(parts)


def certificate_fingerprint(pem_or_der: bytes) -> str:
    if b"-----BEGIN" in pem_or_der:
        der = x509.load_pem_x509_certificate(pem_or_der).public_bytes(serialization.Encoding.DER)
    else:
        der = pem_or_der
    return hashlib.sha256(der).hexdigest()


def open_seal(cert_file: Path, key_file: Path, *, create: bool, origin: str) -> Seal:
    """The seal; with `create`, make a self-signed one when the files are missing."""
    if cert_file.is_file() and key_file.is_file():
        return Seal(cert_file, key_file)
    if not create:
        raise SealMissing(
            f"No seal certificate: set PORTAL_SEAL_CERT_FILE and PORTAL_SEAL_KEY_FILE "
            f"({cert_file} and {key_file} do not both exist). Case files cannot be exported "
            "without it."
        )
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{origin} case file seal (development)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dispute portal"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    _write(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    log.warning("Development: generated a self-signed case file seal in %s", cert_file)
    return Seal(cert_file, key_file)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def seal_pdf(pdf: bytes, seal: Seal, *, reason: str, location: str = "") -> bytes:
    """The PDF with a PAdES baseline signature by the seal, as an incremental update.

    Blocking (hashing and signing the whole file): call it in a thread.
    """
    # pyHanko takes a second to import: only a process that seals pays for it.
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    signer = signers.SimpleSigner.load(str(seal.key_file), str(seal.cert_file))
    if signer is None:
        raise SealMissing(f"The seal in {seal.cert_file} / {seal.key_file} cannot be loaded.")
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    _keep_pdfa(writer)
    meta = signers.PdfSignatureMetadata(
        field_name="CaseFileSeal",
        reason=reason,
        location=location or None,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    out = BytesIO()
    signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


def _keep_pdfa(writer: Any) -> None:
    """Make the sealing revision keep the file PDF/A-3 (ISO 19005-3).

    pyHanko writes its own name as the XMP `pdf:Producer` but appends it to the Info
    dictionary's /Producer, and 6.7.3 requires the two to agree: so Info gets the same
    value before signing, which pyHanko then leaves alone. WeasyPrint lists each
    attachment twice in the catalog's /AF (once from the name tree, once from the file
    specification); 6.8 wants one entry per associated file.
    """
    # pyHanko is imported only where a file is sealed (see `seal_pdf`).
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    if "/Info" in writer.trailer:
        reference = writer.trailer.raw_get("/Info")
        writer.mark_update(reference)
        reference.get_object()["/Producer"] = generic.TextStringObject(VENDOR)
    files = writer.root.get("/AF")
    if files is not None:
        unique: list[Any] = []
        for item in files:
            if not any(_same_object(item, seen) for seen in unique):
                unique.append(item)
        if len(unique) != len(files):
            writer.root["/AF"] = generic.ArrayObject(unique)
            writer.update_root()


def _same_object(one: Any, other: Any) -> bool:
    if hasattr(one, "reference") and hasattr(other, "reference"):
        return bool(one.reference == other.reference)
    return one is other
