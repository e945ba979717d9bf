"""Cases, missed deadlines and survey answers with known figures, put straight into the
tables (the dashboard reads them as they stand, however they got there), and the
dashboard's figures worked out again from that list in plain Python, independently of
the SQL that the portal runs: what the tests compare the page and the CSV files with.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from portal.cases.categories import CATEGORIES
from portal.cases.tables import Case, DeadlineReminder, Survey
from portal.procedure.case import STATES

FINAL = ("closed", "withdrawn")
NAMED_OUTCOMES = ("withdrawn", "resolved", "settled", "awarded", "rejected")
OUTCOMES = (*NAMED_OUTCOMES, "impasse")
STAGES = (
    "submitted", "triage", "awaiting_info", "investigation", "assessment", "proposed",
    "objected", "reconsideration", "mediation", "arbitration", "resolved", "appealed",
    "withdrawn", "closed", "settled", "awarded",
)  # fmt: skip
MISSABLE = tuple(s for s in STATES if s not in ("withdrawn", "closed", "rejected", "impasse"))
OPEN = tuple(s for s in STATES if s not in FINAL)
_numbers = itertools.count(1)


@dataclass
class SeededCase:
    id: int
    state: str
    category: str
    priority: str
    filed: datetime
    since: datetime  # state_since: for a final state, when the case was closed or withdrawn
    outcome: str
    outcome_at: datetime | None


@dataclass
class SeededMiss:
    case: SeededCase
    kind: str
    deadline: datetime
    stage: str


@dataclass
class SeededAnswer:
    case: SeededCase
    score: int
    at: datetime


@dataclass
class Seeded:
    cases: list[SeededCase]
    reminders: list[SeededMiss]
    answers: list[SeededAnswer]


async def insert_case(state: str, category: str, priority: str, filed: datetime,
                      since: datetime, outcome: str = "",
                      outcome_at: datetime | None = None) -> SeededCase:  # fmt: skip
    rows = await Case.insert(
        Case(
            ref=f"DR-2098-{next(_numbers):06d}",
            state=state,
            category=category,
            priority=priority,
            contested_resolution="The platform refused a refund.",
            what_happened="A liquidation at the wrong price.",
            remedy_wanted="A refund.",
            happened_on=filed.date(),
            state_since=since,
            outcome=outcome,
            outcome_at=outcome_at,
            filed_at=filed,
            updated_at=since,
        )
    ).returning(Case.id)
    return SeededCase(rows[0]["id"], state, category, priority, filed, since, outcome, outcome_at)


async def seed(start: datetime, cases: int = 120, seed_value: int = 2026) -> Seeded:
    """`cases` cases filed over the 16 weeks from `start`, in every state, category and
    priority, about a third of them closed; a missed deadline (or a reminder that one is
    near) for some, and a survey answer for most of the closed ones. Closed cases took
    whole days, so that medians are exact in any arithmetic."""
    rng = random.Random(seed_value)
    seeded = Seeded([], [], [])
    for _n in range(cases):
        state = "closed" if rng.random() < 0.3 else rng.choice(STATES)
        filed = start + timedelta(hours=rng.randrange(0, 24 * 7 * 16))
        if state == "closed":
            since = filed + timedelta(days=rng.randrange(1, 60))
        else:
            since = filed + timedelta(hours=rng.randrange(1, 24 * 40))
        outcome, outcome_at = "", None
        if state in NAMED_OUTCOMES:
            outcome, outcome_at = state, since
        elif state == "closed":
            outcome, outcome_at = rng.choice(OUTCOMES), filed + (since - filed) / 2
        elif state == "appealed":
            outcome, outcome_at = "rejected", filed + (since - filed) / 2
        case = await insert_case(state, rng.choice(CATEGORIES), rng.choice(("standard",
                                 "priority")), filed, since, outcome, outcome_at)  # fmt: skip
        seeded.cases.append(case)
        for kind in ("overdue", "due_soon"):
            if rng.random() < 0.4:
                deadline = filed + timedelta(hours=rng.randrange(1, 24 * 30))
                miss = SeededMiss(case, kind, deadline, rng.choice(MISSABLE))
                await DeadlineReminder.insert(
                    DeadlineReminder(
                        case=case.id,
                        deadline_at=deadline,
                        kind=kind,
                        stage=miss.stage,
                        sent_at=deadline,
                    )
                )
                seeded.reminders.append(miss)
        if state == "closed" and rng.random() < 0.8:
            answered = since + timedelta(hours=rng.randrange(1, 200))
            answer = SeededAnswer(case, rng.randint(1, 5), answered)
            await Survey.insert(Survey(case=case.id, score=answer.score, created_at=answer.at))
            seeded.answers.append(answer)
    return seeded


# -- The figures, worked out again -------------------------------------------------------------


@dataclass(frozen=True)
class View:
    first: date
    last: date
    category: str = ""
    priority: str = ""

    def params(self) -> dict[str, str]:
        found = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        if self.category:
            found["category"] = self.category
        if self.priority:
            found["priority"] = self.priority
        return found

    def within(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        since = datetime.combine(self.first, time(), tzinfo=UTC)
        before = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)
        return since <= moment < before

    def kept(self, case: SeededCase) -> bool:
        return (not self.category or case.category == self.category) and (
            not self.priority or case.priority == self.priority
        )


def monday(moment: datetime | date) -> str:
    day = moment.date() if isinstance(moment, datetime) else moment
    return (day - timedelta(days=day.weekday())).isoformat()


Figures = dict[str, dict[str, tuple]]


def expected(seeded: Seeded, view: View) -> Figures:
    """Every chart's rows, {key: values}, from the seeded list, in plain Python."""
    cases = [c for c in seeded.cases if view.kept(c)]
    open_now = [c for c in cases if c.state in OPEN and view.within(c.filed)]
    found: Figures = {
        "open-by-state": {s: (sum(c.state == s for c in open_now),) for s in OPEN},
        "open-by-category": {k: (sum(c.category == k for c in open_now),) for k in CATEGORIES},
        "open-by-priority": {
            p: (sum(c.priority == p for c in open_now),) for p in ("standard", "priority")
        },
    }
    weeks = {}
    day = view.first - timedelta(days=view.first.weekday())
    while day <= view.last:
        key = day.isoformat()
        new = sum(view.within(c.filed) and monday(c.filed) == key for c in cases)
        closed = sum(
            c.state in FINAL and view.within(c.since) and monday(c.since) == key for c in cases
        )
        weeks[key] = (new, closed)
        day += timedelta(weeks=1)
    found["weekly"] = weeks
    misses = [
        r for r in seeded.reminders
        if r.kind == "overdue" and view.kept(r.case) and view.within(r.deadline)
    ]  # fmt: skip
    found["missed-deadlines"] = {s: (sum(r.stage == s for r in misses),) for s in MISSABLE}
    resolution = {}
    for category in CATEGORIES:
        days = [
            (c.since - c.filed).total_seconds() / 86400
            for c in cases
            if c.category == category and c.state == "closed" and view.within(c.since)
        ]
        resolution[category] = (round(statistics.median(days), 2) if days else None, len(days))
    found["resolution-time"] = resolution
    reached = [c for c in cases if c.outcome and view.within(c.outcome_at)]
    found["outcomes"] = {o: (sum(c.outcome == o for c in reached),) for o in OUTCOMES}
    answers = [a for a in seeded.answers if view.kept(a.case) and view.within(a.at)]
    found["satisfaction"] = {str(n): (sum(a.score == n for a in answers),) for n in range(1, 6)}
    return found


