"""The ledger entry (docs/LEDGER-FORMAT.md#entry): its fields, the rules each must follow, and
the exact bytes (RFC 8785 JCS, UTF-8) that are stored, hashed and signed.

Decoding is strict because the stored bytes are the record: bytes that are not exactly the
canonical form of a valid entry are rejected rather than repaired, so that two verifiers can
never disagree about what an entry says.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import EntryError

FORMAT_VERSION = 1
ZERO_HASH = bytes(32)
FIELDS = frozenset({"v", "log", "case", "case_seq", "prev", "type", "actor", "at", "body", "kid"})
MAX_CASE_LENGTH = 64
# docs/LEDGER-FORMAT.md#entry: numbers are integers below 2^53, the range every JSON
# reader holds exactly.
SAFE_INTEGER_LIMIT = 2**53

_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_KID = re.compile(r"[0-9a-f]{8}")
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{6})Z"
)


@dataclass(frozen=True)
class Actor:
    """Who caused an entry: a person's id and role on the case, or the portal itself."""

    id: str
    role: str


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class Entry:
    """One event in a case, before it is encoded."""

    log: str
    case: str
    case_seq: int
    prev: bytes
    type: str
    actor: Actor
    at: datetime
    body: Mapping[str, Any]
    kid: str
    v: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        """The entry as plain JSON values, ready for JCS."""
        return {
            "v": self.v,
            "log": self.log,
            "case": self.case,
            "case_seq": self.case_seq,
            "prev": self.prev.hex(),
            "type": self.type,
            "actor": {"id": self.actor.id, "role": self.actor.role},
            "at": format_time(self.at),
            "body": _plain_json(self.body, "body"),
            "kid": self.kid,
        }


