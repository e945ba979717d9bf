"""What time passing means for an arbitration: a list's deadline, the tribunal's dates.

The sweep lives with the cases, below arbitration, and cannot call it; arbitration
registers its timed steps instead (`portal.procedure.hooks.when_time_passes`): a list
whose deadline passed is closed and its seat filled, and a timetable whose date came
moves on. `portal.listeners` imports it.
"""

from __future__ import annotations

from arbitration import filling
from arbitration.timetable import advance_timetables
from portal.procedure.hooks import when_time_passes

when_time_passes(filling.advance_due)
when_time_passes(advance_timetables)
