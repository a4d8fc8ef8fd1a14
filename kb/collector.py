"""From a query to an ordered result set, and from a result position to a hit.

``collect`` is what a search, an export and a comparison with grep share: match (``kb.evaluate``,
or ``kb.passage`` for a passage), keep what the filters allow (``kb.facets``), order. ``hit``
builds one result from its stored fields, with its snippet (``kb.highlight``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb import facets as kbfacets
from kb import highlight, passage, scoring
from kb.errors import QueryError
from kb.evaluate import Evaluator, Ranked, match
from kb.pages import page_at, page_label
from kb.query import parse
from kb.results import Hit
from kb.snapshot import Snapshot

SORTS = ("relevance", "newest", "oldest", "added")  # added: most recently ingested first
MAX_LIKE_CHARS = 20000
_NONE = np.zeros(0, dtype=np.int64)


@dataclass
class Run:
    """A query's result set over one generation: matching documents, and their order."""

    snap: Snapshot
    ranked: Ranked
    order: np.ndarray  # positions in ``ranked``, best first
    strings: tuple  # normalised exact strings, for snippets
    words: tuple  # normalised words, for snippets when no string occurs

    def __len__(self) -> int:
        return len(self.ranked)

    def docs_in_order(self, start: int = 0, stop: int | None = None) -> list[int]:
        return self.ranked.docs[self.order[start:stop]].tolist()


def years_of(years) -> tuple[int | None, int | None]:
    """A year range given as ``"2018-2021"``, a (from, to) pair, or None; checked."""
    if isinstance(years, (str, type(None))):
        return kbfacets.YEAR.parse_range(years)
    low, high = years
    return kbfacets.YEAR.check_range(low, high)


def collect(snap: Snapshot, query: str, filters: dict | None, years, sort: str, like: bool,
            within: set[str] | None = None, exclude: set[str] | None = None,
            visible: np.ndarray | None = None) -> Run:
    """Match, filter and order a query (no paging). ``visible``: the documents the asker may see
    (a mask; ``kb.access``), applied before anything is counted or ordered."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    filters = kbfacets.read_filters(filters)
    year_range = years_of(years)
    ev = Evaluator(snap)
    if like:
        if len(query or "") > MAX_LIKE_CHARS:
            raise QueryError(f"the passage is too long (the limit is {MAX_LIKE_CHARS} characters)")
        matched, scores, words = passage.rank_like(ev, query)
        ranked, strings = Ranked.from_dense(matched, np.zeros(snap.size, dtype=np.int64), scores), ()
        listing = False
    else:
        parsed = parse(query)
        ranked, strings, words = match(ev, parsed)
        listing = parsed.is_empty()
    within_mask = None
    if within is not None:
        within_mask = snap.mask(np.concatenate([_NONE] + [snap.docs_with("id", doc_id) for doc_id in within]))
    allowed = kbfacets.allowed(snap, filters, year_range, within_mask)
    if visible is not None:
        allowed = visible if allowed is None else allowed & visible
    if allowed is not None:
        ranked = ranked.where(allowed[ranked.docs])
    if exclude:
        excluded = snap.mask(np.concatenate([snap.docs_with("id", doc_id) for doc_id in exclude]))
        ranked = ranked.where(~excluded[ranked.docs])
    # a plain listing has no relevance: newest first unless asked otherwise
    order = _order(snap, ranked, "newest" if listing and sort == "relevance" else sort)
    return Run(snap, ranked, order, strings, words)


def _order(snap: Snapshot, ranked: Ranked, sort: str) -> np.ndarray:
    """Positions in ``ranked``, in the asked order (np.lexsort: the last key sorts first)."""
    docs, exact, scores = ranked.docs, ranked.exact, np.round(ranked.scores, 9)
    if sort == "relevance":  # ties go by path: the same order however the index is segmented
        return np.lexsort((snap.path_order[docs], -scores, -exact))
    if sort == "added":
        return np.lexsort((-docs, -snap.added[docs]))
    years = kbfacets.YEAR.column(snap)[docs]
    if sort == "newest":
        return np.lexsort((-docs, -scores, -exact, -years))  # no year (0) last
    return np.lexsort((docs, -scores, -exact, years, years == 0))


def hit(run: Run, position: int, snippets: bool = True) -> Hit:
    """The hit at ``position`` of the run's order (0: the best)."""
    i = int(run.order[position])
    stored = run.snap.searcher.stored_fields(int(run.ranked.docs[i]))
    exact, score = int(run.ranked.exact[i]), float(run.ranked.scores[i])
    text = stored.get("text", "")
    meta = stored.get("meta") or {}
    page = None
    if snippets and meta.get("pages"):
        page = page_at(meta["pages"], highlight.first_match(text, run.strings, run.words))
    return Hit(
        id=stored["id"], path=stored.get("path", ""), title=stored.get("title", ""),
        score=scoring.shown_score(score, exact), exact=exact, facets=kbfacets.hit_values(stored),
        date=stored.get("date"), docno=stored.get("docno"), added=stored.get("added"),
        snippet=highlight.snippet(text, run.strings, run.words) if snippets else "",
        page=page, page_label=page_label(meta.get("page_labels"), page),
        shown_path=meta.get("shown_path") or stored.get("path", "").rsplit("/", 1)[-1],
    )
