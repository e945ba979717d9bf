"""Who sealed a case file, and that nothing follows the seal, as `portal verify` tells it.

`here` and `elsewhere` are two installations of the portal with the same demo (same case
numbers, same log name) and their own keys and seal: a file of `elsewhere` is what a forger
with the portal's software makes. Every tampering below is made the way an outsider would,
with pyHanko on the sealed bytes.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from portal.casefile.seal import open_seal
from tests.casefile.conftest import Installation
from tests.support import run_portal


def verify(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_portal("verify", *args, env=env, check=False)


def pinned(installation: Installation) -> list[str]:
    return ["--key", installation.key, "--seal", str(installation.seal)]


def failed_checks(result: subprocess.CompletedProcess[str]) -> list[str]:
    return re.findall(r"^FAIL  \[([^\]]+)\]", result.stdout, re.MULTILINE)


def test_a_file_from_another_installation_is_not_issued_by_this_one(
    here: Installation, elsewhere: Installation
):
    # The portal's own file, pinned to its keys and seal: verified.
    own = verify(str(here.pdf), *pinned(here), env=here.env)
    assert own.returncode == 0, own.stdout
    assert own.stdout.startswith("VERIFIED")

    # The other installation's file is intact and self-consistent: unpinned, the verifier
    # cannot tell it from the real one, and says exactly that.
    forged = verify(str(elsewhere.zip), env=here.env)
    assert forged.returncode == 4, forged.stdout
    assert forged.stdout.startswith("ORIGIN NOT CHECKED")

    # Pinned, it is refused, as not issued by the portal whose keys and seal were given.
    for case_file in (elsewhere.pdf, elsewhere.zip):
        refused = verify(str(case_file), *pinned(here), env=here.env)
        assert refused.returncode == 1, refused.stdout
        head = refused.stdout.splitlines()[0]
        assert head.startswith("NOT VERIFIED: this file was not issued by the portal you trust")
        assert failed_checks(refused).count("issued by") == 2  # its seal and its log's key
        assert "the seal is by another certificate" in refused.stdout
        assert "not signed by any of its keys" in refused.stdout

    # Half a pin is not a pin: the keys alone catch this forgery, but the verdict for a
    # genuine file says the origin was only partly checked.
    keys_only = verify(str(here.pdf), "--key", here.key, env=here.env)
    assert keys_only.returncode == 4 and keys_only.stdout.startswith("ORIGIN NOT CHECKED")


def test_unpinned_verification_says_so_first_and_exits_4(here: Installation):
    result = verify(str(here.zip), env=here.env)
    assert result.returncode == 4, result.stdout
    first, second = result.stdout.splitlines()[:2]
    assert first.startswith("ORIGIN NOT CHECKED: who issued this file was not checked")
    assert "--trust" in first and "/ledger/trust.json" in first
    assert second == "INTACT: every check holds."
    assert not failed_checks(result)

    chinese = verify(str(here.zip), "--language", "zh_Hans", env=here.env)
    assert chinese.returncode == 4
    assert "--trust" in chinese.stdout.splitlines()[0]
    assert "ORIGIN" not in chinese.stdout and "INTACT" not in chinese.stdout

    # The codes are documented where a user of the command looks.
    help_text = run_portal("verify", "--help", env=here.env).stdout
    for code in ("0  verified", "1  not verified", "3  incomplete", "4  origin not checked"):
        assert code in help_text
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "4  origin not checked" in readme


def _append_annotation(sealed: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(sealed), strict=False)
    page_ref, _resources = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (72, 72, 144, 144)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("Settled for 1 USDT."),
            }
        )
    )
    annotations = page.get("/Annots") or generic.ArrayObject()
    annotations.append(note)
    page[generic.NameObject("/Annots")] = annotations
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _replace_attachment(sealed: bytes, content: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(sealed), strict=False)
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec_ref = names.raw_get(1)
    spec = spec_ref.get_object()
    stream = generic.StreamObject(
        {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")}, stream_data=content
    )
    spec["/EF"][generic.NameObject("/F")] = writer.add_object(stream)
    writer.mark_update(spec_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _sign_again(pdf: bytes, tmp_path: Path) -> bytes:
    """A second signature by a certificate anyone can make."""
    mine = open_seal(tmp_path / "mine.pem", tmp_path / "mine.key", create=True, origin="anyone")
    signer = signers.SimpleSigner.load(str(mine.key_file), str(mine.cert_file))
    out = BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Approval", md_algorithm="sha256"), signer=signer
    ).sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf), strict=False), output=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "change",
    ["annotation", "replaced attachment, signed again", "second signature", "one byte"],
)
def test_anything_after_the_seal_is_a_change_after_sealing(
    change: str, here: Installation, tmp_path: Path
):
    sealed = here.pdf.read_bytes()
    if change == "annotation":
        changed = _append_annotation(sealed)
    elif change == "second signature":
        changed = _sign_again(sealed, tmp_path)
    elif change == "one byte":
        changed = sealed + b"\n"
    else:
        bundle = json.loads(_attachment(here.pdf))
        bundle["entries"] = bundle["entries"][:-1]
        changed = _sign_again(_replace_attachment(sealed, json.dumps(bundle).encode()), tmp_path)
    forged = tmp_path / "changed.pdf"
    forged.write_bytes(changed)
    # The change is made the way a forger would: poppler reads a valid signature over the
    # whole file when the last one is theirs.
    if "sign" in change:
        signed = subprocess.run(["pdfsig", str(forged)], capture_output=True, text=True).stdout
        assert signed.count("Signature is Valid") == 2
        assert "Total document signed" in signed.split("Signature #2")[1]

    for how in (pinned(here), []):
        result = verify(str(forged), *how, env=here.env)
        assert result.returncode == 1, result.stdout
        verdict = next(line for line in result.stdout.splitlines() if "VERIFIED" in line)
        assert verdict.startswith("NOT VERIFIED: the file was changed after sealing"), verdict
        assert "nothing after the seal" in failed_checks(result)
        assert "The file was changed after sealing" in result.stdout
        # It is not mistaken for a file sealed by someone else: the seal is the portal's.
        assert "issued by" not in failed_checks(result)


def _attachment(pdf: Path) -> bytes:
    reader = PdfFileReader(BytesIO(pdf.read_bytes()), strict=False)
    spec = reader.root["/Names"]["/EmbeddedFiles"]["/Names"][1].get_object()
    return bytes(spec["/EF"]["/F"].get_object().data)


def test_a_zip_missing_an_evidence_file_is_incomplete_not_verified(
    here: Installation, tmp_path: Path
):
    listed = {e["sha256"]: e["name"] for e in json.loads(_attachment(here.pdf))["evidence"]}
    assert len(listed) == 2
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(here.zip) as source, zipfile.ZipFile(partial, "w") as target:
        members = [n for n in source.namelist() if n.startswith("evidence/")]
        for name in source.namelist():
            if name != members[0]:
                target.writestr(name, source.read(name))
    gone = members[0].removeprefix("evidence/")

    result = verify(str(partial), *pinned(here), env=here.env)
    assert result.returncode == 3, result.stdout
    assert result.stdout.splitlines()[0] == (
        f"INCOMPLETE: 1 evidence file missing: {listed[gone]}, {gone}."
    )
    assert failed_checks(result) == ["evidence missing"]
    assert "not supplied" not in result.stdout
    # Unpinned, the first line still says the origin was not checked; the code is the
    # incomplete one, the worse of the two.
    assert verify(str(partial), env=here.env).returncode == 3

    # The PDF checked alone is verified as a PDF, and says plainly that its evidence was not.
    alone = verify(str(here.pdf), *pinned(here), env=here.env)
    assert alone.returncode == 0
    assert alone.stdout.splitlines()[0] == (
        "VERIFIED: every check holds; the 2 evidence files this PDF lists were not checked "
        "(check the zip to check them too)."
    )


def test_a_sealed_case_file_is_still_pdfa(here: Installation):
    """ISO 19005-3: the Info dictionary agrees with the XMP metadata, and each attachment
    is named once in the catalog's /AF. Read by pyHanko, poppler and qpdf."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    data = here.pdf.read_bytes()
    reader = PdfFileReader(BytesIO(data), strict=False)
    info = reader.trailer["/Info"]
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    xmp_producer = re.search(r'pdf:Producer="([^"]*)"', xmp) or re.search(
        r"<pdf:Producer>([^<]*)</pdf:Producer>", xmp
    )
    assert xmp_producer is not None
    assert str(info["/Producer"]) == xmp_producer.group(1)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    for key, pattern in (("/Title", r"<rdf:li[^>]*>([^<]*)</rdf:li>"), ("/Creator", None)):
        if key == "/Creator":
            assert f'xmp:CreatorTool="{info[key]}"' in xmp
        else:
            assert re.search(pattern, xmp).group(1) == str(info[key])

    files = reader.root["/AF"]
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert len(files) == len(names) // 2 == 1
    assert files[0].get_object()["/AFRelationship"] == "/Data"
    assert reader.input_version == (1, 7)

    # pyHanko's validator: intact, valid, over the entire file, under the seal.
    from pyhanko.sign.general import load_cert_from_pemder

    seal = load_cert_from_pemder(str(here.seal))
    [signature] = reader.embedded_signatures
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[seal], allow_fetching=False)
    )
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    # poppler and qpdf, each on its own.
    signed = subprocess.run(["pdfsig", str(here.pdf)], capture_output=True, text=True).stdout
    assert "Signature is Valid" in signed and "Total document signed" in signed
    checked = subprocess.run(["qpdf", "--check", str(here.pdf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout
