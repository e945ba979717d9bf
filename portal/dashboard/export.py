"""A chart's numbers as CSV, safe to open in a spreadsheet.

The first columns are the chart's key as the portal names it (`triage`, `2026-11-16`)
and its label in the reader's language; then one column per series. The file starts
with a byte order mark, so that spreadsheet programs read its Chinese as UTF-8.

A cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage return) would be run
as a formula by a spreadsheet (CSV injection, OWASP); such text is prefixed with `'`.
Numbers are written as numbers: none is negative.
"""

from __future__ import annotations

import csv
import io

from portal.dashboard.figures import Figure, Value
from portal.dashboard.filters import Filters

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Value) -> str | int | float:
    return "" if value is None else value


def to_csv(figure: Figure) -> str:
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow([figure.key_name, "label", *(series.name for series in figure.series)])
    for row in figure.rows:
        writer.writerow([safe_cell(row.key), safe_cell(row.label), *(_cell(v) for v in row.values)])
    return out.getvalue()


def filename(figure: Figure, filters: Filters) -> str:
    """Names the chart and the range: `outcomes_2026-01-01_2026-03-31.csv`."""
    parts = [figure.slug, filters.first_day.isoformat(), filters.last_day.isoformat()]
    parts += [value for value in (filters.category, filters.priority) if value]
    return "_".join(parts) + ".csv"
