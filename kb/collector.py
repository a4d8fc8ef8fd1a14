"""From a query to an ordered result set, and from a result position to a hit.

``collect`` is what a search, an export and a comparison with grep share: match (``kb.evaluate``,
or ``kb.passage`` for a passage), keep what the filters allow (``kb.facets``), order. ``hit``
builds one result from its stored fields, with its snippet (``kb.highlight``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kb import facets as kbfacets
from kb import analysis, highlight, passage, scoring
from kb import synonyms as kbsynonyms
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
    expansions: dict = field(default_factory=dict)  # typed term -> other forms also searched (kb.synonyms)
    other_versions: np.ndarray | None = None  # parallel to ``ranked``: versions folded into each hit

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
            visible: np.ndarray | None = None, synonyms: bool = False,
            collapse: tuple[np.ndarray, np.ndarray] | None = None) -> Run:
    """Match, filter and order a query (no paging). ``visible``: the documents the asker may see
    (a mask; ``kb.access``), applied before anything is counted or ordered. ``synonyms``: unquoted
    terms also match their other forms (``kb.synonyms``). ``collapse``: (group number, recency) per
    docnum (``kb.versions``): of each group's matching documents only the most recent stays."""
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
        listing, expansions = False, {}
    else:
        parsed = parse(query)
        alternatives = kbsynonyms.load().alternatives(parsed) if synonyms else {}
        ranked, strings, words = match(ev, parsed, alternatives)
        expansions = kbsynonyms.expansions(alternatives)
        # snippets show the other forms too (a document may hold only those)
        strings += tuple(dict.fromkeys(s for forms in expansions.values() for s in (analysis.normalize(f).strip() for f in forms) if s))
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
    other_versions = None
    if collapse is not None:
        ranked, other_versions = _collapse(ranked, *collapse)
    # a plain listing has no relevance: newest first unless asked otherwise
    order = _order(snap, ranked, "newest" if listing and sort == "relevance" else sort)
    return Run(snap, ranked, order, strings, words, expansions, other_versions)


def _collapse(ranked: Ranked, group_of: np.ndarray, recency: np.ndarray) -> tuple[Ranked, np.ndarray]:
    """Keep the most recent matching document of each version group; how many each one stands for."""
    groups = group_of[ranked.docs]
    grouped = np.flatnonzero(groups >= 0)
    if not grouped.size:
        return ranked, np.zeros(len(ranked), dtype=np.int64)
    # by group, most recent first (ties: the higher docnum, the later added)
    order = grouped[np.lexsort((-ranked.docs[grouped], -recency[ranked.docs[grouped]], groups[grouped]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = groups[order[1:]] != groups[order[:-1]]
    keep = np.ones(len(ranked), dtype=bool)
    keep[order[~first]] = False
    sizes = np.bincount(groups[grouped], minlength=int(groups.max()) + 1)
    others = np.zeros(len(ranked), dtype=np.int64)
    others[order[first]] = sizes[groups[order[first]]] - 1
    return ranked.where(keep), others[keep]


def _order(snap: Snapshot, ranked: Ranked, sort: str) -> np.ndarray:
    """Positions in ``ranked``, in the asked order (np.lexsort: the last key sorts first)."""
    docs, exact, scores = ranked.docs, ranked.exact, np.round(ranked.scores, 9)
    alt = ranked.alt if ranked.alt is not None else np.zeros(len(docs), dtype=np.int64)  # kb.synonyms' tier
    if sort == "relevance":  # ties go by path: the same order however the index is segmented
        return np.lexsort((snap.path_order[docs], -scores, -alt, -exact))
    if sort == "added":
        return np.lexsort((-docs, -snap.added[docs]))
    years = kbfacets.YEAR.column(snap)[docs]
    if sort == "newest":
        return np.lexsort((-docs, -scores, -alt, -exact, -years))  # no year (0) last
    return np.lexsort((docs, -scores, -alt, -exact, years, years == 0))


def hit(run: Run, position: int, snippets: bool = True) -> Hit:
    """The hit at ``position`` of the run's order (0: the best)."""
    i = int(run.order[position])
    stored = run.snap.stored(int(run.ranked.docs[i]), text=snippets)  # the text only when a snippet needs it
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
        other_versions=int(run.other_versions[i]) if run.other_versions is not None else 0,
    )
