"""Staff work queues: the open cases each role should take up next, in the order to take them.

A queue is a set of states (those the case's table lists under it, `State.queue`) and,
for the roles that take cases one by one (agent, investigator, assessor), a condition on
the case's people: the viewer's own assignments and the cases nobody in that role holds
yet. Supervisors see every overdue case, and every open one. Priority cases come first,
then the nearest deadline, then cases without one; ties go by case ID, so that a page ends
at a key the next page starts after (keyset pagination: page 2,000 costs what page 1 does,
and no row is shown twice or skipped when cases move meanwhile).

The rows come from one query: a UNION ALL of short ordered walks of the index
`dispute_case_queue (state, priority, deadline_at, id)`, one per (state, priority, dated
or not), each stopping after one page. Merging a few dozen sorted runs of 51 rows costs
the same at 100,000 cases as at 100, where one ORDER BY over `state IN (...)` would
sort the whole queue for every page. `tests/bench/queues.py` measures it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.keys import Keyring
from portal.accounts.tables import User
from portal.cases import filing
from portal.cases.categories import CATEGORIES, category_label, state_label
from portal.cases.deadlines import PRIORITIES
from portal.cases.tables import Case
from portal.errors import FormInvalid, PortalError
from portal.i18n import _
from portal.procedure import case as st
from portal.procedure import roles
from portal.procedure.people import Viewer
from portal.procedure.standing import standing

PAGE_SIZE = 50
DUE_SOON = timedelta(days=1)
"""A case whose deadline is less than this away is flagged as due soon."""

PRIORITY_FIRST = ("priority", "standard")  # the values of deadlines.PRIORITIES, in queue order
RANK = {priority: rank for rank, priority in enumerate(PRIORITY_FIRST)}

ASSIGNABLE_STAFF = tuple(role for role in filing.ASSIGNABLE if role in roles.STAFF)
"""Whom a supervisor assigns from the queue; legal users are put on a case from its room."""

OPEN = tuple(state for state in st.STATES if state in st.OPEN_STATES)


class NoSuchQueue(PortalError):
    """The queue asked for is not one of the viewer's: as if it did not exist."""

    status_code = 404


@dataclass(frozen=True)
class Queue:
    key: str
    states: tuple[str, ...]
    holder: str | None = None  # the role whose holders own a case: mine, or nobody's yet
    overdue_only: bool = False

    def title(self) -> str:
        return TITLES[self.key]()


QUEUES = {
    q.key: q
    for q in (
        Queue("untriaged", st.held_by_queue("untriaged"), roles.AGENT),
        Queue("investigation", st.held_by_queue("investigation"), roles.INVESTIGATOR),
        Queue("assessment", st.held_by_queue("assessment"), roles.ASSESSOR),
        Queue("overdue", OPEN, overdue_only=True),
        Queue("open", OPEN),
    )
}

TITLES: dict[str, Callable[[], str]] = {
    "untriaged": lambda: _("Untriaged"),
    "investigation": lambda: _("Investigations"),
    "assessment": lambda: _("Assessments"),
    "overdue": lambda: _("Overdue"),
    "open": lambda: _("All open cases"),
}

TABS = {
    roles.AGENT: ("untriaged",),
    roles.INVESTIGATOR: ("investigation",),
    roles.ASSESSOR: ("assessment",),
    roles.SUPERVISOR: ("overdue", "open"),
}
"""Which queues each staff role works from, the first being where the page opens."""


def priority_label(priority: str) -> str:
    return {"priority": _("Priority"), "standard": _("Standard")}.get(priority, priority)


