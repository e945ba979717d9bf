"""The dashboard's aggregate queries, one per chart (three charts share the first), in SQL
that PostgreSQL and SQLite both run: where they differ (a timestamp's day, days between two
times, a median) the engine in use picks its own spelling. `figures` lays out what they
return; `tests/bench/dashboard.py` times each alone.
"""

from __future__ import annotations

from typing import Any

from portal.cases.tables import Case
from portal.dashboard.filters import Filters
from portal.procedure import case as st

OPEN_STATES = tuple(state for state in st.STATES if state in st.OPEN_STATES)


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


async def fetch_rows(sql: str, args: list[Any]) -> list[dict[str, Any]]:
    """Run one of the queries below: `fetch_rows(*open_cases_sql(filters))`."""
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
