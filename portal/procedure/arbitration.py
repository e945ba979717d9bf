"""Arbitration's sub-procedures, as tables: the arbitration's constitution, its lists,
its seats, the challenges, the timetable and its extensions, the award and its
corrections.

Each table's states are the `status` strings the rows keep in the database
(`arbitration.tables`), so a row is asked about as it is stored (`subject`); the
timetable keeps no status, so its state is read from its dates (`timetable_state`).
A service performing a step asks `ask` (the table's `check`, refused in the words the
service always used) and writes the step's `target` from its `sources` (`move`); the
room offers a step when `allows` says so.

    arbitration  constituting --constitute--> constituted --issue_award--> awarded
                 constituted --reopen (an arbitrator removed)--> constituting
    list         open --answer_list (a ranker)--> open --close_list--> closed
    seat         invited --accept--> active --remove (a challenge upheld)--> removed
                 invited --decline--> declined;  invited --lapse--> lapsed
                 active --challenge (a side, in time), decide_challenge--> active
    challenge    pending --uphold--> upheld;  pending --dismiss--> dismissed
    timetable    unset --set_timetable--> set --ask_extension, answer_extension,
                 issue_order--> set;  set --close (the award issued)--> done
    extension    pending --grant--> granted;  pending --refuse--> refused
    award        draft --save_draft, sign, dissent--> draft --issue--> issued
    correction   pending --correct (an addendum)--> corrected;  pending --refuse--> refused
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from portal.errors import Conflict, NotAllowed
from portal.i18n import _
from portal.procedure.table import SYSTEM, Acting, Action, Procedure, Refused, State, action

SUPERVISOR, ARBITRATOR = "supervisor", "arbitrator"
SIDES = ("claimant", "respondent", "platform")
"""The roles a side holds on a case; the policy says which person is a side."""
RANKERS = (*SIDES, ARBITRATOR)
"""The sides rank the list for a sole arbitrator, the co-arbitrators the presiding one's."""


