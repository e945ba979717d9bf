"""In which role a person acts on a case: one answer for every entry the ledger writes.

Someone may hold two roles on one case (a supervisor who also speaks for the platform,
a staff member put on the case as investigator who is also its supervisor); each
ledger entry names one. It is the first role they hold in the order declared here for
what they do. Saying something is doing it in a channel (`all`, `staff`, `caucus`,
`tribunal`); the other doings are named below. `CaseAccess.acting_role` asks this for
the viewer.
"""

from __future__ import annotations

from collections.abc import Collection

from portal.procedure import roles
from portal.procedure.channels import ALL, CAUCUS, STAFF, TRIBUNAL

BEFORE_NEUTRAL = "before_neutral"
"""Answering a mediator or a tribunal: agreeing, offering, ranking, challenging, signing."""
MOVING = "moving"
"""Taking an action of the case's table (among the roles the action allows)."""
INVITING = "inviting"
"""Naming the other side after filing."""
ANSWERING = "answering"
"""Answering questions put to the viewer."""
EXPORTING = "exporting"
"""Exporting the case file: no preference, the first role by name."""
ACTING_ORDER: dict[str, tuple[str, ...]] = {
    ALL: (
        roles.CLAIMANT, roles.RESPONDENT, roles.PLATFORM, roles.MEDIATOR, roles.ARBITRATOR,
        roles.ASSESSOR, roles.INVESTIGATOR, roles.AGENT, roles.SUPERVISOR, roles.LEGAL,
    ),
    STAFF: (roles.INVESTIGATOR, roles.ASSESSOR, roles.AGENT, roles.SUPERVISOR),
    CAUCUS: (roles.MEDIATOR, roles.CLAIMANT, roles.RESPONDENT, roles.PLATFORM),
    TRIBUNAL: (roles.ARBITRATOR,),
    BEFORE_NEUTRAL: (*roles.PARTY_SIDES, roles.MEDIATOR, roles.ARBITRATOR),
    MOVING: (
        roles.CLAIMANT, roles.RESPONDENT, roles.PLATFORM, roles.MEDIATOR, roles.AGENT,
        roles.INVESTIGATOR, roles.ASSESSOR, roles.SUPERVISOR,
    ),
    INVITING: (roles.CLAIMANT, roles.AGENT, roles.SUPERVISOR),
    ANSWERING: (roles.RESPONDENT, roles.CLAIMANT),
    EXPORTING: (),
}  # fmt: skip


def acting_role(held: Collection[str], doing: str, allowed: Collection[str] | None = None) -> str:
    """The first role of `doing`'s order among those `held` (and `allowed`, the roles an
    action admits, if given); failing that, the first of them by name."""
    among = frozenset(held) if allowed is None else frozenset(held) & frozenset(allowed)
    for role in ACTING_ORDER[doing]:
        if role in among:
            return role
    return sorted(among or held)[0]