def tabs_for(viewer: Viewer) -> list[Queue]:
    return [QUEUES[key] for key in TABS.get(viewer.role, ())]


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last row's sort key, written into the next page's link."""

    rank: int  # 0 for priority cases, 1 for standard ones
    undated: int  # 1 for cases without a deadline, which come after the others
    deadline: datetime | None
    case_id: int

    def encode(self) -> str:
        micros = 0
        if self.deadline is not None:
            micros = (self.deadline - EPOCH) // timedelta(microseconds=1)
        return f"{self.rank}.{self.undated}.{micros}.{self.case_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        parts = text.split(".")
        damaged = FormInvalid({"after": _("This page link is damaged; start from the first page.")})
        if len(parts) != 4 or not all(part.isascii() and part.isdigit() for part in parts):
            raise damaged
        rank, undated, micros, case_id = (int(part) for part in parts)
        if rank not in RANK.values() or undated not in (0, 1) or case_id > MAX_ID:
            raise damaged
        try:
            deadline = None if undated else EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            raise damaged from None
        return cls(rank, undated, deadline, case_id)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**31 - 1  # a Serial column's largest value


@dataclass(frozen=True)
class QueueQuery:
    """One page of one queue, as the viewer filtered it."""

    queue: Queue
    viewer_id: int
    state: str = ""
    category: str = ""
    priority: str = ""
    after: Cursor | None = None

    def states(self) -> tuple[str, ...]:
        return (self.state,) if self.state else self.queue.states

    def priorities(self) -> tuple[str, ...]:
        return (self.priority,) if self.priority else PRIORITY_FIRST

    def link(self, after: Cursor | None = None) -> dict[str, str]:
        """The query string of this queue and filters, from `after` (or the start)."""
        found = {"tab": self.queue.key}
        for name in ("state", "category", "priority"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        if after is not None:
            found["after"] = after.encode()
        return found


def read_query(viewer: Viewer, tab: str = "", state: str = "", category: str = "",
               priority: str = "", after: str = "") -> QueueQuery:  # fmt: skip
    """The query string checked: NoSuchQueue for a queue not the viewer's, FormInvalid
    naming what to fix for a filter no queue has."""
    mine = tabs_for(viewer)
    if not mine:
        raise NoSuchQueue(_("There is no work queue for your role."))
    queue = mine[0] if not tab else QUEUES.get(tab)
    if queue is None or queue not in mine:
        raise NoSuchQueue(_("There is no such queue among yours."))
    errors = {}
    if state and state not in queue.states:
        errors["state"] = _("Choose one of the states this queue holds.")
    if category and category not in CATEGORIES:
        errors["category"] = _("Choose one of the categories listed.")
    if priority and priority not in PRIORITIES:
        errors["priority"] = _("Choose standard or priority.")
    if errors:
        raise FormInvalid(errors)
    cursor = Cursor.decode(after) if after else None
    return QueueQuery(queue, viewer.id, state, category, priority, cursor)


# -- The queries ------------------------------------------------------------------------

COLUMNS = (
    "c.id, c.ref, c.state, c.category, c.priority, c.deadline_at, c.next_step_by, "
    "c.paused_remaining"
)

# Mine, or nobody's yet in the queue's role: among the case's holders of that role, is one
# me (1), are there only others (0), or none (NULL, so 1)? One probe of
# case_participant_once ("case", "user", role) per case walked. A scalar subquery, because
# PostgreSQL turns EXISTS ... OR NOT EXISTS into hashed subplans that read every holder of
# the role in the table; and `<> 0` rather than `= 1`, because PostgreSQL guesses that few
# rows pass an `=` on an expression and would then read and sort a whole state's cases
# instead of walking the index in order and stopping after one page.
HELD_BY_ME_OR_NOBODY = (
    'COALESCE((SELECT MAX(CASE WHEN p."user" = {} THEN 1 ELSE 0 END) FROM case_participant p '
    'WHERE p."case" = c.id AND p.role = {}), 1) <> 0'
)


def _cases() -> str:
    """The FROM of a queue query. SQLite, without ANALYZE statistics, would rather walk the
    category index than the queue index when both could serve; told which, it cannot."""
    if Case._meta.db.engine_type == "sqlite":
        return "dispute_case AS c INDEXED BY dispute_case_queue"
    return "dispute_case AS c"


def _filters(query: QueueQuery) -> tuple[list[str], list[Any]]:
    """The conditions every part of a queue's query shares, with their arguments."""
    where: list[str] = []
    args: list[Any] = []
    if query.category:
        where.append("c.category = {}")
        args.append(query.category)
    if query.queue.holder:
        where.append(HELD_BY_ME_OR_NOBODY)
        args += [query.viewer_id, query.queue.holder]
    return where, args


