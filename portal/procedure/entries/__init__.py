"""The registry of entry types: what each ledger entry holds and how it reads.

Every type of entry the portal writes to a case's ledger is declared once, in `case.py`,
`mediation.py`, `arbitration_constitution.py` and `arbitration_proceedings.py` beside
this module: its body's fields (and which texts a private channel keeps only as their
hash), one line for the room's timeline, the texts its reader is shown in full (reasons,
answers, findings: the room and the case file show the same), the notice it causes, if
any, and the webhook events it may announce. The room, the case file, emails and
webhooks render entries through `read`, `notice_text` and `webhook_events`, so what a
person reads and what the ledger attests come from the same declaration.

Labels that belong to the areas above the kernel (a state's, a role's name) reach a
reading through `Words`, which the caller fills in; the kernel imports no area.
"""

from __future__ import annotations

from portal.procedure.entries import (  # noqa: F401  (they declare)
    arbitration_constitution,
    arbitration_proceedings,
    case,
    mediation,
)
from portal.procedure.entries.registry import (
    REGISTRY,
    Body,
    EntryType,
    Notice,
    Reading,
    Text,
    Words,
    all_webhook_events,
    channel_label,
    declare,
    notice_for,
    notice_text,
    paragraph,
    read,
    step_notice,
    webhook_events,
)

__all__ = [
    "REGISTRY",
    "Body",
    "EntryType",
    "Notice",
    "Reading",
    "Text",
    "Words",
    "all_webhook_events",
    "channel_label",
    "declare",
    "notice_for",
    "notice_text",
    "paragraph",
    "read",
    "step_notice",
    "webhook_events",
]
