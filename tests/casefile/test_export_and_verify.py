"""Signed case files through the `portal` command: export for each audience, verify offline,
and every kind of tampering rejected with the check and the entry that failed.

The cast is the demo's: DR-2026-000001 is alice's liquidation case (English) with ivy's staff
note and two files; DR-2026-000002 is bob's Chinese case in mediation, with a caucus for bob
and one for alice.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from portal.casefile.seal import Seal, seal_pdf
from portal.pdf.render import render_pdf
from tests.support import portal_env, run_portal

LIQUIDATION, P2P = "DR-2026-000001", "DR-2026-000002"
STAFF_NOTE = "mark price feed lagged"
ALICE_CAUCUS = "Alice, would you agree"
BOB_CAUCUS = "我可以接受 800 USDT"


@pytest.fixture
def demo(db, tmp_path: Path) -> dict[str, str]:
    env = portal_env(db.url, tmp_path)
    run_portal("demo", "--json", env=env)
    return env


def text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def verify(*args: str, env: dict[str, str], pin: bool = True) -> subprocess.CompletedProcess[str]:
    """`portal verify`, pinned to the demo portal's verifier key and seal unless told not."""
    pins: list[str] = []
    if pin:
        key = run_portal("ledger", "keys", env=env).stdout.split()[0]
        seal = Path(env["PORTAL_SIGNING_KEY_FILE"]).with_name("casefile-seal.pem")
        pins = ["--key", key, "--seal", str(seal)]
    return run_portal("verify", *args, *pins, env=env, check=False)


def failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("FAIL")]


async def test_each_audience_gets_its_copy_and_each_verifies(demo, tmp_path: Path):
    staff, alice, bob = tmp_path / "staff.pdf", tmp_path / "alice.pdf", tmp_path / "bob.pdf"
    run_portal("export", LIQUIDATION, "-o", str(staff), env=demo)
    run_portal(
        "export", LIQUIDATION, "-o", str(alice), "--audience", "party:alice@demo.example", env=demo
    )
    run_portal("export", P2P, "-o", str(bob), "--audience", "party:bob@demo.example", env=demo)

    for pdf in (staff, alice, bob):
        result = verify(str(pdf), env=demo)
        assert result.returncode == 0, result.stdout
        assert result.stdout.startswith("VERIFIED")
        assert "no entry was cut off" in result.stdout

    # Staff and legal read the staff notes; a party's copy leaves them out.
    assert STAFF_NOTE in text_of(staff)
    assert "exported a signed case file" in text_of(staff)  # its own export, last in the timeline
    assert STAFF_NOTE not in text_of(alice)
    # Bob reads his own caucus, in Chinese, and not alice's, whose entries remain as hashes.
    bob_text = text_of(bob)
    assert BOB_CAUCUS in bob_text
    assert "我希望尽快解决" in bob_text
    assert ALICE_CAUCUS not in bob_text
    assert "本副本不显示" in bob_text  # the Chinese case file, in Chinese
    assert "The portal" not in bob_text and "案件档案" in bob_text

    # The seal is a PAdES signature that poppler reads as intact, over the whole file.
    signed = subprocess.run(["pdfsig", str(bob)], capture_output=True, text=True).stdout
    assert "Signature is Valid" in signed and "Total document signed" in signed
    # And the sealed file is still PDF/A-3 at PDF 1.7.
    info = subprocess.run(["pdfinfo", str(bob)], capture_output=True, text=True).stdout
    meta = subprocess.run(["pdfinfo", "-meta", str(bob)], capture_output=True, text=True).stdout
    assert "PDF version:     1.7" in info
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta
    assert bob.read_bytes().startswith(b"%PDF-1.7")

    # The export is the last entry of the file's chain, recorded for the audience asked.
    proof = json.loads(run_portal("ledger", "proof", P2P, env=demo).stdout)
    last = json.loads(base64.b64decode(proof["entries"][-1]["entry"]))
    assert last["type"] == "casefile.exported"
    assert last["body"]["audience"].startswith("party:user:")


