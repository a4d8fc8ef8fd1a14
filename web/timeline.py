"""The timeline above the results: matching documents per year, as server-rendered SVG bars."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, LABEL_SPACE = 720, 90, 16
MAX_SPAN = 80


@dataclass
class Bar:
    year: str
    count: int
    x: float
    y: float
    width: float
    height: float
    url: str
    selected: bool
    label: bool  # show the year under this bar


def bars(year_counts: dict[str, int], params) -> list[Bar]:
    """One bar per year from the first to the last year with documents (empty years included)."""
    years = sorted(int(y) for y, n in year_counts.items() if n)
    if not years:
        return []
    # every year from the first to the last, so gaps show; only the years present when that is too wide
    span = list(range(years[0], years[-1] + 1)) if years[-1] - years[0] <= MAX_SPAN else years
    top = max(year_counts.values())
    slot = WIDTH / len(span)
    every = max(1, round(len(span) / 12))  # at most about a dozen year labels
    selected = set(params.filters.get("year", []))
    out = []
    for i, year in enumerate(span):
        count = year_counts.get(str(year), 0)
        height = (HEIGHT - LABEL_SPACE) * count / top if top else 0
        out.append(Bar(str(year), count, i * slot + slot * 0.1, HEIGHT - LABEL_SPACE - height, slot * 0.8, height,
                       params.only_year(str(year)), str(year) in selected, i % every == 0 or i == len(span) - 1))
    return out
