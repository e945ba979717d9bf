"""C2SP signed notes and verifier keys, Ed25519 only: the format that Go's
golang.org/x/mod/sumdb/note reads and writes, so that anyone can check our checkpoints with
standard tools. Parsing follows that implementation rule for rule, except that base64 must be
canonical (see `decode_base64`).
"""

import base64
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import NoteError

ED25519 = 0x01  # C2SP signed-note "Signature types"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # C2SP asks for at least 16; Go's reader stops at 100

_KEY_ID_SIZE = 4
_PUBLIC_KEY_SIZE = 32
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
# Go's unicode.IsSpace: the ASCII spaces, NEL, NBSP and every Z category character.
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0")


def decode_base64(text: str) -> bytes:
    """Standard base64 with padding (RFC 4648 section 4), which notes, checkpoints and proof
    bundles all use. Raises ValueError on anything else.

    Only the canonical spelling is accepted: RFC 4648 3.5 lets a decoder reject non-zero pad
    bits, and accepting them would let a changed signature line verify unchanged.
    """
    decoded = base64.b64decode(text, validate=True)
    if base64.b64encode(decoded).decode("ascii") != text:
        raise ValueError(f"{text[:20]!r}... is not canonical base64")
    return decoded


def _is_valid_name(name: str) -> bool:
    # C2SP signed-note: non-empty, no Unicode spaces, no plus.
    return (
        name != ""
        and "+" not in name
        and not any(c in _GO_SPACES or unicodedata.category(c)[0] == "Z" for c in name)
        and _is_utf8(name)
    )


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_note_characters(text: str, what: str) -> None:
    # C2SP signed-note: valid UTF-8 with no ASCII control character other than newline.
    if not _is_utf8(text):
        raise NoteError(f"the {what} is not valid UTF-8")
    for position, char in enumerate(text):
        if char < " " and char != "\n":
            raise NoteError(
                f"the {what} contains the control character U+{ord(char):04X} at "
                f"position {position}; only newlines are allowed"
            )


