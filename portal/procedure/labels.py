"""What the roles are called on screen, in an email and in a case file, in the reader's
language.

The room, the notices, the sweep's reminders and the case-file export all name people's
roles through `role_label`, so a role reads the same wherever it appears.
"""

from __future__ import annotations

from portal.i18n import _
from portal.procedure import roles

SYSTEM = "system"
"""The portal itself, as the ledger names it when it acts on its own."""


def role_label(role: str) -> str:
    """The role's name in the current language; an unknown role as it is."""
    labels = {
        roles.PARTY: _("Customer"),
        roles.CLAIMANT: _("Claimant"),
        roles.RESPONDENT: _("Respondent"),
        roles.PLATFORM: _("For the platform"),
        roles.PARTIES: _("Every party"),
        roles.AGENT: _("Agent"),
        roles.INVESTIGATOR: _("Investigator"),
        roles.ASSESSOR: _("Assessor"),
        roles.SUPERVISOR: _("Supervisor"),
        roles.MEDIATOR: _("Mediator"),
        roles.ARBITRATOR: _("Arbitrator"),
        roles.LEGAL: _("Legal"),
        SYSTEM: _("Portal"),
    }
    return labels.get(role, role)
