"""Snippets and highlighting: find the query's strings in the stored text, fast.

No re-analysis: each query string becomes one regular expression that tolerates what the index
tolerates (whitespace between characters, traditional variants, case), run over the clean text.
Output is HTML-escaped text with matches in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from kb import analysis

FRAGMENT_CHARS = 90
MAX_FRAGMENTS = 3
SNIPPET_SPANS = 200  # matches a snippet looks at, at most (a long law holds thousands of 应当)


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


class StringsPattern:
    """The query's strings as one regex (longest first), searched without trying every string at
    every character of the text (what ``re`` does with a plain alternation of groups):

    * uncased first characters (Chinese, digits): every branch starts with a literal character, so
      ``re`` itself skips, in C, to where some branch can start (``_literal_branches``);
    * a cased first character: ``re``'s class of the first characters (it knows every case form: K
      is also the Kelvin sign) finds the candidates, and the alternation is tried only there.

    A match is ``(start, end, key)``: ``key`` says which string (1 = the first)."""

    __slots__ = ("pattern", "starts", "groups", "scan", "keys")

    def __init__(self, sources: dict[str, str]):
        """``sources``: each normalised string's pattern (``string_pattern``), longest first."""
        # a match starts with the first character of its string's first run (or one of its variants)
        first_of = {s: analysis.unit_runs(s)[0][1][0] for s in sources}
        firsts = "".join(sorted({v for ch in first_of.values() for v in _variants().get(ch, ch)}))
        self.groups = len(sources)  # how many strings
        self.pattern = self.starts = self.scan = None
        self.keys = ()
        if any(ch.lower() != ch.upper() for ch in firsts):
            self.pattern = re.compile("|".join(f"({s})" for s in sources.values()), re.IGNORECASE)
            self.starts = re.compile("[" + re.escape(firsts) + "]", re.IGNORECASE)
        else:
            self.scan, self.keys = _literal_branches(sources, first_of)

    def finditer(self, text: str):
        """The non-empty matches in text order, without overlaps (as ``re.finditer`` finds them)."""
        if self.scan is not None:
            keys = self.keys
            for found in self.scan.finditer(text):
                yield found.start(), found.end(), keys[found.lastindex]
            return
        match = self.pattern.match
        pos = 0
        for candidate in self.starts.finditer(text):
            at = candidate.start()
            if at >= pos:
                found = match(text, at)
                if found is not None and found.end() > at:
                    yield at, found.end(), found.lastindex
                    pos = found.end()


def _literal_branches(sources: dict[str, str], first_of: dict[str, str]) -> tuple[re.Pattern, tuple[int, ...]]:
    """The alternation with every branch starting with a literal character (a string whose first
    character has variants becomes a branch per variant) and ending in an empty group that says
    which string matched. ``re`` then skips, in C, to the places where some branch's first
    character stands (its "charset prefix"), which it cannot when a branch begins with a group
    or a class; a match costs no Python. Only for uncased first characters (the prefix is exact)."""
    branches, keys = [], [0]
    for key, (string, source) in enumerate(sources.items(), 1):
        first = first_of[string]
        rest = source[len(_char_pattern(first)):]  # string_pattern begins with the first character's
        for variant in _variants().get(first, first):
            branches.append(re.escape(variant) + rest + "()")
            keys.append(key)
    return re.compile("|".join(branches), re.IGNORECASE), tuple(keys)


@lru_cache(maxsize=1024)  # compiling costs ~0.5 ms: the searches of a busy day
def compile_strings(strings: tuple[str, ...]) -> StringsPattern | None:
    """One pattern matching any of the (normalised) strings, longest first."""
    sources = {s: string_pattern(s) for s in sorted(set(strings), key=len, reverse=True)}
    sources = {s: source for s, source in sources.items() if source}
    if not sources:
        return None
    return StringsPattern(sources)


def _words_pattern(words: tuple[str, ...]) -> StringsPattern | None:
    """What is marked when none of the exact strings occurs: the query's words (of two or more
    characters, when there are such)."""
    return compile_strings(tuple(w for w in words if len(w) > 1) or tuple(words))


@dataclass(slots=True)
class Span:
    start: int
    end: int
    key: int = 0  # which of the query's strings (its group in the pattern)


