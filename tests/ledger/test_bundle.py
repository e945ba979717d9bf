"""The case proof bundle: a bundle built from a real log passes the offline verifier, and
each kind of tampering docs/LEDGER-FORMAT.md#checks lists fails the right check, naming the
entry."""

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bundle import FORMAT, BundleEntry, build_bundle, verify_bundle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import ZERO_HASH, Actor, Entry, encode_entry, sign_entry
from ledger.findings import Finding, Report
from ledger.merkle import MemoryTree, leaf_hash
from ledger.note import NoteSigner

ORIGIN = "localhost/portal-ledger"
CASE = "DR-2026-000123"
OTHER_CASE = "DR-2026-000124"
ALICE = Actor("alice", "claimant")
BOB = Actor("bob", "respondent")
IVY = Actor("ivy", "investigator")
RECEIPT = b"%PDF-1.7 withdrawal receipt, 0.5 BTC, tx 4f2a"
RECEIPT_SHA256 = hashlib.sha256(RECEIPT).hexdigest()
RECEIPT_RECORD = {
    "sha256": RECEIPT_SHA256,
    "name": "receipt.pdf",
    "size": len(RECEIPT),
    "media_type": "application/pdf",
}

# The two cases' events, interleaved as the global log integrates them.
EVENTS: list[tuple[str, str, Actor, dict[str, Any]]] = [
    (CASE, "case.filed", ALICE, {"category": "withdrawal", "amount": "0.5", "asset": "BTC"}),
    (OTHER_CASE, "case.filed", BOB, {"category": "trade"}),
    (CASE, "evidence.added", ALICE, {"file": RECEIPT_RECORD}),
    (CASE, "statement.submitted", IVY, {"channel": "staff", "content_sha256": "ab" * 32}),
    (OTHER_CASE, "case.rejected", IVY, {"reasons": ["out of scope"]}),
    (CASE, "proposal.made", IVY, {"items": [{"action": "refund", "amount": "0.5"}]}),
    (OTHER_CASE, "case.appealed", BOB, {}),
    (CASE, "proposal.accepted", ALICE, {}),
]


