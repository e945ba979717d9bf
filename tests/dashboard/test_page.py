"""Who sees the dashboard, what a bad filter gets, and what the CSV files and charts are
made of: attachment headers, cells a spreadsheet will not run, no inline style.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.cases.tables import DeadlineReminder
from tests.dashboard.seeding import in_csv, insert_case

STAFF = ("ada", "ivy", "sam", "sue")
OTHERS = ("alice", "bob", "eve", "mona", "ari", "lee")
RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


async def test_platform_staff_see_it_and_nobody_else_learns_it_exists(people, browser):
    """Staff get the page and its files, and a link to it; to everyone else it is not
    there (404), as with the other staff pages. A second factor comes first."""
    paths = ("/staff/dashboard", "/staff/dashboard/outcomes.csv")
    for name in (*STAFF, *OTHERS):
        b = await browser(people[name])  # a TOTP code logs in once: one browser each
        expected = 200 if name in STAFF else 404
        for path in paths:
            assert (await b.get(path)).status_code == expected, (name, path)
        nav = (await b.get("/cases")).text
        assert ('href="/staff/dashboard"' in nav) == (name in STAFF), name
    anonymous = await browser()
    for path in paths:
        response = await anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "Enter a date like 2026-12-01."),
        ({"to": "yesterday"}, "Enter a date like 2026-12-01."),
        ({"from": "20260301"}, "Enter a date like 2026-12-01."),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "The last day must be on or after"),
        ({"from": "1999-12-31"}, "Enter a date between 2000-01-01 and 2999-12-31."),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "Choose a range of at most ten years."),
        ({"category": "crypto"}, "Choose one of the categories listed."),
        ({"priority": "urgent"}, "Choose standard or priority."),
    ],
)
async def test_a_bad_filter_says_what_to_fix(people, browser, params, message):
    sue = await browser(people["sue"])
    page = await sue.get("/staff/dashboard", params=params)
    assert page.status_code == 400
    assert message in page.text
    assert 'aria-invalid="true"' in page.text  # next to the field to fix
    assert "<svg" not in page.text
    for field in ("from", "to"):  # what was typed comes back in the form
        if field in params:
            assert f'value="{params[field]}"' in page.text
    csv = await sue.get("/staff/dashboard/weekly.csv", params=params)
    assert csv.status_code == 400
    assert message in csv.text


async def test_a_chart_that_does_not_exist_has_no_csv(people, browser):
    sue = await browser(people["sue"])
    for path in ("/staff/dashboard/nothing.csv", "/staff/dashboard/outcomes",
                 "/staff/dashboard/outcomes.json"):  # fmt: skip
        assert (await sue.get(path)).status_code == 404, path


async def test_csv_is_an_attachment_named_for_its_chart_and_filters(people, browser):
    sue = await browser(people["sue"])
    response = await sue.get(
        "/staff/dashboard/missed-deadlines.csv", params={**RANGE, "category": "liquidation"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="missed-deadlines_2026-03-01_2026-03-31_liquidation.csv"'
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith("\ufeff".encode())  # spreadsheets then read UTF-8
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header == "stage,label,missed"


async def test_a_cell_a_spreadsheet_would_run_is_quoted(people, browser):
    """A stage the portal does not know is shown under its own name: if that name were a
    formula, the CSV file must not hand it to a spreadsheet as one."""
    case = await insert_case(
        "triage", "other", "standard", datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
    )  # fmt: skip
    for n, stage in enumerate(('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)")):
        await DeadlineReminder.insert(
            DeadlineReminder(case=case.id, deadline_at=datetime(2026, 3, 3 + n, tzinfo=UTC),
                             kind="overdue", stage=stage, sent_at=datetime.now(UTC))
        )  # fmt: skip
    sue = await browser(people["sue"])
    text = (await sue.get("/staff/dashboard/missed-deadlines.csv", params=RANGE)).content
    rows = in_csv(text.decode("utf-8-sig"))
    for stage in ('\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)"):
        assert rows[stage] == (1,), rows
    for line in text.decode("utf-8-sig").splitlines()[1:]:
        assert line[0] not in "=+-@", line
    page = await sue.get("/staff/dashboard", params=RANGE)
    assert "=HYPERLINK(&#34;http://x&#34;)" in page.text or "=HYPERLINK(&quot;" in page.text


async def test_charts_need_no_script_and_no_inline_style(people, browser):
    await insert_case("triage", "other", "standard", datetime(2026, 3, 2, tzinfo=UTC),
                      datetime(2026, 3, 2, tzinfo=UTC))  # fmt: skip
    sue = await browser(people["sue"])
    page = (await sue.get("/staff/dashboard", params=RANGE)).text
    assert page.count("<svg") == 8
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"<style", page)
    # Scripts only as files from /static, as on every page.
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/vendor/htmx.min.js" defer>',
        '<script src="/static/js/portal.js" defer>',
    ]
    assert '<link rel="stylesheet" href="/static/css/dashboard.css">' in page
    css = await sue.get("/static/css/dashboard.css")
    assert css.status_code == 200 and ".fill-0" in css.text
    # Each bar says its number in words a screen reader reads.
    assert "<title>In first review: 1</title>" in page
