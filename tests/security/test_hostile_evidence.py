"""Evidence that lies about itself: whatever its name or claimed type, a file is typed
by its bytes, and stored files are only ever served as attachments or sandboxed
previews that cannot run script in the portal's origin.

HTML, SVG and an HTML file named `.png` are refused outright: see
tests/portal/test_evidence.py::test_a_forbidden_type_is_refused_with_a_reason_and_leaves_nothing.
Here: the tricks that get past that check are refused too, and what passes the
allow-list (a PNG that is also an HTML page, PDF bytes sent as `image/png`, text with
a script in it) is served safely. Chromium's view of the same files is in
test_hostile_evidence_in_chromium.py.
"""

from __future__ import annotations

import re

import pytest

from portal.cases.tables import Evidence
from tests.people import Browser
from tests.portal.test_evidence import entries, new_case, stored_files, upload

SCRIPT = b"<script>document.title='PWNED';document.cookie='pwned=1;path=/'</script>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BOM = b"\xef\xbb\xbf"

# Markup behind a byte-order mark or whitespace is still markup.
REFUSED = [
    ("page.html", BOM + b"<!doctype html>" + SCRIPT, "text/plain"),
    (
        "logo.svg",
        BOM + b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>",
        "text/plain",
    ),
    ("chart.png", b"\r\n\t <html>" + SCRIPT, "image/png"),
]

# (name, bytes, claimed type, the type its bytes show, previewable)
STORED = [
    ("chart.png", PNG_MAGIC + b"<html><body>" + SCRIPT + b"</body></html>", "image/png",
     "image/png", True),
    ("receipt.png", PDF, "image/png", "application/pdf", True),
    ("notes.txt", b"Notes from the call.\n" + SCRIPT + b"\n", "text/html", "text/plain", False),
    ("statement.html", b"Statement of account\n" + SCRIPT, "text/html", "text/plain", False),
    ("table.csv", b"<html>" + SCRIPT, "text/html", "text/csv", False),
]  # fmt: skip
RENDERED = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")


@pytest.mark.parametrize("name,data,claimed", REFUSED, ids=["bom-html", "bom-svg", "spaced-html"])
async def test_markup_behind_a_byte_order_mark_or_whitespace_is_refused(
    people, browser, settings, name, data, claimed
):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    before = await entries(ref)

    response = await upload(alice, ref, [(name, data, claimed)])

    assert f"{name} is not a kind of file we accept." in response.text
    assert stored_files(settings) == [] and await Evidence.count() == 0
    assert await entries(ref) == before


def served_safely(response, disposition: str) -> None:
    assert response.status_code == 200
    content_type = response.headers["content-type"].split(";")[0]
    assert content_type not in RENDERED, content_type
    assert response.headers["content-disposition"].startswith(f"{disposition};")
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = [d.strip() for d in response.headers["content-security-policy"].split(";")]
    assert policy[0] == "sandbox" and "default-src 'none'" in policy  # no allow-scripts
    assert not any(d.startswith("script-src") for d in policy)


@pytest.mark.parametrize("name,data,claimed,shown,previewable", STORED, ids=[s[0] for s in STORED])
async def test_a_file_that_lies_is_typed_by_its_bytes_and_served_without_running(
    people, browser, name, data, claimed, shown, previewable
):
    alice = await browser(people["alice"])
    ref = await new_case(alice)

    response = await upload(alice, ref, [(name, data, claimed)])

    assert "Added 1 file." in response.text, response.text
    [row] = await Evidence.select()
    assert (row["name"], row["media_type"]) == (name, shown)
    ada: Browser = await browser(people["ada"])
    download = await ada.get(f"/cases/{ref}/evidence/{row['id']}/download")
    served_safely(download, "attachment")
    assert download.content == data
    if shown.startswith("text/"):
        assert download.headers["content-type"] == "application/octet-stream"
    preview = await ada.get(f"/cases/{ref}/evidence/{row['id']}/preview")
    if previewable:
        served_safely(preview, "inline")
        assert preview.headers["content-type"] == shown
    else:
        assert preview.status_code == 404


async def test_a_file_name_with_markup_is_shown_as_text(people, browser):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    name = '"><img src=x onerror=alert(1)><svg onload=alert(2)>.png'

    await upload(alice, ref, [(name, PNG_MAGIC + bytes(40), "image/png")])

    room = await alice.get(f"/cases/{ref}")
    assert "<img src=x" not in room.text and "<svg onload" not in room.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;svg onload=alert(2)&gt;.png" in room.text
    [row] = await Evidence.select(Evidence.id)
    download = await alice.get(f"/cases/{ref}/evidence/{row['id']}/download")
    # The header keeps the name, quoted: no header or attribute can be broken out of.
    fallback = re.search(r'filename="([^"]*)"', download.headers["content-disposition"])
    assert fallback and '"' not in fallback.group(1)