@dataclass
class Log:
    """A small global log, as the portal would have written it."""

    key: NoteSigner
    tree: MemoryTree = field(default_factory=MemoryTree)
    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    heads: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def write(
        self, case: str, event: str, actor: Actor, body: dict[str, Any], signer: NoteSigner
    ) -> None:
        seq, prev = self.heads.get(case, (0, ZERO_HASH))
        at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=len(self.records))
        entry = Entry(ORIGIN, case, seq, prev, event, actor, at, body, signer.kid)
        data = encode_entry(entry)
        self.records.append((data, sign_entry(data, signer.private_key)))
        self.tree.append(leaf_hash(data))
        self.heads[case] = (seq + 1, leaf_hash(data))

    def checkpoint(self, signers: list[NoteSigner] | None = None, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        return sign_checkpoint(
            Checkpoint(ORIGIN, size, self.tree.root(size)), signers or [self.key]
        )

    def indexes(self, case: str) -> list[int]:
        return [i for i, (case_of, *_) in enumerate(EVENTS) if case_of == case]

    def bundle(
        self, case: str = CASE, checkpoint: str | None = None, size: int | None = None
    ) -> dict[str, Any]:
        size = self.tree.size if size is None else size
        entries = [
            BundleEntry(i, *self.records[i], tuple(self.tree.inclusion_proof(i, size)))
            for i in self.indexes(case)
            if i < size
        ]
        built = build_bundle(
            origin=ORIGIN,
            verifier_keys=[str(self.key.verifier())],
            checkpoint=checkpoint or self.checkpoint(size=size),
            case=case,
            entries=entries,
            evidence=[RECEIPT_RECORD] if case == CASE else [],
        )
        # What a verifier reads is the JSON file, not our dict.
        loaded: dict[str, Any] = json.loads(json.dumps(built))
        return loaded


def write_log(key: NoteSigner, signers: dict[tuple[str, int], NoteSigner] | None = None) -> Log:
    log = Log(key)
    for case, event, actor, body in EVENTS:
        seq = log.heads.get(case, (0, b""))[0]
        log.write(case, event, actor, body, (signers or {}).get((case, seq), key))
    return log


@pytest.fixture(scope="module")
def log_key() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def mallory_key() -> NoteSigner:
    """Someone else's key, under the same name."""
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def log(log_key: NoteSigner) -> Log:
    return write_log(log_key)


@pytest.fixture
def bundle(log: Log) -> dict[str, Any]:
    return log.bundle()


@pytest.fixture(scope="module")
def trusted(log_key: NoteSigner) -> list[str]:
    return [str(log_key.verifier())]


def verify(bundle: dict[str, Any], trusted: list[str] | None, **kwargs: Any) -> Report:
    return verify_bundle(bundle, trusted, {RECEIPT_SHA256: RECEIPT}, **kwargs)


def failed_checks(report: Report) -> set[str]:
    return {finding.check for finding in report.failures()}


def only_failure(report: Report, check: str) -> Finding:
    assert failed_checks(report) == {check}, report.render()
    failures = report.failures()
    assert len(failures) == 1, report.render()
    return failures[0]


def change_entry(bundle: dict[str, Any], seq: int, change: Callable[[bytes], bytes]) -> None:
    item = bundle["entries"][seq]
    item["entry"] = base64.b64encode(change(base64.b64decode(item["entry"]))).decode()


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def names(finding: Finding, seq: int, index: int) -> bool:
    return f"case_seq {seq}" in finding.message and f"log index {index}" in finding.message


def test_an_untouched_bundle_passes(bundle: dict[str, Any], trusted: list[str]) -> None:
    report = verify(bundle, trusted)
    assert report.ok, report.render()
    assert {f.check for f in report.findings} == {
        "bundle-format",
        "checkpoint",
        "entry-format",
        "entry-signature",
        "inclusion",
        "chain",
        "evidence",
    }
    assert all(line.startswith("PASS  ") for line in report.render().splitlines())
    assert report.failures() == []


def test_the_bundle_has_the_spec_shape(bundle: dict[str, Any], log: Log) -> None:
    assert list(bundle) == [
        "format",
        "origin",
        "verifier_keys",
        "checkpoint",
        "case",
        "entries",
        "evidence",
    ]
    assert bundle["format"] == FORMAT == "portal-case-proof/v1"
    assert [item["index"] for item in bundle["entries"]] == log.indexes(CASE)
    first = bundle["entries"][0]
    assert list(first) == ["index", "entry", "signature", "inclusion"]
    assert base64.b64decode(first["entry"]) == log.records[0][0]
    assert bundle["evidence"] == [RECEIPT_RECORD]


def test_without_trusted_keys_the_report_says_the_keys_came_from_the_bundle(
    bundle: dict[str, Any],
) -> None:
    report = verify(bundle, None)
    assert report.ok, report.render()
    checkpoint = next(f for f in report.findings if f.check == "checkpoint")
    assert "taken from the bundle itself" in checkpoint.message


def test_a_flipped_byte_in_an_entry_fails_signature_inclusion_and_chain(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    index = log.indexes(CASE)[2]
    change_entry(bundle, 2, lambda data: data.replace(b"content_sha256", b"content_sha257"))
    report = verify(bundle, trusted)
    assert failed_checks(report) == {"entry-signature", "inclusion", "chain"}, report.render()
    for finding in report.failures():
        assert names(finding, 2, index), finding.message
    chain = next(f for f in report.failures() if f.check == "chain")
    assert "case_seq 3" in chain.message  # the entry after it no longer links


def test_a_flipped_byte_that_breaks_the_json_fails_the_format(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    index = log.indexes(CASE)[1]
    change_entry(bundle, 1, lambda data: flip(data, 0))
    report = verify(bundle, trusted)
    assert "entry-format" in failed_checks(report)
    assert "inclusion" in failed_checks(report)
    finding = next(f for f in report.failures() if f.check == "entry-format")
    assert f"Entry 2 of the bundle (log index {index})" in finding.message


def test_a_flipped_byte_in_a_signature_fails_that_signature(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    item = bundle["entries"][3]
    item["signature"] = base64.b64encode(flip(base64.b64decode(item["signature"]), 10)).decode()
    finding = only_failure(verify(bundle, trusted), "entry-signature")
    assert names(finding, 3, log.indexes(CASE)[3])
    assert "does not verify" in finding.message


def test_a_flipped_byte_in_an_inclusion_hash_fails_inclusion(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    item = bundle["entries"][1]
    item["inclusion"][1] = base64.b64encode(
        flip(base64.b64decode(item["inclusion"][1]), 0)
    ).decode()
    finding = only_failure(verify(bundle, trusted), "inclusion")
    assert names(finding, 1, log.indexes(CASE)[1])


def test_a_missing_entry_is_named(bundle: dict[str, Any], trusted: list[str], log: Log) -> None:
    del bundle["entries"][2]
    finding = only_failure(verify(bundle, trusted), "chain")
    assert "no readable entry has case_seq 2" in finding.message
    assert names(finding, 1, log.indexes(CASE)[1])
    assert names(finding, 3, log.indexes(CASE)[3])


def test_swapped_entries_are_named(bundle: dict[str, Any], trusted: list[str]) -> None:
    entries = bundle["entries"]
    entries[1], entries[2] = entries[2], entries[1]
    finding = only_failure(verify(bundle, trusted), "chain")
    assert "out of order" in finding.message
    assert "case_seq 1" in finding.message and "case_seq 2" in finding.message


def test_a_cut_off_tail_still_proves_the_entries_shown(
    bundle: dict[str, Any], trusted: list[str]
) -> None:
    del bundle["entries"][-2:]
    report = verify(bundle, trusted)
    assert report.ok, report.render()
    chain = next(f for f in report.findings if f.check == "chain")
    assert "case_seq 0 to 2" in chain.message
    assert "cannot be ruled out" in chain.message


def test_a_bundle_that_skips_its_first_entries_fails(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    del bundle["entries"][:1]
    finding = only_failure(verify(bundle, trusted), "chain")
    assert "no readable entry has case_seq 0," in finding.message
    assert names(finding, 1, log.indexes(CASE)[1])


def test_an_entry_signed_by_an_unknown_key_is_named(
    log_key: NoteSigner, mallory_key: NoteSigner, trusted: list[str]
) -> None:
    log = write_log(log_key, signers={(CASE, 3): mallory_key})
    finding = only_failure(verify(log.bundle(), trusted), "entry-signature")
    assert names(finding, 3, log.indexes(CASE)[3])
    assert f"unknown key {mallory_key.kid}" in finding.message


def test_an_entry_of_another_case_is_named(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    foreign = log.bundle(OTHER_CASE)["entries"][1]
    bundle["entries"].insert(2, foreign)
    report = verify(bundle, trusted)
    finding = next(f for f in report.failures() if f.check == "entry-format")
    assert names(finding, 1, log.indexes(OTHER_CASE)[1])
    assert OTHER_CASE in finding.message
    assert "chain" in failed_checks(report)


def test_a_changed_index_fails_inclusion(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    bundle["entries"][2]["index"] = log.indexes(OTHER_CASE)[0]
    finding = only_failure(verify(bundle, trusted), "inclusion")
    assert names(finding, 2, log.indexes(OTHER_CASE)[0])


def test_an_index_beyond_the_checkpoint_fails_inclusion(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    bundle["entries"][4]["index"] = log.tree.size
    finding = only_failure(verify(bundle, trusted), "inclusion")
    assert names(finding, 4, log.tree.size)
    assert "outside a tree" in finding.message


def test_a_changed_checkpoint_size_fails_the_checkpoint(
    bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    size = log.tree.size
    bundle["checkpoint"] = bundle["checkpoint"].replace(f"\n{size}\n", f"\n{size + 1}\n")
    report = verify(bundle, trusted)
    assert {"checkpoint", "inclusion"} <= failed_checks(report), report.render()
    checkpoint = next(f for f in report.failures() if f.check == "checkpoint")
    assert "does not verify" in checkpoint.message


def test_proofs_for_another_tree_size_fail_inclusion(
    log_key: NoteSigner, trusted: list[str]
) -> None:
    log = write_log(log_key)
    bundle = log.bundle()
    log.write(CASE, "case.closed", Actor("system", "system"), {}, log_key)
    bundle["checkpoint"] = log.checkpoint()
    report = verify(bundle, trusted)
    assert failed_checks(report) == {"inclusion"}, report.render()
    assert len(report.failures()) == len(bundle["entries"])


def test_a_checkpoint_signed_by_an_untrusted_key_fails(
    log: Log, mallory_key: NoteSigner, trusted: list[str]
) -> None:
    bundle = log.bundle(checkpoint=log.checkpoint([mallory_key]))
    bundle["verifier_keys"].append(str(mallory_key.verifier()))
    report = verify(bundle, trusted)
    finding = only_failure(report, "checkpoint")
    assert "not signed by any trusted key" in finding.message


def test_a_bundle_for_another_origin_fails(bundle: dict[str, Any], trusted: list[str]) -> None:
    bundle["origin"] = "elsewhere.example/ledger"
    report = verify(bundle, trusted)
    assert {"checkpoint", "entry-format"} <= failed_checks(report), report.render()


def test_evidence_with_the_wrong_content_fails(bundle: dict[str, Any], trusted: list[str]) -> None:
    report = verify_bundle(bundle, trusted, {RECEIPT_SHA256: RECEIPT + b" (edited)"})
    finding = only_failure(report, "evidence")
    assert "receipt.pdf" in finding.message
    assert "not the file the ledger records" in finding.message


def test_evidence_not_recorded_by_the_case_fails(
    bundle: dict[str, Any], trusted: list[str]
) -> None:
    stray = b"a file nobody recorded"
    files = {RECEIPT_SHA256: RECEIPT, hashlib.sha256(stray).hexdigest(): stray}
    finding = only_failure(verify_bundle(bundle, trusted, files), "evidence")
    assert "not recorded by any entry" in finding.message


def test_an_evidence_list_that_contradicts_the_ledger_fails(
    bundle: dict[str, Any], trusted: list[str]
) -> None:
    bundle["evidence"][0]["name"] = "settlement.pdf"
    finding = only_failure(verify(bundle, trusted), "evidence")
    assert "differently" in finding.message


def test_evidence_not_supplied_is_reported_as_not_checked(
    bundle: dict[str, Any], trusted: list[str]
) -> None:
    report = verify_bundle(bundle, trusted)
    assert report.ok, report.render()
    evidence = [f for f in report.findings if f.check == "evidence"]
    assert len(evidence) == 1
    assert "not supplied" in evidence[0].message


def test_a_previous_checkpoint_of_the_same_size_with_another_root_fails(
    log_key: NoteSigner, bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    forked = sign_checkpoint(Checkpoint(ORIGIN, log.tree.size, leaf_hash(b"fork")), [log_key])
    finding = only_failure(verify(bundle, trusted, previous_checkpoints=[forked]), "consistency")
    assert "different roots" in finding.message


def test_previous_checkpoints_that_cannot_be_compared_are_reported(
    log_key: NoteSigner, bundle: dict[str, Any], trusted: list[str], log: Log
) -> None:
    older = log.checkpoint(size=3)
    same = log.checkpoint()
    newer = sign_checkpoint(Checkpoint(ORIGIN, log.tree.size + 5, leaf_hash(b"later")), [log_key])
    report = verify(bundle, trusted, previous_checkpoints=[older, same, newer])
    assert report.ok, report.render()
    messages = [f.message for f in report.findings if f.check == "consistency"]
    assert len(messages) == 3
    assert "not checked" in messages[0] and "consistency proof" in messages[0]
    assert "same tree" in messages[1]
    assert "newer" in messages[2] and "not checked" in messages[2]


def test_a_previous_checkpoint_from_an_unknown_key_is_not_compared(
    bundle: dict[str, Any], trusted: list[str], mallory_key: NoteSigner, log: Log
) -> None:
    forged = sign_checkpoint(Checkpoint(ORIGIN, log.tree.size, leaf_hash(b"x")), [mallory_key])
    report = verify(bundle, trusted, previous_checkpoints=[forged])
    assert report.ok, report.render()
    assert "could not be verified" in report.findings[-1].message


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda b: b.update(format="portal-case-proof/v2"), id="other format"),
        pytest.param(lambda b: b.pop("format"), id="no format"),
        pytest.param(lambda b: b.pop("entries"), id="no entries"),
        pytest.param(lambda b: b.update(entries={"0": "x"}), id="entries not a list"),
        pytest.param(lambda b: b.pop("checkpoint"), id="no checkpoint"),
        pytest.param(lambda b: b.update(case=5), id="case not text"),
        pytest.param(lambda b: b.update(verifier_keys=["nonsense"]), id="bad verifier key"),
        pytest.param(lambda b: b["entries"].__setitem__(0, "x"), id="entry not an object"),
        pytest.param(lambda b: b["entries"][0].update(entry="not base64!"), id="bad base64"),
        pytest.param(lambda b: b["entries"][0].update(entry="QUJD="), id="non-canonical base64"),
        pytest.param(lambda b: b["entries"][0].pop("signature"), id="no signature"),
        pytest.param(lambda b: b["entries"][0].update(index=True), id="index not a number"),
        pytest.param(lambda b: b["entries"][0].update(index=-1), id="negative index"),
        pytest.param(lambda b: b["entries"][0].update(inclusion="x"), id="inclusion not a list"),
        pytest.param(lambda b: b["entries"][0]["inclusion"].append(7), id="inclusion hash"),
        pytest.param(lambda b: b["evidence"].append({"name": "x"}), id="evidence without hash"),
    ],
)
def test_malformed_bundles_are_reported_not_raised(
    change: Callable[[dict[str, Any]], object], bundle: dict[str, Any], trusted: list[str]
) -> None:
    change(bundle)
    report = verify(bundle, trusted)
    assert not report.ok
    assert "bundle-format" in failed_checks(report), report.render()


@pytest.mark.parametrize("bundle", [None, [], "bundle", 7])
def test_a_bundle_that_is_not_an_object_is_reported(bundle: Any) -> None:
    report = verify_bundle(bundle)
    assert not report.ok
    assert failed_checks(report) == {"bundle-format"}


def test_an_empty_bundle_proves_nothing(log: Log, trusted: list[str]) -> None:
    bundle = log.bundle()
    bundle["entries"] = []
    bundle["evidence"] = []
    report = verify(bundle, trusted)
    assert "chain" in failed_checks(report)


def test_a_report_with_no_findings_is_not_ok() -> None:
    assert not Report([]).ok
    report = Report([Finding("chain", True, "fine"), Finding("inclusion", False, "broken")])
    assert not report.ok
    assert report.failures() == [Finding("inclusion", False, "broken")]
    assert report.render() == "PASS  fine\nFAIL  broken"
