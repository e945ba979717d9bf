"""The portal's roles, and which of them must use a second factor.

An account has one global role. A `party` account is a platform customer: whether it
is the claimant or the respondent is decided per case, by the case's participants.
"""

PARTY = "party"
AGENT = "agent"
INVESTIGATOR = "investigator"
ASSESSOR = "assessor"
SUPERVISOR = "supervisor"
MEDIATOR = "mediator"
ARBITRATOR = "arbitrator"
LEGAL = "legal"

STAFF = (AGENT, INVESTIGATOR, ASSESSOR, SUPERVISOR)
"""Platform staff: created by a supervisor or `portal user create`."""

INVITED = (MEDIATOR, ARBITRATOR, LEGAL)
"""Outsiders and legal users: invited by a supervisor with a single-use link."""

ALL_ROLES = (PARTY, *STAFF, *INVITED)

NEEDS_SECOND_FACTOR = frozenset((*STAFF, *INVITED))
"""Everyone but the parties must enrol a second factor before they see any case."""

# Roles a person holds on one case.
CLAIMANT = "claimant"
RESPONDENT = "respondent"
PLATFORM = "platform"
"""A staff member who speaks for the platform as the other side of a mediation or an
arbitration, when no customer is the respondent: the platform's decision is what the
claimant contests."""
PARTY_SIDES = (CLAIMANT, RESPONDENT, PLATFORM)
PARTIES = "parties"
"""Who owes a step both sides owe (a date of an arbitral timetable): every side."""
