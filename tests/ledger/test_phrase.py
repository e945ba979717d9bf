"""Findings as phrases: the English is `str()`, a reader's tool may translate the template,
and a translation that does not fit the blanks never hides the finding."""

from __future__ import annotations

from ledger.findings import Finding
from ledger.phrase import Phrase

FRENCH = {
    "the entry with case_seq {seq}": "l'entrée de case_seq {seq}",
    "{item} does not link to {before}.": "{item} ne suit pas {before}.",
    "{n} entries": "{n} entrées",
}


def french(template: str) -> str:
    return FRENCH.get(template, template)


def test_nested_phrases_and_lists_are_translated_and_filled():
    phrase = Phrase(
        "{item} does not link to {before}.",
        item=Phrase("the entry with case_seq {seq}", seq=3).capitalized(),
        before=Phrase("the entry with case_seq {seq}", seq=2),
    )
    assert str(phrase) == "The entry with case_seq 3 does not link to the entry with case_seq 2."
    # The capitalised template is a template of its own, so it stays English here.
    assert phrase.render(french) == (
        "The entry with case_seq 3 ne suit pas l'entrée de case_seq 2."
    )
    listed = Phrase("{keys}", keys=[Phrase("{n} entries", n=2), "plain"])
    assert listed.render(french) == "2 entrées, plain"


def test_a_translation_with_other_blanks_falls_back_to_the_english():
    phrase = Phrase("{n} entries", n=4)
    assert phrase.render(lambda template: "{count} entrées") == "4 entries"
    assert phrase.render(lambda template: "{0} entrées") == "4 entries"


def test_a_finding_keeps_the_english_and_renders_the_translation():
    finding = Finding.of("chain", False, Phrase("{n} entries", n=2))
    assert finding.message == "2 entries"
    assert finding.render() == "2 entries"
    assert finding.render(french) == "2 entrées"
    # A finding made from a plain sentence has nothing to translate.
    assert Finding("chain", True, "fine").render(french) == "fine"
