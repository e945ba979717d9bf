"""What must happen once: one answer per party and step, one signature per signer, and
at most one live appointment and one live settlement per case, whatever races."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T20:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Mediation uniqueness"

STATEMENTS = (
    "CREATE UNIQUE INDEX mediator_answer_once "
    "ON mediator_appointment_answer (appointment, party, stage)",
    "CREATE UNIQUE INDEX offer_answer_once ON settlement_offer_answer (offer, party)",
    "CREATE UNIQUE INDEX settlement_signature_once ON settlement_signature (settlement, signer)",
    'CREATE UNIQUE INDEX mediator_appointment_live ON mediator_appointment ("case") '
    "WHERE status IN ('proposed', 'invited', 'disclosed', 'active')",
    'CREATE UNIQUE INDEX settlement_live ON settlement_agreement ("case") '
    "WHERE status IN ('signing', 'signed')",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mediation", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
