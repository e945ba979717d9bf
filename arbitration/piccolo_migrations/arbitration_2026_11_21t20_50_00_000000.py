"""What must happen once: one answer per ranker and list, one vote per arbitrator and
award text, one live seat of each kind, procedural orders numbered once per case."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T20:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Arbitration uniqueness"

STATEMENTS = (
    "CREATE UNIQUE INDEX list_answer_once ON arbitration_list_answer (candidate_list, ranker)",
    "CREATE UNIQUE INDEX award_vote_once ON award_vote (award, arbitrator, sha256)",
    "CREATE UNIQUE INDEX tribunal_seat_live ON tribunal_seat (arbitration, seat) "
    "WHERE status IN ('invited', 'active')",
    'CREATE UNIQUE INDEX procedural_order_number ON procedural_order ("case", number)',
    'CREATE UNIQUE INDEX tribunal_timetable_step ON tribunal_timetable ("case", step)',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="arbitration", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
