"""The entry format of docs/LEDGER-FORMAT.md#entry: exact JCS bytes, every field rule, and
strict reading that refuses any bytes other than the canonical form of a valid entry."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from ledger.entry import (
    SYSTEM,
    ZERO_HASH,
    Actor,
    Entry,
    decode_entry,
    encode_entry,
    format_time,
    parse_time,
    sign_entry,
    verify_entry_signature,
)
from ledger.errors import EntryError
from ledger.merkle import leaf_hash

ORIGIN = "localhost/portal-ledger"
ALICE = Actor("alice", "claimant")
FILED_AT = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)

# Pinned so that any change to the bytes an entry encodes to is seen: verifiers elsewhere
# hash and check these exact bytes.
FILED_BYTES = (
    b'{"actor":{"id":"alice","role":"claimant"},"at":"2026-03-01T09:30:00.123456Z",'
    b'"body":{"amount":"125.50","asset":"USDT","category":"withdrawal","note":"caf\xc3\xa9 \\n"},'
    b'"case":"DR-2026-000123","case_seq":0,"kid":"1a2b3c4d","log":"localhost/portal-ledger",'
    b'"prev":"0000000000000000000000000000000000000000000000000000000000000000",'
    b'"type":"case.filed","v":1}'
)


def filed(**changes: Any) -> Entry:
    entry = Entry(
        log=ORIGIN,
        case="DR-2026-000123",
        case_seq=0,
        prev=ZERO_HASH,
        type="case.filed",
        actor=ALICE,
        at=FILED_AT,
        body={"category": "withdrawal", "amount": "125.50", "asset": "USDT", "note": "café \n"},
        kid="1a2b3c4d",
    )
    return dataclasses.replace(entry, **changes)


def document(**changes: Any) -> dict[str, Any]:
    """The JSON of a valid entry with some fields replaced (or removed, given ...)."""
    result = filed().to_json()
    for key, value in changes.items():
        if value is ...:
            del result[key]
        else:
            result[key] = value
    return result


def test_an_entry_encodes_to_its_pinned_jcs_bytes() -> None:
    assert encode_entry(filed()) == FILED_BYTES


def test_an_entry_survives_a_round_trip() -> None:
    entry = filed()
    assert decode_entry(encode_entry(entry)) == entry


def test_a_later_entry_links_to_the_leaf_hash_before_it() -> None:
    first = encode_entry(filed())
    second = filed(
        case_seq=1,
        prev=leaf_hash(first),
        type="statement.submitted",
        actor=SYSTEM,
        body={"channel": "all", "content_sha256": "ab" * 32},
    )
    decoded = decode_entry(encode_entry(second))
    assert decoded.prev == leaf_hash(first)
    assert decoded.actor == Actor("system", "system")


def test_times_in_other_zones_are_written_in_utc() -> None:
    at = datetime(2026, 3, 1, 17, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert format_time(at) == "2026-03-01T09:30:00.123456Z"
    assert decode_entry(encode_entry(filed(at=at))).at == FILED_AT


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"v": 2}, "v is 2"),
        ({"v": True}, "v must be an integer"),
        ({"log": ""}, "log"),
        ({"log": "localhost/portal\nledger"}, "log"),
        ({"log": 7}, "log"),
        ({"case": ""}, "case"),
        ({"case": "DR\t1"}, "case"),
        ({"case": "D" * 65}, "case is 65 characters"),
        ({"case_seq": -1}, "case_seq"),
        ({"case_seq": True}, "case_seq"),
        ({"case_seq": 2**53}, "case_seq"),
        ({"prev": b"\x00" * 31}, "prev"),
        ({"prev": "00" * 32}, "prev"),
        ({"prev": b"\x01" * 32}, "prev must be 64 zeros"),
        ({"type": "filed"}, "type"),
        ({"type": "Case.filed"}, "type"),
        ({"type": "case.filed."}, "type"),
        ({"type": "case..filed"}, "type"),
        ({"type": "case.1filed"}, "type"),
        ({"type": "case.filed\n"}, "type"),
        ({"actor": Actor("", "claimant")}, "actor.id"),
        ({"actor": Actor("alice", "")}, "actor.role"),
        ({"at": datetime(2026, 3, 1, 9, 30)}, "at .* no time zone"),
        ({"at": "2026-03-01T09:30:00.123456Z"}, "at must be a datetime"),
        ({"body": ["not", "an", "object"]}, "body must be a JSON object"),
        ({"body": {"amount": 125.5}}, "body.amount .* amounts are decimal strings"),
        ({"body": {"amount": Decimal("125.5")}}, "body.amount .* decimal strings"),
        ({"body": {"items": [{"price": 1.0}]}}, r"body.items\[0\].price"),
        ({"body": {"big": 2**53}}, "body.big .*2\\^53"),
        ({"body": {"small": -(2**53)}}, "body.small"),
        ({"body": {1: "x"}}, "body has the key 1"),
        ({"body": {"when": FILED_AT}}, "body.when is a datetime"),
        ({"body": {"odd key": {"x": float("nan")}}}, r"body\['odd key'\].x"),
        ({"body": {"text": "lone \ud800"}}, "body.text .* surrogate"),
        ({"kid": "1A2B3C4D"}, "kid"),
        ({"kid": "1a2b3c"}, "kid"),
    ],
)
def test_each_rule_rejects_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(EntryError, match=field):
        encode_entry(filed(**changes))


def test_integers_just_inside_the_safe_range_are_accepted() -> None:
    body: dict[str, Any] = {"big": 2**53 - 1, "small": -(2**53) + 1}
    body.update(flag=True, none=None, list=[], object={})
    assert decode_entry(encode_entry(filed(body=body))).body == body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"v": ...}, "lacks the field.* v"),
        ({"kid": ..., "at": ...}, "lacks the field.* at, kid"),
        ({"extra": 1}, "does not define: extra"),
        ({"prev": "AB" * 32}, "prev"),
        ({"prev": "00" * 31}, "prev"),
        ({"prev": None}, "prev"),
        ({"actor": {"id": "alice"}}, "actor"),
        ({"actor": {"id": "alice", "role": "claimant", "ip": "10.0.0.1"}}, "actor"),
        ({"actor": "alice"}, "actor"),
        ({"actor": {"id": 1, "role": "claimant"}}, "actor.id"),
        ({"at": "2026-03-01T09:30:00Z"}, "at"),
        ({"at": "2026-03-01T09:30:00.123456+00:00"}, "at"),
        ({"at": "2026-03-01t09:30:00.123456z"}, "at"),
        ({"at": "2026-02-30T09:30:00.123456Z"}, "at .* not a real time"),
        ({"at": 1767225600}, "at"),
        ({"body": "text"}, "body must be a JSON object"),
        ({"v": "1"}, "v must be an integer"),
        ({"prev": "01" * 32}, "prev must be 64 zeros"),
    ],
)
def test_decoding_rejects_documents_that_break_a_rule(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(EntryError, match=field):
        decode_entry(rfc8785.dumps(document(**changes)))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(json.dumps(document()).encode(), id="python json spacing"),
        pytest.param(json.dumps(document(), sort_keys=True).encode(), id="sorted with spaces"),
        pytest.param(FILED_BYTES + b"\n", id="trailing newline"),
        pytest.param(b" " + FILED_BYTES, id="leading space"),
        pytest.param(
            FILED_BYTES.replace(b'{"actor":{"id":"alice","role":"claimant"},', b"{").replace(
                b'"v":1}', b'"v":1,"actor":{"id":"alice","role":"claimant"}}'
            ),
            id="reordered keys",
        ),
        pytest.param(FILED_BYTES.replace(b"caf\xc3\xa9", b"caf\\u00e9"), id="escaped e-acute"),
        pytest.param(FILED_BYTES.replace(b"\\n", b"\\u000a"), id="newline as u-escape"),
        pytest.param(FILED_BYTES.replace(b"localhost/", b"localhost\\/"), id="escaped solidus"),
        pytest.param(FILED_BYTES.replace(b"withdrawal", b"\\u0077ithdrawal"), id="escaped w"),
        pytest.param(FILED_BYTES.replace(b'"case_seq":0', b'"case_seq":-0'), id="minus zero"),
        pytest.param(FILED_BYTES.replace(b'"v":1', b'"v":1E0'), id="exponent"),
    ],
)
def test_non_canonical_bytes_are_rejected(data: bytes) -> None:
    assert json.loads(data) == json.loads(FILED_BYTES)
    with pytest.raises(EntryError):
        decode_entry(data)


def test_non_canonical_bytes_are_reported_as_such() -> None:
    with pytest.raises(EntryError, match=r"not in canonical JCS form .* at byte 9"):
        decode_entry(json.dumps(document(), sort_keys=True).encode())


def test_duplicate_keys_are_rejected() -> None:
    data = FILED_BYTES.replace(b'"v":1}', b'"v":1,"v":1}')
    with pytest.raises(EntryError, match="key 'v' twice"):
        decode_entry(data)
    nested = FILED_BYTES.replace(b'"asset":"USDT"', b'"asset":"USDT","asset":"BTC"')
    with pytest.raises(EntryError, match="key 'asset' twice"):
        decode_entry(nested)


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (FILED_BYTES.replace(b'"125.50"', b"125.50"), "body.amount .* decimal strings"),
        (FILED_BYTES.replace(b'"125.50"', b"NaN"), "NaN"),
        (FILED_BYTES.replace(b'"125.50"', b"Infinity"), "Infinity"),
        (FILED_BYTES.replace(b'"125.50"', b"9007199254740992"), "body.amount .*2\\^53"),
        (FILED_BYTES.replace(b'"125.50"', b"1" * 5000), "too long"),
        (FILED_BYTES.replace(b'"case_seq":0', b'"case_seq":true'), "case_seq must be an integer"),
        (FILED_BYTES.replace(b"caf\xc3\xa9", b"caf\xe9"), "not valid UTF-8"),
        (FILED_BYTES.replace(b'"USDT"', b'"\\ud800"'), "surrogate"),
        (FILED_BYTES[:-1], "not valid JSON"),
        (b"[1,2]", "not a JSON object"),
        (b"", "not valid JSON"),
    ],
)
def test_numbers_and_text_outside_the_format_are_rejected(data: bytes, complaint: str) -> None:
    with pytest.raises(EntryError, match=complaint):
        decode_entry(data)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T09:30:00Z",
        "2026-03-01T09:30:00.1234567Z",
        "2026-03-01 09:30:00.123456Z",
        "2026-03-01T09:30:00.123456",
        "2026-03-01T24:00:00.000000Z",
        "2026-03-01T09:30:60.000000Z",
        "\u0662026-03-01T09:30:00.123456Z",
        "2026-03-01T09:30:00.123456Z\n",
    ],
)
def test_parse_time_accepts_only_the_one_spelling(text: str) -> None:
    with pytest.raises(EntryError, match="at"):
        parse_time(text)


def test_parse_time_reads_what_format_time_writes() -> None:
    assert parse_time("0001-01-01T00:00:00.000000Z") == datetime(1, 1, 1, tzinfo=UTC)
    assert format_time(parse_time("2026-03-01T09:30:00.000001Z")) == "2026-03-01T09:30:00.000001Z"


def test_signatures_verify_over_the_exact_bytes() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = sign_entry(FILED_BYTES, key)
    assert verify_entry_signature(FILED_BYTES, signature, public)
    assert not verify_entry_signature(FILED_BYTES.replace(b"125.50", b"925.50"), signature, public)
    flipped = signature[:-1] + bytes([signature[-1] ^ 1])
    assert not verify_entry_signature(FILED_BYTES, flipped, public)
    assert not verify_entry_signature(FILED_BYTES, signature[:40], public)
    assert not verify_entry_signature(FILED_BYTES, signature, other)
    with pytest.raises(EntryError, match="32 bytes"):
        verify_entry_signature(FILED_BYTES, signature, public[:31])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.integers(0, 2**53 - 1))
def test_any_json_body_round_trips_to_the_same_bytes(body: dict[str, Any], case_seq: int) -> None:
    prev = ZERO_HASH if case_seq == 0 else leaf_hash(b"before")
    entry = filed(body=body, case_seq=case_seq, prev=prev)
    data = encode_entry(entry)
    decoded = decode_entry(data)
    assert decoded.body == body
    assert encode_entry(decoded) == data


def test_a_zero_prev_after_the_first_entry_is_left_to_the_chain_check() -> None:
    # Whether prev is right depends on the entry before, which only a chain check can see.
    entry = filed(case_seq=4)
    assert decode_entry(encode_entry(entry)) == entry
