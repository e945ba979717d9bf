"""The list method's arithmetic: reading one ranker's strikes and ranks, the answer of a
ranker who said nothing, the combined order of a closed list, and the commitment that
keeps an answer secret until the list closes.

Plain functions over user ids, so that the rule can be read (and tested) in one place:

- each ranker strikes up to `strikes` candidates (never all of them) and ranks every
  other candidate once, 1 being the best;
- a ranker who did not answer in time is taken to accept every candidate in list order;
- the combined order keeps the candidates nobody struck, by the lowest sum of ranks;
  a tie goes to the candidate whose worst rank is better, then to the earlier on the
  list (the list is in roster order, fixed when it was sent).

A side must not read the other side's answer while the list is open, yet the ledger must
show that the answer was given, and when. So the `arbitration.list_answered` entry names
only the SHA-256 of the answer as stored (`answer_json`: the ranks keyed by user id, plus
a random `salt`, since a list of five has only a few hundred possible answers and an
unsalted hash could be guessed), and `arbitration.list_closed` reveals every answer's
exact text, so anyone can check it against the hash committed before.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from portal.errors import FormInvalid
from portal.i18n import _, ngettext

STRIKE = "strike"
SALT = "salt"


def field(candidate: int) -> str:
    """The form field that holds one candidate's rank (or "strike")."""
    return f"rank-{candidate}"


def read_answer(candidates: list[int], form: dict[str, str], strikes: int,
                names: dict[int, str]) -> dict[int, int | None]:  # fmt: skip
    """The ranking a form gives: each candidate's rank, None when struck; FormInvalid
    naming what to fix otherwise."""
    errors: dict[str, str] = {}
    ranking: dict[int, int | None] = {}
    for candidate in candidates:
        value = form.get(field(candidate), "").strip().lower()
        if value == STRIKE:
            ranking[candidate] = None
        elif value.isdigit() and int(value) >= 1:
            ranking[candidate] = int(value)
        else:
            errors[field(candidate)] = _(
                "Give %(name)s a rank, or strike them.", name=names.get(candidate, "")
            )
    if errors:
        raise FormInvalid(errors)
    struck = [c for c, rank in ranking.items() if rank is None]
    allowed = min(strikes, len(candidates) - 1)
    if len(struck) > allowed:
        raise FormInvalid({"ranking": ngettext("You may strike at most %(num)s candidate.",
                                               "You may strike at most %(num)s candidates.",
                                               allowed)})  # fmt: skip
    ranks = sorted(rank for rank in ranking.values() if rank is not None)
    if ranks != list(range(1, len(ranks) + 1)):
        raise FormInvalid(
            {
                "ranking": _(
                    "Rank the candidates you keep from 1 to %(n)s, each number once.",
                    n=len(ranks),
                )
            }
        )
    return ranking


def accept_all(candidates: list[int]) -> dict[int, int | None]:
    """A ranker who did not answer in time accepts every candidate in list order."""
    return {candidate: n for n, candidate in enumerate(candidates, start=1)}


def answer_json(ranking: dict[int, int | None]) -> str:
    """The answer as stored and committed to: ranks keyed by user id, and a fresh salt."""
    stored: dict[str, Any] = {str(c): rank for c, rank in ranking.items()}
    stored[SALT] = secrets.token_hex(16)
    return json.dumps(stored, sort_keys=True, separators=(",", ":"))


def ranking_of(stored: str) -> dict[int, int | None]:
    return {int(key): rank for key, rank in json.loads(stored).items() if key.isdigit()}


def commitment(stored: str) -> str:
    return hashlib.sha256(stored.encode()).hexdigest()


def combined_order(candidates: list[int], rankings: list[dict[int, int | None]]) -> list[int]:
    """The candidates nobody struck, best combined ranking first (see the module's rule)."""
    kept = [c for c in candidates if all(r.get(c) is not None for r in rankings)]
    position = {c: n for n, c in enumerate(candidates)}

    def key(candidate: int) -> tuple[int, int, int]:
        ranks = [int(r[candidate] or 0) for r in rankings]
        return (sum(ranks), max(ranks, default=0), position[candidate])

    return sorted(kept, key=key)
