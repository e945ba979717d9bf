"""Deadlines: how long each stage may take, per priority, and the clock that pauses.

The policy is a table supervisors edit; a stage without a row there takes the default
hours the case's table (`portal.procedure.case`) declares for it. While a case waits on
the claimant (`awaiting_info`) the staff's clock stops: what was left of it is kept and
given back when the claimant answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.cases.tables import DeadlinePolicy
from portal.procedure.case import CASE

PRIORITIES = ("standard", "priority")

DEFAULTS: dict[str, tuple[int, int]] = {
    state.name: (state.hours.standard, state.hours.priority)
    for state in CASE.states
    if state.hours is not None
}
"""(standard hours, priority hours) per stage, as the case's table declares them."""

OWNER: dict[str, str] = {state.name: state.owner for state in CASE.states if state.owner}
"""Who owes the next step in each state (the table's `owner`)."""

_clock_offset = timedelta(0)


def now() -> datetime:
    """The portal's clock. Tests move it forward (`advance_clock`) instead of sleeping."""
    return datetime.now(UTC) + _clock_offset


def advance_clock(by: timedelta) -> None:
    global _clock_offset
    _clock_offset += by


def reset_clock() -> None:
    global _clock_offset
    _clock_offset = timedelta(0)


async def policy() -> dict[tuple[str, str], int]:
    """Hours per (stage, priority): the defaults, overridden by the supervisors' table."""
    hours = {
        (stage, level): pair[index]
        for stage, pair in DEFAULTS.items()
        for index, level in enumerate(PRIORITIES)
    }
    for row in await DeadlinePolicy.select():
        hours[(row["stage"], row["priority"])] = row["hours"]
    return hours


async def stage_deadline(stage: str, priority: str, start: datetime) -> datetime | None:
    hours = (await policy()).get((stage, priority if priority in PRIORITIES else "standard"))
    return start + timedelta(hours=hours) if hours is not None else None


def remaining(case: dict[str, Any], at: datetime) -> int | None:
    """Seconds left on the case's current deadline (negative when overdue)."""
    deadline = case.get("deadline_at")
    if deadline is None:
        return None
    deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
    return int((deadline - at).total_seconds())


async def set_policy(stage: str, priority: str, hours: int) -> None:
    # One statement, so two supervisors saving at once cannot both try to insert.
    await DeadlinePolicy.raw(
        "INSERT INTO deadline_policy (stage, priority, hours) VALUES ({}, {}, {}) "
        "ON CONFLICT (stage, priority) DO UPDATE SET hours = EXCLUDED.hours",
        stage,
        priority,
        hours,
    )
