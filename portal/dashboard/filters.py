"""What the dashboard is asked to show: a range of days, and optionally one category and
one priority. Read from the query string, so that a view (and each of its CSV links) can
be bookmarked and shared.

Days are UTC calendar days and the range includes both ends. Without a range the
dashboard shows the last 52 weeks: the current ISO week and the 51 before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from portal.cases.categories import CATEGORIES
from portal.cases.deadlines import PRIORITIES
from portal.errors import FormInvalid
from portal.i18n import _

DEFAULT_WEEKS = 52
LONGEST = timedelta(days=3660)
"""Ten years: a weekly chart of more would be too dense to read."""
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)


@dataclass(frozen=True)
class Filters:
    first_day: date
    last_day: date
    category: str = ""
    priority: str = ""

    @property
    def since(self) -> datetime:
        """The first moment counted."""
        return datetime.combine(self.first_day, time(), tzinfo=UTC)

    @property
    def before(self) -> datetime:
        """The first moment no longer counted: midnight after the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), tzinfo=UTC)

    def query(self) -> dict[str, str]:
        """The query string of this view, for links and for the form."""
        found = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        if self.category:
            found["category"] = self.category
        if self.priority:
            found["priority"] = self.priority
        return found


def default_range(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=DEFAULT_WEEKS - 1), today


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    try:
        day = date.fromisoformat(raw)
        if len(raw) != 10:  # fromisoformat also takes 20261201 and week dates
            raise ValueError
    except ValueError:
        errors[name] = _("Enter a date like 2026-12-01.")
        return None
    if not EARLIEST <= day <= LATEST:
        errors[name] = _("Enter a date between 2000-01-01 and 2999-12-31.")
        return None
    return day


def read_filters(today: date, first: str = "", last: str = "", category: str = "",
                 priority: str = "") -> Filters:  # fmt: skip
    """The query string checked; FormInvalid names each field to fix."""
    errors: dict[str, str] = {}
    default_first, default_last = default_range(today)
    first, last = first.strip(), last.strip()
    first_day = _day(first, "from", errors) if first else default_first
    last_day = _day(last, "to", errors) if last else default_last
    if first_day and last_day and not errors:
        if first_day > last_day:
            errors["to"] = _("The last day must be on or after the first day.")
        elif last_day - first_day >= LONGEST:
            errors["to"] = _("Choose a range of at most ten years.")
    if category and category not in CATEGORIES:
        errors["category"] = _("Choose one of the categories listed.")
    if priority and priority not in PRIORITIES:
        errors["priority"] = _("Choose standard or priority.")
    if errors:
        raise FormInvalid(errors)
    assert first_day is not None and last_day is not None
    return Filters(first_day, last_day, category, priority)
