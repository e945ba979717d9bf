"""What a verifier found: one `Finding` per check made, in a sentence that can be read in
either language, and the `Report` of them all. The bundle verifier writes them, and so
does the portal's case-file verifier."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.phrase import Phrase, Translate


@dataclass(frozen=True)
class Finding:
    """The outcome of one check, in a sentence.

    `message` is the English; `phrase`, when there is one, is the same sentence as a
    template and its values, for a reader who shows the report in another language.
    """

    check: str
    ok: bool
    message: str
    phrase: Phrase | None = None

    @classmethod
    def of(cls, check: str, ok: bool, phrase: Phrase) -> Finding:
        return cls(check, ok, str(phrase), phrase)

    def render(self, translate: Translate | None = None) -> str:
        """The sentence, translated by `translate` when it is given and can be."""
        if translate is None or self.phrase is None:
            return self.message
        return self.phrase.render(translate)


@dataclass
class Report:
    """Everything the verifier found, in the order it checked."""

    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """Whether there was something to check and every check passed."""
        return bool(self.findings) and all(finding.ok for finding in self.findings)

    def failures(self) -> list[Finding]:
        """The findings that failed."""
        return [finding for finding in self.findings if not finding.ok]

    def render(self) -> str:
        """One line per finding, PASS or FAIL first."""
        return "\n".join(
            f"{'PASS' if finding.ok else 'FAIL'}  {finding.message}" for finding in self.findings
        )
