"""The numbers behind each chart of the staff dashboard, each from one aggregate query.

The database counts, groups and takes medians (GROUP BY, COUNT, window functions);
Python only lays the few groups that come back into rows, with a zero for every group
that had no case, so a chart always has the same bars. The work therefore grows with
the number of groups, not of cases: `tests/bench/dashboard.py` times it at 100,000.
The queries themselves are in `queries`.

What each chart counts, and which date the range applies to (every chart also keeps
only the chosen category and priority, as the case has them now):

- open cases by state, category and priority: cases open now (neither closed nor
  withdrawn) that were filed in the range;
- new and closed cases per ISO week: cases filed in each week, and cases that reached
  `closed` or `withdrawn` in it (`state_since` of a final state: a case never leaves one);
- deadlines missed per stage: `overdue` reminders (`deadline_reminder`) whose deadline
  fell in the range; the sweep writes one, once, when it finds a deadline passed while
  the case was still in that stage. Waiting for an appeal or for a request for
  arbitration has no such reminder: those are a party's rights, not steps owed;
- median days to resolution by category: from filing to closing, for cases closed in the
  range; withdrawn cases are left out, they were not resolved;
- outcomes: each case's outcome (`Case.outcome`), counted when it was reached;
- satisfaction: the claimants' survey scores, 1 to 5, given in the range.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.cases.categories import CATEGORIES, category_label, state_label
from portal.cases.deadlines import PRIORITIES
from portal.cases.queues import priority_label
from portal.cases.sweep import REMINDED_STATES
from portal.dashboard.filters import Filters
from portal.dashboard.queries import (
    OPEN_STATES,
    fetch_rows,
    missed_sql,
    open_cases_sql,
    outcomes_sql,
    resolution_sql,
    satisfaction_sql,
    weekly_sql,
)
from portal.i18n import _, ngettext
from portal.procedure import case as st

Value = int | float | None


@dataclass(frozen=True)
class Series:
    """One column of numbers: `name` heads it in the CSV, `label` in the chart's legend."""

    name: str
    label: str
    drawn: bool = True  # a bar of its own in the chart, or only in the table and CSV


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    values: tuple[Value, ...]


@dataclass
class Figure:
    """One chart's numbers: a row per bar (or per week), a value per series."""

    slug: str  # its CSV is /staff/dashboard/<slug>.csv
    title: str
    note: str  # what is counted, shown under the chart
    key_name: str  # heads the key column of the CSV
    series: tuple[Series, ...]
    rows: list[Row] = field(default_factory=list)
    by_week: bool = False
    summary: str = ""

    @property
    def key_label(self) -> str:
        """Heads the column of bar labels in the page's table of the numbers."""
        return {
            "state": _("State"),
            "category": _("Category"),
            "priority": _("Priority"),
            "week": _("Week"),
            "stage": _("Stage"),
            "outcome": _("Outcome"),
            "score": _("Score"),
        }[self.key_name]

    @property
    def drawn(self) -> list[int]:
        return [n for n, series in enumerate(self.series) if series.drawn]

    @property
    def empty(self) -> bool:
        return not any(row.values[n] for row in self.rows for n in self.drawn)


def outcome_label(outcome: str) -> str:
    if outcome == st.IMPASSE:
        return _("Closed after an impasse")
    return state_label(outcome)


def stage_label(stage: str) -> str:
    return state_label(stage) if stage else _("Stage not recorded")


MISSABLE_STAGES = tuple(state for state in st.STATES if state in REMINDED_STATES)
SCORES = ("1", "2", "3", "4", "5")


# -- The figures ----------------------------------------------------------------------------


def _cases_series() -> tuple[Series, ...]:
    return (Series("cases", _("Cases")),)


async def open_figures(filters: Filters) -> list[Figure]:
    counts: dict[tuple[str, str], int] = {}
    for row in await fetch_rows(*open_cases_sql(filters)):
        for dimension in ("state", "category", "priority"):
            key = (dimension, row[dimension])
            counts[key] = counts.get(key, 0) + int(row["cases"])
    note = _("Cases open now (neither closed nor withdrawn) that were filed in the range.")

    def figure(slug: str, title: str, dimension: str, keys: tuple[str, ...],
               label: Callable[[str], str]) -> Figure:  # fmt: skip
        rows = [Row(key, label(key), (counts.get((dimension, key), 0),)) for key in keys]
        return Figure(slug, title, note, dimension, _cases_series(), rows)

    return [
        figure("open-by-state", _("Open cases by state"), "state", OPEN_STATES, state_label),
        figure(
            "open-by-category",
            _("Open cases by category"),
            "category",
            CATEGORIES,
            category_label,
        ),
        figure(
            "open-by-priority",
            _("Open cases by priority"),
            "priority",
            PRIORITIES,
            priority_label,
        ),
    ]


def weeks_of(filters: Filters) -> list[date]:
    """The Monday of every ISO week the range touches, in order."""
    monday = filters.first_day - timedelta(days=filters.first_day.weekday())
    found = []
    while monday <= filters.last_day:
        found.append(monday)
        monday += timedelta(weeks=1)
    return found