async def test_the_verifier_trusts_only_the_keys_and_seal_it_is_given(demo, tmp_path: Path):
    pdf = tmp_path / "full.pdf"
    run_portal("export", LIQUIDATION, "-o", str(pdf), env=demo)
    keys = run_portal("ledger", "keys", env=demo).stdout.split()
    seal = tmp_path / "casefile-seal.pem"
    assert (
        verify(str(pdf), "--key", keys[0], "--seal", str(seal), env=demo, pin=False).returncode == 0
    )

    other = tmp_path / "other"
    other_env = portal_env(demo["PORTAL_DATABASE_URL"], other)
    run_portal("ledger", "init-key", env=other_env)
    from portal.casefile.seal import open_seal

    stranger = open_seal(other / "s.pem", other / "s.key", create=True, origin="elsewhere")
    wrong_seal = verify(str(pdf), "--seal", str(stranger.cert_file), env=demo, pin=False)
    assert wrong_seal.returncode == 1
    assert any("the seal is by another certificate" in line for line in failures(wrong_seal))
    stranger_key = run_portal("ledger", "keys", env=other_env).stdout.split()[0]
    wrong_key = verify(str(pdf), "--key", stranger_key, env=demo, pin=False)
    assert wrong_key.returncode == 1
    assert any("checkpoint cannot be trusted" in line for line in failures(wrong_key))


async def test_one_flipped_byte_of_the_pdf_breaks_the_seal(demo, tmp_path: Path):
    pdf = tmp_path / "full.pdf"
    run_portal("export", LIQUIDATION, "-o", str(pdf), env=demo)
    data = bytearray(pdf.read_bytes())
    middle = len(data) // 3
    data[middle] ^= 0x01
    pdf.write_bytes(bytes(data))
    result = verify(str(pdf), env=demo)
    assert result.returncode == 1
    assert result.stdout.startswith("NOT VERIFIED")
    assert any(line.startswith("FAIL  [seal]") for line in failures(result)), result.stdout


async def test_a_changed_evidence_file_in_the_zip_is_named(demo, tmp_path: Path):
    archive = tmp_path / "full.zip"
    run_portal("export", LIQUIDATION, "--bundle", str(archive), env=demo)
    assert verify(str(archive), env=demo).returncode == 0
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(tampered, "w") as target:
        evidence = [n for n in source.namelist() if n.startswith("evidence/")]
        assert len(evidence) == 2
        for name in source.namelist():
            content = source.read(name)
            if name == evidence[0]:
                content = bytes([content[0] ^ 0x01]) + content[1:]
            target.writestr(name, content)
    result = verify(str(tampered), env=demo)
    assert result.returncode == 1
    [failed] = failures(result)
    assert failed.startswith("FAIL  [evidence]")
    assert evidence[0].removeprefix("evidence/") in failed
    assert "is not the file the ledger records" in failed

    # The same report in Chinese: every line, the check names, and the entry named.
    chinese = verify(str(tampered), "--language", "zh_Hans", env=demo)
    assert chinese.returncode == 1
    head, *lines = chinese.stdout.splitlines()
    assert head.startswith("未通过核验：1 项不通过（证据）")
    assert all(line.startswith(("通过  [", "不通过  [")) for line in lines), chinese.stdout
    [failed] = [line for line in lines if line.startswith("不通过")]
    assert failed.startswith("不通过  [证据] 以 ")
    assert evidence[0].removeprefix("evidence/") in failed and "它不是账本所记录的文件" in failed
    assert "电子印章完好且验证通过" in chinese.stdout and "电子印章覆盖整个文件" in chinese.stdout
    assert "case_seq 0 连续至" in chinese.stdout
    english_words = [
        w for w in ("the ", " is ", " was ", "entry", "checked") if w in chinese.stdout
    ]
    assert not english_words, chinese.stdout


async def test_a_zip_is_checked_as_a_stream_not_read_into_memory(demo, tmp_path: Path):
    """A 256 MiB evidence file in the zip is hashed in chunks: the verifier's Python heap
    never holds it (the old code read the whole zip, then every member, into memory)."""
    import hashlib
    import tracemalloc

    from portal.casefile.verify import verify_case_file

    archive = tmp_path / "full.zip"
    run_portal("export", LIQUIDATION, "--bundle", str(archive), env=demo)
    big = bytes(256 * 1024 * 1024)  # zeros: small once deflated, 256 MiB when read
    digest = hashlib.sha256(big).hexdigest()
    with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as target:
        target.writestr(f"evidence/{digest}", big)
    del big

    tracemalloc.start()
    try:
        report = await asyncio.to_thread(verify_case_file, archive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Checked, and named: no entry of the case records a file of zeros.
    [failed] = report.failures()
    assert failed.check == "evidence" and digest in failed.message
    assert "not recorded by any entry" in failed.message
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


async def _sealed_with_bundle(bundle: dict, tmp_path: Path) -> bytes:
    pdf = await render_pdf(
        "pdf/base.html",
        {},
        language="en",
        attachments={"ledger-proof.json": json.dumps(bundle).encode()},
    )
    seal = Seal(tmp_path / "casefile-seal.pem", tmp_path / "casefile-seal.key")
    # pyHanko runs its own event loop: seal in a thread, as the export does.
    return await asyncio.to_thread(seal_pdf, pdf, seal, reason="forged for a test")


def _attached(pdf: Path) -> dict:
    out = pdf.with_suffix(".json")
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(out), str(pdf)], check=True)
    return json.loads(out.read_bytes())


