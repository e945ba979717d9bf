"""Every Piccolo table of every app, so engines can be bound to all of them at once."""

from piccolo.table import Table

from arbitration.tables import ARBITRATION_TABLES
from ledger.tables import LEDGER_TABLES
from mediation.tables import MEDIATION_TABLES
from portal.accounts.tables import ACCOUNT_TABLES
from portal.cases.tables import CASE_TABLES
from portal.integrations.tables import INTEGRATION_TABLES
from portal.notifications.tables import NOTIFICATION_TABLES

ALL_TABLES: list[type[Table]] = [
    *LEDGER_TABLES,
    *ACCOUNT_TABLES,
    *CASE_TABLES,
    *NOTIFICATION_TABLES,
    *MEDIATION_TABLES,
    *ARBITRATION_TABLES,
    *INTEGRATION_TABLES,
]
