"""Adding evidence in the case room with htmx: several files in one upload, a progress
bar that follows it, the list updated in place, and each refused file with its reason."""

from __future__ import annotations

import uuid

from portal.demo import png
from tests.browser.demo_site import expect, log_in, watch_navigations

# What the page records of each progress event of the upload form, after portal.js has
# seen it: the listener is added after portal.js's, and listeners run in the order they
# were added. (The lists' polls send progress events too; they are not the form's.)
RECORD_PROGRESS = """
window.__progress = [];
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest("#evidence-form");
  if (!form) return;
  const bar = form.querySelector("progress");
  window.__progress.push({loaded: event.detail.loaded, total: event.detail.total,
                          shown: !bar.hidden, value: bar.value});
});
"""


def statement_csv(rows: int) -> bytes:
    lines = ["time_utc,order_id,pair,side,price,qty,status"]
    lines += [
        f"2026-10-03T14:{n // 60 % 60:02d}:{n % 60:02d}Z,ORD-{n:08d},BTC-USDT,sell,"
        f"61250.5,0.01,filled"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


async def open_room_as_alice(site, page) -> str:
    ref = site.case_in("investigation")["ref"]
    await log_in(page, site.person("alice"))
    await page.goto(f"/cases/{ref}")
    await expect(page.locator("#evidence-form")).to_be_visible()
    return ref


async def test_two_files_go_up_at_once_with_a_progress_bar_and_reach_lee_by_polling(
    site, page, new_page
):
    tag = uuid.uuid4().hex[:8]
    # Big enough that the upload, not the answer, is the largest thing the bar follows.
    orders = statement_csv(30_000)
    chart = png(320, 200, (31, 95, 191))
    files = [
        {"name": f"orders-{tag}.csv", "mimeType": "text/csv", "buffer": orders},
        {"name": f"chart-{tag}.png", "mimeType": "image/png", "buffer": chart},
    ]
    ref = await open_room_as_alice(site, page)
    lees_page = await new_page()
    await log_in(lees_page, site.person("lee"))
    await lees_page.goto(f"/cases/{ref}")
    await expect(lees_page.locator("#evidence-list")).to_be_visible()
    lees_loads = await watch_navigations(lees_page)
    loads = await watch_navigations(page)
    await page.evaluate(RECORD_PROGRESS)

    await page.set_input_files("#evidence-files", files=files)
    await page.click("#evidence-form button[type=submit]")

    await expect(page.locator("#evidence-form [role=status]")).to_have_text("Added 2 files.")
    for f in files:
        await expect(page.locator("#evidence-list li", has_text=f["name"])).to_have_count(1)
    assert await page.evaluate("window.__marker") == 1, "the page was loaded again"
    assert loads == []

    progress = await page.evaluate("window.__progress")
    uploads = [p for p in progress if p["total"] > len(orders)]
    assert uploads, f"no progress event for the upload itself: {progress}"
    assert all(p["shown"] for p in uploads), progress
    assert all(p["value"] == round(100 * p["loaded"] / p["total"]) for p in uploads), progress
    assert uploads[-1]["value"] == 100, progress
    # The form that came back is ready for the next files.
    await expect(page.locator("#evidence-form progress")).to_be_hidden()
    await expect(page.locator("#evidence-files")).to_have_value("")

    # Lee, from legal, sees them arrive as his page polls the list.
    for f in files:
        await expect(lees_page.locator("#evidence-list li", has_text=f["name"])).to_have_count(1)
    assert await lees_page.evaluate("window.__marker") == 1, "Lee's page was loaded again"
    assert lees_loads == []


async def test_a_program_is_refused_with_its_reason_and_nothing_is_added(site, page):
    name = f"statement-{uuid.uuid4().hex[:8]}.exe"
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(2048)
    await open_room_as_alice(site, page)
    before = await page.locator("#evidence-list li").count()
    loads = await watch_navigations(page)

    await page.set_input_files(
        "#evidence-files",
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": program}],
    )
    await page.click("#evidence-form button[type=submit]")

    await expect(page.locator("#evidence-rejected")).to_contain_text(
        f"{name} is not a kind of file we accept."
    )
    await expect(page.locator("#evidence-form [role=status]")).to_have_text("Nothing was added.")
    await expect(page.locator("#evidence-files")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#evidence-list li")).to_have_count(before)
    await expect(page.locator("#evidence-list")).not_to_contain_text(name)
    assert await page.evaluate("window.__marker") == 1, "the page was loaded again"
    assert loads == []
