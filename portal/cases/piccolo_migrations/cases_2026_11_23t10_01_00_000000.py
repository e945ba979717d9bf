"""Fill in the outcome of existing cases and the stage of existing reminders, and index
what the staff dashboard counts by date.

An outcome state (withdrawn, resolved, settled, awarded, rejected) still names itself, and
its `state_since` is when it was reached. A closed case, or a rejection under appeal, no
longer does: its outcome is read from its `case.transitioned` ledger entries, walked in
order as `portal.cases.states.outcome_after` would have set it. A reminder's stage is the
`state` of its `deadline.reminded` entry; a reminder with no entry (one sent by a sweep
without a keyring) takes the case's state if the case still has that deadline, and is
otherwise left blank ("stage not recorded").

The rules are copied here, not imported: a migration must do tomorrow what it did today.
"""

import json
from datetime import UTC, datetime
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-11-23T10:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Backfill outcomes and reminder stages; dashboard indexes"

NAMED_OUTCOMES = ("withdrawn", "resolved", "settled", "awarded", "rejected")
BATCH = 500

INDEXES = (
    # New cases per week, and open cases filed in a range.
    "CREATE INDEX dispute_case_filed ON dispute_case (filed_at, state, category, priority)",
    # Cases closed per week, and the time they took.
    "CREATE INDEX dispute_case_ended "
    "ON dispute_case (state, state_since, category, priority, filed_at)",
    "CREATE INDEX dispute_case_outcome "
    "ON dispute_case (outcome_at, outcome, category, priority)",
    "CREATE INDEX deadline_reminder_missed ON deadline_reminder (kind, deadline_at, stage)",
    "CREATE INDEX case_survey_answered ON case_survey (created_at, score)",
)


class _Any(Table, tablename="dispute_case"):
    """Only to send raw queries with arguments on the migration's connection."""


def _outcome_after(action: str, target: str) -> str | None:
    if action == "overturn_rejection":
        return ""
    if action == "close_after_impasse":
        return "impasse"
    return target if target in NAMED_OUTCOMES else None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def _entries(event_type: str, refs: list[str]) -> list[dict[str, Any]]:
    marks = ", ".join("{}" for _ref in refs)
    rows = await _Any.raw(
        f"SELECT entry FROM ledger_entry WHERE event_type = {{}} AND case_ref IN ({marks}) "
        "ORDER BY case_ref, case_seq",
        event_type,
        *refs,
    )
    return [json.loads(bytes(row["entry"])) for row in rows]


async def _backfill_outcomes() -> None:
    engine = engine_finder()
    named = ", ".join(f"'{state}'" for state in NAMED_OUTCOMES)
    await engine.run_ddl(
        f"UPDATE dispute_case SET outcome = state, outcome_at = state_since "
        f"WHERE state IN ({named})"
    )
    cases = await _Any.raw(
        "SELECT id, ref FROM dispute_case WHERE state IN ('closed', 'appealed') ORDER BY id"
    )
    for start in range(0, len(cases), BATCH):
        ids = {row["ref"]: row["id"] for row in cases[start : start + BATCH]}
        found: dict[str, tuple[str, datetime | None]] = {}
        for entry in await _entries("case.transitioned", list(ids)):
            body = entry["body"]
            outcome = _outcome_after(body.get("action", ""), body.get("to", ""))
            if outcome is not None:
                found[entry["case"]] = (outcome, _at(entry["at"]) if outcome else None)
        for ref, (outcome, at) in found.items():
            await _Any.raw(
                "UPDATE dispute_case SET outcome = {}, outcome_at = {} WHERE id = {}",
                outcome,
                at,
                ids[ref],
            )


async def _backfill_stages() -> None:
    reminders = await _Any.raw(
        "SELECT r.id, r.kind, r.deadline_at, c.ref FROM deadline_reminder r "
        'JOIN dispute_case c ON c.id = r."case" ORDER BY r.id'
    )
    for start in range(0, len(reminders), BATCH):
        batch = reminders[start : start + BATCH]
        stages = {}
        for entry in await _entries("deadline.reminded", sorted({r["ref"] for r in batch})):
            body = entry["body"]
            stages[(entry["case"], body.get("kind"), body.get("deadline"))] = body.get("state")
        for row in batch:
            deadline = row["deadline_at"]
            if isinstance(deadline, str):
                deadline = datetime.fromisoformat(deadline)
            deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
            key = (row["ref"], row["kind"], deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            if stages.get(key):
                await _Any.raw(
                    "UPDATE deadline_reminder SET stage = {} WHERE id = {}", stages[key], row["id"]
                )
    await engine_finder().run_ddl(
        "UPDATE deadline_reminder SET stage = (SELECT c.state FROM dispute_case c "
        'WHERE c.id = deadline_reminder."case" AND c.deadline_at = deadline_reminder.deadline_at) '
        "WHERE stage = '' AND EXISTS (SELECT 1 FROM dispute_case c "
        'WHERE c.id = deadline_reminder."case" AND c.deadline_at = deadline_reminder.deadline_at)'
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await _backfill_outcomes()
        await _backfill_stages()
        engine = engine_finder()
        for statement in INDEXES:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        for statement in INDEXES:
            name = statement.split()[2]
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
