"""The conversations of a case room (BRIEF "The case room"): who reads each is the
policy's (`portal.procedure.policy.CaseAccess.can_read`).

- `all`: everyone on the case;
- `staff`: platform staff and the platform's legal team (internal notes);
- `caucus`: a mediator with one party; each party's caucus is its own conversation;
- `tribunal`: the arbitrators among themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL, STAFF, CAUCUS, TRIBUNAL = "all", "staff", "caucus", "tribunal"
CHANNELS = (ALL, STAFF, CAUCUS, TRIBUNAL)
PRIVATE_CHANNELS = frozenset((STAFF, CAUCUS, TRIBUNAL))


@dataclass(frozen=True)
class Channel:
    """A conversation the viewer may read: a channel, and for a caucus, whose it is."""

    name: str
    party_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.name}:{self.party_id}" if self.party_id else self.name
