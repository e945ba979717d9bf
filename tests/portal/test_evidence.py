"""Evidence in the case room: several files at once, stored by hash and never overwritten,
refused with a reason and without a trace, downloaded and previewed safely, each read
recorded in the ledger, and nothing shown to anyone the channel does not include."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from ledger.tables import LedgerEntry
from portal.app import create_app
from portal.cases.tables import Evidence
from portal.errors import PortalError
from portal.procedure import roles
from portal.settings import ConfigurationError, Settings
from tests.people import Browser, make_person
from tests.portal.conftest import SECRET
from tests.portal.test_filing import file_dispute

# A header of 640 × 480 pixels: an image declaring more is not previewed
# (tests/security/test_image_bombs.py).
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + b"\0\0\0\rIHDR"
    + (640).to_bytes(4)
    + (480).to_bytes(4)
    + bytes(range(200))
)
PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 20 + b"%%EOF\n"
CSV = b"date,amount\n2026-03-14,1250.50\n"
NOTES = "清算发生在 14:02。\nThe liquidation happened at 14:02.\n".encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_files(settings: Settings) -> list[Path]:
    """Every file under the evidence directory, the temporary ones included."""
    root = settings.data_dir / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def entries(ref: str) -> list[dict]:
    rows = (
        await LedgerEntry.select(LedgerEntry.entry)
        .where(LedgerEntry.case_ref == ref)
        .order_by(LedgerEntry.case_seq)
    )
    return [json.loads(bytes(r["entry"])) for r in rows]


async def new_case(b: Browser) -> str:
    response = await file_dispute(b)
    assert response.status_code == 303, response.text
    return response.headers["location"].removeprefix("/cases/")


async def upload(b: Browser, ref: str, files, channel: str = "all", htmx: bool = True):
    return await b.post(
        f"/cases/{ref}/evidence",
        {"channel": channel},
        files=[("files", f) for f in files],
        htmx=htmx,
    )


@asynccontextmanager
async def running(settings: Settings):
    """An app of its own, with other settings than the `app` fixture's, started as a server
    would. Tests using it make their people themselves: the `people` fixture would start
    the `app` fixture's app too, and two apps in one process share the tables' binding."""
    application = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    await started.wait()
    clients: list[httpx.AsyncClient] = []

    async def open_browser(person) -> Browser:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application, client=("203.0.113.9", 50000)),
            base_url="http://portal.test",
        )
        clients.append(client)
        b = Browser(client)
        await b.get("/login")
        await b.log_in(person)
        return b

    try:
        yield open_browser
    finally:
        for client in clients:
            await client.aclose()
        stop.set()
        await task


async def test_several_files_at_once_are_recorded_with_one_ledger_entry(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    before = len(await entries(ref))

    response = await upload(
        alice,
        ref,
        [
            ("chart.png", PNG, "image/png"),
            ("statement.pdf", PDF, "application/pdf"),
            ("trades.csv", CSV, "text/csv"),
            ("notes.txt", NOTES, "text/plain"),
        ],
    )

    assert response.status_code == 200, response.text
    assert "Added 4 files." in response.text
    for name in ("chart.png", "statement.pdf", "trades.csv", "notes.txt"):
        assert name in response.text
    rows = await Evidence.select().order_by(Evidence.id)
    assert [(r["name"], r["media_type"], r["size"], r["sha256"], r["added_by"]) for r in rows] == [
        ("chart.png", "image/png", len(PNG), sha(PNG), people["alice"].id),
        ("statement.pdf", "application/pdf", len(PDF), sha(PDF), people["alice"].id),
        ("trades.csv", "text/csv", len(CSV), sha(CSV), people["alice"].id),
        ("notes.txt", "text/plain", len(NOTES), sha(NOTES), people["alice"].id),
    ]
    added = (await entries(ref))[before:]
    assert [e["type"] for e in added] == ["evidence.added"]
    assert added[0]["actor"] == {"id": f"user:{people['alice'].id}", "role": "claimant"}
    assert added[0]["body"]["channel"] == "all"
    assert [f["sha256"] for f in added[0]["body"]["files"]] == [r["sha256"] for r in rows]
    assert {r["case_seq"] for r in rows} == {len(await entries(ref)) - 1}
    # Stored by hash, with exactly the bytes sent; no temporary file left behind.
    on_disk = stored_files(settings)
    assert [p.name for p in on_disk] == sorted(sha(d) for d in (PNG, PDF, CSV, NOTES))
    for path in on_disk:
        assert sha(path.read_bytes()) == path.name and path.parent.name == path.name[:2]

    # Everyone on the case sees them, in the room and in the list the room polls.
    ada = await browser(people["ada"])
    listed = await ada.get(f"/cases/{ref}/evidence")
    assert listed.status_code == 200
    assert all(name in listed.text for name in ("chart.png", "trades.csv", sha(PDF)))
    assert 'id="evidence-form"' not in listed.text  # the poll swaps only the list


async def test_the_same_bytes_are_stored_once_and_never_overwritten(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    await upload(alice, ref, [("chart.png", PNG, "image/png")])
    [path] = stored_files(settings)
    first = path.stat()

    ada = await browser(people["ada"])
    response = await upload(ada, ref, [("same-chart.png", PNG, "image/png")])

    assert response.status_code == 200 and "Added 1 file." in response.text
    assert stored_files(settings) == [path]
    again = path.stat()
    assert (again.st_ino, again.st_mtime_ns, again.st_size) == (
        first.st_ino,
        first.st_mtime_ns,
        first.st_size,
    )
    rows = await Evidence.select(Evidence.name, Evidence.sha256, Evidence.added_by)
    assert sorted((r["name"], r["added_by"]) for r in rows) == [
        ("chart.png", people["alice"].id),
        ("same-chart.png", people["ada"].id),
    ]
    assert {r["sha256"] for r in rows} == {sha(PNG)}


FORBIDDEN = [
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(300), "application/octet-stream"),
    ("page.html", b"<!doctype html><script>alert(document.cookie)</script>", "text/html"),
    (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/svg+xml",
    ),
    ("disguised.png", b"<html><script>alert(1)</script></html>", "image/png"),
]


@pytest.mark.parametrize("name,data,claimed", FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
async def test_a_forbidden_type_is_refused_with_a_reason_and_leaves_nothing(
    people, browser, settings, name, data, claimed
):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    before = await entries(ref)

    response = await upload(alice, ref, [(name, data, claimed)])

    assert response.status_code == 200  # htmx swaps 2xx only: the reason must show
    assert f"{name} is not a kind of file we accept." in response.text
    assert "Nothing was added." in response.text
    assert stored_files(settings) == []
    assert await Evidence.count() == 0
    assert await entries(ref) == before


async def test_one_refused_file_does_not_stop_the_others(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)

    response = await upload(
        alice,
        ref,
        [("chart.png", PNG, "image/png"), FORBIDDEN[0], ("empty.txt", b"", "text/plain")],
    )

    assert "Added 1 file." in response.text
    assert "setup.exe is not a kind of file we accept." in response.text
    assert "empty.txt is empty." in response.text
    assert [p.name for p in stored_files(settings)] == [sha(PNG)]
    assert [r["name"] for r in await Evidence.select(Evidence.name)] == ["chart.png"]


async def test_a_file_over_the_limit_is_refused_and_leaves_nothing(settings):
    small = dataclasses.replace(settings, max_upload_mb=1)
    async with running(small) as browser:
        alice = await browser(await make_person("alice", roles.PARTY, SECRET))
        ref = await new_case(alice)
        before = await entries(ref)
        too_big = PDF + bytes(1024 * 1024)

        response = await upload(alice, ref, [("big.pdf", too_big, "application/pdf")])
        assert response.status_code == 200
        assert "big.pdf is larger than the limit of 1 MiB." in response.text
        assert stored_files(small) == []
        assert await Evidence.count() == 0
        assert await entries(ref) == before

        # Without JavaScript the room comes back with the reason.
        plain = await upload(alice, ref, [("big.pdf", too_big, "application/pdf")], htmx=False)
        assert plain.status_code == 400
        assert "big.pdf is larger than the limit of 1 MiB." in plain.text
        assert stored_files(small) == [] and await Evidence.count() == 0

        exactly = PDF + bytes(1024 * 1024 - len(PDF))
        response = await upload(alice, ref, [("limit.pdf", exactly, "application/pdf")])
        assert "Added 1 file." in response.text


async def test_only_the_configured_types_are_accepted(settings):
    pdf_only = dataclasses.replace(settings, evidence_types=frozenset({"application/pdf"}))
    async with running(pdf_only) as browser:
        alice = await browser(await make_person("alice", roles.PARTY, SECRET))
        ref = await new_case(alice)
        response = await upload(
            alice, ref, [("chart.png", PNG, "image/png"), ("statement.pdf", PDF, "application/pdf")]
        )
        assert "chart.png is not a kind of file we accept. Send PDF." in response.text
        assert [r["name"] for r in await Evidence.select(Evidence.name)] == ["statement.pdf"]
        assert [p.name for p in stored_files(pdf_only)] == [sha(PDF)]


def test_the_allow_list_is_read_from_the_environment():
    settings = Settings.from_env({"PORTAL_EVIDENCE_TYPES": "application/pdf, image/png"})
    assert settings.evidence_types == {"application/pdf", "image/png"}
    assert len(Settings.from_env({}).evidence_types) == 15
    with pytest.raises(ConfigurationError, match="image/svg\\+xml"):
        Settings.from_env({"PORTAL_EVIDENCE_TYPES": "image/svg+xml"})


def cut_off_body(boundary: str) -> bytes:
    """One complete file, then a second one that stops midway: no closing boundary."""
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="channel"\r\n\r\nall\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="files"; filename="chart.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + PNG
        + (
            f"\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="files"; filename="statement.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF[: len(PDF) // 2]
    )


async def test_an_upload_cut_off_midway_leaves_nothing(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    before = await entries(ref)
    boundary = "----cut-off-0123456789"

    response = await alice.client.post(
        f"/cases/{ref}/evidence",
        content=cut_off_body(boundary),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRFToken": alice.csrf_token(),
            "HX-Request": "true",
        },
    )

    assert response.status_code == 400
    assert "The upload was cut off or malformed, so nothing was kept." in response.text
    assert stored_files(settings) == []  # not even the complete first file
    assert await Evidence.count() == 0
    assert await entries(ref) == before


async def test_a_failed_transaction_removes_only_the_files_it_stored(
    people, browser, settings, monkeypatch
):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    await upload(alice, ref, [("chart.png", PNG, "image/png")])
    before = await entries(ref)

    async def broken_insert(*rows):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Evidence, "insert", broken_insert)
    response = await upload(
        alice, ref, [("again.png", PNG, "image/png"), ("statement.pdf", PDF, "application/pdf")]
    )

    assert response.status_code == 500
    assert [p.name for p in stored_files(settings)] == [sha(PNG)]  # kept: an earlier row uses it
    assert await entries(ref) == before  # the ledger entry was rolled back with the rows
    assert [r["name"] for r in await Evidence.select(Evidence.name)] == ["chart.png"]


async def test_a_download_is_an_attachment_that_cannot_run_and_is_recorded(people, browser):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    name = '清算 记录 "final".txt'
    await upload(alice, ref, [(name, NOTES, "text/plain"), ("chart.png", PNG, "image/png")])
    rows = {r["name"]: r for r in await Evidence.select()}
    before = len(await entries(ref))

    ada = await browser(people["ada"])
    response = await ada.get(f"/cases/{ref}/evidence/{rows[name]['id']}/download")

    assert response.status_code == 200
    assert response.content == NOTES
    assert response.headers["content-type"] == "application/octet-stream"  # never rendered
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    exact = "filename*=UTF-8''%E6%B8%85%E7%AE%97%20%E8%AE%B0%E5%BD%95%20%22final%22.txt"
    assert disposition.endswith(exact)
    fallback = re.search(r'filename="([^"]*)"', disposition).group(1)
    assert fallback.isascii() and fallback.endswith(".txt")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    [entry] = (await entries(ref))[before:]
    assert entry["type"] == "evidence.downloaded"
    assert entry["actor"] == {"id": f"user:{people['ada'].id}", "role": "agent"}
    assert entry["body"] == {"sha256": sha(NOTES), "name": name, "mode": "download"}

    image = await ada.get(f"/cases/{ref}/evidence/{rows['chart.png']['id']}/download")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("attachment;")
    room = await ada.get(f"/cases/{ref}")
    assert f"downloaded {name}".replace('"', "&#34;") in room.text


async def test_only_images_and_pdfs_preview_in_a_sandboxed_frame(people, browser):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    await upload(
        alice,
        ref,
        [
            ("chart.png", PNG, "image/png"),
            ("statement.pdf", PDF, "application/pdf"),
            ("trades.csv", CSV, "text/csv"),
        ],
    )
    ids = {r["name"]: r["id"] for r in await Evidence.select(Evidence.id, Evidence.name)}
    before = len(await entries(ref))

    frame = await alice.get(
        f"/cases/{ref}/evidence?preview={ids['chart.png']}", headers={"HX-Request": "true"}
    )
    assert frame.status_code == 200
    iframe = re.search(r"<iframe[^>]*>", frame.text).group(0)
    assert re.search(r"\ssandbox\s", iframe) and f'/evidence/{ids["chart.png"]}/preview"' in iframe
    assert len(await entries(ref)) == before  # showing the frame is not reading the file
    # Chromium shows no PDF in a frame with the sandbox attribute: the response's CSP
    # sandboxes it instead (checked below).
    frame = await alice.get(f"/cases/{ref}/evidence?preview={ids['statement.pdf']}")
    iframe = re.search(r"<iframe[^>]*>", frame.text).group(0)
    assert "sandbox" not in iframe and f'/evidence/{ids["statement.pdf"]}/preview"' in iframe

    for name, media_type in (("chart.png", "image/png"), ("statement.pdf", "application/pdf")):
        response = await alice.get(f"/cases/{ref}/evidence/{ids[name]}/preview")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == media_type
        assert response.headers["content-disposition"].startswith("inline;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        policy = response.headers["content-security-policy"]
        assert policy.startswith("sandbox;") and "default-src 'none'" in policy
        assert "frame-ancestors 'self'" in policy and "script-src" not in policy
    previews = (await entries(ref))[before:]
    assert [(e["type"], e["body"]["name"], e["body"]["mode"]) for e in previews] == [
        ("evidence.downloaded", "chart.png", "preview"),
        ("evidence.downloaded", "statement.pdf", "preview"),
    ]

    for path in (
        f"/cases/{ref}/evidence/{ids['trades.csv']}/preview",
        f"/cases/{ref}/evidence?preview={ids['trades.csv']}",
    ):
        assert (await alice.get(path)).status_code == 404, path
    assert len(await entries(ref)) == before + 2


async def test_evidence_of_a_private_channel_is_invisible_to_others(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    ada = await browser(people["ada"])
    response = await upload(ada, ref, [("internal.pdf", PDF, "application/pdf")], channel="staff")
    assert "Added 1 file." in response.text
    [row] = await Evidence.select()
    assert (row["channel"], row["caucus_party"]) == ("staff", None)
    before = await entries(ref)
    assert before[-1]["body"]["channel"] == "staff"

    listed = await alice.get(f"/cases/{ref}/evidence")
    assert "internal.pdf" not in listed.text and sha(PDF) not in listed.text
    assert "internal.pdf" not in (await alice.get(f"/cases/{ref}")).text
    for path in (
        f"/cases/{ref}/evidence/{row['id']}/download",
        f"/cases/{ref}/evidence/{row['id']}/preview",
        f"/cases/{ref}/evidence?preview={row['id']}",
    ):
        assert (await alice.get(path)).status_code == 404, path
    assert await entries(ref) == before

    # Nor can a party put a file where only staff read.
    refused = await upload(alice, ref, [("chart.png", PNG, "image/png")], channel="staff")
    assert refused.status_code == 404
    assert [p.name for p in stored_files(settings)] == [sha(PDF)]

    downloaded = await ada.get(f"/cases/{ref}/evidence/{row['id']}/download")
    assert downloaded.status_code == 200 and downloaded.content == PDF
    entry = (await entries(ref))[-1]
    # The name is text only the channel reads: the ledger, which every party may read
    # (the proof bundle), holds its hash.
    hidden = "sha256:" + hashlib.sha256(b"internal.pdf").hexdigest()
    assert entry["body"] == {
        "sha256": sha(PDF),
        "name": hidden,
        "mode": "download",
        "channel": "staff",
    }
    assert before[-1]["body"]["files"][0]["name"] == hidden
    assert "internal.pdf" not in (await alice.get(f"/cases/{ref}/proof.json")).text
    assert entry["actor"]["role"] == "agent"


async def test_someone_not_on_the_case_gets_404_everywhere(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    await upload(alice, ref, [("chart.png", PNG, "image/png")])
    [row] = await Evidence.select()
    before = await entries(ref)

    eve = await browser(people["eve"])
    for path in (
        f"/cases/{ref}/evidence",
        f"/cases/{ref}/evidence?preview={row['id']}",
        f"/cases/{ref}/evidence/{row['id']}/download",
        f"/cases/{ref}/evidence/{row['id']}/preview",
    ):
        response = await eve.get(path)
        assert response.status_code == 404, path
        unknown = await eve.get(path.replace(ref, "DR-1999-000001"))
        assert response.text.replace(ref, "DR-1999-000001") == unknown.text
    response = await upload(eve, ref, [("mine.pdf", PDF, "application/pdf")])
    assert response.status_code == 404
    assert [p.name for p in stored_files(settings)] == [sha(PNG)]
    assert await Evidence.count() == 1 and await entries(ref) == before
    # A file of another case is not reachable through a case one is on.
    other = await new_case(await browser(people["eve"]))
    assert (await eve.get(f"/cases/{other}/evidence/{row['id']}/download")).status_code == 404


async def test_an_upload_without_its_csrf_token_is_refused_and_stores_nothing(
    people, browser, settings
):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    before = await entries(ref)
    files = [("files", ("chart.png", PNG, "image/png"))]

    missing = await alice.post(
        f"/cases/{ref}/evidence", {"channel": "all"}, files=files, csrf=False
    )
    assert missing.status_code == 403
    wrong = await alice.client.post(
        f"/cases/{ref}/evidence",
        data={"channel": "all"},
        files=files,
        headers={"X-CSRFToken": "forged"},
    )
    assert wrong.status_code == 403
    late = await alice.client.post(  # the field must come before any file
        f"/cases/{ref}/evidence",
        content=(
            b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
            b"\r\n" + PNG + b"\r\n--b\r\nContent-Disposition: form-data; "
            b'name="_csrf_token"\r\n\r\n' + alice.csrf_token().encode() + b"\r\n--b--\r\n"
        ),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert late.status_code == 403
    assert stored_files(settings) == []
    assert await Evidence.count() == 0 and await entries(ref) == before


async def test_the_room_uploads_without_javascript_too(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    room = await alice.get(f"/cases/{ref}")
    form = re.search(r'<form id="evidence-form".*?</form>', room.text, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form and 'hx-encoding="multipart/form-data"' in form
    assert re.search(r'<input id="evidence-files" type="file" name="files" multiple', form)
    assert "<progress hidden" in form
    assert form.index('name="_csrf_token"') < form.index('type="file"')
    assert 'hx-trigger="every 5s"' in room.text

    response = await alice.client.post(
        f"/cases/{ref}/evidence",
        data={"_csrf_token": alice.csrf_token(), "channel": "all"},
        files=[("files", ("chart.png", PNG, "image/png"))],
    )
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{ref}"
    assert "chart.png" in (await alice.get(f"/cases/{ref}")).text
    assert [p.name for p in stored_files(settings)] == [sha(PNG)]


async def test_an_upload_with_no_file_says_to_choose_one(people, browser, settings):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    before = await entries(ref)
    response = await upload(alice, ref, [("", b"", "application/octet-stream")])
    assert response.status_code == 200
    assert "Choose at least one file to add." in response.text
    assert stored_files(settings) == [] and await entries(ref) == before


async def test_the_same_bytes_sent_twice_at_once_are_never_lost(app, people, browser, settings):
    """Request A stores new bytes, request B brings the same bytes and finds them stored.
    If B records them first, A's failure keeps the file; if A's failure removes the file
    first, B refuses with a reason and records nothing. Never a row without its file."""
    from portal.cases import evidence
    from portal.cases.access import case_access
    from portal.cases.uploads import release
    from tests.portal.test_state_table import viewer

    alice = await browser(people["alice"])
    ref = await new_case(alice)
    _case, access = await case_access(await viewer(people["alice"]), ref)
    keyring, channel = app.state.keyring, evidence.Channel("all")

    first = b"bytes that two requests bring at once"
    a = evidence._store_bytes(settings.data_dir, "a.txt", first)
    b = evidence._store_bytes(settings.data_dir, "b.txt", first)
    assert (a.newly_stored, b.newly_stored) == (True, False)
    await evidence.add_files(keyring, ref, access, channel, [b])
    await release(a)  # A fails after B recorded the same bytes
    assert a.path.is_file() and a.path.read_bytes() == first

    second = b"bytes removed before the second request records them"
    a = evidence._store_bytes(settings.data_dir, "a.txt", second)
    b = evidence._store_bytes(settings.data_dir, "b.txt", second)
    await release(a)  # A fails first: nothing refers to the bytes, so they go
    assert not a.path.exists()
    before = await entries(ref)
    with pytest.raises(PortalError, match="was removed while it was being added"):
        await evidence.add_files(keyring, ref, access, channel, [b])
    assert await entries(ref) == before
    assert not await Evidence.exists().where(Evidence.sha256 == sha(second))
