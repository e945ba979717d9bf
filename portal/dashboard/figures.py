"""The numbers behind each chart of the staff dashboard, each from one aggregate query.

The database counts, groups and takes medians (GROUP BY, COUNT, window functions);
Python only lays the few groups that come back into rows, with a zero for every group
that had no case, so a chart always has the same bars. The work therefore grows with
the number of groups, not of cases: `tests/bench/dashboard.py` times it at 100,000.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from portal.cases import states as st
from portal.cases.categories import CATEGORIES, category_label, state_label
from portal.cases.deadlines import PRIORITIES
from portal.cases.queues import priority_label
from portal.cases.sweep import REMINDED_STATES
from portal.cases.tables import Case
from portal.dashboard.filters import Filters
from portal.i18n import _, ngettext

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


OPEN_STATES = tuple(state for state in st.STATES if state in st.OPEN_STATES)
MISSABLE_STAGES = tuple(state for state in st.STATES if state in REMINDED_STATES)
SCORES = ("1", "2", "3", "4", "5")


# -- SQL that differs between the engines --------------------------------------------------


def _sqlite() -> bool:
    return bool(Case._meta.db.engine_type == "sqlite")


def _day(column: str) -> str:
    """The UTC day of a timestamp, as text YYYY-MM-DD or a date."""
    if _sqlite():
        # Piccolo keeps a timestamptz on SQLite as UTC text, "YYYY-MM-DD HH:MM:SS...":
        # its first ten characters are the day, cheaper to cut than date() is to parse.
        return f"substr({column}, 1, 10)"
    return f"CAST({column} AT TIME ZONE 'UTC' AS date)"


def _days_between(start: str, end: str) -> str:
    if _sqlite():
        return f"(julianday({end}) - julianday({start}))"
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


def _marks(values: tuple[str, ...] | frozenset[str]) -> str:
    return ", ".join("{}" for _value in values)


def _joined_case(filters: Filters, foreign_key: str) -> str:
    """The JOIN to the case, for a count of rows of another table: only when a category
    or priority is chosen, since reading the case for every row is most of the work."""
    if not (filters.category or filters.priority):
        return ""
    return f"JOIN dispute_case c ON c.id = {foreign_key} "


def _case_filters(filters: Filters) -> tuple[str, list[Any]]:
    """The category and priority conditions on the case `c`, with their arguments."""
    where, args = "", []
    if filters.category:
        where += " AND c.category = {}"
        args.append(filters.category)
    if filters.priority:
        where += " AND c.priority = {}"
        args.append(filters.priority)
    return where, args


async def _rows(sql: str, args: list[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Case.raw(sql, *args)
    return rows


# -- The queries ----------------------------------------------------------------------------


def open_cases_sql(filters: Filters) -> tuple[str, list[Any]]:
    """Open cases filed in the range, counted per (state, category, priority): one
    query for the three charts of open cases, which add up its few dozen groups."""
    more, more_args = _case_filters(filters)
    sql = (
        "SELECT c.state, c.category, c.priority, COUNT(*) AS cases FROM dispute_case c "
        f"WHERE c.filed_at >= {{}} AND c.filed_at < {{}} AND c.state IN ({_marks(OPEN_STATES)})"
        f"{more} GROUP BY c.state, c.category, c.priority"
    )
    return sql, [filters.since, filters.before, *OPEN_STATES, *more_args]


def weekly_sql(filters: Filters) -> tuple[str, list[Any]]:
    """Cases filed, and cases closed or withdrawn, per day: folded into ISO weeks by
    `weekly_figure`, a few hundred groups at most. Grouping by day costs the database
    less than working out each row's week."""
    more, more_args = _case_filters(filters)
    final = tuple(sorted(st.FINAL_STATES))
    sql = (
        f"SELECT 'new' AS series, {_day('c.filed_at')} AS day, COUNT(*) AS cases "
        "FROM dispute_case c WHERE c.filed_at >= {} AND c.filed_at < {}"
        f"{more} GROUP BY {_day('c.filed_at')} "
        "UNION ALL "
        f"SELECT 'closed' AS series, {_day('c.state_since')} AS day, COUNT(*) AS cases "
        f"FROM dispute_case c WHERE c.state IN ({_marks(final)}) "
        "AND c.state_since >= {} AND c.state_since < {}"
        f"{more} GROUP BY {_day('c.state_since')}"
    )
    args = [filters.since, filters.before, *more_args, *final, filters.since, filters.before,
            *more_args]  # fmt: skip
    return sql, args