DRAWN = {"weekly": (0, 1), "resolution-time": (0,)}
"""Which values of each row are drawn as bars: all but the count of closed cases behind
each median, which is in the table and the CSV only."""


def drawn(figures: Figures) -> Figures:
    return {
        slug: {key: tuple(values[n] for n in DRAWN.get(slug, (0,))) for key, values in rows.items()}
        for slug, rows in figures.items()
    }


# -- The figures as the portal shows them -------------------------------------------------------

SECTION = re.compile(r'<section class="card chart[^"]*" id="([a-z-]+)".*?</section>', re.S)
BAR = re.compile(
    r'<g class="bar" data-key="([^"]*)"(?: data-series="([^"]*)")? data-value="([^"]*)">'
)


def _number(text: str) -> int | float | None:
    if text == "":
        return None
    return float(text) if "." in text else int(text)


def on_page(html: str) -> Figures:
    """Each chart's bars, {key: values in series order}, read from the page's SVG."""
    found: Figures = {}
    for match in SECTION.finditer(html):
        rows: dict[str, list] = {}
        for key, _series, value in BAR.findall(match.group(0)):
            rows.setdefault(key, []).append(_number(value))
        found[match.group(1)] = {key: tuple(values) for key, values in rows.items()}
    return found


def in_csv(text: str) -> dict[str, tuple]:
    """A CSV file's rows, {key: values}, without its header and label column."""
    rows = list(csv.reader(io.StringIO(text)))
    return {row[0]: tuple(_number(cell) for cell in row[2:]) for row in rows[1:]}
