"""Every after-a-move hook and timed step, subscribed: imported wherever cases can move.

The app factory and the CLI (its sweep and demo among them) import this module once, so
that a move made by any of them ends a mediation at an impasse and queues its webhooks.
The order of the imports is the order the hooks run in: the mediation's end first, the
webhooks last, so their events describe the case with everything the move changed.
"""

from __future__ import annotations

import arbitration.case_hooks
import mediation.case_hooks
import portal.integrations.case_hooks

SUBSCRIBERS = (mediation.case_hooks, arbitration.case_hooks, portal.integrations.case_hooks)

__all__ = ["SUBSCRIBERS"]
