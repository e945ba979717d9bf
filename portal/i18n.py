"""English and Simplified Chinese: choosing a language and translating into it.

The language of the request being served (or of the email being written) lives in a
context variable, so `gettext` works the same in a controller, a service, a template
or an email without passing a locale around. Catalogues are Babel `.po` files under
`portal/translations`, compiled to `.mo` by `make install`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"

DEFAULT_LANGUAGE = "en"
LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}
"""The languages a user can choose, each named in itself."""

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")


@cache
def _catalogue(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [language])


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextlib.contextmanager
def language(code: str) -> Iterator[None]:
    """Translate into `code` for the block, e.g. to write an email in its reader's language."""
    token = _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **values: object) -> str:
    text = _catalogue(_current.get()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = _catalogue(_current.get()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


_ = gettext


def template_gettext(message: str) -> str:
    """For Jinja's newstyle gettext, which does the `%` formatting itself (and escapes)."""
    return _catalogue(_current.get()).gettext(message)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue(_current.get()).ngettext(singular, plural, n)


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header; English if none fits.

    Any Chinese tag chooses Simplified Chinese: it is the only Chinese we have, and a
    reader of Traditional Chinese is better served by it than by English.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _position, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en") or tag == "*":
            return "en"
    return DEFAULT_LANGUAGE


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it now: a label kept in a table
    (a state's, an action's, a field's) is translated where it is shown, in the reader's
    language. `make translations` extracts it like `_`."""
    return message
