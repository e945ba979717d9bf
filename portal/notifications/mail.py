"""Queueing an email, written in its reader's language, in the caller's transaction.

A template under `templates/email/` gives the subject on its first line and the
body after a blank line. Queued mail is sent by `portal.notifications.delivery`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal.i18n import language, template_gettext, template_ngettext
from portal.notifications.tables import OutboundMail
from portal.procedure import entries

EMAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"

_environment: Environment | None = None


def _templates() -> Environment:
    global _environment
    if _environment is None:
        env = Environment(
            loader=FileSystemLoader(EMAIL_TEMPLATES),
            autoescape=False,  # plain text
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            keep_trailing_newline=True,
        )
        env.install_gettext_callables(  # type: ignore[attr-defined]
            template_gettext, template_ngettext, newstyle=True
        )
        _environment = env
    return _environment


def render_mail(template: str, lang: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of `templates/email/<template>.txt` in `lang`; the subject and first
    paragraph of a notice an entry causes are the registry's (`notice_subject`, `notice_body`)."""
    with language(lang):
        told = entries.notice_text(template, context)
        text = _templates().get_template(f"{template}.txt").render(**context, **told)
    subject, _sep, body = text.lstrip().partition("\n\n")
    return " ".join(subject.split()), body.strip() + "\n"


async def queue_mail(to: str, lang: str, template: str, **context: Any) -> None:
    subject, body = render_mail(template, lang, **context)
    now = datetime.now(UTC)
    await OutboundMail.insert(
        OutboundMail(to_address=to, subject=subject, body=body, created_at=now, next_attempt_at=now)
    )