def key_id(name: str, public_key: bytes) -> bytes:
    """The C2SP key ID: SHA-256(name || "\\n" || 0x01 || public key)[:4]."""
    material = name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def format_verifier_key(name: str, public_key: bytes) -> str:
    """`<name>+<8 hex key ID>+<base64(0x01 || public key)>`."""
    encoded = base64.b64encode(bytes([ED25519]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 key for notes, known by its name and key ID."""

    name: str
    key_id: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        if not _is_valid_name(self.name):
            raise NoteError(
                f"{self.name!r} is not a valid key name: it must be non-empty, with no "
                "spaces and no '+'"
            )
        if len(self.public_key) != _PUBLIC_KEY_SIZE:
            raise NoteError(f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}")
        if self.key_id != key_id(self.name, self.public_key):
            raise NoteError(f"the key ID {self.key_id.hex()} does not belong to this key")

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature over `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @property
    def kid(self) -> str:
        """The key ID as 8 lowercase hex digits."""
        return self.key_id.hex()

    def __str__(self) -> str:
        return format_verifier_key(self.name, self.public_key)


def parse_verifier_key(text: str) -> NoteVerifier:
    """Read a verifier key `<name>+<8 hex>+<base64(0x01 || key)>`."""
    name, plus, rest = text.partition("+")
    hex_id, plus_again, encoded = rest.partition("+")
    if not plus or not plus_again:
        raise NoteError(
            f"{text!r} is not a verifier key: expected <name>+<8 hex digits>+<base64 key>"
        )
    if not _is_valid_name(name):
        raise NoteError(f"the verifier key's name {name!r} is empty or has spaces or '+'")
    if not _HEX8.fullmatch(hex_id):
        raise NoteError(f"the verifier key's ID {hex_id!r} is not 8 hex digits")
    try:
        key = decode_base64(encoded)
    except ValueError as error:
        raise NoteError(f"the verifier key for {name} is not valid base64: {error}") from None
    if not key:
        raise NoteError(f"the verifier key for {name} is empty")
    if key[0] != ED25519:
        raise NoteError(
            f"the verifier key for {name} uses signature type 0x{key[0]:02x}; only Ed25519 "
            "(0x01) is supported"
        )
    public_key = key[1:]
    if len(public_key) != _PUBLIC_KEY_SIZE:
        raise NoteError(
            f"the verifier key for {name} holds {len(public_key)} key bytes; Ed25519 needs 32"
        )
    claimed = bytes.fromhex(hex_id)
    if claimed != key_id(name, public_key):
        raise NoteError(
            f"the verifier key for {name} says its key ID is {hex_id.lower()}, but the key's ID "
            f"is {key_id(name, public_key).hex()}: the key or its name was altered"
        )
    return NoteVerifier(name, claimed, public_key)


@dataclass(frozen=True)
class NoteSigner:
    """A private Ed25519 key that signs notes under `name`."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    # Cached: every appended entry names its signer's key ID, and deriving it costs ~7 us.
    @cached_property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @cached_property
    def key_id(self) -> bytes:
        """The C2SP key ID of this key under this name."""
        return key_id(self.name, self.public_key)

    @cached_property
    def kid(self) -> str:
        """The key ID as 8 lowercase hex digits."""
        return self.key_id.hex()

    def verifier(self) -> NoteVerifier:
        """The public half, to publish."""
        return NoteVerifier(self.name, self.key_id, self.public_key)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text must end with a newline")
    _check_note_characters(text, "note text")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """The signed note: `text`, a blank line, and one signature line per signer."""
    _check_text(text)
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        if not _is_valid_name(signer.name):
            raise NoteError(f"{signer.name!r} cannot sign notes: key names need no spaces or '+'")
        signature = signer.key_id + signer.private_key.sign(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signature).decode()}\n")
    return text + "\n" + "".join(lines)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note, not yet verified."""

    name: str
    key_id: bytes
    signature: bytes


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines, checking only their form.

    The text must not be trusted before `open_note` has verified it.
    """
    _check_note_characters(note, "note")
    # C2SP signed-note: the text is separated from the signatures by the last blank line.
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError(
            "the note's signature lines must follow the blank line and end with a newline"
        )
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has {len(lines)} signatures; at most {MAX_SIGNATURES} are read")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(
                f"signature line {number} does not start with an em dash and a space: {line[:40]!r}"
            )
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not _is_valid_name(name):
            raise NoteError(f"signature line {number} has an invalid key name {name!r}")
        try:
            raw = decode_base64(encoded)
        except ValueError:
            raise NoteError(f"signature line {number} ({name}) is not valid base64") from None
        if len(raw) <= _KEY_ID_SIZE:
            raise NoteError(f"signature line {number} ({name}) is too short to hold a signature")
        signatures.append(NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]))
    return text, signatures


@dataclass(frozen=True)
class OpenedNote:
    """A note's text and the trusted keys whose signatures on it verified."""

    text: str
    verified_by: tuple[NoteVerifier, ...]


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Verify a signed note against trusted keys and return its text.

    C2SP signed-note: signatures by unknown keys are ignored, a signature by a known key that
    fails rejects the note, and at least one known key must have signed.
    """
    text, signatures = parse_note(note)
    message = text.encode("utf-8")
    known = {(verifier.name, verifier.key_id): verifier for verifier in verifiers}
    verified: list[NoteVerifier] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None or verifier in verified:
            continue
        if not verifier.verify(message, signature.signature):
            raise NoteError(
                f"the signature by {signature.name} (key {verifier.kid}) does not verify: "
                "the note was altered after signing"
            )
        verified.append(verifier)
    if not verified:
        names = ", ".join(f"{s.name} ({s.key_id.hex()})" for s in signatures)
        trusted = ", ".join(f"{v.name} ({v.kid})" for v in verifiers) or "none"
        raise NoteError(
            f"the note is not signed by any trusted key: it is signed by {names}; "
            f"trusted keys are {trusted}"
        )
    return OpenedNote(text, tuple(verified))