def missed_sql(filters: Filters) -> tuple[str, list[Any]]:
    more, more_args = _case_filters(filters)
    joined = _joined_case(filters, 'r."case"')
    sql = (
        f"SELECT r.stage, COUNT(*) AS missed FROM deadline_reminder r {joined}"
        "WHERE r.kind = 'overdue' AND r.deadline_at >= {} AND r.deadline_at < {}"
        f"{more} GROUP BY r.stage"
    )
    return sql, [filters.since, filters.before, *more_args]


def resolution_sql(filters: Filters) -> tuple[str, list[Any]]:
    """The median days from filing to closing per category. PostgreSQL has the median
    itself; SQLite has none, so the middle row (or the two middle rows' mean) of each
    category is picked out by numbering the rows in order with a window function."""
    more, more_args = _case_filters(filters)
    days = _days_between("c.filed_at", "c.state_since")
    closed = (
        "FROM dispute_case c WHERE c.state = 'closed' "
        f"AND c.state_since >= {{}} AND c.state_since < {{}}{more}"
    )
    args = [filters.since, filters.before, *more_args]
    if not _sqlite():
        sql = (
            "SELECT c.category, COUNT(*) AS cases, "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) AS median_days "
            f"{closed} GROUP BY c.category"
        )
        return sql, args
    sql = (
        "SELECT category, MAX(n) AS cases, AVG(days) AS median_days FROM ("
        "SELECT category, days, "
        "ROW_NUMBER() OVER (PARTITION BY category ORDER BY days) AS place, "
        "COUNT(*) OVER (PARTITION BY category) AS n FROM ("
        f"SELECT c.category AS category, {days} AS days {closed}) AS closed_cases"
        ") AS ranked WHERE place IN ((n + 1) / 2, (n + 2) / 2) GROUP BY category"
    )
    return sql, args


def outcomes_sql(filters: Filters) -> tuple[str, list[Any]]:
    more, more_args = _case_filters(filters)
    sql = (
        "SELECT c.outcome, COUNT(*) AS cases FROM dispute_case c "
        "WHERE c.outcome_at >= {} AND c.outcome_at < {} AND c.outcome <> ''"
        f"{more} GROUP BY c.outcome"
    )
    return sql, [filters.since, filters.before, *more_args]


def satisfaction_sql(filters: Filters) -> tuple[str, list[Any]]:
    more, more_args = _case_filters(filters)
    joined = _joined_case(filters, 's."case"')
    sql = (
        f"SELECT s.score, COUNT(*) AS answers FROM case_survey s {joined}"
        f"WHERE s.created_at >= {{}} AND s.created_at < {{}}{more} GROUP BY s.score"
    )
    return sql, [filters.since, filters.before, *more_args]


# -- The figures ----------------------------------------------------------------------------

def _cases_series() -> tuple[Series, ...]:
    return (Series("cases", _("Cases")),)


async def open_figures(filters: Filters) -> list[Figure]:
    counts: dict[tuple[str, str], int] = {}
    for row in await _rows(*open_cases_sql(filters)):
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
            "open-by-category", _("Open cases by category"), "category", CATEGORIES,
            category_label,
        ),
        figure(
            "open-by-priority", _("Open cases by priority"), "priority", PRIORITIES,
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
    for row in await _rows(*weekly_sql(filters)):
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


async def missed_figure(filters: Filters) -> Figure:
    counts = {row["stage"]: int(row["missed"]) for row in await _rows(*missed_sql(filters))}
    stages = list(MISSABLE_STAGES) + [s for s in sorted(counts) if s not in MISSABLE_STAGES]
    rows = [Row(stage, stage_label(stage), (counts.get(stage, 0),)) for stage in stages]
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
    found = {row["category"]: row for row in await _rows(*resolution_sql(filters))}
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
    counts = {row["outcome"]: int(row["cases"]) for row in await _rows(*outcomes_sql(filters))}
    keys = list(st.OUTCOMES) + [k for k in sorted(counts) if k not in st.OUTCOMES]
    rows = [Row(key, outcome_label(key), (counts.get(key, 0),)) for key in keys]
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
              for row in await _rows(*satisfaction_sql(filters))}  # fmt: skip
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


FIGURES: dict[str, Callable[[Filters], Any]] = {
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
