"""What a verifier pins: the keys that sign this portal's log and the certificates of its seal.

A case file carries its own verifier keys and seal certificate, and so would a forgery: it
proves who issued it only when checked against keys and certificates taken from the portal
itself. /verify pins this portal's own (the keyring's trusted list, never keys read from the
database or the file); `portal verify` pins what it is given with `--key` and `--seal`, or a
trust file downloaded once from /ledger/trust.json, which holds both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ledger.errors import NoteError
from ledger.note import NoteVerifier, parse_verifier_key
from ledger.phrase import Phrase

TRUST_FORMAT = "portal-trust/v1"


class TrustFileInvalid(ValueError):
    """A trust file, key or certificate given to pin a case file cannot be used."""


@dataclass(frozen=True)
class Trust:
    """Verifier keys and seal certificates (DER) a case file must be issued under."""

    verifier_keys: tuple[str, ...] = ()
    seal_certificates: tuple[bytes, ...] = ()
    issuer: Phrase = field(default_factory=lambda: Phrase("the portal you trust"))
    """Who that is, as the report names it: "this portal" on the portal's own page."""

    @property
    def complete(self) -> bool:
        """Both halves are pinned, so the report can say who issued the file."""
        return bool(self.verifier_keys) and bool(self.seal_certificates)

    def seal_fingerprints(self) -> list[str]:
        return [hashlib.sha256(der).hexdigest() for der in self.seal_certificates]

    def joined(self, other: Trust) -> Trust:
        return Trust(
            tuple(dict.fromkeys((*self.verifier_keys, *other.verifier_keys))),
            tuple(dict.fromkeys((*self.seal_certificates, *other.seal_certificates))),
            self.issuer,
        )


def certificates_from_pem(data: bytes, what: str) -> tuple[bytes, ...]:
    """The DER bytes of each certificate in a PEM file (text around the blocks is skipped)."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise TrustFileInvalid(f"{what} holds no readable PEM certificate: {error}") from None
    return tuple(cert.public_bytes(serialization.Encoding.DER) for cert in certs)


def checked_keys(keys: Sequence[str], what: str) -> tuple[str, ...]:
    for key in keys:
        try:
            parse_verifier_key(key)
        except NoteError as error:
            raise TrustFileInvalid(f"{what}: {key!r} is not a verifier key: {error}") from None
    return tuple(keys)


def trust_document(
    origin: str, verifiers: Sequence[NoteVerifier], certificates: Sequence[x509.Certificate]
) -> dict[str, Any]:
    """The trust file a portal publishes at /ledger/trust.json."""
    return {
        "format": TRUST_FORMAT,
        "origin": origin,
        "verifier_keys": [str(v) for v in verifiers],
        "seal_certificates": [
            {
                "sha256": cert.fingerprint(hashes.SHA256()).hex(),
                "subject": cert.subject.rfc4514_string(),
                "not_before": cert.not_valid_before_utc.isoformat(),
                "not_after": cert.not_valid_after_utc.isoformat(),
                "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            }
            for cert in certificates
        ],
    }


def read_trust_file(data: bytes, what: str) -> Trust:
    """The keys and certificates of a trust file; each certificate must match its fingerprint."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise TrustFileInvalid(f"{what} is not JSON: {error}.") from None
    if not isinstance(document, dict) or document.get("format") != TRUST_FORMAT:
        raise TrustFileInvalid(
            f"{what} is not a {TRUST_FORMAT} trust file: download it from the portal's "
            "/ledger/trust.json."
        )
    keys = document.get("verifier_keys")
    seals = document.get("seal_certificates")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or not keys:
        raise TrustFileInvalid(f"{what} lists no verifier keys.")
    if not isinstance(seals, list) or not seals:
        raise TrustFileInvalid(f"{what} lists no seal certificates.")
    certificates: list[bytes] = []
    for number, seal in enumerate(seals, start=1):
        pem = seal.get("pem") if isinstance(seal, dict) else None
        if not isinstance(pem, str):
            raise TrustFileInvalid(f"Seal certificate {number} of {what} has no PEM.")
        ders = certificates_from_pem(pem.encode("ascii", "replace"), f"seal {number} of {what}")
        stated = seal.get("sha256")
        if stated is not None and stated != hashlib.sha256(ders[0]).hexdigest():
            raise TrustFileInvalid(
                f"Seal certificate {number} of {what} does not match its SHA-256 {stated}."
            )
        certificates.extend(ders[:1])
    return Trust(checked_keys(keys, what), tuple(certificates))
