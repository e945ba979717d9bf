"""The copies of a case file, named by their audience: which one a viewer exports is
the policy's (`portal.procedure.policy.CaseAccess.casefile_audience`), what each holds the
case-file export's.
"""

from __future__ import annotations

STAFF_COPY = "staff"
"""The case file's staff copy: the joint channel and the staff notes, nothing else."""
COUNSEL_COPY_PREFIX = "counsel:"
"""The case file's copy for a party's legal team (`counsel_copy`)."""


def party_copy(user_id: int) -> str:
    """The case file's copy for one party."""
    return f"party:user:{user_id}"


def counsel_copy(party_id: int) -> str:
    """The case file's copy for one party's legal team: what its lawyer reads in the room,
    the party's copy without the party's caucus."""
    return f"{COUNSEL_COPY_PREFIX}user:{party_id}"
