"""The timeline's bars and year labels (web/timeline.py): which years are labelled at each width,
and that the edge labels are anchored inside the chart (the browser test measures them)."""

from __future__ import annotations

from web.params import SearchParams
from web.timeline import NARROW_LABELS, WIDE_LABELS, bars, label_indices


def _labels(first: int, last: int, most: int) -> list[int]:
    years = list(range(first, last + 1))
    return [years[i] for i in sorted(label_indices(years, most))]


def test_first_and_last_years_and_round_years_between():
    assert _labels(1954, 2023, WIDE_LABELS) == [1954, 1970, 1980, 1990, 2000, 2010, 2023]
    assert _labels(1954, 2023, NARROW_LABELS) == [1954, 1980, 2000, 2023]
    assert _labels(2016, 2025, WIDE_LABELS) == list(range(2016, 2026))
    assert _labels(2016, 2025, NARROW_LABELS) == [2016, 2018, 2020, 2022, 2025]
    assert _labels(2020, 2020, NARROW_LABELS) == [2020]
    for first in range(1900, 2000, 7):
        for length in range(1, 81, 3):
            for most in (WIDE_LABELS, NARROW_LABELS):
                shown = _labels(first, first + length - 1, most)
                assert shown[0] == first and shown[-1] == first + length - 1 and len(shown) <= most
                gaps = [b - a for a, b in zip(shown, shown[1:])]
                assert not gaps or min(gaps) >= max(1, max(gaps) // 2), (first, length, most, shown)


def test_bars_in_percent_labels_anchored_at_the_edges():
    got = bars({"1954": 2, "1980": 1, "2023": 4}, SearchParams())
    assert len(got) == 70 and got[0].year == "1954" and got[-1].year == "2023"
    assert all(0 <= b.x and b.x + b.width <= 100 for b in got)
    assert (got[0].anchor, got[-1].anchor) == ("start", "end")
    assert got[0].label_x >= 0 and got[-1].label_x <= 100
    assert {b.label_class for b in got if b.label} == {"wide narrow", "wide"}
    assert got[-1].height == 74 and got[0].height == 37  # px: the tallest bar fills the chart
    assert [b.year for b in bars({"1100": 1, "2024": 3}, SearchParams()) if b.label] == ["1100", "2024"]
    assert bars({}, SearchParams()) == []
