"""The dashboard's figures, on the page and in every CSV file, are the counts worked out
again in the test from the seeded cases; filters change them as they should.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.cases import deadlines
from tests.dashboard.seeding import (
    View,
    drawn,
    expected,
    in_csv,
    insert_case,
    on_page,
    seed,
)

START = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday; cases are filed over 16 weeks
SLUGS = (
    "open-by-state", "open-by-category", "open-by-priority", "weekly", "missed-deadlines",
    "resolution-time", "outcomes", "satisfaction",
)  # fmt: skip
# The range starts and ends mid-week, and leaves cases out at both ends.
VIEWS = (
    View(date(2026, 1, 14), date(2026, 4, 9)),
    View(date(2026, 1, 14), date(2026, 4, 9), category="liquidation"),
    View(date(2026, 1, 1), date(2026, 12, 31), priority="priority"),
    View(date(2026, 2, 1), date(2026, 6, 30), category="trade_execution", priority="standard"),
)


@pytest.fixture
async def seeded(app):
    return await seed(START)


@pytest.fixture
async def sue(people, browser):
    return await browser(people["sue"])


async def test_the_page_and_every_csv_show_the_seeded_figures(seeded, sue):
    for view in VIEWS:
        want = expected(seeded, view)
        response = await sue.get("/staff/dashboard", params=view.params())
        assert response.status_code == 200, response.text
        assert on_page(response.text) == drawn(want), view
        for slug in SLUGS:
            got = await sue.get(f"/staff/dashboard/{slug}.csv", params=view.params())
            assert got.status_code == 200, (slug, got.text)
            assert in_csv(got.content.decode("utf-8-sig")) == want[slug], (view, slug)


async def test_the_seeded_figures_are_worth_comparing(seeded):
    """The comparison above means something only if the seeded list gives non-zero counts
    in every chart, and medians of both odd and even numbers of cases."""
    want = expected(seeded, VIEWS[0])
    for slug in SLUGS:
        assert any(any(values) for values in want[slug].values()), slug
    counts = {cases for _median, cases in want["resolution-time"].values() if cases}
    assert any(n % 2 for n in counts) and any(n % 2 == 0 for n in counts), counts
    # The filters do change the figures.
    assert expected(seeded, VIEWS[1]) != want


async def test_each_csv_link_on_the_page_carries_the_filters(seeded, sue):
    view = VIEWS[1]
    page = (await sue.get("/staff/dashboard", params=view.params())).text
    for slug in SLUGS:
        link = (
            f'href="/staff/dashboard/{slug}.csv?from=2026-01-14&amp;to=2026-04-09'
            f'&amp;category=liquidation"'
        )
        assert link in page, slug


async def test_without_filters_the_last_52_weeks_are_shown(app, people, browser):
    today = deadlines.now().date()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=51)
    noon = datetime.combine(first, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    await insert_case("triage", "other", "standard", noon, noon)  # the first day counted
    await insert_case("triage", "other", "standard", noon - timedelta(days=1), noon)  # before
    sue = await browser(people["sue"])
    response = await sue.get("/staff/dashboard")
    assert response.status_code == 200
    shown = on_page(response.text)
    assert shown["open-by-state"]["triage"] == (1,)
    assert list(shown["weekly"]) == [(first + timedelta(weeks=n)).isoformat() for n in range(52)]
    assert shown["weekly"][first.isoformat()] == (1, 0)
    assert f'value="{first.isoformat()}"' in response.text
    assert f'value="{today.isoformat()}"' in response.text


async def test_labels_are_in_the_viewers_language(seeded, people, browser):
    sue = await browser(people["sue"])
    await sue.post("/account/language", {"language": "zh_Hans"})
    got = await sue.get("/staff/dashboard/open-by-state.csv", params=VIEWS[0].params())
    labels = {row.split(",")[0]: row.split(",")[1]
              for row in got.content.decode("utf-8-sig").splitlines()[1:]}  # fmt: skip
    assert labels["triage"] == "初审中"
    page = await sue.get("/staff/dashboard", params=VIEWS[0].params())
    assert "初审中" in page.text


async def test_satisfaction_says_how_many_answered_and_the_mean(seeded, sue):
    view = VIEWS[0]
    scores = expected(seeded, view)["satisfaction"]
    answers = sum(count for (count,) in scores.values())
    mean = sum(int(score) * count for score, (count,) in scores.items()) / answers
    page = (await sue.get("/staff/dashboard", params=view.params())).text
    assert f"{answers} answers, {mean:.2f} on average." in page
    empty = await sue.get("/staff/dashboard", params={"from": "2020-01-01", "to": "2020-01-31"})
    assert "No answers in the range." in empty.text
    assert empty.text.count("Nothing to count in this range.") == 8
