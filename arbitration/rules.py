"""Arbitration rules: how many arbitrators, how they are chosen, and the time limits.

A ruleset is plain data; a supervisor picks one per case when the arbitration starts,
and the case keeps its key, so later edits to a ruleset never change a case under way.
The portal ships two, both by the list method (BRIEF "Arbitration"):

- `sole`: one arbitrator chosen from a list of five; each side may strike two.
- `three`: each side names an arbitrator; the two choose the presiding arbitrator from
  a list of five, each striking up to two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from portal.i18n import _


@dataclass(frozen=True)
class Ruleset:
    key: str
    label: Callable[[], str]
    arbitrators: int  # 1 or 3
    method: str  # "list": the list method
    list_size: int  # candidates on each list
    strikes: int  # how many candidates each ranker may strike
    list_window: timedelta  # to strike and rank, from the list's sending
    nomination_window: timedelta  # three members: each side names its arbitrator
    answer_window: timedelta  # an invited arbitrator's time to disclose and answer
    challenge_window: timedelta  # after an appointment, or after learning the grounds
    extension_limit: timedelta  # the longest extension the tribunal may grant at once
    award_window: timedelta  # from the closing submissions to the award
    correction_window: timedelta  # after the award, to ask for a clerical correction


RULESETS: dict[str, Ruleset] = {
    "sole": Ruleset(
        key="sole",
        label=lambda: _("Sole arbitrator, chosen by the list method"),
        arbitrators=1,
        method="list",
        list_size=5,
        strikes=2,
        list_window=timedelta(days=7),
        nomination_window=timedelta(days=7),
        answer_window=timedelta(days=5),
        challenge_window=timedelta(days=15),
        extension_limit=timedelta(days=30),
        award_window=timedelta(days=30),
        correction_window=timedelta(days=30),
    ),
    "three": Ruleset(
        key="three",
        label=lambda: _("Three arbitrators: one named by each side, the presiding one by list"),
        arbitrators=3,
        method="list",
        list_size=5,
        strikes=2,
        list_window=timedelta(days=7),
        nomination_window=timedelta(days=10),
        answer_window=timedelta(days=5),
        challenge_window=timedelta(days=15),
        extension_limit=timedelta(days=30),
        award_window=timedelta(days=45),
        correction_window=timedelta(days=30),
    ),
}
DEFAULT = "sole"


def ruleset(key: str) -> Ruleset:
    return RULESETS.get(key) or RULESETS[DEFAULT]