def format_time(at: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC. A time without a time zone is refused, since
    guessing the zone would put a wrong instant on the record."""
    if not isinstance(at, datetime):
        raise EntryError(f"at must be a datetime, not {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise EntryError(f"at ({at.isoformat()}) has no time zone; give an aware time, e.g. in UTC")
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        raise EntryError(f"at ({at.isoformat()}) is outside the years 1 to 9999 in UTC") from None
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def parse_time(text: str) -> datetime:
    """Read a time written by `format_time`, and nothing else."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise EntryError(f"at ({text!r}) is not a UTC time written as YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        year, month, day, hour, minute, second, micro = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as error:
        raise EntryError(f"at ({text!r}) is not a real time: {error}") from None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def _plain_json(value: Any, path: str) -> Any:
    # Copies into dicts and lists, the only containers rfc8785 writes, checking each value.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= SAFE_INTEGER_LIMIT:
            raise EntryError(
                f"{path} is an integer of 2^53 or more in size, beyond what JSON numbers hold "
                "exactly; write it as a decimal string"
            )
        return int(value)
    if isinstance(value, float | Decimal):
        raise EntryError(
            f"{path} is the number {value}, which is not an integer; amounts are decimal strings"
        )
    if isinstance(value, str):
        if not _is_utf8(value):
            raise EntryError(f"{path} contains text that is not valid Unicode (a lone surrogate)")
        return value
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EntryError(f"{path} has the key {key!r}; JSON object keys are strings")
            if not _is_utf8(key):
                raise EntryError(f"{path} has a key that is not valid Unicode (a lone surrogate)")
            plain[key] = _plain_json(item, _child_path(path, key))
        return plain
    if isinstance(value, list | tuple):
        return [_plain_json(item, f"{path}[{number}]") for number, item in enumerate(value)]
    raise EntryError(f"{path} is a {type(value).__name__}, which JSON cannot carry")


def _check_name(field: str, value: object, max_length: int | None = None) -> None:
    if not isinstance(value, str) or not value:
        raise EntryError(f"{field} must be a non-empty string, not {value!r}")
    if not _is_utf8(value):
        raise EntryError(f"{field} is not valid Unicode text (it holds a lone surrogate)")
    if _CONTROL.search(value):
        raise EntryError(f"{field} ({value!r}) contains a control character")
    if max_length is not None and len(value) > max_length:
        raise EntryError(
            f"{field} is {len(value)} characters long; at most {max_length} are allowed"
        )


def _check_integer(field: str, value: object) -> int:
    # bool is an int in Python but true/false in JSON.
    if type(value) is not int:
        raise EntryError(f"{field} must be an integer, not {value!r}")
    return value


def _check_entry(entry: Entry) -> None:
    if _check_integer("v", entry.v) != FORMAT_VERSION:
        raise EntryError(f"v is {entry.v}; this is ledger format version {FORMAT_VERSION}")
    _check_name("log", entry.log)
    _check_name("case", entry.case, MAX_CASE_LENGTH)
    case_seq = _check_integer("case_seq", entry.case_seq)
    if not 0 <= case_seq < SAFE_INTEGER_LIMIT:
        raise EntryError("case_seq must count up from 0 and stay below 2^53")
    if not isinstance(entry.prev, bytes) or len(entry.prev) != len(ZERO_HASH):
        raise EntryError(f"prev must be a 32-byte leaf hash, not {entry.prev!r}")
    if case_seq == 0 and entry.prev != ZERO_HASH:
        raise EntryError("prev must be 64 zeros for a case's first entry (case_seq 0)")
    if not isinstance(entry.type, str) or not _TYPE.fullmatch(entry.type):
        raise EntryError(
            f"type {entry.type!r} is not a dotted lowercase event name such as 'case.filed'"
        )
    if not isinstance(entry.actor, Actor):
        raise EntryError(f"actor must be an Actor, not {entry.actor!r}")
    _check_name("actor.id", entry.actor.id)
    _check_name("actor.role", entry.actor.role)
    format_time(entry.at)
    if not isinstance(entry.body, Mapping):
        raise EntryError(f"body must be a JSON object, not {type(entry.body).__name__}")
    if not isinstance(entry.kid, str) or not _KID.fullmatch(entry.kid):
        raise EntryError(f"kid {entry.kid!r} is not 8 lowercase hex digits")


# Unicode's Cc (control) category is exactly these two ranges.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_ASTRAL = re.compile(rb"[\xf0-\xf4]")
# What `json.dumps(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
# allow_nan=False)` builds on every call, built once.
_JCS_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)
_ACTOR_FIELDS = frozenset({"id", "role"})


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a checked entry document, at the speed of the C JSON encoder.

    For what an entry may hold (strings, integers below 2**53, booleans, null, objects,
    arrays) `json.dumps` writes exactly the JCS bytes: the same escapes (RFC 8785 3.2.2.2),
    the same integers, no whitespace. The one difference is key order: JCS sorts by UTF-16
    code units, Python by code points, which disagree only for characters above U+FFFF.
    Those documents, and any with a lone surrogate, go to the `rfc8785` package; a property
    test holds the two to the same bytes. Verifying a log re-encodes every entry, so this
    is a third of `portal ledger verify`'s time.
    """
    try:
        data = _JCS_ENCODER.encode(document).encode("utf-8")
    except UnicodeEncodeError:
        return rfc8785.dumps(document)
    if _ASTRAL.search(data):
        return rfc8785.dumps(document)
    return data


def encode_entry(entry: Entry) -> bytes:
    """Check every field and return the entry's JCS bytes, the bytes to store and sign."""
    _check_entry(entry)
    try:
        return canonical_json(entry.to_json())
    except RecursionError:
        raise EntryError("body is nested too deeply to encode") from None
    except rfc8785.CanonicalizationError as error:
        raise EntryError(f"the entry cannot be written as JCS: {error}") from None


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8785 3.1 requires unique property names; JSON readers disagree about duplicates.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise EntryError(f"the entry has the key {key!r} twice")
        result[key] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    raise EntryError(f"the entry contains {name}, which is not a JSON number")