def page_sql(query: QueueQuery, at: datetime, limit: int = PAGE_SIZE + 1) -> tuple[str, list[Any]]:
    """The page's query: one ordered, limited walk of the queue index per (state,
    priority, dated or not) after the cursor, merged. Empty SQL when nothing is left."""
    shared_where, shared_args = _filters(query)
    after = query.after
    parts: list[str] = []
    args: list[Any] = []
    for priority in query.priorities():
        for undated in (0,) if query.queue.overdue_only else (0, 1):
            run = (RANK[priority], undated)
            if after is not None and run < (after.rank, after.undated):
                continue  # every row of this run was on earlier pages
            for state in query.states():
                where = ["c.state = {}", "c.priority = {}"]
                run_args: list[Any] = [state, priority]
                where.append("c.deadline_at IS NULL" if undated else "c.deadline_at IS NOT NULL")
                if query.queue.overdue_only:
                    where.append("c.deadline_at < {}")
                    run_args.append(at)
                if after is not None and run == (after.rank, after.undated):
                    if undated:
                        where.append("c.id > {}")
                        run_args.append(after.case_id)
                    else:
                        # A range on deadline_at the index can seek to, then the tie-break.
                        where.append("c.deadline_at >= {} AND (c.deadline_at > {} OR c.id > {})")
                        run_args += [after.deadline, after.deadline, after.case_id]
                # The index's own order, also where every deadline is NULL: PostgreSQL
                # would otherwise walk the primary key for `ORDER BY id` and filter.
                parts.append(
                    f"SELECT * FROM (SELECT {COLUMNS}, {run[0]} AS queue_rank, "
                    f"{undated} AS undated FROM {_cases()} "
                    f"WHERE {' AND '.join(where + shared_where)} "
                    f"ORDER BY c.deadline_at, c.id LIMIT {int(limit)}) AS run{len(parts)}"
                )
                args += run_args + shared_args
    if not parts:
        return "", []
    sql = " UNION ALL ".join(parts)
    return f"{sql} ORDER BY queue_rank, undated, deadline_at, id LIMIT {int(limit)}", args


def flags_sql(query: QueueQuery, at: datetime) -> tuple[str, list[Any]]:
    """How many of the queue's cases are overdue and due within a day: a range of the
    queue index per (state, priority) up to a day from now: it reads the cases near or past
    their deadline, not the whole queue."""
    shared_where, shared_args = _filters(query)
    states = query.states()
    priorities = query.priorities()
    until = at if query.queue.overdue_only else at + DUE_SOON
    where = [
        f"c.state IN ({', '.join('{}' for state in states)})",
        f"c.priority IN ({', '.join('{}' for priority in priorities)})",
        "c.deadline_at < {}",
        *shared_where,
    ]
    sql = (
        "SELECT COUNT(CASE WHEN c.deadline_at < {} THEN 1 END) AS overdue, "
        "COUNT(CASE WHEN c.deadline_at >= {} THEN 1 END) AS due_soon "
        f"FROM {_cases()} WHERE {' AND '.join(where)}"
    )
    return sql, [at, at, *states, *priorities, until, *shared_args]


def staff_on_sql(case_ids: list[int]) -> tuple[str, list[Any]]:
    """The staff on the page's cases, to say who owes each next step."""
    marks = ", ".join("{}" for case_id in case_ids)
    held = ", ".join("{}" for role in ASSIGNABLE_STAFF)
    sql = (
        'SELECT p."case" AS case_id, p.role, u.id AS user_id, u.name '
        'FROM case_participant p JOIN portal_user u ON u.id = p."user" '
        f'WHERE p."case" IN ({marks}) AND p.role IN ({held}) ORDER BY p.id'
    )
    return sql, [*case_ids, *ASSIGNABLE_STAFF]


