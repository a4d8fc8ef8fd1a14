"""The timeline above the results: matching documents per year, as server-rendered SVG bars.

The chart has no ``viewBox``: bars are placed in percent of its width and its height is fixed in
CSS pixels, so the year labels keep their CSS font size at every width (a scaled drawing made them
~5 px on a phone). Labels are chosen twice — at most ``WIDE_LABELS`` for a wide chart and
``NARROW_LABELS`` for a narrow one (CSS shows one set or the other by the chart's own width) — always
the first and the last year, anchored at the chart's edges so they are never cut, and between them
years on a round step (every 5, 10, 20 … years) kept away from the ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 74  # px: the bars' area; the labels' row is below it (template and CSS)
MAX_SPAN = 80
WIDE_LABELS, NARROW_LABELS = 12, 5
STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


@dataclass
class Bar:
    year: str
    count: int
    x: float  # percent of the chart's width
    y: float  # px from the top
    width: float  # percent
    height: float  # px
    url: str
    selected: bool
    label: bool  # show the year under this bar (at some width)
    label_x: float = 0.0  # percent
    anchor: str = "middle"  # SVG text-anchor: start at the left edge, end at the right
    label_class: str = ""  # "wide", "narrow" or "wide narrow": where CSS shows it


def label_indices(years: list[int], most: int) -> set[int]:
    """Which bars carry a year label: the first, the last, and round years between them."""
    n = len(years)
    if n <= most:
        return set(range(n))
    if most <= 2:
        return {0, n - 1}
    if years[-1] - years[0] + 1 != n:  # only the years present: evenly spaced
        return {round(k * (n - 1) / (most - 1)) for k in range(most)}
    first, last = years[0], years[-1]
    for step in STEPS:
        inner = [y for y in range(first + 1, last) if y % step == 0 and y - first >= step and last - y >= step]
        if len(inner) + 2 <= most:
            return {0, n - 1} | {y - first for y in inner}
    return {0, n - 1}


def bars(year_counts: dict[str, int], params) -> list[Bar]:
    """One bar per year from the first to the last year with documents (empty years included)."""
    years = sorted(int(y) for y, n in year_counts.items() if n)
    if not years:
        return []
    # every year from the first to the last, so gaps show; only the years present when that is too wide
    span = list(range(years[0], years[-1] + 1)) if years[-1] - years[0] <= MAX_SPAN else years
    top = max(year_counts.values())
    slot = 100 / len(span)
    wide, narrow = label_indices(span, WIDE_LABELS), label_indices(span, NARROW_LABELS)
    selected = set(params.filters.get("year", []))
    out = []
    for i, year in enumerate(span):
        count = year_counts.get(str(year), 0)
        height = BAR_HEIGHT * count / top if top else 0
        x, width = i * slot + slot * 0.1, slot * 0.8
        if len(span) == 1:
            anchor, label_x = "middle", x + width / 2
        elif i == 0:
            anchor, label_x = "start", x
        elif i == len(span) - 1:
            anchor, label_x = "end", x + width
        else:
            anchor, label_x = "middle", x + width / 2
        where = " ".join(name for name, chosen in (("wide", wide), ("narrow", narrow)) if i in chosen)
        out.append(Bar(str(year), count, x, BAR_HEIGHT - height, width, height, params.only_year(str(year)),
                       str(year) in selected, bool(where), label_x, anchor, where))
    return out


# One bar's SVG, formatted in Python: through the template's per-attribute escaping and filters a
# bar cost ~20 us (a 54-year chart ~1 ms, a third of a results page). Only the URL is text from a
# request; the rest are numbers and the classes above.
_BAR = ('<a href="{url}"><rect class="{bar_class}" x="{x:.3f}%" y="{y:.1f}" width="{width:.3f}%" height="{height:.1f}">'
        '<title>{year} 年：{count} 篇</title></rect><rect class="hit-area" x="{x:.3f}%" y="0" width="{width:.3f}%" '
        'height="{area}"><title>{year} 年：{count} 篇</title></rect></a>')
_LABEL = '<text class="{label_class}" x="{label_x:.3f}%" y="92" text-anchor="{anchor}">{year}</text>'


def svg(bars_: list[Bar]) -> Markup:
    """The bars and their labels, as the chart's SVG content."""
    out = []
    for bar in bars_:
        out.append(_BAR.format(url=escape(bar.url), bar_class="bar selected" if bar.selected else "bar", x=bar.x,
                               y=bar.y, width=bar.width, height=max(bar.height, 0), year=escape(bar.year),
                               count=int(bar.count), area=BAR_HEIGHT))
        if bar.label:
            out.append(_LABEL.format(label_class=escape(bar.label_class), label_x=bar.label_x,
                                     anchor=escape(bar.anchor), year=escape(bar.year)))
    return Markup("\n".join(out))