def _parse_json(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EntryError(f"the entry is not valid UTF-8 (at byte {error.start})") from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_float=Decimal,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as error:
        raise EntryError(f"the entry is not valid JSON: {error.msg} at byte {error.pos}") from None
    except RecursionError:
        raise EntryError("the entry is nested too deeply to read") from None
    except ValueError as error:
        # Python refuses integers of thousands of digits before any check of ours runs.
        raise EntryError(f"the entry holds a number too long to read: {error}") from None


def decode_entry(data: bytes) -> Entry:
    """Read an entry from its stored bytes, checking every rule of the format.

    The bytes must be exactly the JCS form of a valid entry: reordered keys, spaces, other
    escapes or number spellings are rejected, not normalised.
    """
    data = bytes(data)
    entry = _decode_canonical(data)
    if entry is not None:
        return entry
    # Something is wrong: read it again, rule by rule, to say what.
    return _decode_strictly(data)


def _decode_canonical(data: bytes) -> Entry | None:
    """The entry when `data` is exactly the JCS form of a valid entry, else None.

    The quick reading, which `portal ledger verify` does for every entry: the C JSON
    reader without hooks, then the very checks and encoder of `encode_entry`, then a
    comparison of bytes. Equal bytes prove what `_decode_strictly` checks one by one:
    the bytes are UTF-8, no key appears twice (the document read would encode shorter),
    no number is a float or a constant (the checks refuse those), and every spelling is
    the canonical one. A property test holds the two readings to the same verdicts.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        return None
    if type(document) is not dict or document.keys() != FIELDS:
        return None
    prev, actor = document["prev"], document["actor"]
    if type(prev) is not str or not _HEX_HASH.fullmatch(prev):
        return None
    if type(actor) is not dict or actor.keys() != _ACTOR_FIELDS:
        return None
    try:
        entry = _entry_from(document, prev, actor)
        canonical = encode_entry(entry)
    except EntryError:
        return None
    return entry if canonical == data else None


def _entry_from(document: dict[str, Any], prev: str, actor: dict[str, Any]) -> Entry:
    return Entry(
        v=document["v"],
        log=document["log"],
        case=document["case"],
        case_seq=document["case_seq"],
        prev=bytes.fromhex(prev),
        type=document["type"],
        actor=Actor(actor["id"], actor["role"]),
        at=parse_time(document["at"]),
        body=document["body"],
        kid=document["kid"],
    )


def _decode_strictly(data: bytes) -> Entry:
    """Read `data` rule by rule, raising EntryError that names the first rule broken."""
    document = _parse_json(data)
    if not isinstance(document, dict):
        raise EntryError("the entry is not a JSON object")
    missing = sorted(FIELDS - document.keys())
    if missing:
        raise EntryError(f"the entry lacks the field(s) {', '.join(missing)}")
    unknown = sorted(document.keys() - FIELDS)
    if unknown:
        raise EntryError(f"the entry has field(s) the format does not define: {', '.join(unknown)}")
    prev = document["prev"]
    if not isinstance(prev, str) or not _HEX_HASH.fullmatch(prev):
        raise EntryError(f"prev {prev!r} is not 64 lowercase hex digits")
    actor = document["actor"]
    if not isinstance(actor, dict) or actor.keys() != _ACTOR_FIELDS:
        raise EntryError(f"actor must be an object with exactly id and role, not {actor!r}")
    entry = _entry_from(document, prev, actor)
    canonical = encode_entry(entry)
    if canonical != data:
        differs_at = next(
            (i for i, (a, b) in enumerate(zip(canonical, data, strict=False)) if a != b),
            min(len(canonical), len(data)),
        )
        raise EntryError(
            "the entry's bytes are not in canonical JCS form (RFC 8785): they differ from "
            f"the canonical form at byte {differs_at}"
        )
    return entry


def sign_entry(data: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """The Ed25519 signature over the entry's bytes."""
    return private_key.sign(data)


def verify_entry_signature(data: bytes, signature: bytes, public_key: bytes) -> bool:
    """Whether `signature` is a valid Ed25519 signature over `data` by `public_key`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise EntryError(f"an Ed25519 public key is 32 bytes, not {len(public_key)}") from None
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