def week_label(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


async def weekly_figure(filters: Filters) -> Figure:
    counts: dict[tuple[str, str], int] = {}
    for row in await fetch_rows(*weekly_sql(filters)):
        day = date.fromisoformat(str(row["day"]))
        key = (row["series"], (day - timedelta(days=day.weekday())).isoformat())
        counts[key] = counts.get(key, 0) + int(row["cases"])
    rows = [
        Row(monday.isoformat(), week_label(monday),
            (counts.get(("new", monday.isoformat()), 0),
             counts.get(("closed", monday.isoformat()), 0)))
        for monday in weeks_of(filters)
    ]  # fmt: skip
    return Figure(
        "weekly",
        _("New and closed cases per week"),
        _(
            "Cases filed in each ISO week (Monday to Sunday, UTC), and cases closed or "
            "withdrawn in it. The first and last weeks count only the days in the range."
        ),
        "week",
        (Series("new", _("New")), Series("closed", _("Closed or withdrawn"))),
        rows,
        by_week=True,
    )


def _counted(
    counts: dict[str, int], known: Sequence[str], label: Callable[[str], str]
) -> list[Row]:
    """A bar for every known key, in its order and zero when none came back, then one for
    any other key the database holds (a stage or outcome no longer used, say)."""
    keys = list(known) + [key for key in sorted(counts) if key not in known]
    return [Row(key, label(key), (counts.get(key, 0),)) for key in keys]


async def missed_figure(filters: Filters) -> Figure:
    counts = {row["stage"]: int(row["missed"]) for row in await fetch_rows(*missed_sql(filters))}
    rows = _counted(counts, MISSABLE_STAGES, stage_label)
    return Figure(
        "missed-deadlines",
        _("Deadlines missed per stage"),
        _(
            "Deadlines that fell in the range and passed while the case was still in that "
            "stage, as the deadline sweep found them (it looks once a minute). The windows "
            "to appeal a rejection or to ask for arbitration are a party's rights, not "
            "steps owed, and are not counted."
        ),
        "stage",
        (Series("missed", _("Deadlines missed")),),
        rows,
    )


async def resolution_figure(filters: Filters) -> Figure:
    found = {row["category"]: row for row in await fetch_rows(*resolution_sql(filters))}
    rows = []
    for category in CATEGORIES:
        row = found.get(category)
        median = round(float(row["median_days"]), 2) if row else None
        rows.append(Row(category, category_label(category),
                        (median, int(row["cases"]) if row else 0)))  # fmt: skip
    return Figure(
        "resolution-time",
        _("Median days to resolution by category"),
        _(
            "From filing to closing, for the cases closed in the range; half of them took "
            "less time, half more. Withdrawn cases are left out: they were not resolved."
        ),
        "category",
        (Series("median_days", _("Median days")), Series("cases", _("Cases closed"), False)),
        rows,
    )


async def outcomes_figure(filters: Filters) -> Figure:
    counts = {row["outcome"]: int(row["cases"]) for row in await fetch_rows(*outcomes_sql(filters))}
    rows = _counted(counts, st.OUTCOMES, outcome_label)
    return Figure(
        "outcomes",
        _("Outcomes"),
        _(
            "How cases ended, counted on the day the outcome was reached. A resolved, "
            "settled or awarded case keeps its outcome once closed; a rejection overturned "
            "on appeal is no longer counted."
        ),
        "outcome",
        _cases_series(),
        rows,
    )


async def satisfaction_figure(filters: Filters) -> Figure:
    counts = {str(row["score"]): int(row["answers"])
              for row in await fetch_rows(*satisfaction_sql(filters))}  # fmt: skip
    rows = [Row(score, score, (counts.get(score, 0),)) for score in SCORES]
    answers = sum(counts.get(score, 0) for score in SCORES)
    summary = _("No answers in the range.")
    if answers:
        mean = sum(int(score) * counts.get(score, 0) for score in SCORES) / answers
        summary = ngettext("%(num)d answer, %(mean)s on average.",
                           "%(num)d answers, %(mean)s on average.", answers,
                           mean=f"{mean:.2f}")  # fmt: skip
    return Figure(
        "satisfaction",
        _("Satisfaction scores"),
        _(
            "The claimants' answers to the survey at the end of their case, from 1 (worst) "
            "to 5 (best), given in the range."
        ),
        "score",
        (Series("answers", _("Answers")),),
        rows,
        summary=summary,
    )


FIGURES: dict[str, Callable[[Filters], Awaitable[Figure]]] = {
    "open-by-state": lambda f: _one_of(open_figures(f), 0),
    "open-by-category": lambda f: _one_of(open_figures(f), 1),
    "open-by-priority": lambda f: _one_of(open_figures(f), 2),
    "weekly": weekly_figure,
    "missed-deadlines": missed_figure,
    "resolution-time": resolution_figure,
    "outcomes": outcomes_figure,
    "satisfaction": satisfaction_figure,
}
"""Each chart's figure by its slug, for its CSV."""


async def _one_of(figures: Awaitable[list[Figure]], index: int) -> Figure:
    return (await figures)[index]


async def figure(slug: str, filters: Filters) -> Figure | None:
    make = FIGURES.get(slug)
    return await make(filters) if make else None


async def dashboard(filters: Filters) -> list[Figure]:
    """Every chart, in the page's order: eight charts from six queries, sent together so
    that the database answers them side by side (each on a connection of the pool)."""
    opened, *others = await asyncio.gather(
        open_figures(filters),
        weekly_figure(filters),
        missed_figure(filters),
        resolution_figure(filters),
        outcomes_figure(filters),
        satisfaction_figure(filters),
    )
    return [*opened, *others]
