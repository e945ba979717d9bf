"""For Piccolo's own CLI (`piccolo migrations new ledger --auto`): the portal's configuration."""

from portal.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
