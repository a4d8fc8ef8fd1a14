"""Term trends: how many documents mention each term, and how often, per year (or per county,
sector, … any keyword facet), under the same filters as a search.

What is counted, exactly:

* **Where**: a document's stored text, the clean text that is shown and that ``grep`` would read
  (not its title, which may be composed from metadata: search also looks there, trends do not).
* **Matching**: as search matches a string: over the normalised text (NFKC width folding, lower
  case, traditional -> simplified character by character), whitespace ignored (``乡村 振兴``
  is ``乡村振兴``), a punctuation mark in a term standing for any run of punctuation. For a term of
  letters, digits and CJK characters this is exactly ``grep -c`` over the normalised text with
  whitespace deleted, so a term's document count for a year equals what grep finds in that year's
  cleaned texts.
* **Mentions** are non-overlapping occurrences, counted left to right as ``str.count`` and
  ``grep -o`` count them, in those same terms: 哈哈 occurs twice in 哈哈哈哈 and once in 哈哈哈.
  A folded group (``fold``: a term with its synonyms, kb/data/synonyms.txt) counts occurrences of
  any of its forms, longest first where two start at one place (``grep -o -E 'a|b'``).
* **Characters** (per 10,000) are the characters that can match: letters, digits and CJK
  characters, not spaces or punctuation.
* **Share**: documents mentioning the term / documents in that year (under the same filters).

Everything is array work over posting lists (``kb.postings``): the documents holding all the
term's bigrams, then their positions (``start_keys``) intersected; no stored text is read.

Why this module is long: counting (with its exact non-overlap rule) and the chart's geometry belong
to one feature and share its data types; the geometry is here, not in ``web``, so that any
renderer (the site's SVG, a report) draws the same chart from the same numbers.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np

from kb import analysis
from kb import facets as kbfacets
from kb import synonyms as kbsynonyms
from kb.errors import QueryError
from kb.termarrays import intersect_sorted

MAX_TERMS = 10
MAX_TERM_CHARS = 50
METRICS = ("docs", "share", "per10k")  # what a chart can show; mentions are in the table
_TERM_SEPARATORS = re.compile(r"[,，、;；\n]+")
_NONE = np.zeros(0, dtype=np.int64)
_LOW32 = (1 << 32) - 1


def dimensions() -> tuple[str, ...]:
    """What trends can be counted by: the year, or any multi-valued keyword facet."""
    return (kbfacets.YEAR.name,) + tuple(name for name, f in kbfacets.FACETS.items()
                                         if not f.numeric and f.multi)


def parse_terms(terms) -> list[str]:
    """Terms from ``"乡村振兴,脱贫攻坚"`` (also ，、; or new lines) or a list; checked."""
    items = terms if isinstance(terms, (list, tuple)) else [terms or ""]
    found = []
    for item in items:
        found.extend(t.strip() for t in _TERM_SEPARATORS.split(str(item)))
    found = list(dict.fromkeys(t.strip('"“”「」') for t in found if t.strip('"“”「」 ')))
    if not found:
        raise QueryError("请给出至少一个词（give at least one term: terms=乡村振兴,脱贫攻坚）")
    if len(found) > MAX_TERMS:
        raise QueryError(f"最多 {MAX_TERMS} 个词（at most {MAX_TERMS} terms, got {len(found)}）")
    for term in found:
        if len(term) > MAX_TERM_CHARS:
            raise QueryError(f"词“{term[:20]}…”太长，上限 {MAX_TERM_CHARS} 个字符（term too long）")
        norm = analysis.normalize(term)
        if not analysis.units(norm):
            raise QueryError(f"“{term}”中没有可检索的字（no letters, digits or characters in {term!r}）")
        if len(analysis.units(norm)) > 1 and not analysis.query_grams(norm):
            raise QueryError(f"“{term}”每段只有一个字，无法精确计数（each part of {term!r} between "
                             "punctuation is one character: it cannot be counted exactly）")
    return found


@dataclass
class Trends:
    """Counts per term and bucket (a year, or a facet value), and each bucket's totals."""

    by: str
    terms: dict[str, dict[str, dict]]  # term -> bucket -> {docs, share, mentions, per10k}
    buckets: dict[str, dict]  # bucket -> {docs, chars}
    forms: dict[str, list[str]]  # term -> the forms counted for it (folded synonyms: several)
    documents: int  # documents the filters allow
    unplaced: int  # of those, documents in no bucket (no year; no county)
    took_ms: float = 0.0

    def to_dict(self) -> dict:
        key = "years" if self.by == kbfacets.YEAR.name else "buckets"
        return {"terms": self.terms, key: self.buckets, "by": self.by, "forms": self.forms,
                "documents": self.documents, "unplaced": self.unplaced, "took_ms": round(self.took_ms, 2)}

    def rows(self):
        """(term, bucket, docs, bucket docs, share, mentions, chars, per10k) for tables and CSV."""
        for term, cells in self.terms.items():
            for bucket, cell in cells.items():
                totals = self.buckets[bucket]
                yield (term, bucket, cell["docs"], totals["docs"], cell["share"], cell["mentions"], totals["chars"],
                       cell["per10k"])


