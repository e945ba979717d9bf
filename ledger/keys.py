"""The log's Ed25519 signing keys: the keyring file, publication and rotation.

The private keys live in one file (PEM, PKCS #8, the current key first), never in the
database: a copy of the database must not be enough to forge entries. The public half
of every key that ever signed is published in `ledger_key`, so old entries keep
verifying after a rotation. Worker processes notice a rotation by the file changing.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import LedgerError
from ledger.note import NoteSigner, NoteVerifier, parse_verifier_key
from ledger.tables import LedgerKey

log = logging.getLogger(__name__)

PEM_END = b"-----END PRIVATE KEY-----"
RELOAD_CHECK_SECONDS = 1.0


def read_keyring_file(path: Path) -> list[Ed25519PrivateKey]:
    """Every Ed25519 key in the file, in order."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LedgerError(f"The ledger signing key file {path} does not exist.") from None
    keys = []
    for block in data.split(PEM_END):
        if not block.strip():
            continue
        key = serialization.load_pem_private_key(block + PEM_END + b"\n", password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise LedgerError(
                f"{path} holds a key that is not Ed25519; the ledger signs with Ed25519."
            )
        keys.append(key)
    if not keys:
        raise LedgerError(f"The ledger signing key file {path} holds no key.")
    return keys


def write_keyring_file(path: Path, keys: Sequence[Ed25519PrivateKey]) -> None:
    """Replace the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = b"".join(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        for key in keys
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def verifiers_file(key_file: Path) -> Path:
    """Beside the keyring: the verifier key of every key this deployment has signed with.

    It is the trust root of `portal ledger verify`, kept outside the database on purpose:
    anyone who can write to `ledger_key` could publish a key of their own.
    """
    return key_file.with_name(key_file.name + ".verifiers")


def record_verifiers(key_file: Path, verifiers: Sequence[NoteVerifier]) -> None:
    """Add verifier keys to the file beside the keyring (never removes any)."""
    path = verifiers_file(key_file)
    lines = path.read_text().splitlines() if path.exists() else []
    added = [str(v) for v in verifiers if str(v) not in lines]
    if not added:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{line}\n" for line in [*lines, *added]))
    os.replace(tmp, path)


class Keyring:
    """The keys one deployment signs with, reloaded when the file is rotated.

    `current` signs new entries; checkpoints are signed by `current` and by every
    older key still inside its overlap period (see `checkpoint_signers`).
    """

    def __init__(self, path: Path, origin: str) -> None:
        self.path = path
        self.origin = origin
        self._signers: list[NoteSigner] = []
        self._mtime_ns = -1
        self._checked_at = 0.0
        self.reload()

    @classmethod
    def open(cls, path: Path, origin: str, *, create: bool) -> Keyring:
        """Open the keyring; with `create`, generate a first key when the file is missing."""
        if not path.exists():
            if not create:
                raise LedgerError(
                    f"The ledger signing key file {path} does not exist; "
                    "create it with `portal ledger init-key`."
                )
            write_keyring_file(path, [Ed25519PrivateKey.generate()])
            log.warning("Generated a new ledger signing key in %s", path)
            keyring = cls(path, origin)
            record_verifiers(path, keyring.verifiers)
            return keyring
        return cls(path, origin)

    def reload(self) -> None:
        stat = self.path.stat()
        keys = read_keyring_file(self.path)
        self._signers = [NoteSigner(self.origin, key) for key in keys]
        self._mtime_ns = stat.st_mtime_ns
        self._checked_at = time.monotonic()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < RELOAD_CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            if self.path.stat().st_mtime_ns != self._mtime_ns:
                self.reload()
                log.info("Reloaded the ledger keyring: current key %s", self.current.kid)
        except (OSError, LedgerError):
            log.exception("Could not reload %s; still signing with key %s", self.path, self.kid)

    @property
    def current(self) -> NoteSigner:
        self._refresh()
        return self._signers[0]

    @property
    def kid(self) -> str:
        return self._signers[0].kid

    @property
    def signers(self) -> list[NoteSigner]:
        self._refresh()
        return list(self._signers)

    @property
    def verifiers(self) -> list[NoteVerifier]:
        return [signer.verifier() for signer in self.signers]


def trusted_verifiers(keyring: Keyring) -> list[NoteVerifier]:
    """The keys `portal ledger verify` trusts: the keyring's and every one recorded beside it."""
    known = {str(v): v for v in keyring.verifiers}
    path = verifiers_file(keyring.path)
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                verifier = parse_verifier_key(line.strip())
                known.setdefault(str(verifier), verifier)
    return list(known.values())


async def publish_keys(keyring: Keyring) -> None:
    """Record the public half of every key in the keyring that is not yet published."""
    published = {row["kid"] for row in await LedgerKey.select(LedgerKey.kid)}
    now = datetime.now(UTC)
    for signer in keyring.signers:
        if signer.kid not in published:
            await LedgerKey.insert(
                LedgerKey(
                    kid=signer.kid,
                    verifier_key=str(signer.verifier()),
                    public_key=signer.public_key,
                    created_at=now,
                )
            ).on_conflict(action="DO NOTHING")  # another worker, starting at once, did it


async def published_verifiers() -> list[NoteVerifier]:
    """Every key that ever signed for this log, the newest first."""
    rows = await LedgerKey.select(LedgerKey.verifier_key).order_by(
        LedgerKey.created_at, ascending=False
    )
    return [parse_verifier_key(row["verifier_key"]) for row in rows]


async def checkpoint_signers(keyring: Keyring, now: datetime | None = None) -> list[NoteSigner]:
    """The current key, plus each retired key whose overlap period has not ended."""
    now = now or datetime.now(UTC)
    signers = keyring.signers
    overlapping = {
        row["kid"]
        for row in await LedgerKey.select(LedgerKey.kid, LedgerKey.dual_sign_until).where(
            LedgerKey.dual_sign_until > now
        )
    }
    return [signers[0], *(s for s in signers[1:] if s.kid in overlapping)]


async def rotate_key(keyring: Keyring, overlap: timedelta) -> NoteSigner:
    """Make a new current key; the old one co-signs checkpoints for `overlap`, then stops.

    Retired private keys are dropped from the file once their overlap has ended, so the
    file holds no more secrets than it needs. Their public halves stay published.
    """
    await publish_keys(keyring)
    now = datetime.now(UTC)
    old = keyring.signers
    new_key = Ed25519PrivateKey.generate()
    still_overlapping = {
        row["kid"]
        for row in await LedgerKey.select(LedgerKey.kid).where(LedgerKey.dual_sign_until > now)
    }
    keep = [old[0], *(s for s in old[1:] if s.kid in still_overlapping)]
    # Recorded before the new key is used, so verify never meets a key it was not told of.
    record_verifiers(
        keyring.path, [NoteSigner(keyring.origin, new_key).verifier(), *(s.verifier() for s in old)]
    )
    write_keyring_file(keyring.path, [new_key, *(s.private_key for s in keep)])
    keyring.reload()
    await LedgerKey.update(
        {LedgerKey.retired_at: now, LedgerKey.dual_sign_until: now + overlap}
    ).where(LedgerKey.kid == old[0].kid)
    await publish_keys(keyring)
    return keyring.current
