"""A stored evidence file replaced on disk is never passed off as the original: its
download and its preview are refused in plain words, the fault is recorded in the case's
ledger and logged for the operators, and nothing is recorded as read."""

from __future__ import annotations

import logging

from portal.cases.tables import Evidence
from portal.cases.uploads import stored_path
from tests.portal.test_evidence import NOTES, PNG, entries, new_case, sha, upload

FORGED = PNG[:16] + b"a different picture" + PNG[35:]
FAILED = "chart.png failed its integrity check"


async def test_a_replaced_file_is_neither_downloaded_nor_previewed(people, browser, settings,
                                                                   caplog):  # fmt: skip
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    await upload(alice, ref, [("chart.png", PNG, "image/png"), ("notes.txt", NOTES, "text/plain")])
    ids = {r["name"]: r["id"] for r in await Evidence.select(Evidence.id, Evidence.name)}
    ada = await browser(people["ada"])
    intact = await ada.get(f"/cases/{ref}/evidence/{ids['chart.png']}/download")
    assert intact.status_code == 200 and intact.content == PNG

    path = stored_path(settings.data_dir, sha(PNG))
    path.chmod(0o600)
    path.write_bytes(FORGED)
    before = len(await entries(ref))

    with caplog.at_level(logging.ERROR, logger="portal.cases.evidence"):
        download = await ada.get(f"/cases/{ref}/evidence/{ids['chart.png']}/download")
        preview = await alice.get(f"/cases/{ref}/evidence/{ids['chart.png']}/preview")
    for response in (download, preview):
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert FAILED in response.text and "operators have been told" in response.text
        assert FORGED not in response.content
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("failed its integrity check" in m and sha(PNG) in m for m in logged), logged

    # The fault is in the case's ledger, each time; no read of the file is.
    faults = (await entries(ref))[before:]
    assert [(e["type"], e["actor"]["id"], e["body"]["mode"]) for e in faults] == [
        ("evidence.integrity_failed", "system", "download"),
        ("evidence.integrity_failed", "system", "preview"),
    ]
    assert faults[0]["body"]["sha256"] == sha(PNG) and faults[0]["body"]["name"] == "chart.png"
    room = await ada.get(f"/cases/{ref}")
    assert "found that a stored file failed its integrity check" in room.text

    # Another file of the case is still served as it was.
    notes = await ada.get(f"/cases/{ref}/evidence/{ids['notes.txt']}/download")
    assert notes.status_code == 200 and notes.content == NOTES


async def test_the_refusal_is_in_the_readers_language(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    await upload(alice, ref, [("chart.png", PNG, "image/png")])
    [row] = await Evidence.select(Evidence.id)
    path = stored_path(settings.data_dir, sha(PNG))
    path.chmod(0o600)
    path.write_bytes(FORGED)
    await alice.post("/language", {"language": "zh_Hans", "next": f"/cases/{ref}"})
    refused = await alice.get(f"/cases/{ref}/evidence/{row['id']}/download")
    assert refused.status_code == 500
    assert "chart.png 未通过完整性校验" in refused.text