def compute(snap, terms, filters: dict | None = None, years=None, by: str = "year", fold: bool = False,
            visible: np.ndarray | None = None, units: np.ndarray | None = None) -> Trends:
    """Trends of ``terms`` over the documents ``filters``/``years`` allow (and ``visible``, a mask).
    ``units``: every docnum's matchable characters when the caller has them (``kb.versions`` keeps
    them per document); else they are summed from the postings (``unit_counts``)."""
    from kb.collector import years_of

    started = time.perf_counter()
    terms = parse_terms(terms)
    if by not in dimensions():
        raise QueryError(f"不能按 {by!r} 统计（by must be one of {', '.join(dimensions())}）")
    checked = kbfacets.read_filters(filters)
    allowed = kbfacets.allowed(snap, checked, years_of(years))
    mask = snap.live_mask.copy()
    if allowed is not None:
        mask &= allowed
    if visible is not None:
        mask &= visible
    chars = units if units is not None and len(units) == snap.size else unit_counts(snap)
    bucket_names, entry_docs, entry_buckets = _buckets(snap, by, mask)
    bucket_docs = np.bincount(entry_buckets, minlength=len(bucket_names))
    bucket_chars = np.bincount(entry_buckets, weights=chars[entry_docs], minlength=len(bucket_names))
    shown = np.flatnonzero(bucket_docs)
    if by == kbfacets.YEAR.name:
        shown = shown[np.argsort([int(bucket_names[i]) for i in shown])]
    else:  # most documents first, then by name
        shown = shown[np.lexsort((np.array([bucket_names[i] for i in shown]), -bucket_docs[shown]))]
    placed = np.zeros(snap.size, dtype=bool)
    placed[entry_docs] = True
    synonyms = kbsynonyms.load() if fold else None
    out_terms, forms_of = {}, {}
    for term in terms:
        forms = list(synonyms.group(term) or (term,)) if synonyms else [term]
        forms_of[term] = forms
        docs, mentions = count(snap, forms, mask)
        per_doc = np.zeros(snap.size, dtype=np.int64)
        per_doc[docs] = mentions
        has = per_doc[entry_docs] > 0
        docs_in = np.bincount(entry_buckets[has], minlength=len(bucket_names))
        mentions_in = np.bincount(entry_buckets, weights=per_doc[entry_docs], minlength=len(bucket_names))
        out_terms[term] = {
            bucket_names[i]: {"docs": int(docs_in[i]), "share": round(float(docs_in[i] / bucket_docs[i]), 4),
                              "mentions": int(mentions_in[i]),
                              "per10k": round(float(mentions_in[i] * 10000 / bucket_chars[i]), 3) if bucket_chars[i] else 0.0}
            for i in shown.tolist()}
    buckets = {bucket_names[i]: {"docs": int(bucket_docs[i]), "chars": int(bucket_chars[i])} for i in shown.tolist()}
    return Trends(by, out_terms, buckets, forms_of, int(np.count_nonzero(mask)),
                  int(np.count_nonzero(mask & ~placed)), (time.perf_counter() - started) * 1000)


