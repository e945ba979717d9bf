"""Sentences with blanks, so that a report written here can be read in another language.

The ledger package stands alone: it knows nothing of the portal or of gettext. So a
verifier's finding is kept as its English template and the values for its blanks, and
whoever shows the report may translate the template (the portal does, into Simplified
Chinese) before filling the blanks. `str()` gives the English.
"""

from collections.abc import Callable

Translate = Callable[[str], str]


def english(template: str) -> str:
    """The translation into English: the template itself."""
    return template


class Phrase:
    """A template in `str.format` style and what fills its blanks.

    A blank may hold another Phrase (the label of an entry, say), translated the same
    way, or a list of them, joined with commas.
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params

    def render(self, translate: Translate = english) -> str:
        values = {key: _render(value, translate) for key, value in self.params.items()}
        try:
            return translate(self.template).format_map(values)
        except (KeyError, IndexError, ValueError):
            # A translation whose blanks do not match the English must not hide a finding.
            return self.template.format_map(values)

    def capitalized(self) -> "Phrase":
        """The same words at the start of a sentence (English templates only differ there)."""
        return Phrase(self.template[:1].upper() + self.template[1:], **self.params)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Phrase({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Phrase)
            and other.template == self.template
            and other.params == self.params
        )

    def __hash__(self) -> int:
        return hash(self.template)


def _render(value: object, translate: Translate) -> str:
    if isinstance(value, Phrase):
        return value.render(translate)
    if isinstance(value, list | tuple):
        return ", ".join(_render(item, translate) for item in value)
    return str(value)
