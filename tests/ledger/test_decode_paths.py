"""The quick reading of an entry and the strict one give the same verdict on any bytes.

`decode_entry` first reads bytes the quick way (the C JSON reader, the encoder's checks and
a comparison of bytes) and only when that fails reads them again rule by rule, to say what
is wrong. The quick way must never accept what the strict way rejects, never reject what
it accepts, and read the same entry: here over valid entries and over every kind of damage
a stored entry could suffer or a forger could try.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.entry import (
    Actor,
    Entry,
    _decode_canonical,
    _decode_strictly,
    decode_entry,
    encode_entry,
)
from ledger.errors import EntryError

SAFE = 2**53 - 1
# Text that JCS treats specially: controls, quotes, backslashes, DEL, U+2028, characters
# above U+FFFF (sorted by UTF-16 code units), U+E000-U+FFFF.
tricky_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\uffff", "😀"]),
    ),
    max_size=10,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE, SAFE) | tricky_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3)
    ),
    max_leaves=15,
)
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), min_size=1, max_size=12)
event_types = st.from_regex(r"[a-z][a-z0-9_]{0,6}(\.[a-z][a-z0-9_]{0,6}){1,2}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@st.composite
def entries(draw: st.DrawFn) -> bytes:
    case_seq = draw(st.integers(0, SAFE))
    entry = Entry(
        log=draw(names),
        case=draw(names),
        case_seq=case_seq,
        prev=bytes(32) if case_seq == 0 else draw(st.binary(min_size=32, max_size=32)),
        type=draw(event_types),
        actor=Actor(draw(names), draw(names)),
        at=draw(times),
        body=draw(st.dictionaries(tricky_text, json_values, max_size=5)),
        kid=draw(st.from_regex(r"[0-9a-f]{8}", fullmatch=True)),
    )
    return encode_entry(entry)


# Spellings that JSON allows and JCS does not, numbers and values the format refuses,
# and pieces of structure: each may land anywhere in an entry.
TOKENS = [
    b" ",
    b"\n",
    b"\\/",
    b"\\u0041",
    b"\\u00e9",
    b"\\ud800",
    b"\\ud83d\\ude00",
    b"1.0",
    b"1e0",
    b"1E2",
    b"-0",
    b"0.5",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"9007199254740992",
    b"-9007199254740992",
    b"1" * 5000,
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'"',
    b",",
    b":",
    b"{",
    b"}",
    b'"v":1,',
    b'"body":{},',
    b'"x":1,',
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",
    b"\xc3",
    b"\xff",
    b"[" * 3000,
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(entries()))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["flip", "delete", "insert", "token", "duplicate", "case"]))
        at = draw(st.integers(0, len(data)))
        if how == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 4))]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
        elif how == "token":
            end = at + draw(st.integers(0, 3))
            data[at:end] = draw(st.sampled_from(TOKENS))
        elif how == "duplicate":
            # Repeat one "key":value pair of the top level, or of the body.
            text = bytes(data)
            key = draw(st.sampled_from([b'"v":1', b'"kid":', b'"body":{', b'"case":']))
            start = text.find(key)
            if start >= 0:
                end = text.find(b",", start)
                if end > start:
                    data[start:start] = text[start:end] + b","
        elif how == "case":
            data[:] = bytes(data).upper() if at % 2 else bytes(data).lower()
    return bytes(data)


@st.composite
def respelled(draw: st.DrawFn) -> bytes:
    """The same document written by other JSON writers, or in another encoding."""
    document = json.loads(draw(entries()))
    how = draw(st.sampled_from(["spaces", "ascii", "unsorted", "utf-16", "indent", "time"]))
    if how == "spaces":
        return json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
    if how == "ascii":
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    if how == "unsorted":
        items = list(document.items())
        items.reverse()
        return json.dumps(dict(items), ensure_ascii=False, separators=(",", ":")).encode()
    if how == "utf-16":
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-16")
    if how == "indent":
        return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1).encode()
    # Another spelling of the same instant.
    at = datetime.strptime(document["at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    document["at"] = (at + timedelta(hours=1)).isoformat() + "+01:00"
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def strict_verdict(data: bytes) -> Entry | str:
    try:
        return _decode_strictly(data)
    except EntryError as error:
        return f"rejected: {error}"


def assert_same_verdict(data: bytes) -> None:
    strict = strict_verdict(data)
    quick = _decode_canonical(data)
    if isinstance(strict, Entry):
        assert quick == strict, "the quick reading rejected an entry the strict one accepts"
    else:
        assert quick is None, f"the quick reading accepted what the strict one {strict}"
    try:
        public: Entry | str = decode_entry(data)
    except EntryError as error:
        public = f"rejected: {error}"
    assert public == strict


@settings(max_examples=600, deadline=None)
@given(entries())
def test_valid_entries_are_read_alike(data: bytes) -> None:
    assert isinstance(strict_verdict(data), Entry)
    assert_same_verdict(data)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_entries_get_the_same_verdict(data: bytes) -> None:
    assert_same_verdict(data)


@settings(max_examples=600, deadline=None)
@given(respelled())
def test_entries_written_by_other_json_writers_get_the_same_verdict(data: bytes) -> None:
    assert_same_verdict(data)


def test_a_duplicated_key_is_refused_by_both_though_json_loads_keeps_the_last() -> None:
    data = encode_entry(
        Entry(
            log="localhost/portal-ledger",
            case="DR-2026-000123",
            case_seq=0,
            prev=bytes(32),
            type="case.filed",
            actor=Actor("alice", "claimant"),
            at=datetime(2026, 3, 1, tzinfo=UTC),
            body={"amount": "1.00"},
            kid="1a2b3c4d",
        )
    )
    forged = data.replace(b'"amount":"1.00"', b'"amount":"9.00","amount":"1.00"')
    assert json.loads(forged)["body"] == {"amount": "1.00"}
    assert _decode_canonical(forged) is None
    assert strict_verdict(forged) == "rejected: the entry has the key 'amount' twice"
