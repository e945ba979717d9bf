"""After-a-move hooks, and steps that follow from time passing: what must happen without
the code that causes it knowing who listens.

The case's life is below mediation, arbitration, webhooks and notices in the layers, so
it cannot import them; yet an impasse must end the mediation and every move must reach
the platform's webhooks. Each of those subscribes here at import time (`after`), and the
executor calls `run` inside the move's write transaction, after the move and its ledger
entry, in subscription order: what a hook writes (the mediation's end, a webhook's outbox
row) is one with the move, and a hook that raises undoes the whole step.

Time passing is the other cause: a window closes (an objection period, an offer's life,
a list's deadline) and the sweep, which lives with the cases, must act on mediation's
and arbitration's rows. Each area registers its steps (`when_time_passes`) beside its
move hooks; the sweep runs `timed_steps()` in registration order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.keys import Keyring

ANY = "*"


@dataclass(frozen=True)
class Move:
    """What happened: which procedure, which action, from and to which state, on which case,
    and when."""

    procedure: str
    action: str
    source: str
    target: str
    case_id: int
    at: datetime
    sequence: int | None = None  # the ledger entry's number in the case's chain
    detail: dict[str, Any] | None = None


Hook = Callable[[Move], Awaitable[None]]

_hooks: list[tuple[str, str, Hook]] = []


def after(procedure: str, action: str = ANY) -> Callable[[Hook], Hook]:
    """Subscribe the decorated coroutine to moves of `procedure` (one action, or every one)."""

    def subscribe(hook: Hook) -> Hook:
        if not any(h is hook for _p, _a, h in _hooks):
            _hooks.append((procedure, action, hook))
        return hook

    return subscribe


async def run(move: Move) -> None:
    """Call every hook subscribed to this move, in the order they subscribed (inside the
    move's transaction)."""
    for procedure, action, hook in list(_hooks):
        if procedure == move.procedure and action in (ANY, move.action):
            await hook(move)


TimedStep = Callable[[Keyring, datetime], Awaitable[int]]
"""A step the sweep takes at `at`, signed with the keyring; it returns how many it took."""

_timed: list[TimedStep] = []


def when_time_passes(step: TimedStep) -> TimedStep:
    """Register `step` with the sweep (once, however often its module is imported)."""
    if not any(s is step for s in _timed):
        _timed.append(step)
    return step


def timed_steps() -> tuple[TimedStep, ...]:
    """Every registered step, in the order they were registered."""
    return tuple(_timed)