def subject(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A stored row as a table's subject: its `status` is the table's state."""
    return {**row, "state": row["status"], **extra}


def move(procedure: Procedure, name: str) -> Action:
    """The declared step a service performs: its `sources` are the states the row's
    update may start from, its `target` the state it writes."""
    step = procedure.action(name)
    if step is None:
        raise ValueError(f"{procedure.name}: no action {name!r}")
    return step


def ask(procedure: Procedure, name: str, row: Mapping[str, Any], access: Acting,
        now: datetime, not_now: str) -> Action:  # fmt: skip
    """`check`, answered in the words the services have always used: a step the row's
    state does not allow is a `Conflict` saying `not_now`; a role the table does not name
    is `NotAllowed`; a guard's refusal is a `Conflict` with the guard's message."""
    step = move(procedure, name)
    if row["state"] not in step.sources:
        raise Conflict(not_now)
    try:
        return procedure.check(name, row, access, now)
    except Refused as refused:
        if not set(access.roles) & step.roles:
            raise NotAllowed(str(refused)) from None
        raise Conflict(str(refused)) from None


def allows(procedure: Procedure, name: str, row: Mapping[str, Any], access: Acting,
           now: datetime) -> bool:  # fmt: skip
    """Whether the room may offer the step: the same question `ask` puts."""
    try:
        procedure.check(name, row, access, now)
    except Refused:
        return False
    return True


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shown(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def list_still_open(row: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """A list is answered before its deadline; after it, the sweep closes it."""
    if _utc(row["due_at"]) < now:
        return _("The time to answer this list ended on %(date)s.", date=_shown(row["due_at"]))
    return None


def within_challenge_window(row: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """A side challenges within the ruleset's window from the appointment; the subject
    carries `challenge_until` (None: no window known, so none has ended)."""
    until = row.get("challenge_until")
    if until is not None and until < now:
        return _(
            "The time to challenge %(name)s ended on %(date)s.",
            name=row.get("arbitrator.name", ""),
            date=_shown(until),
        )
    return None


# fmt: off
ARBITRATION = Procedure(
    "arbitration",
    states=(
        State("constituting", _("The tribunal is being formed."), owner=SUPERVISOR,
              meaning="Lists, nominations and invitations until every seat is filled."),
        State("constituted", _("The tribunal sits."), owner=ARBITRATOR,
              meaning="Every seat is filled: the tribunal owes the timetable."),
        State("awarded", _("Issued"), final=True,
              meaning="The award is issued; corrections follow by addendum."),
    ),
    actions=(
        action("constitute", {"constituting"}, "constituted", {SYSTEM}, _("The tribunal sits.")),
        action("reopen", {"constituted"}, "constituting", {SYSTEM}, _("removed after a challenge")),
        action("issue_award", {"constituted"}, "awarded", {SYSTEM}, _("Issued")),
    ),
    initial="constituting",
)

CANDIDATE_LIST = Procedure(
    "candidate_list",
    states=(
        State("open", _("Open"), owner="claimant",
              meaning="The rankers strike and rank it before its deadline."),
        State("closed", _("Closed"), final=True,
              meaning="The rankings are revealed and the best candidate is invited."),
    ),
    actions=(
        action("answer_list", {"open"}, "open", RANKERS, _("Send your ranking"),
               guard=list_still_open),
        action("close_list", {"open"}, "closed", {SYSTEM}, _("Closed")),
    ),
    initial="open",
)

SEAT = Procedure(
    "seat",
    states=(
        State("invited", _("invited"), owner=ARBITRATOR,
              meaning="The arbitrator discloses and answers within the answer window."),
        State("active", _("appointed"),
              meaning="On the tribunal; a side may challenge within the window."),
        State("declined", _("declined"), final=True),
        State("lapsed", _("did not answer in time"), final=True),
        State("removed", _("removed after a challenge"), final=True),
    ),
    actions=(
        action("accept", {"invited"}, "active", {ARBITRATOR}, _("Sign the disclosure and accept")),
        action("decline", {"invited"}, "declined", {ARBITRATOR}, _("Decline")),
        action("lapse", {"invited"}, "lapsed", {SYSTEM}, _("did not answer in time")),
        action("challenge", {"active"}, "active", SIDES, _("Challenge this arbitrator"),
               guard=within_challenge_window),
        action("decide_challenge", {"active"}, "active", {SUPERVISOR}, _("Decide the challenge")),
        action("remove", {"active"}, "removed", {SYSTEM}, _("removed after a challenge")),
    ),
    initial="invited",
)

CHALLENGE = Procedure(
    "challenge",
    states=(
        State("pending", _("A supervisor will decide this challenge."), owner=SUPERVISOR),
        State("upheld", _("Uphold: the arbitrator leaves the tribunal"), final=True),
        State("dismissed", _("Dismiss: the arbitrator stays"), final=True),
    ),
    actions=(
        action("uphold", {"pending"}, "upheld", {SUPERVISOR},
               _("Uphold: the arbitrator leaves the tribunal")),
        action("dismiss", {"pending"}, "dismissed", {SUPERVISOR},
               _("Dismiss: the arbitrator stays")),
    ),
    initial="pending",
)

TIMETABLE = Procedure(
    "timetable",
    states=(
        State("unset", _("The tribunal has not set the timetable yet."), owner=ARBITRATOR,
              meaning="The tribunal owes Procedural Order no. 1 with the dates."),
        State("set", _("Timetable"),
              meaning="Each date is a deadline; a side may ask to move one it owes."),
        State("done", _("Issued"), final=True,
              meaning="The award is issued: no date is owed any more."),
    ),
    actions=(
        action("set_timetable", {"unset"}, "set", {ARBITRATOR}, _("Set the timetable")),
        action("issue_order", {"unset", "set"}, "set", {ARBITRATOR}, _("Issue the order")),
        action("ask_extension", {"set"}, "set", SIDES, _("Ask for an extension")),
        action("answer_extension", {"set"}, "set", {ARBITRATOR}, _("Grant the extension")),
        action("close", {"set"}, "done", {SYSTEM}, _("Issued")),
    ),
    initial="unset",
)
"""The timetable has no status column: it is `unset` until its dates are stored, and
`done` once the award is issued (see `timetable_state`)."""


def timetable_state(has_dates: bool, award_issued: bool) -> str:
    if award_issued:
        return "done"
    return "set" if has_dates else "unset"


EXTENSION = Procedure(
    "extension",
    states=(
        State("pending", _("before the tribunal"), owner=ARBITRATOR),
        State("granted", _("granted"), final=True),
        State("refused", _("refused"), final=True),
    ),
    actions=(
        action("grant", {"pending"}, "granted", {ARBITRATOR}, _("Grant the extension")),
        action("refuse", {"pending"}, "refused", {ARBITRATOR}, _("Refuse the extension")),
    ),
    initial="pending",
)

AWARD = Procedure(
    "award",
    states=(
        State("draft", _("Draft"), owner=ARBITRATOR,
              meaning="The tribunal's alone; a changed text clears the votes on the old one."),
        State("issued", _("Issued"), final=True,
              meaning="Never changes; corrected only by an addendum."),
    ),
    actions=(
        action("save_draft", {"draft"}, "draft", {ARBITRATOR}, _("Save the draft")),
        action("sign", {"draft"}, "draft", {ARBITRATOR}, _("Sign the award")),
        action("dissent", {"draft"}, "draft", {ARBITRATOR}, _("Record a dissent")),
        action("issue", {"draft"}, "issued", {SYSTEM}, _("Issued")),
    ),
    initial="draft",
)

CORRECTION = Procedure(
    "correction",
    states=(
        State("pending", _("before the tribunal"), owner=ARBITRATOR),
        State("corrected", _("corrected by an addendum"), final=True),
        State("refused", _("refused"), final=True),
    ),
    actions=(
        action("correct", {"pending"}, "corrected", {ARBITRATOR}, _("Issue the addendum")),
        action("refuse", {"pending"}, "refused", {ARBITRATOR}, _("Refuse the correction")),
    ),
    initial="pending",
)

# fmt: on

APPOINTED = move(SEAT, "accept").target
"""The state of a seat whose arbitrator sits on the tribunal."""
CONSTITUTING = ARBITRATION.initial
"""The tribunal's state while its seats are being filled."""

PROCEDURES: tuple[Procedure, ...] = (
    ARBITRATION,
    CANDIDATE_LIST,
    SEAT,
    CHALLENGE,
    TIMETABLE,
    EXTENSION,
    AWARD,
    CORRECTION,
)
"""Every arbitration table, for the test that walks them all."""