def _buckets(snap, by: str, mask: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Bucket names and every (document, bucket) pair of the allowed documents."""
    if by == kbfacets.YEAR.name:
        column = kbfacets.YEAR.column(snap)
        docs = np.flatnonzero(mask & (column > 0))
        values, inverse = np.unique(column[docs], return_inverse=True)
        return [str(v) for v in values.tolist()], docs, inverse.ravel()
    facet = kbfacets.FACETS[by]
    names, _, entry_docs, entry_values = snap.facet_entries(facet.field)
    keep = mask[entry_docs]
    return list(names), entry_docs[keep], entry_values[keep]


# --- counting one term ----------------------------------------------------------------------------


def count(snap, forms: list[str], mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, non-overlapping occurrences in each) of any of ``forms`` in the stored texts of the
    documents ``mask`` allows; several forms count as one pattern (longest first at one place)."""
    norms = [analysis.normalize(f) for f in forms]
    norms = [n for n in dict.fromkeys(norms) if analysis.units(n)]
    if len(norms) == 1:
        return _count_one(snap.postings, norms[0], mask)
    spans, keys = [], []
    counted: dict[int, int] = {}
    for norm in norms:
        if len(analysis.units(norm)) == 1:  # one character: no positions to fold with; counted alone
            docs, found = _count_one(snap.postings, norm, mask)
            for d, n in zip(docs.tolist(), found.tolist()):
                counted[d] = counted.get(d, 0) + n
            continue
        these, span = _starts(snap.postings, norm, mask)
        keys.append(these)
        spans.append(np.full(these.size, span, dtype=np.int64))
    docs, found = _non_overlapping(np.concatenate(keys) if keys else _NONE,
                                   np.concatenate(spans) if spans else _NONE)
    if counted:
        merged = dict(zip(docs.tolist(), found.tolist()))
        for d, n in counted.items():
            merged[d] = merged.get(d, 0) + n
        docs = np.array(sorted(merged), dtype=np.int64)
        found = np.array([merged[d] for d in docs.tolist()], dtype=np.int64)
    return docs, found


def _count_one(p, norm: str, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    unit_string = analysis.units(norm)
    if len(unit_string) == 1:  # single characters never overlap: the counts are the answer
        term = p.read("chars", unit_string)
        keep = mask[term.ids] if mask is not None else slice(None)
        return term.ids[keep], term.weights[keep].astype(np.int64)
    grams = analysis.query_grams(norm)
    if len(grams) == 1 and len(unit_string) == 2 and unit_string[0] != unit_string[1]:
        term = p.read("grams", grams[0][0])  # a bigram that cannot overlap itself: its counts
        keep = mask[term.ids] if mask is not None else slice(None)
        return term.ids[keep], term.weights[keep].astype(np.int64)
    keys, span = _starts(p, norm, mask)
    if _cannot_overlap(norm):
        docs, counts = np.unique(keys >> 32, return_counts=True)
        return docs, counts.astype(np.int64)
    return _non_overlapping(keys, np.full(keys.size, span, dtype=np.int64))


def _starts(p, norm: str, mask: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Sorted keys ``docnum << 32 | start`` of every occurrence (overlapping ones too) in the body
    grams, and the span of one occurrence in positions."""
    grams = analysis.query_grams(norm)
    if not grams:
        return _NONE, 1
    span = grams[-1][1] + 2
    docs = None
    rarest = sorted(grams, key=lambda g: len(p.docs("grams", g[0])))
    for gram, _ in rarest:
        these = p.docs("grams", gram)
        docs = these if docs is None else intersect_sorted(docs, these)
        if not docs.size:
            return _NONE, span
    if mask is not None:
        docs = docs[mask[docs]]
    starts = None
    for gram, offset in rarest:
        keys = p.start_keys("grams", gram, docs, offset)
        starts = keys if starts is None else intersect_sorted(starts, keys)
        if not starts.size:
            break
    return np.sort(starts), span


def _cannot_overlap(norm: str) -> bool:
    """True when two occurrences of the string can never overlap (no proper prefix is also a
    suffix), so every start counts. Strings with punctuation are always checked by position."""
    runs = analysis.unit_runs(norm)
    if len(runs) != 1:
        return False
    s = runs[0][1]
    return not any(s[d:] == s[: len(s) - d] for d in range(1, len(s)))


def _non_overlapping(keys: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per document, occurrences taken left to right, each after the previous one's end (at one
    start the longest first): (docnums, counts)."""
    if not keys.size:
        return _NONE, _NONE
    order = np.lexsort((-spans, keys))
    keys, spans = keys[order], spans[order]
    docs, starts = keys >> 32, keys & _LOW32
    same_doc = docs[1:] == docs[:-1]
    close = same_doc & (starts[1:] < starts[:-1] + spans[:-1])
    unique_docs, counts = np.unique(docs, return_counts=True)
    if not close.any():
        return unique_docs, counts.astype(np.int64)
    crowded = np.unique(docs[1:][close])  # only documents where occurrences touch need the walk
    counts = counts.astype(np.int64)
    at = np.searchsorted(unique_docs, crowded)
    for doc, row in zip(crowded.tolist(), at.tolist()):
        lo, hi = np.searchsorted(docs, [doc, doc + 1])
        end, n = -1, 0
        for start, span in zip(starts[lo:hi].tolist(), spans[lo:hi].tolist()):
            if start >= end:
                n, end = n + 1, start + span
        counts[row] = n
    return unique_docs, counts


# --- per-document character counts ----------------------------------------------------------------

_units_memo: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_units_lock = threading.Lock()


def unit_counts(snap) -> np.ndarray:
    """Every docnum's number of matchable characters (the sum of its ``chars`` postings), once per
    generation: Whoosh's stored field lengths are rounded, these are exact."""
    with _units_lock:
        found = _units_memo.get(snap)
        if found is None:
            ids, weights = [], []
            for term in snap.postings.lexicon("chars"):
                postings = snap.postings.read("chars", term.decode("utf-8"))
                ids.append(postings.ids)
                weights.append(postings.weights)
            found = (np.bincount(np.concatenate(ids), weights=np.concatenate(weights), minlength=snap.size)
                     .astype(np.int64) if ids else np.zeros(snap.size, dtype=np.int64))
            _units_memo[snap] = found
        return found



# --- the chart's geometry (the site draws it as SVG; kept here so any renderer shares it) ---------

CHART_WIDTH, CHART_HEIGHT = 760, 330
# a phone gets its own narrower drawing (CSS shows one of the two): the same viewBox scaled to a
# 360 px screen would shrink its text to 5 px
PHONE_WIDTH, PHONE_HEIGHT = 360, 260
_MARGINS = {"wide": {"left": 58, "right": 132, "top": 18, "bottom": 40},
            "narrow": {"left": 44, "right": 14, "top": 14, "bottom": 34}}
METRIC_LABELS = {"docs": "提及的文档数", "share": "占当年文档的比例", "per10k": "每万字提及次数"}


@dataclass
class ChartPoint:
    x: float
    y: float
    year: str
    value: float
    label: str  # what hovering a point says
    marked: bool  # drawn as a dot (over many years only the years with mentions are: no beads at zero)


@dataclass
class ChartSeries:
    term: str
    number: int  # its colour and dash pattern (CSS classes series-N)
    path: str  # SVG path data; a year with no documents breaks the line
    points: list
    label_y: float  # where its name goes at the right end (spread so names do not overlap)


@dataclass
class ChartLayout:
    width: int
    height: int
    metric: str
    series: list
    x_ticks: list  # (x, year)
    y_ticks: list  # (y, label)
    plot: tuple  # left, top, right, bottom
    end_labels: bool  # term names at the lines' ends (the narrow drawing has only the legend)


def _format(value: float, metric: str) -> str:
    if value == 0:
        return "0"
    if metric == "share":
        return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"
    if metric == "per10k":
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return f"{value:.0f}"


def _nice_top(top: float, metric: str) -> tuple[float, float]:
    """An axis maximum at or above ``top`` and its tick step (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return (1.0, 0.25) if metric != "docs" else (4.0, 1.0)
    import math

    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if metric == "docs":
        step = max(1.0, round(step))
    return step * math.ceil(top / step - 1e-9), step


def layout(trends: Trends, metric: str = "docs", narrow: bool = False) -> ChartLayout | None:
    """One line per term over the years (None unless counted by year and some year has documents);
    ``narrow``: the phone's drawing (fewer year labels, names in the legend only)."""
    if metric not in METRICS:
        raise QueryError(f"metric must be one of {', '.join(METRICS)}")
    if trends.by != kbfacets.YEAR.name or not trends.buckets:
        return None
    years = [int(y) for y in trends.buckets]
    span = list(range(min(years), max(years) + 1)) if max(years) - min(years) <= 120 else years
    width, height = (PHONE_WIDTH, PHONE_HEIGHT) if narrow else (CHART_WIDTH, CHART_HEIGHT)
    margin = _MARGINS["narrow" if narrow else "wide"]
    left, top = margin["left"], margin["top"]
    right, bottom = width - margin["right"], height - margin["bottom"]
    values = [cell[metric] for cells in trends.terms.values() for cell in cells.values()]
    axis_top, step = _nice_top(max(values, default=0), metric)

    def x_of(year: int) -> float:
        return left + (right - left) * (span.index(year) / (len(span) - 1) if len(span) > 1 else 0.5)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / axis_top

    series = []
    for number, (term, cells) in enumerate(trends.terms.items()):
        points, path, pen_down = [], [], False
        for year in span:
            cell = cells.get(str(year))
            if cell is None:  # no documents that year: the line breaks
                pen_down = False
                continue
            x, y = x_of(year), y_of(cell[metric])
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down = True
            totals = trends.buckets[str(year)]
            label = (f"{year} 年 · {term}：{cell['docs']} 篇（占当年 {totals['docs']} 篇的 {cell['share'] * 100:.1f}%），"
                     f"提及 {cell['mentions']} 次，每万字 {cell['per10k']:.2f} 次")
            points.append(ChartPoint(x, y, str(year), cell[metric], label, len(span) <= 25 or cell[metric] > 0))
        series.append(ChartSeries(term, number % 10, " ".join(path), points, points[-1].y if points else bottom))
    _spread_labels(series, top, bottom)
    every = max(1, -(-len(span) // (5 if narrow else 10)))
    x_ticks = [(x_of(year), str(year)) for i, year in enumerate(span) if i % every == 0 or i == len(span) - 1]
    if len(x_ticks) > 1 and x_ticks[-1][0] - x_ticks[-2][0] < (right - left) / 14:
        x_ticks.pop(-2)  # the last year's label would crowd the one before it
    y_ticks, value = [], 0.0
    while value <= axis_top + 1e-9:
        y_ticks.append((y_of(value), _format(value, metric)))
        value += step
    return ChartLayout(width, height, metric, series, x_ticks, y_ticks, (left, top, right, bottom), not narrow)


def _spread_labels(series: list, top: float, bottom: float, gap: float = 19.0) -> None:
    """Move the end labels apart (at least ``gap`` px), keeping their order by height."""
    ordered = sorted(series, key=lambda s: s.label_y)
    for i in range(1, len(ordered)):
        ordered[i].label_y = max(ordered[i].label_y, ordered[i - 1].label_y + gap)
    overflow = (ordered[-1].label_y - bottom) if ordered else 0
    if overflow > 0:
        for s in ordered:
            s.label_y -= overflow
        for i in range(len(ordered) - 2, -1, -1):
            ordered[i].label_y = min(ordered[i].label_y, ordered[i + 1].label_y - gap)
    for s in ordered:
        s.label_y = max(s.label_y, top - 4)
