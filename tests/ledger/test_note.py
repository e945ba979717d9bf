"""Signed notes, verifier keys and checkpoints, against the shared C2SP vector and the rules
of c2sp.org/signed-note and c2sp.org/tlog-checkpoint."""

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from ledger.errors import NoteError
from ledger.merkle import EMPTY_ROOT, leaf_hash
from ledger.note import (
    NoteSigner,
    NoteVerifier,
    format_verifier_key,
    key_id,
    open_note,
    parse_verifier_key,
    sign_note,
)
from tests.support import shared_dir

ORIGIN = "localhost/portal-ledger"


def vectors_dir() -> Path:
    vectors = shared_dir() / "vectors"
    if not vectors.is_dir():
        pytest.fail(f"The shared test vectors are not at {vectors}; set PORTAL_SHARED_DIR.")
    return vectors


@pytest.fixture(scope="module")
def vector() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((vectors_dir() / "signed-note.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def log_key() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def next_key() -> NoteSigner:
    """The key the log rotates to; for a while both sign."""
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def witness_key() -> NoteSigner:
    return NoteSigner("witness.example/w1", Ed25519PrivateKey.generate())


def replace_signature(note: str, change: Any) -> str:
    """The note with its first signature's raw bytes passed through `change`."""
    text, _, block = note.rpartition("\n\n")
    prefix, _, encoded = block.rstrip("\n").rpartition(" ")
    raw = change(base64.b64decode(encoded))
    return f"{text}\n\n{prefix} {base64.b64encode(raw).decode()}\n"


def test_the_vector_verifies_and_yields_its_text(vector: dict[str, Any]) -> None:
    verifier = parse_verifier_key(vector["verifier_key"])
    assert verifier.name == "example.com/foo"
    assert verifier.kid == "530d903a"
    assert str(verifier) == vector["verifier_key"]
    opened = open_note(vector["note"], [verifier])
    assert opened.text == vector["text"]
    assert opened.verified_by == (verifier,)


def test_the_vector_is_rejected_after_any_byte_changes(vector: dict[str, Any]) -> None:
    verifier = parse_verifier_key(vector["verifier_key"])
    data = vector["note"].encode("utf-8")
    for position in range(len(data)):
        for bit in (0x01, 0x02, 0x20):
            changed = bytearray(data)
            changed[position] ^= bit
            try:
                note = changed.decode("utf-8")
            except UnicodeDecodeError:
                continue  # not even text: no reader gets as far as the signature
            with pytest.raises(NoteError):
                open_note(note, [verifier])


def test_the_vector_is_rejected_after_any_signature_byte_changes(vector: dict[str, Any]) -> None:
    verifier = parse_verifier_key(vector["verifier_key"])
    for position in range(4 + 64):
        for bit in (0x01, 0x80):

            def flip(raw: bytes, position: int = position, bit: int = bit) -> bytes:
                return raw[:position] + bytes([raw[position] ^ bit]) + raw[position + 1 :]

            with pytest.raises(NoteError):
                open_note(replace_signature(vector["note"], flip), [verifier])


def test_the_vector_verifier_key_is_computed_from_name_and_key(vector: dict[str, Any]) -> None:
    verifier = parse_verifier_key(vector["verifier_key"])
    assert key_id(verifier.name, verifier.public_key).hex() == "530d903a"
    assert format_verifier_key(verifier.name, verifier.public_key) == vector["verifier_key"]


def test_verifier_keys_whose_id_does_not_match_are_rejected(vector: dict[str, Any]) -> None:
    name, kid, encoded = vector["verifier_key"].split("+", 2)
    with pytest.raises(NoteError, match="key ID"):
        parse_verifier_key(f"{name}+530d903b+{encoded}")
    with pytest.raises(NoteError, match="key ID"):
        parse_verifier_key(f"example.com/bar+{kid}+{encoded}")
    raw = bytearray(base64.b64decode(encoded))
    raw[5] ^= 1
    with pytest.raises(NoteError, match="key ID"):
        parse_verifier_key(f"{name}+{kid}+{base64.b64encode(bytes(raw)).decode()}")


@pytest.mark.parametrize(
    ("key", "complaint"),
    [
        ("example.com/foo", "not a verifier key"),
        ("example.com/foo+530d903a", "not a verifier key"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "name"),
        ("exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "name"),
        ("example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64"),
        ("example.com/foo+530d903a+", "empty"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv", "key bytes"),
    ],
)
def test_malformed_verifier_keys_are_rejected(key: str, complaint: str) -> None:
    with pytest.raises(NoteError, match=complaint):
        parse_verifier_key(key)


def test_verifier_keys_of_other_signature_types_are_rejected(vector: dict[str, Any]) -> None:
    verifier = parse_verifier_key(vector["verifier_key"])
    # 0x04 is the tlog-cosignature type; the ID is computed over that type byte, as Go does.
    raw = b"\x04" + verifier.public_key
    kid = hashlib.sha256(verifier.name.encode() + b"\n" + raw).digest()[:4].hex()
    encoded = base64.b64encode(raw).decode()
    with pytest.raises(NoteError, match="type 0x04"):
        parse_verifier_key(f"{verifier.name}+{kid}+{encoded}")


def test_a_note_signed_by_two_keys_opens_with_either(
    log_key: NoteSigner, next_key: NoteSigner
) -> None:
    note = sign_note("hello\nworld\n", [log_key, next_key])
    lines = note.splitlines()
    assert lines[:3] == ["hello", "world", ""]
    assert lines[3].startswith(f"\u2014 {ORIGIN} ")
    assert lines[4].startswith(f"\u2014 {ORIGIN} ")
    both = open_note(note, [next_key.verifier(), log_key.verifier()])
    assert both.text == "hello\nworld\n"
    assert both.verified_by == (log_key.verifier(), next_key.verifier())
    assert open_note(note, [next_key.verifier()]).verified_by == (next_key.verifier(),)


def test_signatures_by_unknown_keys_are_ignored(
    vector: dict[str, Any], witness_key: NoteSigner
) -> None:
    verifier = parse_verifier_key(vector["verifier_key"])
    foreign = sign_note(vector["text"], [witness_key]).rpartition("\n\n")[2]
    opened = open_note(vector["note"] + foreign, [verifier])
    assert opened.verified_by == (verifier,)


def test_a_key_sharing_only_the_name_or_only_the_id_is_unknown(log_key: NoteSigner) -> None:
    note = sign_note("text\n", [log_key])
    other = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(NoteError, match="not signed by any trusted key"):
        open_note(note, [other.verifier()])
    # Same key ID bytes under another name: C2SP says to ignore it, not to fail on it.
    renamed = note.replace(f"\u2014 {ORIGIN} ", "\u2014 elsewhere.example/log ")
    with pytest.raises(NoteError, match="not signed by any trusted key"):
        open_note(renamed, [log_key.verifier()])


def test_a_known_key_whose_signature_fails_rejects_the_note(
    log_key: NoteSigner, next_key: NoteSigner
) -> None:
    good = sign_note("text\n", [log_key])
    forged = sign_note("other\n", [next_key]).rpartition("\n\n")[2]
    with pytest.raises(NoteError, match="does not verify"):
        open_note(good + forged, [log_key.verifier(), next_key.verifier()])


def test_a_note_without_a_trusted_signature_is_rejected(
    log_key: NoteSigner, witness_key: NoteSigner
) -> None:
    note = sign_note("text\n", [witness_key])
    with pytest.raises(NoteError, match="not signed by any trusted key"):
        open_note(note, [log_key.verifier()])
    with pytest.raises(NoteError, match="not signed by any trusted key"):
        open_note(note, [])


@pytest.mark.parametrize(
    ("note", "complaint"),
    [
        ("text\n\u2014 a AAAAAAAAAAAA\n", "no blank line"),
        ("text\n\n", "signature lines"),
        ("text\n\n\u2014 a AAAAAAAAAAAA", "signature lines"),
        ("text\n\n- a AAAAAAAAAAAA\n", "em dash"),
        ("text\n\n\u2014 a AAAA AAAA\n", "base64"),
        ("text\n\n\u2014 a AAAAAAAAAAA\n", "base64"),
        ("text\n\n\u2014 a AAAA\n", "too short"),
        ("text\n\n\u2014  AAAAAAAAAAAA\n", "key name"),
        ("text\n\n\u2014 a+b AAAAAAAAAAAA\n", "key name"),
        ("te\txt\n\n\u2014 a AAAAAAAAAAAA\n", "control character U\\+0009"),
        ("text\r\n\n\u2014 a AAAAAAAAAAAA\n", "control character U\\+000D"),
        ("text\n\n" + "\u2014 a AAAAAAAAAAAA\n" * 101, "at most 100"),
    ],
)
def test_malformed_notes_are_rejected_saying_why(
    note: str, complaint: str, log_key: NoteSigner
) -> None:
    with pytest.raises(NoteError, match=complaint):
        open_note(note, [log_key.verifier()])


def test_notes_with_blank_lines_in_their_text_keep_them(log_key: NoteSigner) -> None:
    text = "first\n\nsecond\n\n"
    assert open_note(sign_note(text, [log_key]), [log_key.verifier()]).text == text


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("no newline", "end with a newline"),
        ("", "end with a newline"),
        ("bell\a\n", "control character"),
        ("lone \ud800 surrogate\n", "UTF-8"),
    ],
)
def test_sign_note_refuses_text_that_is_not_a_note(
    text: str, complaint: str, log_key: NoteSigner
) -> None:
    with pytest.raises(NoteError, match=complaint):
        sign_note(text, [log_key])


def test_sign_note_refuses_invalid_signers(log_key: NoteSigner) -> None:
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note("text\n", [])
    with pytest.raises(NoteError, match="cannot sign"):
        sign_note("text\n", [NoteSigner("two words", log_key.private_key)])


def test_a_verifier_must_match_its_key_id(log_key: NoteSigner) -> None:
    with pytest.raises(NoteError, match="does not belong"):
        NoteVerifier(ORIGIN, b"\x00\x00\x00\x00", log_key.public_key)


def test_signer_and_verifier_agree(log_key: NoteSigner) -> None:
    verifier = log_key.verifier()
    assert verifier.kid == log_key.kid == log_key.key_id.hex()
    assert len(log_key.kid) == 8
    assert parse_verifier_key(str(verifier)) == verifier
    assert "private_key" not in repr(log_key)


def test_checkpoint_round_trip(log_key: NoteSigner, next_key: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 1234, leaf_hash(b"root"))
    note = sign_checkpoint(checkpoint, [log_key, next_key])
    assert note.startswith(f"{ORIGIN}\n1234\n{base64.b64encode(checkpoint.root_hash).decode()}\n\n")
    opened, signers = open_checkpoint(note, [log_key.verifier()], origin=ORIGIN)
    assert opened == checkpoint
    assert signers == (log_key.verifier(),)


def test_the_empty_tree_checkpoint(log_key: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    assert checkpoint.body() == f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert open_checkpoint(sign_checkpoint(checkpoint, [log_key]), [log_key.verifier()])[0] == (
        checkpoint
    )


def test_a_checkpoint_of_another_log_is_rejected(log_key: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint("other.example/log", 5, EMPTY_ROOT), [log_key])
    with pytest.raises(NoteError, match=r"other\.example/log"):
        open_checkpoint(note, [log_key.verifier()], origin=ORIGIN)


def test_a_checkpoint_with_a_changed_size_is_rejected(log_key: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1234, EMPTY_ROOT), [log_key])
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(note.replace("\n1234\n", "\n1235\n"), [log_key.verifier()])


def test_checkpoint_extension_lines_are_ignored() -> None:
    root = base64.b64encode(EMPTY_ROOT).decode()
    parsed = parse_checkpoint(f"{ORIGIN}\n3\n{root}\nextension one\nextension two\n")
    assert parsed == Checkpoint(ORIGIN, 3, EMPTY_ROOT)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (f"{ORIGIN}\n3\n", "at least three lines"),
        (f"{ORIGIN}\n03\nROOT\n", "leading zeroes"),
        (f"{ORIGIN}\n+3\nROOT\n", "decimal"),
        (f"{ORIGIN}\n3 \nROOT\n", "decimal"),
        (f"{ORIGIN}\n\u0663\nROOT\n", "decimal"),
        (f"{ORIGIN}\n{2**64}\nROOT\n", "2\\^64"),
        (f"{ORIGIN}\n{'9' * 5000}\nROOT\n", "decimal"),
        (f"{ORIGIN}\n3\nAAAA\n", "32 bytes"),
        (f"{ORIGIN}\n3\nnot base64\n", "base64"),
        (f"{ORIGIN}\n3\nROOT\n\n", "must not be empty"),
        ("\n3\nROOT\n", "must not be empty"),
        (f"{ORIGIN}\n3\nROOT", "newline"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str, complaint: str) -> None:
    text = text.replace("ROOT", base64.b64encode(EMPTY_ROOT).decode())
    with pytest.raises(NoteError, match=complaint):
        parse_checkpoint(text)
