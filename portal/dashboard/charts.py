"""The dashboard's charts as inline SVG, drawn on the server: no script, no image files.

Geometry is in SVG attributes (x, y, width, height), which the Content-Security-Policy
allows; colours and type come from classes in `static/css/dashboard.css`, because the
policy forbids inline styles. Every bar carries its number as text and a `<title>`
("In first review: 12"), and the SVG's `<desc>` lists every figure, so a screen reader
reads the numbers, not shapes. The page also offers each chart's numbers as a table.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from portal.dashboard.figures import Figure, Row, Value
from portal.i18n import _

WIDTH = 640
LABEL_WIDTH = 210  # the bar labels' column
VALUE_WIDTH = 70  # room after the longest bar for its number
ROW_HEIGHT = 26
BAR_HEIGHT = 18

PLOT_HEIGHT = 160  # the weekly chart's bars
WEEK_WIDTH = 16  # two bars of 6 and a gap
AXIS_WIDTH = 44
LABEL_EVERY_PX = 72  # at least this far apart, so week labels never overlap


def number(value: Value) -> str:
    """A figure as shown: thousands grouped, at most two decimals, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def nice_top(largest: float) -> float:
    """The smallest of 1, 2, 2.5, 5, 10, 20, 25, 50... at or above `largest`: the axis's
    end, so that its middle line is a round number too."""
    if largest <= 0:
        return 1
    scale: float = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= largest:
            return step * scale
    return 10 * scale


def _attrs(**values: object) -> str:
    return " ".join(f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
                    for name, value in values.items())  # fmt: skip


def _description(figure: Figure) -> str:
    parts = []
    for row in figure.rows:
        values = ", ".join(
            f"{figure.series[n].label} {number(row.values[n])}" for n in range(len(figure.series))
        )
        parts.append(f"{row.label}: {values}")
    return "; ".join(parts)


def _open_svg(figure: Figure, width: int, height: int, wide: bool = False) -> list[str]:
    chart_id = f"chart-{figure.slug}"
    return [
        f"<svg {_attrs(xmlns='http://www.w3.org/2000/svg', viewBox=f'0 0 {width} {height}')}"
        f" {_attrs(width=width, height=height)}"
        f' class="chart-svg{" wide" if wide else ""}" role="img"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(figure.title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_description(figure))}</desc>',
    ]


def bar_chart(figure: Figure) -> Markup:
    """Horizontal bars, one row per key, the label left and the number after the bar."""
    drawn = figure.drawn[0]
    values = [row.values[drawn] or 0 for row in figure.rows]
    top = max(values, default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW_HEIGHT * len(figure.rows) + 4
    out = _open_svg(figure, WIDTH, height)
    for index, row in enumerate(figure.rows):
        value = row.values[drawn]
        y = index * ROW_HEIGHT + 2
        length = round(span * (value or 0) / top, 1)
        said = number(value)
        if value is None:
            said = _("none")
        out.append(
            f'<g class="bar" {_attrs(data_key=row.key, data_value=_raw(value))}>'
            f"<title>{escape(row.label)}: {escape(said)}</title>"
            f'<text class="label" text-anchor="end" '
            f"{_attrs(x=LABEL_WIDTH - 8, y=y + BAR_HEIGHT - 4)}>{escape(row.label)}</text>"
            f'<rect class="fill-{drawn}" '
            f"{_attrs(x=LABEL_WIDTH, y=y, width=length, height=BAR_HEIGHT)}/>"
            f'<text class="value" {_attrs(x=LABEL_WIDTH + length + 6, y=y + BAR_HEIGHT - 4)}>'
            f"{escape(said)}</text></g>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def _raw(value: Value) -> str:
    """A figure as the data attribute keeps it: plain digits, empty for none."""
    return "" if value is None else str(value)


def _week_labels(rows: list[Row]) -> set[int]:
    every = max(1, math.ceil(LABEL_EVERY_PX / WEEK_WIDTH))
    return {index for index in range(len(rows)) if index % every == 0}


def week_chart(figure: Figure) -> Markup:
    """Grouped vertical bars per week, one per drawn series, over a labelled axis."""
    drawn = figure.drawn
    top = nice_top(max((row.values[n] or 0 for row in figure.rows for n in drawn), default=0))
    plot_width = WEEK_WIDTH * len(figure.rows)
    width = max(WIDTH, AXIS_WIDTH + plot_width + LABEL_EVERY_PX)  # room for the last label
    height = PLOT_HEIGHT + 44
    base = PLOT_HEIGHT + 8
    out = _open_svg(figure, width, height, wide=width > WIDTH)
    out.append('<g class="axis">')
    for fraction in (0, 0.5, 1):
        y = round(base - PLOT_HEIGHT * fraction, 1)
        out.append(
            f"<line {_attrs(x1=AXIS_WIDTH, x2=AXIS_WIDTH + plot_width, y1=y, y2=y)}/>"
            f'<text text-anchor="end" {_attrs(x=AXIS_WIDTH - 6, y=y + 4)}>'
            f"{number(top * fraction)}</text>"
        )
    out.append("</g>")
    bar_width = (WEEK_WIDTH - 4) / max(len(drawn), 1)
    labelled = _week_labels(figure.rows)
    for index, row in enumerate(figure.rows):
        x0 = AXIS_WIDTH + index * WEEK_WIDTH + 2
        for place, n in enumerate(drawn):
            value = row.values[n] or 0
            length = round(PLOT_HEIGHT * value / top, 1)
            series = figure.series[n]
            out.append(
                f'<g class="bar" {_attrs(data_key=row.key, data_series=series.name)} '
                f"{_attrs(data_value=_raw(row.values[n]))}>"
                f"<title>{escape(row.label)}, {escape(series.label)}: {number(value)}</title>"
                f'<rect class="fill-{n}" '
                f"{_attrs(x=round(x0 + place * bar_width, 1), y=base - length)} "
                f"{_attrs(width=round(bar_width, 1), height=length)}/></g>"
            )
        if index in labelled:
            out.append(f'<text class="tick" {_attrs(x=x0, y=base + 18)}>{escape(row.label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def draw(figure: Figure) -> Markup:
    return week_chart(figure) if figure.by_week else bar_chart(figure)
