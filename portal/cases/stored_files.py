"""Evidence files stored once, under their SHA-256, and the rules for keeping them.

A file on its way in is written to a temporary file under the data directory while
its hash is computed, in chunks handed to a worker thread (hashing and writing never run
on the event loop). A finished file is fsynced and linked into place under its hash; a
file already stored is never overwritten, so two cases that hold the same bytes share
one file, and removing it is decided under a lock on its content (`claim`, `release`).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from portal.cases.file_kinds import accepted_kinds, sniff
from portal.errors import PortalError
from portal.i18n import _

CHUNK = 1024 * 1024  # bytes gathered before one write-and-hash hop to a thread


@dataclass
class ReceivedFile:
    name: str
    media_type: str
    size: int
    sha256: str
    path: Path
    newly_stored: bool  # False when the same bytes were already stored: never delete those


@dataclass
class Rejected:
    name: str
    reason: str


async def lock_content(sha256: str) -> None:
    """Serialise, in the caller's write transaction, everyone keeping or removing the
    stored file of these bytes. SQLite's write transactions are serial already."""
    from portal.cases.tables import Evidence

    if Evidence._meta.db.engine_type == "postgres":
        await Evidence.raw("SELECT pg_advisory_xact_lock(hashtext({}))", sha256)


async def claim(received: ReceivedFile) -> None:
    """In the transaction that records a file: make sure its bytes are still stored.

    Two requests may bring the same bytes at once: the first stores them, the second
    finds them stored. Should the first then fail and remove them, the second must not
    record a file that is gone; under the content lock, either this claim runs first
    (and `release` then sees the row and keeps the file) or it finds the file gone.
    """
    await lock_content(received.sha256)
    if not received.path.is_file():
        raise PortalError(
            _(
                "The file %(name)s was removed while it was being added; please send it again.",
                name=received.name,
            )
        )


async def release(received: ReceivedFile) -> None:
    """Remove a file this request stored and did not record, unless evidence refers to
    its bytes by now (another request's, which found them stored): see `claim`."""
    from portal.cases.tables import Evidence
    from portal.database import write_transaction

    if not received.newly_stored:
        return
    async with write_transaction(Evidence._meta.db):
        await lock_content(received.sha256)
        if not await Evidence.exists().where(Evidence.sha256 == received.sha256):
            with contextlib.suppress(FileNotFoundError):
                received.path.unlink()


def evidence_dir(data_dir: Path) -> Path:
    return data_dir / "evidence"


def stored_path(data_dir: Path, sha256: str) -> Path:
    return evidence_dir(data_dir) / sha256[:2] / sha256


class IncomingFile:
    """One file on its way in: a temporary file, its hash, and the checks on it."""

    def __init__(self, data_dir: Path, name: str, limit: int, allowed: frozenset[str]) -> None:
        self.name = name
        self.limit = limit
        self.allowed = allowed
        self.data_dir = data_dir
        tmp_dir = evidence_dir(data_dir) / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_dir / f"{secrets.token_hex(16)}.part"
        self.handle = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/abandon
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.pending = bytearray()
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.text_ok = True
        self.reason: str | None = None

    def _write(self, data: bytes) -> None:
        self.hash.update(data)
        self.handle.write(data)
        if self.text_ok:
            try:
                decoded = self.text.decode(data)
                if "\x00" in decoded:
                    self.text_ok = False
            except UnicodeDecodeError:
                self.text_ok = False

    async def feed(self, data: bytes) -> None:
        if self.reason:
            return  # rejected already: the rest of this part is read and dropped
        self.size += len(data)
        if self.size > self.limit:
            self.reason = _(
                "%(name)s is larger than the limit of %(mb)s MiB.",
                name=self.name,
                mb=self.limit // (1024 * 1024),
            )
            self.pending.clear()
            return
        if len(self.head) < 64:
            self.head += bytes(data[: 64 - len(self.head)])
        self.pending += data
        if len(self.pending) >= CHUNK:
            chunk, self.pending = bytes(self.pending), bytearray()
            await asyncio.to_thread(self._write, chunk)

    async def finish(self) -> ReceivedFile | Rejected:
        try:
            if not self.reason and self.size == 0:
                self.reason = _("%(name)s is empty.", name=self.name)
            if self.reason:
                return Rejected(self.name, self.reason)
            return await asyncio.to_thread(self._finish)
        finally:
            self.abandon()

    def _finish(self) -> ReceivedFile | Rejected:
        if self.pending:
            self._write(bytes(self.pending))
            self.pending.clear()
        if self.text_ok:
            try:
                self.text.decode(b"", final=True)
            except UnicodeDecodeError:
                self.text_ok = False
        media_type = sniff(self.head, self.name, self.text_ok)
        if media_type is None or media_type not in self.allowed:
            return Rejected(
                self.name,
                _(
                    "%(name)s is not a kind of file we accept. Send %(kinds)s.",
                    name=self.name,
                    kinds=accepted_kinds(self.allowed),
                ),
            )
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        digest = self.hash.hexdigest()
        final = stored_path(self.data_dir, digest)
        newly = _link_into_place(self.tmp, final)
        return ReceivedFile(self.name, media_type, self.size, digest, final, newly)

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


def _link_into_place(tmp: Path, final: Path) -> bool:
    """Link a finished file under its hash; False when those bytes were stored already.

    A link fails when the name is taken, so a stored file is never overwritten; the
    directory is fsynced so that the new name survives a crash as the file does.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tmp, final)
    except FileExistsError:
        return False
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return True
