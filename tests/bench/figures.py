"""What a benchmark reports: a figure, the target it is held to, and the raw rate beside it.

A figure is printed the moment it is measured, and again in the summary table at the end,
with PASS or MISS against its target. Ratios are against raw rates measured in the same
run on the same machine, so that they still mean something on a faster or slower one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """`value <op> bound`, e.g. at least 2,000 appends a second."""

    op: str  # ">=" or "<="
    bound: float
    text: str  # how the issue states it, e.g. ">= 2,000/s"

    def met_by(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound


@dataclass(frozen=True)
class Figure:
    name: str
    database: str  # "SQLite", "PostgreSQL" or "-" for figures with no database
    value: float | None  # None when skipped
    unit: str
    target: Target | None = None
    ratio: str = ""  # against a raw rate of the same run, e.g. "0.74 x raw verify/s"
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "SKIPPED"
        if self.target is None:
            return "-"
        return "PASS" if self.target.met_by(self.value) else "MISS"

    def shown_value(self) -> str:
        if self.value is None:
            return "skipped"
        return f"{format_number(self.value)} {self.unit}".rstrip()

    def line(self) -> str:
        target = f"target {self.target.text}" if self.target else "no target"
        parts = [
            f"  {self.database:<10} {self.name:<44} {self.shown_value():>16}",
            f"{target:<22} {self.verdict:<7}",
        ]
        if self.ratio:
            parts.append(f"({self.ratio})")
        if self.note:
            parts.append(f"[{self.note}]")
        return " ".join(parts)


def format_number(value: float) -> str:
    """Thousands separated; small values with enough digits to compare with a target."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(value: float, raw: float, what: str) -> str:
    return f"{value / raw:.2f} x {what}" if raw else ""


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value at or above p percent of them."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def show(figure: Figure) -> Figure:
    print(figure.line(), flush=True)
    return figure


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def summary_table(figures: list[Figure]) -> str:
    """The figures as a Markdown table, for the terminal and for docs/BENCHMARKS.md."""
    rows = [
        "| figure | database | value | target | result | ratio |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for figure in figures:
        target = figure.target.text if figure.target else "-"
        extra = "; ".join(part for part in (figure.ratio, figure.note) if part)
        rows.append(
            f"| {figure.name} | {figure.database} | {figure.shown_value()} | {target} "
            f"| {figure.verdict} | {extra} |"
        )
    return "\n".join(rows)
