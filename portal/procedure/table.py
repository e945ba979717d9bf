"""The types every procedure is written in: states, actions and the table that holds them.

A procedure is the case's life, or one of mediation's or arbitration's sub-procedures
(a mediator's appointment, an offer, a tribunal's seat, an award). Each is one
`Procedure`: its states, each saying what it means and who owes the next step, and its
actions, each saying from where to where, who may take it and under which guard. The
screens offer exactly what `available` returns and the service that performs an action
asks `check` again, so what is shown and what is allowed cannot drift apart; a test
walks every table the same way (`walk`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from portal.i18n import _

SYSTEM = "system"
"""The portal itself: the role of steps that follow from another one, never a button."""


class Acting(Protocol):
    """Whoever asks: the roles they hold on the subject (a case's access fits)."""

    @property
    def roles(self) -> frozenset[str] | set[str]: ...


Guard = Callable[[Mapping[str, Any], Any, datetime], str | None]
"""A guard sees the subject (a case, an appointment, a seat, as a mapping), the access
of who asks and the time, and returns None when the action may go ahead, or a message
saying why not."""


def always(subject: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    return None


@dataclass(frozen=True)
class Hours:
    """How long a state may last before its owner is late, per priority."""

    standard: int
    priority: int

    def for_priority(self, priority: str) -> int:
        return self.priority if priority == "priority" else self.standard


@dataclass(frozen=True)
class State:
    """One state of a procedure and what it means.

    `label` is the English text, translated where it is shown (it is a gettext message);
    `owner` is the role that owes the next step (None when nobody does); `hours` the
    default time that step may take; `reminded` whether the owner is reminded before the
    deadline; `queue` the staff queue that lists the subject in this state; `final`
    whether nothing can follow.
    """

    name: str
    label: str
    owner: str | None = None
    hours: Hours | None = None
    reminded: bool = False
    queue: str | None = None
    final: bool = False
    meaning: str = ""


@dataclass(frozen=True)
class Field:
    """One field of an action's form: its name, its label, and whether it must be given."""

    name: str
    label: str
    required: bool = True
    kind: str = "text"  # text, textarea, choice, date, amount, password, checkbox
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    """One step: where it may start, where it goes, who may take it and under which guard.

    `label` is the button's text (a gettext message); `form` the fields it asks for;
    `entry` the ledger entry type it writes, when it is not the procedure's default.
    """

    name: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str
    guard: Guard = always
    form: tuple[Field, ...] = ()
    entry: str | None = None

    @property
    def automatic(self) -> bool:
        """Taken by the portal itself, as a consequence of another step."""
        return self.roles == frozenset((SYSTEM,))


def action(name: str, sources: Iterable[str], target: str, who: Iterable[str], label: str,
           guard: Guard = always, form: tuple[Field, ...] = (),
           entry: str | None = None) -> Action:  # fmt: skip
    """An `Action` written as one line of a table."""
    return Action(name, frozenset(sources), target, frozenset(who), label, guard, form, entry)


class Refused(Exception):
    """The action is not open to this person now; the message says why."""


Translate = Callable[[str], str]


@dataclass(frozen=True)
class Procedure:
    """A table of states and actions, with the questions every screen and service asks."""

    name: str
    states: tuple[State, ...]
    actions: tuple[Action, ...]
    initial: str
    _states: dict[str, State] = field(init=False, repr=False, compare=False)
    _actions: dict[str, Action] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_states", {s.name: s for s in self.states})
        object.__setattr__(self, "_actions", {a.name: a for a in self.actions})
        unknown = {self.initial} | {a.target for a in self.actions}
        for a in self.actions:
            unknown |= a.sources
        unknown -= set(self._states)
        if unknown:
            raise ValueError(f"{self.name}: undeclared states {sorted(unknown)}")

    def state(self, name: str) -> State:
        return self._states[name]

    def action(self, name: str) -> Action | None:
        return self._actions.get(name)

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.final)

    @property
    def open_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if not s.final)

    def check(self, name: str, subject: Mapping[str, Any], access: Acting, now: datetime,
              translate: Translate = str) -> Action:  # fmt: skip
        """The action, if `access` may take it now on `subject`; `Refused` saying why not.

        `translate` turns the labels into the reader's language for the message.
        """
        step = self._actions.get(name)
        if step is None:
            raise Refused(_("There is no such action."))
        if subject["state"] not in step.sources:
            raise Refused(
                _(
                    "“%(action)s” is not possible at this stage of the case (%(state)s).",
                    action=translate(step.label),
                    state=translate(self.state(subject["state"]).label),
                )
            )
        if not set(access.roles) & step.roles:
            raise Refused(
                _("Your role on this case cannot “%(action)s”.", action=translate(step.label))
            )
        reason = step.guard(subject, access, now)
        if reason:
            raise Refused(reason)
        return step

    def available(self, subject: Mapping[str, Any], access: Acting, now: datetime) -> list[Action]:
        """Every action `access` may take now, in the table's order."""
        found = []
        for step in self.actions:
            try:
                self.check(step.name, subject, access, now)
            except Refused:
                continue
            found.append(step)
        return found

    def walk(self) -> WalkReport:
        """What a test asserts of every table: reachable, no dead ends, finals stay final."""
        reachable = {self.initial}
        frontier = [self.initial]
        while frontier:
            here = frontier.pop()
            for step in self.actions:
                if here in step.sources and step.target not in reachable:
                    reachable.add(step.target)
                    frontier.append(step.target)
        leaving = {s for step in self.actions for s in step.sources}
        return WalkReport(
            unreachable=frozenset(self._states) - reachable,
            dead_ends=frozenset(s.name for s in self.states if not s.final) - leaving,
            leaving_final=frozenset(self.final_states & leaving),
        )


@dataclass(frozen=True)
class WalkReport:
    unreachable: frozenset[str]
    dead_ends: frozenset[str]
    leaving_final: frozenset[str]

    @property
    def sound(self) -> bool:
        return not (self.unreachable or self.dead_ends or self.leaving_final)


__all__ = [
    "SYSTEM", "Action", "Field", "Guard", "Hours", "Procedure", "Refused", "State",
    "WalkReport", "action", "always",
]  # fmt: skip
