"""Chromium opens hostile evidence the way a participant would, and no script of it runs
in the portal's origin: not in the room's preview frame, not opened on its own, not
downloaded.

The files carry a script that would retitle the page, set a cookie for the portal and
call the portal back. First a control shows that script doing all three when a page
of the portal's origin is HTML without the portal's headers (a response made up by
the browser, for this control only); then the real portal serves the same script, and
none of the three happens.

The browser fixtures are tests/browser's, imported by tests/security/conftest.py (the
demo portal served by `portal serve`, Debian's Chromium); without Chromium these tests
skip, saying why.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.demo_site import expect, log_in

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def payload(tag: str) -> bytes:
    return (
        "<html><body><script>"
        "document.title = 'PWNED';"
        f"document.cookie = 'pwned-{tag}=1; path=/';"
        f"fetch('/pwned-{tag}').catch(() => null);"
        "try { top.document.title = 'PWNED'; } catch (e) {}"
        "</script></body></html>"
    ).encode()


async def nothing_ran(page, tag: str, requested: list[str]) -> None:
    assert "PWNED" not in await page.title()
    assert not [c for c in await page.context.cookies() if c["name"].startswith("pwned")]
    assert not [url for url in requested if f"/pwned-{tag}" in url], requested


async def test_the_control_script_runs_where_nothing_protects_the_page(
    site, page, browser_problems
):
    """Without this, the test below could pass because the script was broken."""
    tag = uuid.uuid4().hex[:8]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    control = f"{site.base_url}/control-{tag}"
    await page.route(control, lambda route: route.fulfill(
        body=payload(tag), content_type="text/html"
    ))  # fmt: skip
    # The call back is answered here, not by the portal: its 404 would reach the console
    # at a moment of its own, sometimes after the test had already looked.
    await page.route(f"**/pwned-{tag}", lambda route: route.fulfill(status=204))
    async with page.expect_request(f"**/pwned-{tag}"):
        await page.goto(control)
    await expect(page).to_have_title("PWNED")
    assert [c for c in await page.context.cookies() if c["name"] == f"pwned-{tag}"]
    assert not browser_problems.take()


async def test_hostile_files_never_run_script_in_the_portals_origin(site, page, browser_problems):
    tag = uuid.uuid4().hex[:8]
    script = payload(tag)
    files = {
        f"chart-{tag}.png": (PNG_MAGIC + script, "image/png"),  # a PNG and an HTML page
        f"receipt-{tag}.png": (PDF, "image/png"),  # a PDF sent as a PNG
        f"notes-{tag}.txt": (b"Notes from the call.\n" + script, "text/html"),
    }
    refused = f"logo-{tag}.svg"
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    ref = site.case_in("investigation")["ref"]
    await log_in(page, site.person("alice"))
    await page.goto(f"/cases/{ref}")

    await page.set_input_files("#evidence-files", files=[
        {"name": name, "mimeType": claimed, "buffer": data}
        for name, (data, claimed) in files.items()
    ] + [{"name": refused, "mimeType": "image/svg+xml",
          "buffer": b'<svg xmlns="http://www.w3.org/2000/svg">' + script + b"</svg>"}])  # fmt: skip
    await page.click("#evidence-form button[type=submit]")
    await expect(page.locator("#evidence-form [role=status]")).to_have_text("Added 3 files.")
    await expect(page.locator("#evidence-rejected")).to_contain_text(
        f"{refused} is not a kind of file we accept."
    )
    ids = {}
    for name in files:
        item = page.locator("#evidence-list li", has_text=name)
        ids[name] = re.sub(r"\D", "", await item.get_attribute("id") or "")

    # In the room's preview frame.
    polyglot = f"chart-{tag}.png"
    item = page.locator("#evidence-list li", has_text=polyglot)
    await item.get_by_role("link", name="Preview").click()
    frame = page.locator("#evidence-preview iframe")
    await expect(frame).to_be_visible()
    await (await frame.element_handle()).content_frame()
    await page.wait_for_load_state("load")
    await nothing_ran(page, tag, requested)

    # Opened on their own, as a new tab would: the previews render as what their bytes
    # are (an image, a PDF), in a sandbox.
    for name in (polyglot, f"receipt-{tag}.png"):
        response = await page.goto(f"/cases/{ref}/evidence/{ids[name]}/preview")
        assert response is not None and response.status == 200
        assert response.headers["content-type"] in ("image/png", "application/pdf")
        await page.wait_for_load_state("load")
        await nothing_ran(page, tag, requested)

    # Downloads are only ever saved, never shown.
    await page.goto(f"/cases/{ref}")
    for name in files:
        async with page.expect_download() as download:
            await (
                page.locator("#evidence-list li", has_text=name)
                .get_by_role("link", name="Download")
                .click()
            )
        assert (await download.value).suggested_filename == name
    await expect(page).to_have_url(re.compile(rf"/cases/{ref}$"))
    await nothing_ran(page, tag, requested)
    # A sandboxed document may say it blocked something, and a file opened on its own
    # makes Chromium ask for /favicon.ico, which the portal does not have (its pages
    # name /static/favicon.svg); nothing else may be reported.
    unexpected = [
        p for p in browser_problems.take() if "sandbox" not in p.lower() and "/favicon.ico" not in p
    ]
    assert not unexpected, unexpected
