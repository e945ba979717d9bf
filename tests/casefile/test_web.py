"""The case room's export button and the public /verify page, through the real app."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ledger.tables import LedgerEntry
from tests.portal.test_case_room import join, open_case

STAFF_NOTE = "The hot wallet was drained at 14:01; do not tell the claimant yet."


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "file.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


async def test_each_exports_their_copy_and_anyone_can_verify_it(people, browser, tmp_path):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    await join(ref, people["ivy"], "investigator")
    await join(ref, people["lee"], "legal")
    await join(ref, people["mona"], "mediator")
    ivy = await browser(people["ivy"])
    await ivy.post(f"/cases/{ref}/statements", {"channel": "staff", "text": STAFF_NOTE}, htmx=True)

    room = await alice.get(f"/cases/{ref}")
    assert "Export signed case file" in room.text
    mona = await browser(people["mona"])
    assert "Export signed case file" not in (await mona.get(f"/cases/{ref}")).text
    assert (await mona.post(f"/cases/{ref}/casefile.pdf")).status_code == 403

    lee = await browser(people["lee"])
    full = await lee.post(f"/cases/{ref}/casefile.pdf")
    assert full.status_code == 200 and full.headers["content-type"] == "application/pdf"
    assert STAFF_NOTE in text_of(full.content, tmp_path)
    party = await alice.post(f"/cases/{ref}/casefile.pdf")
    assert party.status_code == 200
    assert STAFF_NOTE not in text_of(party.content, tmp_path)

    # Exporting again with nothing new on the case gives the same file and no new entry.
    entries = await LedgerEntry.count()
    again = await alice.post(f"/cases/{ref}/casefile.pdf")
    assert again.content == party.content
    assert await LedgerEntry.count() == entries

    # The public page: no login, the same report, and nothing kept.
    anyone = await browser()
    page = await anyone.get("/verify")
    assert page.status_code == 200
    checked = await anyone.post(
        "/verify", files=[("case_file", ("copy.pdf", party.content, "application/pdf"))]
    )
    assert checked.status_code == 200, checked.text
    assert "every check holds" in checked.text and "no entry was cut off" in checked.text

    broken = bytearray(party.content)
    broken[len(broken) // 2] ^= 0x01
    refused = await anyone.post(
        "/verify", files=[("case_file", ("copy.pdf", bytes(broken), "application/pdf"))]
    )
    assert refused.status_code == 422
    assert "seal" in refused.text.lower() and "Not verified" in refused.text