def _moment(value: Any) -> datetime | None:
    """A timestamp as an aware datetime (SQLite gives a string from a compound query)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- The page ---------------------------------------------------------------------------


@dataclass
class QueueRow:
    id: int
    ref: str
    state: str
    category: str
    priority: str
    deadline_at: datetime | None
    next_step_by: str
    paused: bool
    overdue: bool
    due_soon: bool
    staff: dict[str, list[str]] = field(default_factory=dict)  # role -> names on the case

    @property
    def owed_by(self) -> list[str]:
        """The names of whoever owes the next step, when it is a staff role on the case."""
        return self.staff.get(self.next_step_by, [])

    @property
    def label(self) -> str:
        return f"{self.ref}: {category_label(self.category)}, {state_label(self.state)}"


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    email: str
    role: str


@dataclass
class QueuePage:
    query: QueueQuery
    rows: list[QueueRow]
    next_cursor: Cursor | None
    overdue: int
    due_soon: int
    staff: list[StaffMember]  # whom a supervisor may assign; empty for everyone else
    now: datetime

    @property
    def first_page(self) -> bool:
        return self.query.after is None

    @property
    def staff_by_role(self) -> list[tuple[str, list[StaffMember]]]:
        """The supervisor's choice of whom to assign, grouped by role."""
        groups = [(role, [m for m in self.staff if m.role == role]) for role in ASSIGNABLE_STAFF]
        return [(role, members) for role, members in groups if members]


async def queue_page(query: QueueQuery, viewer: Viewer, at: datetime) -> QueuePage:
    """One page of the queue, with its flags and who owes each case's next step:
    three queries (four for a supervisor), however many cases there are."""
    sql, args = page_sql(query, at)
    found = await Case.raw(sql, *args) if sql else []
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    rows = []
    for row in found:
        deadline = _moment(row["deadline_at"])
        rows.append(
            QueueRow(
                id=row["id"],
                ref=row["ref"],
                state=row["state"],
                category=row["category"],
                priority=row["priority"],
                deadline_at=deadline,
                next_step_by=row["next_step_by"],
                paused=row["paused_remaining"] is not None,
                overdue=deadline is not None and deadline < at,
                due_soon=deadline is not None and at <= deadline < at + DUE_SOON,
            )
        )
    if rows:
        sql, args = staff_on_sql([row.id for row in rows])
        by_case = {row.id: row for row in rows}
        for held in await Case.raw(sql, *args):
            by_case[held["case_id"]].staff.setdefault(held["role"], []).append(held["name"])
    next_cursor = None
    if more:
        last = found[-1]
        next_cursor = Cursor(
            int(last["queue_rank"]), int(last["undated"]), _moment(last["deadline_at"]), last["id"]
        )
    sql, args = flags_sql(query, at)
    counts = (await Case.raw(sql, *args))[0]
    staff = await assignable_staff() if standing(viewer).administers else []
    return QueuePage(
        query=query,
        rows=rows,
        next_cursor=next_cursor,
        overdue=int(counts["overdue"] or 0),
        due_soon=int(counts["due_soon"] or 0),
        staff=staff,
        now=at,
    )


async def assignable_staff() -> list[StaffMember]:
    rows = (
        await User.select(User.id, User.name, User.email, User.role)
        .where(User.active.eq(True) & User.role.is_in(list(ASSIGNABLE_STAFF)))
        .order_by(User.role)
        .order_by(User.name)
    )
    return [StaffMember(r["id"], r["name"], r["email"], r["role"]) for r in rows]


async def assign_from_queue(keyring: Keyring, ref: str, case_id: int, user: str,
                            by: Viewer) -> StaffMember:  # fmt: skip
    """A supervisor puts an active staff member on the case in their own role, recorded
    and notified as from the case room (`filing.assign`)."""
    member = None
    if user.isdigit():
        row = (
            await User.select(User.id, User.name, User.email, User.role)
            .where(
                (User.id == int(user))
                & User.active.eq(True)
                & User.role.is_in(list(ASSIGNABLE_STAFF))
            )
            .first()
        )
        if row is not None:
            member = StaffMember(row["id"], row["name"], row["email"], row["role"])
    if member is None:
        raise FormInvalid({"user": _("Choose an active agent, investigator or assessor.")})
    try:
        await filing.assign(keyring, ref, case_id, member.email, member.role, by)
    except FormInvalid as exc:
        # filing names the email field; here the person was chosen from a list.
        raise FormInvalid({"user": " ".join(exc.errors.values())}) from exc
    return member


__all__ = [
    "PAGE_SIZE",
    "QUEUES",
    "Cursor",
    "NoSuchQueue",
    "QueuePage",
    "QueueQuery",
    "assign_from_queue",
    "queue_page",
    "read_query",
    "tabs_for",
]
