"""Who may see and do what on a case: the one place that decides.

Every case route asks `portal.cases.access.case_access` first, which loads the case and
its participants and asks `access_on` here; it answers 404 to anyone who is not on the
case, so nobody can learn which references exist. Templates only render what the
returned `CaseAccess` allows. A person's roles on a case come from the case's
participants; a supervisor is on every case, because supervisors assign the work.

`CaseAccess.can_read` is the one rule for who reads a channel (`portal.procedure.
channels`): the room, the case file's copies, emails and notices (`readers`) and the
tribunal's own notices all ask it. A text someone may not read reaches them, at most,
as its ledger entry with the text's hash. A legal user on a case acts for a side
(`case_participant.acts_for`): the platform (its legal team, reading what staff read)
or one party (that party's lawyer, reading the joint channel as the party does, but
neither the party's caucus, which is its two members', nor the staff notes).

Mediation: the sides are the claimant and the respondent, or a staff member speaking for
the platform (`platform`). A mediator is on the case once they accepted; until then
they see the invitation's summary and nothing else (`portal.neutrals.disclosure.may_answer`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from portal.procedure import roles
from portal.procedure.acting import acting_role
from portal.procedure.casefile_copies import (
    COUNSEL_COPY_PREFIX,
    STAFF_COPY,
    counsel_copy,
    party_copy,
)
from portal.procedure.channels import (
    ALL,
    CAUCUS,
    CHANNELS,
    PRIVATE_CHANNELS,
    STAFF,
    TRIBUNAL,
    Channel,
)
from portal.procedure.people import Viewer, legal_side, sides

# Declared elsewhere in the kernel; the areas ask the policy for them (re-exported).
__all__ = ["ALL", "CAUCUS", "CHANNELS", "COUNSEL_COPY_PREFIX", "PRIVATE_CHANNELS", "STAFF",
           "STAFF_COPY", "TRIBUNAL", "Channel", "counsel_copy", "legal_side", "party_copy",
           "sides"]  # fmt: skip

# A rejected case stays open for its 14 days of appeal: the claimant may still write
# and add evidence to support the appeal.
CLOSED_STATES = frozenset(("closed", "withdrawn"))
MEDIATION = "mediation"
ARBITRATION = "arbitration"
AWARDED = "awarded"


@dataclass(frozen=True)
class CaseAccess:
    viewer: Viewer
    case_id: int
    state: str
    roles: frozenset[str]
    party_ids: tuple[int, ...]  # the claimant and respondents: whose caucus exists
    other_roles: frozenset[str] = frozenset()  # roles of everyone else on the case
    acts_for: int | None = None  # a legal viewer's party (its user id); None: the platform

    @property
    def is_party(self) -> bool:
        return bool(self.roles & set(roles.PARTY_SIDES))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & set(roles.STAFF))

    @property
    def is_mediator(self) -> bool:
        return roles.MEDIATOR in self.roles

    @property
    def is_arbitrator(self) -> bool:
        return roles.ARBITRATOR in self.roles

    @property
    def is_platform_legal(self) -> bool:
        """The platform's legal team on this case: a legal user a supervisor put on the
        case for the platform (`filing.assign`, no `acts_for`)."""
        return roles.LEGAL in self.roles and self.acts_for is None

    @property
    def counsel_for(self) -> int | None:
        """The party whose lawyer the viewer is on this case, if they are one."""
        return self.acts_for if roles.LEGAL in self.roles else None

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES

    def acting_role(self, doing: str, allowed: Collection[str] | None = None) -> str:
        """The one role the viewer acts in when `doing` (`portal.procedure.acting`)."""
        return acting_role(self.roles, doing, allowed)

    def can_read(self, channel: str, party_id: int | None = None) -> bool:
        """Whether the viewer may read the text said in `channel` (for a caucus, the caucus
        of `party_id`). A caucus is its two members' (the mediator and that party), the
        tribunal's channel the arbitrators': staff and legal, as such, read neither."""
        if channel == ALL:
            return True
        if channel == STAFF:
            return self.is_staff or self.is_platform_legal
        if channel == CAUCUS:
            return self.is_mediator or (self.is_party and party_id == self.viewer.id)
        if channel == TRIBUNAL:
            return self.is_arbitrator
        return False

    def readable_channels(self) -> list[Channel]:
        """Every conversation the viewer may read, `all` first."""
        found = [Channel(ALL)]
        if self.can_read(STAFF):
            found.append(Channel(STAFF))
        if self.is_mediator:
            found.extend(Channel(CAUCUS, party) for party in self.party_ids)
        elif self.viewer.id in self.party_ids and roles.MEDIATOR in self.other_roles:
            found.append(Channel(CAUCUS, self.viewer.id))
        if self.is_arbitrator:
            found.append(Channel(TRIBUNAL))
        return found

    def can_post(self, channel: str, party_id: int | None = None) -> bool:
        """Writing needs reading and an open case. Legal users only read; a caucus
        exists once a mediator is on the case."""
        if not self.is_open or not self.can_read(channel, party_id):
            return False
        if self.roles == {roles.LEGAL}:
            return False
        if channel == CAUCUS:
            return party_id in self.party_ids and (
                self.is_mediator or roles.MEDIATOR in self.other_roles
            )
        return True

    def postable_channels(self) -> list[Channel]:
        return [c for c in self.readable_channels() if self.can_post(c.name, c.party_id)]

    def can_add_evidence(self, channel: str = ALL, party_id: int | None = None) -> bool:
        return self.can_post(channel, party_id)

    def can_see_file(self, channel: str, party_id: int | None) -> bool:
        return self.can_read(channel, party_id)

    @property
    def can_invite_respondent(self) -> bool:
        return self.is_open and bool(self.roles & {roles.CLAIMANT, roles.AGENT, roles.SUPERVISOR})

    @property
    def may_name_respondent(self) -> bool:
        """The room offers to name the other side while the case has none and the viewer
        is not it."""
        on_case = self.roles | self.other_roles
        return self.can_invite_respondent and roles.RESPONDENT not in on_case

    @property
    def may_add_platform_records(self) -> bool:
        """Platform records come from the platform: its staff on the case add them."""
        return self.is_staff and self.can_add_evidence()

    @property
    def reads_every_request(self) -> bool:
        """Staff read every request for information on the case; anyone else the ones
        put to them."""
        return self.is_staff

    def may_answer_request(self, addressee: int) -> bool:
        """The respondent answers the questions put to them (the claimant answers a
        request for information by the case's own action)."""
        return addressee == self.viewer.id and roles.RESPONDENT in self.roles

    @property
    def can_ask_respondent(self) -> bool:
        """The investigator (or a supervisor) puts questions to the respondent, if any."""
        return (
            self.is_open
            and bool(self.roles & {roles.INVESTIGATOR, roles.SUPERVISOR})
            and roles.RESPONDENT in self.other_roles
        )

    def can_answer_survey(self, state: str) -> bool:
        return state == "closed" and roles.CLAIMANT in self.roles

    @property
    def can_manage_participants(self) -> bool:
        return roles.SUPERVISOR in self.roles

    # Mediation

    @property
    def mediator_on_case(self) -> bool:
        return self.is_mediator or roles.MEDIATOR in self.other_roles

    @property
    def can_propose_mediator(self) -> bool:
        return self.state == MEDIATION and roles.SUPERVISOR in self.roles

    @property
    def can_answer_appointment(self) -> bool:
        """A side agrees to, or objects to, a proposed mediator or their disclosure."""
        return self.state == MEDIATION and self.viewer.id in self.party_ids

    @property
    def can_negotiate(self) -> bool:
        """Offers are made and answered by the sides and the mediator, once one is on."""
        return (
            self.state == MEDIATION
            and self.mediator_on_case
            and (self.is_mediator or self.viewer.id in self.party_ids)
        )

    @property
    def can_sign_settlement(self) -> bool:
        return self.can_negotiate

    @property
    def can_extend_mediation(self) -> bool:
        return self.state == MEDIATION and self.is_mediator

    # Arbitration. The tribunal's members are on the case once they accepted; what they
    # draft and say among themselves (the `tribunal` channel, a draft award) is theirs.

    @property
    def can_start_arbitration(self) -> bool:
        """A supervisor chooses the rules and sends the first list."""
        return self.state == ARBITRATION and roles.SUPERVISOR in self.roles

    @property
    def is_side(self) -> bool:
        return self.viewer.id in self.party_ids

    @property
    def can_shape_tribunal(self) -> bool:
        """The sides rank lists, name their arbitrators and challenge; co-arbitrators
        rank the list for the presiding arbitrator."""
        return self.state == ARBITRATION and (self.is_side or self.is_arbitrator)

    @property
    def can_challenge(self) -> bool:
        return self.state == ARBITRATION and self.is_side

    @property
    def can_decide_challenge(self) -> bool:
        return self.state == ARBITRATION and roles.SUPERVISOR in self.roles

    @property
    def can_conduct_proceedings(self) -> bool:
        """The tribunal sets the timetable, issues orders, answers extensions, drafts and
        signs the award."""
        return self.state == ARBITRATION and self.is_arbitrator

    @property
    def can_ask_extension(self) -> bool:
        return self.state == ARBITRATION and self.is_side

    @property
    def can_read_award_draft(self) -> bool:
        """A draft award, its votes and dissents before the issue: the tribunal's channel."""
        return self.can_read(TRIBUNAL)

    @property
    def can_ask_correction(self) -> bool:
        return self.state == AWARDED and self.is_side

    @property
    def can_correct_award(self) -> bool:
        return self.state == AWARDED and self.is_arbitrator

    # Signed case files (BRIEF "Signed case files").

    @property
    def casefile_audience(self) -> str | None:
        """Whose copy of the case file the viewer exports: the side they are on. Staff and
        the platform's legal team get the staff copy (the joint channel and staff notes); a
        party gets its own copy (the joint channel and its own caucus); a party's lawyer
        gets that party's copy without its caucus (`counsel_copy`). What a copy shows
        is what its audience reads in the room (`can_read`), so no copy carries a caucus
        to anyone but its two members, nor the tribunal's channel to anyone but the
        arbitrators. Neutrals export none."""
        if self.is_staff or self.is_platform_legal:
            return STAFF_COPY
        if self.is_side:
            return party_copy(self.viewer.id)
        if self.counsel_for is not None:
            return counsel_copy(self.counsel_for)
        return None

    @property
    def can_export_casefile(self) -> bool:
        return self.casefile_audience is not None

    # Arbitration: constitution (lists, nominations, invitations, challenges).

    def may_rank(self, seat: str) -> bool:
        """The sides rank the list for a sole arbitrator; the co-arbitrators rank the
        list for the presiding one."""
        if self.state != ARBITRATION:
            return False
        return self.is_arbitrator if seat == "presiding" else self.is_side

    @property
    def can_nominate(self) -> bool:
        """Under three-member rules each side names its arbitrator; a supervisor names
        one for a side that let its time pass."""
        return self.state == ARBITRATION and (self.is_side or roles.SUPERVISOR in self.roles)

    # Arbitration: proceedings (timetable, extensions, orders, award, corrections).

    def can_read_award(self, issued: bool) -> bool:
        """An issued award is for everyone on the case; a draft only for the tribunal."""
        return issued or self.can_read_award_draft


def access_on(
    viewer: Viewer, case: dict[str, Any], participants: list[dict[str, Any]]
) -> CaseAccess | None:
    """What `viewer` may do on `case`, given its participants; None if they are not on it
    (a supervisor is on every case)."""
    if not viewer.cleared_for_cases:
        return None
    mine = {p["role"] for p in participants if p["user"] == viewer.id}
    if viewer.role == roles.SUPERVISOR:
        mine.add(roles.SUPERVISOR)
    if not mine:
        return None
    return CaseAccess(
        viewer=viewer,
        case_id=case["id"],
        state=case["state"],
        roles=frozenset(mine),
        party_ids=sides(participants),
        other_roles=frozenset(p["role"] for p in participants if p["user"] != viewer.id),
        acts_for=legal_side(participants, viewer.id),
    )


def may_see_dashboard(viewer: Viewer | None) -> bool:
    """The staff dashboard (`/staff/dashboard`) shows every case's figures in aggregate,
    never a case, a name or a comment: all platform staff may see how the work stands,
    the supervisors who steer it and the agents, investigators and assessors who do it.
    Parties, neutrals and legal users are each on a few cases only, and see none of this.
    """
    return viewer is not None and viewer.is_staff and viewer.cleared_for_cases


def readers_among(
    case_id: int, participants: list[dict[str, Any]], channel: str, party_id: int | None
) -> list[int]:
    """Everyone among `participants` who may read `channel`: who to tell of something said
    there. Asks the same `CaseAccess.can_read` as the pages do, for each participant."""
    by_user: dict[int, set[str]] = {}
    for p in participants:
        by_user.setdefault(p["user"], set()).add(p["role"])
    party_ids = sides(participants)
    found = []
    for user_id, held in by_user.items():
        access = CaseAccess(
            viewer=Viewer(user_id, "", "", "", "en", True, True),
            case_id=case_id,
            state="",
            roles=frozenset(held),
            party_ids=party_ids,
            other_roles=frozenset(p["role"] for p in participants if p["user"] != user_id),
            acts_for=legal_side(participants, user_id),
        )
        if access.can_read(channel, party_id):
            found.append(user_id)
    return found