class _Matches:
    """The spans of a pattern in a text, found only as far as they are asked for (at most
    ``limit``): three fragments of a long text seldom need more than its first few matches."""

    __slots__ = ("spans", "_found", "_limit")

    def __init__(self, text: str, pattern: StringsPattern | None, limit: int):
        self.spans: list[Span] = []
        self._found = pattern.finditer(text) if pattern is not None else iter(())
        self._limit = limit

    def _pull(self) -> bool:
        if len(self.spans) < self._limit:
            for start, end, key in self._found:  # never empty (StringsPattern.finditer)
                self.spans.append(Span(start, end, key))
                return True
        self._found = iter(())
        return False

    def has(self, i: int) -> bool:
        while len(self.spans) <= i:
            if not self._pull():
                return False
        return True

    def reach(self, position: int) -> None:
        """Find every span that starts before ``position``."""
        while (not self.spans or self.spans[-1].start < position) and self._pull():
            pass

    def every(self) -> list[Span]:
        while self._pull():
            pass
        return self.spans


def find_spans(text: str, pattern: StringsPattern | None, limit: int | None = None) -> list[Span]:
    return _Matches(text, pattern, limit or len(text) + 1).every()


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
    pattern = compile_strings(tuple(strings))
    matches = _Matches(text, pattern, SNIPPET_SPANS)
    if not matches.has(0) and words:
        pattern = _words_pattern(words)
        matches = _Matches(text, pattern, SNIPPET_SPANS)
    if not matches.has(0):
        head = text[:width * 2]
        return html.escape(head).replace("\n", " ") + ("…" if len(text) > len(head) else "")
    windows = _best_windows(text, matches, pattern.groups, fragments, width)
    matches.reach(windows[-1][1])  # every match inside the windows, to mark
    parts = []
    for a, b in windows:
        prefix = "…" if a > 0 else ""
        suffix = "…" if b < len(text) else ""
        parts.append(prefix + mark(text, matches.spans, a, b) + suffix)
    return " ".join(parts).replace("……", "…").replace("\n", " ")


def _window(text: str, span: Span, width: int) -> tuple[int, int]:
    a = max(0, span.start - width // 3)
    return a, min(len(text), a + width)


def _best_windows(text: str, matches: _Matches, strings: int, count: int, width: int) -> list[tuple[int, int]]:
    """Non-overlapping windows that cover the most distinct query strings (of ``strings``), in text
    order: each window starts a little before a match, scored by the strings among the (up to 12)
    matches that end inside it; the best first, the earlier first among equals."""
    if strings == 1:  # one string (most queries): every window scores 1, so the earliest win
        return _earliest_windows(text, matches, count, width)
    # Windows in text order. Those holding every string are the best there can be: once ``count``
    # of them are chosen (not overlapping), the rest of the text cannot change the choice. The spans
    # a window scores (from its own, at most 12, those ending inside it) only move forward as the
    # window does: each span is counted in once and out once.
    spans = matches.spans
    scored, best = [], []
    held = [0] * (strings + 1)  # spans of each string in the current window
    distinct = 0
    i = j = 0  # the current window scores spans[i:j]
    while matches.has(i):
        a, b = _window(text, spans[i], width)
        if i and j >= i:  # the previous window's own span leaves
            key = spans[i - 1].key
            held[key] -= 1
            distinct -= held[key] == 0
        j = max(j, i)
        while j < i + 12 and matches.has(j) and spans[j].end <= b:
            key = spans[j].key
            distinct += held[key] == 0
            held[key] += 1
            j += 1
        scored.append((distinct, -i, a, b))
        if distinct == strings and all(b <= x or a >= y for x, y in best):
            best.append((_snap_start(text, a), b))
            if len(best) >= count:
                return sorted(best)
        i += 1
    scored.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    for _, _, a, b in scored:
        if all(b <= x or a >= y for x, y in chosen):
            chosen.append((_snap_start(text, a), b))
        if len(chosen) >= count:
            break
    return sorted(chosen)


def _earliest_windows(text: str, matches: _Matches, count: int, width: int) -> list[tuple[int, int]]:
    """What ``_best_windows`` chooses when all spans match the same string: windows in text order."""
    chosen: list[tuple[int, int]] = []
    i = 0
    while matches.has(i):
        a, b = _window(text, matches.spans[i], width)
        i += 1
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
        spans = find_spans(text, _words_pattern(words), limit=1)
    return spans[0].start if spans else None


def highlight_all(text: str, strings: tuple[str, ...], words: tuple[str, ...] = (),
                  markers: list[tuple[int, str]] = ()) -> tuple[str, int]:
    """The whole text, escaped, every match in ``<mark id="mN">``; returns (html, number of matches).

    Exact strings are marked; if none occurs, the query's words are. ``markers``: (offset, html)
    pairs inserted where they fall (page starts), never inside a match."""
    spans = find_spans(text, compile_strings(tuple(strings)))
    if not spans and words:
        spans = find_spans(text, _words_pattern(words))
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
