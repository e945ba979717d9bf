"""What `portal ledger verify` found: each failure named by its check and where it is,
the first few of each check shown and the rest counted, and what was checked."""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN_PER_CHECK = 20


@dataclass(frozen=True)
class Failure:
    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"FAIL [{self.check}] {self.where}: {self.message}"


@dataclass
class AuditReport:
    entries: int = 0
    cases: int = 0
    checkpoints: int = 0
    tree_size: int = 0
    failures: list[Failure] = field(default_factory=list)
    hidden: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, check: str, where: str, message: str) -> None:
        shown = sum(1 for f in self.failures if f.check == check)
        if shown < SHOWN_PER_CHECK:
            self.failures.append(Failure(check, where, message))
        else:
            self.hidden[check] = self.hidden.get(check, 0) + 1

    def render(self) -> str:
        lines = [str(f) for f in self.failures]
        lines += [f"FAIL [{check}] ... and {n} more" for check, n in self.hidden.items()]
        summary = (
            f"{self.entries} entries in {self.cases} cases, tree of {self.tree_size} leaves, "
            f"{self.checkpoints} checkpoints"
        )
        if self.ok:
            lines.append(f"OK: {summary}; every check holds.")
        else:
            total = len(self.failures) + sum(self.hidden.values())
            lines.append(f"FAILED: {total} problems found in {summary}.")
        return "\n".join(lines)