async def test_a_changed_byte_of_the_attached_bundle_is_named_with_its_entry(demo, tmp_path: Path):
    pdf = tmp_path / "full.pdf"
    run_portal("export", LIQUIDATION, "-o", str(pdf), env=demo)
    bundle = _attached(pdf)
    entry = bytearray(base64.b64decode(bundle["entries"][2]["entry"]))
    at = entry.index(b'"at":"') + 6 + 3  # a digit of the year
    entry[at] = ord("9") if entry[at] != ord("9") else ord("8")
    bundle["entries"][2]["entry"] = base64.b64encode(bytes(entry)).decode()
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(await _sealed_with_bundle(bundle, tmp_path))

    result = verify(str(forged), env=demo)
    assert result.returncode == 1
    failed = failures(result)
    assert any("signature of the entry with case_seq 2" in line for line in failed), failed
    assert any(
        line.startswith("FAIL") and "case_seq 2" in line and "log" in line for line in failed
    )


async def test_a_file_with_its_last_entries_cut_off_is_rejected(demo, tmp_path: Path):
    pdf = tmp_path / "full.pdf"
    run_portal("export", LIQUIDATION, "-o", str(pdf), env=demo)
    bundle = _attached(pdf)
    kept = len(bundle["entries"]) - 2
    bundle["entries"] = bundle["entries"][:kept]
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(await _sealed_with_bundle(bundle, tmp_path))

    result = verify(str(cut), env=demo)
    assert result.returncode == 1
    [failed] = failures(result)
    assert failed.startswith("FAIL  [nothing cut off]")
    assert f"case_seq {kept - 1}" in failed and "cut off" in failed


async def test_export_refuses_who_is_not_a_party_and_production_without_a_seal(
    demo, tmp_path: Path
):
    # No copy carries every channel: the staff copy is the default, and "full" is gone.
    full = run_portal("export", P2P, "-o", str(tmp_path / "full.pdf"), "--audience", "full",
                      env=demo, check=False)  # fmt: skip
    assert full.returncode != 0
    assert "--audience is staff, party:EMAIL or counsel:EMAIL" in full.stderr
    assert not (tmp_path / "full.pdf").exists()
    run_portal("export", P2P, "-o", str(tmp_path / "staff.pdf"), env=demo)
    staff_copy = text_of(tmp_path / "staff.pdf")
    assert "平台人员副本" in staff_copy  # the Chinese case, in Chinese
    assert BOB_CAUCUS not in staff_copy and ALICE_CAUCUS not in staff_copy
    # bob's legal team's copy is bob's without bob's caucus, its two members' only.
    run_portal("export", P2P, "-o", str(tmp_path / "counsel.pdf"), "--audience",
               "counsel:bob@demo.example", env=demo)  # fmt: skip
    counsel_copy = text_of(tmp_path / "counsel.pdf")
    assert "的法律团队副本" in counsel_copy
    assert BOB_CAUCUS not in counsel_copy and ALICE_CAUCUS not in counsel_copy
    ivy = run_portal(
        "export",
        LIQUIDATION,
        "-o",
        str(tmp_path / "x.pdf"),
        "--audience",
        "party:ivy@demo.example",
        env=demo,
        check=False,
    )
    assert ivy.returncode == 1 and "is not a party" in ivy.stderr
    production = {
        **demo,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "s" * 40,
        "PORTAL_SEAL_CERT_FILE": str(tmp_path / "none.pem"),
    }
    refused = run_portal(
        "export", LIQUIDATION, "-o", str(tmp_path / "y.pdf"), env=production, check=False
    )
    assert refused.returncode == 1 and "PORTAL_SEAL_CERT_FILE" in refused.stderr
    assert not (tmp_path / "y.pdf").exists()
