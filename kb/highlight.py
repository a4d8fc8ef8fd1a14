"""Snippets and highlighting: find the query's strings in the stored text, fast.

No re-analysis: each query string becomes one regular expression that tolerates what the index
tolerates (whitespace between characters, traditional variants, case), run over the clean text.
Output is HTML-escaped text with matches in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from kb import analysis

FRAGMENT_CHARS = 90
MAX_FRAGMENTS = 3


@lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    return analysis.character_variants()


def _char_pattern(ch: str) -> str:
    variants = _variants().get(ch)
    if variants:
        return "[" + "".join(re.escape(v) for v in variants) + "]"
    return re.escape(ch)


def string_pattern(norm_string: str) -> str | None:
    """Regex source for a normalised query string: whitespace may separate its characters,
    and any punctuation run may stand where the query has one."""
    runs = analysis.unit_runs(norm_string)
    if not runs:
        return None
    parts = []
    for _, run in runs:
        parts.append(r"\s*".join(_char_pattern(ch) for ch in run))
    return r"[\W_]+".join(parts) if len(parts) > 1 else parts[0]


@lru_cache(maxsize=256)
def compile_strings(strings: tuple[str, ...]) -> re.Pattern | None:
    """One regex matching any of the (normalised) strings, longest first."""
    sources = [string_pattern(s) for s in sorted(set(strings), key=len, reverse=True)]
    sources = [s for s in sources if s]
    if not sources:
        return None
    return re.compile("|".join(f"(?:{s})" for s in sources), re.IGNORECASE)


@dataclass
class Span:
    start: int
    end: int


def find_spans(text: str, pattern: re.Pattern | None, limit: int | None = None) -> list[Span]:
    if pattern is None:
        return []
    spans = []
    for match in pattern.finditer(text):
        if match.end() > match.start():
            spans.append(Span(match.start(), match.end()))
            if limit and len(spans) >= limit:
                break
    return spans


def mark(text: str, spans: list[Span], start: int = 0, end: int | None = None) -> str:
    """Escaped ``text[start:end]`` with ``<mark>`` around the spans inside it."""
    end = len(text) if end is None else end
    out = []
    pos = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        a, b = max(span.start, start), min(span.end, end)
        out.append(html.escape(text[pos:a]))
        out.append("<mark>" + html.escape(text[a:b]) + "</mark>")
        pos = b
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, strings: tuple[str, ...], words: tuple[str, ...] = (), fragments: int = MAX_FRAGMENTS,
            width: int = FRAGMENT_CHARS) -> str:
    """Up to ``fragments`` escaped passages around the best matches, joined by an ellipsis.

    ``strings`` are the query's exact strings (preferred); ``words`` its jieba words (used when
    the exact strings do not occur).
    """
    spans = find_spans(text, compile_strings(tuple(strings)), limit=200)
    if not spans and words:
        spans = find_spans(text, compile_strings(tuple(w for w in words if len(w) > 1) or tuple(words)), limit=200)
    if not spans:
        head = text[:width * 2]
        return html.escape(head).replace("\n", " ") + ("…" if len(text) > len(head) else "")
    windows = _best_windows(text, spans, fragments, width)
    parts = []
    for a, b in windows:
        prefix = "…" if a > 0 else ""
        suffix = "…" if b < len(text) else ""
        parts.append(prefix + mark(text, spans, a, b) + suffix)
    return " ".join(parts).replace("……", "…").replace("\n", " ")


def _best_windows(text: str, spans: list[Span], count: int, width: int) -> list[tuple[int, int]]:
    """Non-overlapping windows that cover the most distinct matched strings, in text order."""
    # spans come in text order without overlaps, so those ending inside a window are a run: its end by bisection
    keys = [text[s.start:s.end].lower() for s in spans]
    if len(set(keys)) == 1:  # one string (most queries): every window scores 1, so the earliest win
        return _earliest_windows(text, spans, count, width)
    ends = [s.end for s in spans]
    scored = []
    for i, span in enumerate(spans):
        a = max(0, span.start - width // 3)
        b = min(len(text), a + width)
        distinct = len(set(keys[i:bisect_right(ends, b, i, min(i + 12, len(spans)))]))
        scored.append((distinct, -i, a, b))
    scored.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    for _, _, a, b in scored:
        if all(b <= x or a >= y for x, y in chosen):
            chosen.append((_snap_start(text, a), b))
        if len(chosen) >= count:
            break
    return sorted(chosen)


def _earliest_windows(text: str, spans: list[Span], count: int, width: int) -> list[tuple[int, int]]:
    """What ``_best_windows`` chooses when all spans match the same string: windows in text order."""
    chosen: list[tuple[int, int]] = []
    for span in spans:
        a = max(0, span.start - width // 3)
        b = min(len(text), a + width)
        if all(b <= x or a >= y for x, y in chosen):
            chosen.append((_snap_start(text, a), b))
            if len(chosen) >= count:
                break
    return sorted(chosen)


def _snap_start(text: str, a: int) -> int:
    """Start a fragment after a nearby sentence end or line break, so it reads naturally."""
    window = text[max(0, a - 20):a]
    for sep in ("\n", "。", "!", "?", ";"):
        k = window.rfind(sep)
        if k >= 0:
            return max(0, a - 20) + k + 1
    return a


def first_match(text: str, strings: tuple[str, ...], words: tuple[str, ...] = ()) -> int | None:
    """Where the first match a snippet would show starts (None: no match)."""
    spans = find_spans(text, compile_strings(tuple(strings)), limit=1)
    if not spans and words:
        spans = find_spans(text, compile_strings(tuple(w for w in words if len(w) > 1) or tuple(words)), limit=1)
    return spans[0].start if spans else None


def highlight_all(text: str, strings: tuple[str, ...], words: tuple[str, ...] = (),
                  markers: list[tuple[int, str]] = ()) -> tuple[str, int]:
    """The whole text, escaped, every match in ``<mark id="mN">``; returns (html, number of matches).

    Exact strings are marked; if none occurs, the query's words are. ``markers``: (offset, html)
    pairs inserted where they fall (page starts), never inside a match."""
    spans = find_spans(text, compile_strings(tuple(strings)))
    if not spans and words:
        spans = find_spans(text, compile_strings(tuple(w for w in words if len(w) > 1) or tuple(words)))
    pending = sorted(markers)
    out, pos = [], 0

    def plain(upto: int):
        nonlocal pos
        while pending and pending[0][0] <= upto:
            at, marker = pending.pop(0)
            at = max(at, pos)
            out.append(html.escape(text[pos:at]))
            out.append(marker)
            pos = at
        out.append(html.escape(text[pos:upto]))
        pos = upto

    for n, span in enumerate(spans, 1):
        plain(span.start)
        out.append(f'<mark id="m{n}">' + html.escape(text[span.start:span.end]) + "</mark>")
        pos = span.end
    plain(len(text))
    out.extend(marker for _, marker in pending)
    return "".join(out), len(spans)
