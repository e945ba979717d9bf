"""The deadline policy page: how many hours each stage may take, per priority.

Supervisors set the policy, so the page is theirs alone: to anyone else `/staff/deadlines`
does not exist (404), as with the other supervisors' pages. Everyone else meets the
policy where it matters, as the deadline shown on each case.

A change applies to deadlines set from then on; a deadline already running keeps its
time. The table itself is the record of the policy (the ledger is per case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template

from portal.cases import deadlines
from portal.cases.tables import DeadlinePolicy
from portal.database import write_transaction
from portal.errors import FormInvalid
from portal.i18n import _
from portal.web.pages import page
from portal.web.viewer import supervisor_only

Req = Request[Any, Any, Any]

FEWEST_HOURS, MOST_HOURS = 1, 2160  # 90 days
FIXED_STAGES = ("awaiting_info", "rejected")
"""Stages whose deadline the policy does not set: whoever asks for information gives the
due date, and the 14 days to appeal a rejection are the appeal rules'."""
STAGES = tuple(stage for stage in deadlines.DEFAULTS if stage not in FIXED_STAGES)


def field_name(stage: str, priority: str) -> str:
    return f"{stage}.{priority}"


@dataclass(frozen=True)
class Change:
    stage: str
    priority: str
    before: int
    after: int


def read_hours(
    form: dict[str, str], current: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """The hours the form asks for; a stage left out of the form keeps its hours.

    FormInvalid names every field that is not a whole number of hours in range.
    """
    wanted: dict[tuple[str, str], int] = {}
    errors: dict[str, str] = {}
    for stage in STAGES:
        for priority in deadlines.PRIORITIES:
            name = field_name(stage, priority)
            raw = form.get(name)
            if raw is None:
                wanted[(stage, priority)] = current[(stage, priority)]
                continue
            raw = raw.strip()
            if (
                not raw.isascii()
                or not raw.isdigit()
                or not (FEWEST_HOURS <= int(raw) <= MOST_HOURS)
            ):
                errors[name] = _(
                    "Enter a whole number of hours from %(fewest)s to %(most)s.",
                    fewest=FEWEST_HOURS,
                    most=MOST_HOURS,
                )
                continue
            wanted[(stage, priority)] = int(raw)
    if errors:
        raise FormInvalid(errors)
    return wanted


async def change_policy(form: dict[str, str]) -> list[Change]:
    """Save the hours the form changes, all or none; returns what changed."""
    current = await deadlines.policy()
    wanted = read_hours(form, current)
    changes = [
        Change(stage, priority, current[(stage, priority)], hours)
        for (stage, priority), hours in wanted.items()
        if hours != current[(stage, priority)]
    ]
    async with write_transaction(DeadlinePolicy._meta.db):
        for change in changes:
            await deadlines.set_policy(change.stage, change.priority, change.after)
    return changes


def _policy_page(
    hours: dict[tuple[str, str], Any],
    errors: dict[str, str] | None = None,
    saved: list[Change] | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        "staff/deadlines.html",
        status_code=status_code,
        stages=STAGES,
        fixed_stages=FIXED_STAGES,
        priorities=deadlines.PRIORITIES,
        defaults=deadlines.DEFAULTS,
        owner=deadlines.OWNER,
        hours=hours,
        field_name=field_name,
        errors=errors or {},
        saved=saved,
        fewest=FEWEST_HOURS,
        most=MOST_HOURS,
    )


class DeadlinePolicyController(Controller):
    path = "/staff/deadlines"
    guards = [supervisor_only]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def show(self) -> Template:
        return _policy_page(await deadlines.policy())

    @post("/")
    async def save(self, request: Req) -> Template:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            changes = await change_policy(form)
        except FormInvalid as exc:
            # What was typed comes back beside its error; the rest shows what is saved.
            typed: dict[tuple[str, str], Any] = dict(await deadlines.policy())
            for stage in STAGES:
                for priority in deadlines.PRIORITIES:
                    if field_name(stage, priority) in form:
                        typed[(stage, priority)] = form[field_name(stage, priority)]
            return _policy_page(typed, errors=exc.errors, status_code=400)
        return _policy_page(await deadlines.policy(), saved=changes)
