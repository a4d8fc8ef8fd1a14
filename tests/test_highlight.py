"""Snippets find what a plain regular-expression scan finds and choose the windows the full ranking
chooses, though they search from first characters and stop once the choice cannot change."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kb import analysis, highlight

# characters with traditional variants, full-width and case forms, spaces and punctuation
ALPHABET = "人民政府國国发展發展委员會会 　,，。KkＫ\u212aab第一条\n"


def _reference_spans(text: str, strings: tuple[str, ...]):
    """Every non-empty match of the alternation, as re.finditer scans it."""
    ordered = [s for s in sorted(set(strings), key=len, reverse=True) if highlight.string_pattern(s)]
    if not ordered:
        return []
    pattern = re.compile("|".join(f"({highlight.string_pattern(s)})" for s in ordered), re.IGNORECASE)
    return [(m.start(), m.end(), m.lastindex) for m in pattern.finditer(text) if m.end() > m.start()]


def _reference_windows(text: str, spans, count: int, width: int):
    """The full ranking: every window scored by the distinct strings among the (up to 12) spans
    that end inside it, best first, earlier first; greedily without overlaps."""
    scored = []
    for i, (start, _, _) in enumerate(spans):
        a = max(0, start - width // 3)
        b = min(len(text), a + width)
        keys = set()
        for s, e, key in spans[i:i + 12]:
            if e > b:
                break
            keys.add(key)
        scored.append((len(keys), -i, a, b))
    scored.sort(reverse=True)
    chosen = []
    for _, _, a, b in scored:
        if all(b <= x or a >= y for x, y in chosen):
            chosen.append((highlight._snap_start(text, a), b))
        if len(chosen) >= count:
            break
    return sorted(chosen)


words = st.text(alphabet="人民政府国发展委员会第一条Kab", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=400), st.lists(words, min_size=1, max_size=3))
def test_search_from_first_characters_finds_what_the_scan_finds(text, typed):
    strings = tuple(analysis.normalize(s).strip() for s in typed)
    pattern = highlight.compile_strings(strings)
    found = list(pattern.finditer(text)) if pattern else []
    assert found == _reference_spans(text, strings)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=600), st.lists(words, min_size=2, max_size=3, unique=True),
       st.integers(1, 3), st.integers(6, 40))
def test_windows_stopping_early_are_the_full_rankings(text, typed, count, width):
    strings = tuple(analysis.normalize(s).strip() for s in typed)
    pattern = highlight.compile_strings(strings)
    if pattern is None or pattern.groups < 2:
        return
    matches = highlight._Matches(text, pattern, highlight.SNIPPET_SPANS)
    if not matches.has(0):
        return
    chosen = highlight._best_windows(text, matches, pattern.groups, count, width)
    spans = _reference_spans(text, strings)[:highlight.SNIPPET_SPANS]
    assert chosen == _reference_windows(text, spans, count, width)


def test_a_snippet_marks_every_match_inside_its_windows():
    text = "前言。" + "人民政府" * 3 + "其他内容" * 40 + "人 民 政 府在这里。" + "尾" * 200
    out = highlight.snippet(text, ("人民政府",))
    assert out.count("<mark>") == 4 and "<mark>人 民 政 府</mark>" in out


def test_variant_surface_forms_are_one_string():
    """人民代表大会 and 人民代表大會 are one query string: the earliest passages are shown, not a
    window chosen for holding two spellings."""
    text = "甲" * 300 + "人民代表大会" + "乙" * 300 + "人民代表大會和人民代表大会" + "丙" * 300
    out = highlight.snippet(text, ("人民代表大会",), fragments=1)
    assert out.count("<mark>") == 1 and "人民代表大会</mark>" in out and "乙" * 20 in out
