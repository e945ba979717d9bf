"""The person asking: who they are and what their account's role lets them near.

A `Viewer` is plain data, the same whether it comes from a logged-in request
(`portal.web.viewer` loads it from the session), an API key acting for a customer, the
demo, or the policy asking on someone's behalf who may read a channel. The policy and
every service take a `Viewer`; none of them knows how it was loaded.

A person's roles on a case come from the case's participants (`case_participant`
rows): `sides` and `legal_side` read them the one way the policy and the case file do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.procedure import roles
from portal.procedure.roles import NEEDS_SECOND_FACTOR, STAFF, SUPERVISOR


@dataclass(frozen=True)
class Viewer:
    id: int
    email: str
    name: str
    role: str
    language: str
    totp_enabled: bool
    second_factor_passed: bool

    @property
    def actor_id(self) -> str:
        """How the ledger names this person."""
        return f"user:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def is_supervisor(self) -> bool:
        return self.role == SUPERVISOR

    @property
    def must_use_second_factor(self) -> bool:
        return self.role in NEEDS_SECOND_FACTOR

    @property
    def cleared_for_cases(self) -> bool:
        """May see cases: parties always; everyone else after enrolling and passing 2FA."""
        if not self.must_use_second_factor:
            return True
        return self.totp_enabled and self.second_factor_passed


def legal_side(participants: list[dict[str, Any]], user_id: int) -> int | None:
    """The party a legal participant acts for; None when they act for the platform."""
    legal = (p for p in participants if p["user"] == user_id and p["role"] == roles.LEGAL)
    return next((p["acts_for"] for p in legal), None)


def sides(participants: list[dict[str, Any]]) -> tuple[int, ...]:
    """The parties, in a stable order: the claimant, then respondents or the platform."""
    order = {side: n for n, side in enumerate(roles.PARTY_SIDES)}
    found = sorted((order[p["role"]], p["user"]) for p in participants if p["role"] in order)
    return tuple(dict.fromkeys(user for _rank, user in found))
