"""What a person may reach across the portal, apart from any one case.

The policy of a case is `portal.procedure.policy.CaseAccess`; this is the same for the rest: the
menu, the list of cases, the staff's pages and the accounts. The account's own role
decides, never a role on a case. Templates ask `standing(viewer)`, never the role.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.procedure import roles
from portal.procedure.people import Viewer


@dataclass(frozen=True)
class Standing:
    """What a person may reach across the portal, apart from any one case: the menu, the
    list of cases, the staff's pages. A role of the account decides, never of a case."""

    viewer: Viewer

    @property
    def may_file_dispute(self) -> bool:
        """Only customers file disputes: staff and neutrals come to a case by assignment."""
        return self.viewer.role == roles.PARTY

    @property
    def sees_every_case(self) -> bool:
        """Supervisors are on every case (they assign the work); others see their own."""
        return self.viewer.is_supervisor

    @property
    def works_the_queue(self) -> bool:
        """Platform staff: the queue and the dashboard are theirs."""
        return self.viewer.is_staff

    @property
    def administers(self) -> bool:
        """Supervisors keep the accounts, the deadline policy, the roster of neutrals and
        the integrations."""
        return self.viewer.is_supervisor

    @property
    def keeps_roster_profile(self) -> bool:
        """Mediators and arbitrators describe themselves for the roster."""
        return self.viewer.role in (roles.MEDIATOR, roles.ARBITRATOR)

    def may_deactivate(self, user_id: int) -> bool:
        return self.administers and may_deactivate(self.viewer.id, user_id)


def standing(viewer: Viewer) -> Standing:
    return Standing(viewer)


def may_deactivate(by: int, user_id: int) -> bool:
    """Nobody deactivates their own account: another supervisor does, so the portal is
    never left without one by a slip."""
    return by != user_id
