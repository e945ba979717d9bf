"""Piccolo's configuration: the engine from PORTAL_DATABASE_URL and every app's tables."""

from piccolo.conf.apps import AppRegistry

from portal.database import create_engine
from portal.settings import Settings

DB = create_engine(Settings.from_env().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "ledger.piccolo_app",
        "portal.accounts.piccolo_app",
        "portal.cases.piccolo_app",
        "portal.notifications.piccolo_app",
        "mediation.piccolo_app",
        "arbitration.piccolo_app",
        "portal.integrations.piccolo_app",
    ]
)
