"""The timetable's dates as the tribunal enters them: the steps in their order, who
owes each, and the form read and checked (each date in the future, each after the one
before). Nothing here writes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from portal.errors import FormInvalid
from portal.i18n import _

if TYPE_CHECKING:
    pass


STEPS = ("claim", "defence", "evidence", "reply", "hearing", "closing")
OWED_BY = {
    "claim": "claimant",
    "defence": "respondent",
    "evidence": "both",
    "reply": "claimant",
    "hearing": "tribunal",
    "closing": "both",
}
REASONS_LIMIT = 5_000
PLACE_LIMIT = 500


def step_label(step: str) -> str:
    return {
        "claim": _("Statement of claim"),
        "defence": _("Statement of defence"),
        "evidence": _("Evidence"),
        "reply": _("Reply"),
        "hearing": _("Hearing"),
        "closing": _("Closing submissions"),
    }.get(step, step)


def owed_by_label(owed_by: str) -> str:
    return {
        "claimant": _("the claimant"),
        "respondent": _("the respondent"),
        "both": _("both sides"),
        "tribunal": _("the tribunal"),
    }.get(owed_by, owed_by)


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def shown(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def day(form: dict[str, str], name: str, errors: dict[str, str], at: datetime,
        required: bool = True) -> datetime | None:  # fmt: skip
    """A date from the form, at the end of that day (UTC), after now."""
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter the date, like 2026-12-01.")
        return None
    moment = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
    if moment <= at:
        errors[name] = _("The date must be in the future.")
        return None
    return moment


def hearing(
    form: dict[str, str], errors: dict[str, str], at: datetime
) -> tuple[datetime | None, str]:
    raw = form.get("hearing_on", "").strip()
    if not raw:
        return None, ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["hearing_on"] = _("Enter the date, like 2026-12-01.")
        return None, ""
    try:
        clock = time.fromisoformat(form.get("hearing_time", "").strip())
    except ValueError:
        errors["hearing_time"] = _("Enter the hearing's time (UTC), like 09:30.")
        return None, ""
    place = form.get("hearing_place", "").replace("\r\n", "\n").strip()
    if not place:
        errors["hearing_place"] = _("Give the hearing's address, or its video link.")
    elif len(place) > PLACE_LIMIT:
        errors["hearing_place"] = _("Keep this under %(n)s characters.", n=PLACE_LIMIT)
    moment = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=UTC)
    if moment <= at:
        errors["hearing_on"] = _("The date must be in the future.")
        return None, place
    return moment, place


@dataclass(frozen=True)
class Date:
    step: str
    due_at: datetime
    place: str = ""


def parse(form: dict[str, str], at: datetime) -> list[Date]:
    """The timetable's dates from the form, checked: each in the future, each after the
    one before. FormInvalid names the field to fix."""
    errors: dict[str, str] = {}
    found: list[Date] = []
    for step in STEPS:
        if step == "hearing":
            moment, place = hearing(form, errors, at)
            if moment is not None:
                found.append(Date(step, moment, place))
            continue
        moment = day(form, f"{step}_on", errors, at)
        if moment is not None:
            found.append(Date(step, moment))
    if not errors:
        for before, after in itertools.pairwise(found):
            if after.due_at <= before.due_at:
                field = "hearing_on" if after.step == "hearing" else f"{after.step}_on"
                errors[field] = _(
                    "This date must come after the %(step)s (%(date)s).",
                    step=step_label(before.step).lower(),
                    date=shown(before.due_at),
                )
                break
    if errors:
        raise FormInvalid(errors)
    return found
