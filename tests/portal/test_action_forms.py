"""The case's table is the one declaration: forms, steps, deadlines, queues and reminders
all follow it.

Every action a person takes has its form partial (`templates/cases/actions/<action>.html`)
asking for exactly the fields the table declares, and a step that reads them; what the
deadline policy, the queues, the sweep and the labels know of a state comes from the table.
"""

from __future__ import annotations

import re

from portal.cases import deadlines, queues, steps, sweep
from portal.cases.categories import state_label
from portal.procedure import case as states
from tests.support import ROOT

PARTIALS = ROOT / "templates/cases/actions"
ASKED = re.compile(r'(?:field|select)\("(\w+)", _\("([^"]+)"\)')


def asked_for(action: str) -> dict[str, str]:
    """The fields a partial renders, name -> label, following its includes."""
    text = (PARTIALS / f"{action}.html").read_text()
    found = dict(ASKED.findall(text))
    for included in re.findall(r'{% include "cases/actions/(\w+)\.html" %}', text):
        found |= asked_for(included)
    return found


def test_every_persons_action_has_its_form_and_only_they_do():
    taken_by_people = {a.name for a in states.CASE.actions if not a.automatic}
    assert {p.stem for p in PARTIALS.glob("*.html")} == taken_by_people
    for step in states.CASE.actions:
        if step.automatic:
            assert step.form == (), step.name
            continue
        declared = {f.name: f.label for f in step.form}
        assert asked_for(step.name) == declared, step.name


def test_every_form_has_a_reader_and_every_step_a_declared_action():
    with_form = {a.name for a in states.CASE.actions if a.form}
    assert set(steps.READERS) == with_form
    assert set(steps.FOLLOWERS) <= {a.name for a in states.CASE.actions}


def test_deadlines_owners_queues_and_reminders_come_from_the_table():
    for state in states.CASE.states:
        hours = state.hours
        assert deadlines.DEFAULTS.get(state.name) == (
            (hours.standard, hours.priority) if hours else None
        ), state.name
        assert deadlines.OWNER.get(state.name) == state.owner, state.name
        assert (state.name in sweep.REMINDED_STATES) == state.reminded, state.name
        assert state_label(state.name) == state.label
        assert not (state.final and (state.owner or state.hours or state.reminded))
    for key in ("untriaged", "investigation", "assessment"):
        held = queues.QUEUES[key].states
        assert held == tuple(s for s in states.STATES if states.CASE.state(s).queue == key)
    assert queues.QUEUES["untriaged"].states == ("submitted", "triage", "awaiting_info")
    assert queues.QUEUES["assessment"].states == ("assessment", "objected", "reconsideration")
    assert set(queues.QUEUES["open"].states) == states.CASE.open_states
