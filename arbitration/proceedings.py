"""What the case room shows of an arbitration's proceedings, for one viewer.

The timetable, the procedural orders, extensions and, once issued, the award with any
dissent and its addenda are for everyone on the case. A draft award, its votes and
dissents before the issue are the tribunal's alone (`can_read_award_draft`), as is the
`tribunal` channel, which the room shows among the statements.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from arbitration import award as awards
from arbitration import corrections as award_corrections
from arbitration import dates, extensions, orders, timetable, tribunal
from mediation.items import KIND_LABELS, ROWS
from portal.cases.sides import sides_of
from portal.i18n import _, gettext
from portal.procedure import roles
from portal.procedure.arbitration import AWARD, CORRECTION, EXTENSION

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


def correction_status(status: str) -> str:
    return gettext(CORRECTION.state(status).label)


async def panel(case: dict[str, Any], access: CaseAccess, at: datetime) -> dict[str, Any] | None:
    """The proceedings' part of the arbitration panel, once the tribunal sits."""
    case_id = case["id"]
    steps = await timetable.steps_of(case_id)
    other = await timetable.other_side(case_id)
    _label_steps(steps, other, at)
    asked = await extensions.extensions(case_id)
    for row in asked:
        row["label"] = dates.step_label(row["step.step"])
        row["status_label"] = extensions.extension_status(row["status"])
    award = await awards.current(case_id)
    issued = award is not None and AWARD.state(award["status"]).final
    shown = award if award is not None and access.can_read_award(issued) else None
    members = await tribunal.members(case_id)
    corrections, ends = await _corrections_of(case_id, award if issued else None)
    askable = _askable_steps(steps, asked, access, other)
    sides = await sides_of(case_id)
    return {
        "members": members,
        "three": len(members) >= 3,
        "steps": steps,
        "orders": await orders.history(case_id),
        "extensions": asked,
        "award": shown,
        "issued": issued,
        "corrections": corrections,
        "correction_ends": ends,
        "may_set_timetable": access.can_conduct_proceedings and not steps,
        "may_order": access.can_conduct_proceedings,
        "askable_steps": askable,
        "may_answer_extensions": access.can_conduct_proceedings,
        "may_draft": access.can_conduct_proceedings and not issued,
        "may_vote": bool(
            shown
            and not issued
            and access.can_conduct_proceedings
            and any(m["user"] == access.viewer.id for m in shown["pending"])
        ),
        "may_ask_correction": bool(access.can_ask_correction and ends and at <= ends),
        "may_correct": access.can_correct_award,
        "kinds": [(kind, label()) for kind, label in KIND_LABELS.items()],
        "rows": range(ROWS),
        "side_roles": [s.role for s in sides]
        + ([roles.PLATFORM] if roles.PLATFORM not in {s.role for s in sides} else []),
        "default_first": (at + timedelta(days=14)).date().isoformat(),
    }


def _label_steps(steps: list[dict[str, Any]], other: str, at: datetime) -> None:
    """Name each date of the timetable and who owes it; when the other side is the
    platform, a step the respondent owes is the platform's."""
    for row in steps:
        row["label"] = dates.step_label(row["step"])
        owed = row["owed_by"]
        row["owed_label"] = (
            _("the platform")
            if owed == "respondent" and other == roles.PLATFORM
            else dates.owed_by_label(owed)
        )
        row["passed"] = dates.utc(row["due_at"]) <= at


async def _corrections_of(
    case_id: int, issued: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], datetime | None]:
    """The requests for correction of an issued award, and until when one may be asked."""
    if not issued:
        return [], None
    corrections = await award_corrections.corrections(issued["id"])
    for row in corrections:
        row["status_label"] = correction_status(row["status"])
    return corrections, await award_corrections.correction_ends(case_id, issued)


def _askable_steps(
    steps: list[dict[str, Any]], asked: list[dict[str, Any]], access: CaseAccess, other: str
) -> list[tuple[str, str]]:
    """The dates this viewer owes, not yet passed, and not already awaiting an answer to
    an extension: the ones they may ask more time for."""
    pending_ext = {e["step"] for e in asked if e["status"] in EXTENSION.open_states}
    return [
        (str(s["id"]), f"{s['label']} — {s['due_at'].strftime('%Y-%m-%d')}")
        for s in steps
        if access.can_ask_extension
        and not s["passed"]
        and s["id"] not in pending_ext
        and extensions.owes(access, s["owed_by"], other)
    ]
