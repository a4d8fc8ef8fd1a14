"""The search API over one index folder: ``KnowledgeBase``, a thin facade.

It keeps the current generation open (re-opened when an ingest has committed), retries a read
that a concurrent commit pulled away, and runs searches: ``kb.collector`` matches, filters and
orders, ``kb.facets`` counts, ``kb.results`` are what comes back.

    kb = KnowledgeBase(index_dir)
    results = kb.search("乡村振兴 祁县", filters={"year": [2021]}, sort="relevance", page=1)
"""

from __future__ import annotations

import contextlib
import functools
import html
import threading
import time
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from kb import facets as kbfacets
from kb import highlight
from kb import versions as kbversions
from kb.access import may_see, visible_mask
from kb import index as kbindex
from kb.collector import MAX_LIKE_CHARS, SORTS, Run, collect, hit
from kb.errors import QueryError
from kb.evaluate import highlight_terms
from kb.pages import page_label
from kb.results import Hit, Results
from kb.snapshot import Snapshot

MAX_PAGE_SIZE = 10_000  # the site and the API allow fewer per page (web.params)
COLLAPSES = (None, "versions")  # collapse=versions: one hit per version group (kb.versions)

__all__ = ["KnowledgeBase", "Hit", "Results", "SORTS", "MAX_PAGE_SIZE", "MAX_LIKE_CHARS", "QueryError"]


_COMMIT_RETRIES = 5


def _survives_commits(method):
    """Retry once on a fresh snapshot when a commit removed files the old one was about to read.

    Whoosh opens some segment files lazily; a concurrent ingest's commit may have deleted the
    segments of the generation this snapshot holds (they were merged). Searching the new
    generation is the right answer then."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for attempt in range(_COMMIT_RETRIES):
            try:
                return method(self, *args, **kwargs)
            except (FileNotFoundError, whoosh_index.EmptyIndexError):
                # the race can repeat: opening lists the newest table of contents, then reads it,
                # and a commit in between deletes it
                if attempt == _COMMIT_RETRIES - 1 or not kbindex.exists(self.index_dir):
                    raise
                self.refresh()
                time.sleep(0.01 * attempt)

    return wrapper


class KnowledgeBase:
    """The search API over one index folder. Thread-safe, without a global lock: each request
    works on the snapshot of the generation that was newest when it began (``_request``), many
    at once; new commits are picked up by the next request."""

    def __init__(self, index_dir: str | Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.RLock()  # only while the current snapshot is checked or replaced
        self._ix = None
        self._snapshot: Snapshot | None = None
        self._pinned = threading.local()  # the snapshot the current thread's request works on

    def snapshot(self) -> Snapshot:
        """The current generation (re-opened when an ingest has committed since); within a
        request, the snapshot that request works on."""
        pinned = getattr(self._pinned, "snap", None)
        if pinned is not None:
            return pinned
        return self._current(acquire=False)

    def _current(self, acquire: bool) -> Snapshot:
        snap = self._snapshot
        if snap is not None and not getattr(self._ix, "kb_empty", False) and snap.searcher.up_to_date():
            with self._lock:
                if snap is self._snapshot:  # still current (not replaced meanwhile): take it
                    return snap.acquire() if acquire else snap
        with self._lock:
            if self._ix is None:
                self._ix = self._open()
            placeholder = self._ix is not None and getattr(self._ix, "kb_empty", False)
            if (self._snapshot is None or not self._snapshot.searcher.up_to_date()
                    or (placeholder and kbindex.exists(self.index_dir))):
                old = self._snapshot
                self._ix = self._open()
                self._snapshot = Snapshot(self._ix)
                if old is not None:
                    old.retire()  # closed when the last request using it lets go
            return self._snapshot.acquire() if acquire else self._snapshot

    @contextlib.contextmanager
    def _request(self):
        """Pin the current snapshot for this thread's request (nested calls share it)."""
        pinned = getattr(self._pinned, "snap", None)
        if pinned is not None:
            yield pinned
            return
        snap = self._current(acquire=True)
        self._pinned.snap = snap
        try:
            yield snap
        finally:
            self._pinned.snap = None
            snap.release()

    def _open(self):
        """The index; an index with no documents when an ingest has begun it but never committed."""
        if not kbindex.exists(self.index_dir) and kbindex.begun(self.index_dir):
            return kbindex.empty_index()
        return kbindex.open_index(self.index_dir)

    def close(self):
        with self._lock:
            if self._snapshot:
                self._snapshot.retire()
                self._snapshot = None

    def refresh(self) -> None:
        """Forget the current snapshot: the next call opens the newest generation."""
        with self._lock:
            old, self._snapshot, self._ix = self._snapshot, None, None
            if old is not None:
                try:
                    old.retire()
                except OSError:
                    pass

    # -- search

    @_survives_commits
    def search(self, query: str = "", filters: dict | None = None, years: str | tuple | None = None,
               sort: str = "relevance", page: int = 1, page_size: int = 10, like: bool = False,
               within: set[str] | None = None, snippets: bool = True, exclude: set[str] | None = None,
               facets: bool = True, clearance: int | None = None, synonyms: bool = True,
               collapse: str | None = None, facet_limit: int | None = None) -> Results:
        """Run a query. ``filters`` maps facet names to values (OR within a facet, AND across);
        ``years`` is a range; ``like`` treats the query as a passage; ``within`` limits to ids and
        ``exclude`` leaves ids out; ``snippets``/``facets`` can be skipped when not shown;
        ``clearance`` (an access rank, ``kb.access``) hides what it may not see from everything
        returned, counts included (None: no limit); ``synonyms``: unquoted terms also find their
        other forms (kb/data/synonyms.txt); ``collapse="versions"``: one hit per version group
        (its most recent matching member; ``kb.versions``). ``facet_limit``: at most this many
        values per keyword facet, its most frequent (and the filtered ones; None: all)."""
        started = time.perf_counter()
        try:
            page, page_size = int(page), int(page_size)
        except (TypeError, ValueError):
            raise QueryError("page and page size must be numbers") from None
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"page must be >= 1 and page size 1..{MAX_PAGE_SIZE}")
        with self._request():
            run = self._run(query, filters, years, sort, like, within, exclude, clearance, synonyms, collapse)
            start = (page - 1) * page_size
            hits = [hit(run, i, snippets) for i in range(start, min(start + page_size, len(run)))]
            counts = kbfacets.count(run.snap, run.ranked.docs, facet_limit, filters) if facets else {}
        return Results(query=query, total=len(run), hits=hits, facets=counts, page=page,
                       page_size=page_size, sort=sort, took_ms=(time.perf_counter() - started) * 1000,
                       terms=list(run.strings), expansions=run.expansions, collapse=collapse)

    def iter_hits(self, query: str = "", filters: dict | None = None, years: str | tuple | None = None,
                  sort: str = "relevance", like: bool = False, batch: int = 200, snippets: bool = False,
                  start: int = 0, limit: int | None = None, clearance: int | None = None,
                  synonyms: bool = True, collapse: str | None = None):
        """Every matching document from ``start`` (up to ``limit``), in order (for exports and scripts).

        The search runs now (a bad query raises QueryError here, before a caller starts streaming);
        the hits come from the returned iterator."""
        run = self._locked_run(query, filters, years, sort, like, None, None, clearance, synonyms, collapse)
        stop = len(run) if limit is None else min(len(run), start + limit)
        run.snap.acquire()  # the generator's own hold on the run's generation
        return self._hits_of(run, batch, snippets, start, stop)

    def _hits_of(self, run: Run, batch: int, snippets: bool, start: int, stop: int):
        try:
            for first in range(start, stop, batch):
                chunk = [hit(run, i, snippets) for i in range(first, min(first + batch, stop))]
                yield from chunk
        finally:
            run.snap.release()

    @_survives_commits
    def matching_paths(self, query: str = "", filters: dict | None = None, years=None, like: bool = False,
                       clearance: int | None = None) -> set[str]:
        """Source paths of every matching document (cheap: no stored fields), e.g. to compare with grep."""
        with self._request():
            run = self._run(query, filters, years, "relevance", like, None, None, clearance)
            paths = run.snap.paths
            return {paths[d] for d in run.ranked.docs.tolist() if d in paths}

    def similar(self, doc_id: str, limit: int = 5, passage_chars: int = 3000, clearance: int | None = None) -> list[Hit]:
        """Documents most like this one (passage search over its beginning), itself excluded."""
        stored = self.document(doc_id, clearance=clearance)
        if not stored:
            return []
        passage = f"{stored.get('title', '')}\n{stored.get('text', '')[:passage_chars]}"
        return self.search(passage, like=True, page_size=limit, exclude={doc_id}, clearance=clearance).hits

    @_survives_commits
    def _locked_run(self, *args) -> Run:
        with self._request():
            return self._run(*args)

    def _run(self, query, filters, years, sort, like, within, exclude, clearance=None, synonyms=False,
             collapse=None) -> Run:
        """Call within a request (``_request``)."""
        snap = self.snapshot()
        if collapse not in COLLAPSES:
            raise QueryError(f"unknown collapse {collapse!r}; use {', '.join(c for c in COLLAPSES if c)}")
        folding = None
        if collapse == "versions":
            groups = kbversions.groups(snap, self.index_dir)
            folding = (groups.group_of, groups.recency(snap))
        return collect(snap, query, filters, years, sort, like, within, exclude, visible=visible_mask(snap, clearance),
                       synonyms=synonyms, collapse=folding)

    # -- documents

    @_survives_commits
    def highlighted_text(self, doc_id: str, query: str, clearance: int | None = None) -> tuple[str, int] | None:
        """A document's whole text as escaped HTML with the query's matches marked (ids m1, m2, …),
        and the number of matches; None if there is no such document."""
        stored = self.document(doc_id, clearance=clearance)
        if stored is None:
            return None
        try:
            strings, words = highlight_terms(query or "")
        except QueryError:
            strings, words = (), ()
        meta = stored.get("meta") or {}
        starts = meta.get("pages") or []
        markers = [(at, f'<span class="page-start" id="p{n}">{html.escape(page_label(meta.get("page_labels"), n))}</span>')
                   for n, at in enumerate(starts, 1)] if len(starts) > 1 else []
        return highlight.highlight_all(stored.get("text", ""), strings, words, markers)

    @_survives_commits
    def document(self, doc_id: str, clearance: int | None = None) -> dict | None:
        """All stored fields of a document, or None (also when ``clearance`` may not see it)."""
        with self._request() as snap:
            docnum = snap.docnum_of("id", doc_id)
            stored = snap.stored(docnum, text=True) if docnum is not None else None
        return stored if stored and may_see(stored, clearance) else None

    def find(self, id_or_path: str, clearance: int | None = None) -> dict | None:
        """A document by its id or its source path (as given, or resolved), or None."""
        stored = self.document(id_or_path, clearance=clearance)
        if stored is None:
            with self._request() as snap:
                for path in (id_or_path, str(Path(id_or_path).expanduser().resolve())):
                    docnum = snap.docnum_of("path", path)
                    found = snap.stored(docnum, text=True) if docnum is not None else None
                    if found and may_see(found, clearance):
                        return found
        return stored

    def documents(self, clearance: int | None = None):
        """Every stored document's fields except the text, in index order."""
        with self._request() as snap:
            live = snap.live_mask
            visible = visible_mask(snap, clearance)
            docnums = np.flatnonzero(live if visible is None else live & visible).tolist()
            snap.acquire()  # the generator holds its generation between the documents it yields
        try:
            for docnum in docnums:
                stored = snap.stored(docnum)
                stored.pop("text", None)
                yield stored
        finally:
            snap.release()

    @_survives_commits
    def count(self, clearance: int | None = None) -> int:
        with self._request() as snap:
            return self._count(snap, clearance)

    def _count(self, snap, clearance: int | None) -> int:
        visible = visible_mask(snap, clearance)
        return int(np.count_nonzero(snap.live_mask if visible is None else snap.live_mask & visible))

    def facets(self, filters: dict | None = None, clearance: int | None = None) -> dict[str, dict]:
        return self.search("", filters=filters, page_size=1, snippets=False, clearance=clearance).facets

    # -- research (issue 14): trends, versions, comparisons

    @_survives_commits
    def trends(self, terms, filters: dict | None = None, years=None, by: str = "year", fold: bool = False,
               clearance: int | None = None):
        """Documents mentioning each term and its mentions, per year (or facet value): ``kb.trends``."""
        from kb import trends as kbtrends

        with self._request() as snap:
            units = kbversions.groups(snap, self.index_dir).unit_counts()  # kept per document, beside the index
            return kbtrends.compute(snap, terms, filters, years, by, fold, visible_mask(snap, clearance), units)

    @_survives_commits
    def versions(self, doc_id: str, clearance: int | None = None) -> list:
        """The document's other versions (``kb.versions.Version``), newest first."""
        with self._request() as snap:
            return kbversions.versions_of(snap, self.index_dir, doc_id, visible_mask(snap, clearance))

    @_survives_commits
    def version_groups(self, clearance: int | None = None) -> list[list[dict]]:
        """Every version group: its members' id, title, year and date, newest first."""
        with self._request() as snap:
            found = kbversions.groups(snap, self.index_dir)
            visible = visible_mask(snap, clearance)
            years, recency, out = kbfacets.YEAR.column(snap), found.recency(snap), []
            for members in found.members:
                shown = [int(d) for d in members if visible is None or visible[d]]
                if len(shown) > 1:
                    out.append([{"id": found.entries[d].id, "title": found.entries[d].title,
                                 "year": int(years[d]) or None, "date": found.entries[d].date}
                                for d in sorted(shown, key=lambda d: -recency[d])])
            return out

    def compare(self, a: str, b: str, clearance: int | None = None):
        """Two documents side by side: aligned paragraphs and distinctive terms (``kb.compare``);
        None when either is missing (or above the clearance)."""
        from kb import compare as kbcompare

        first, second = self.document(a, clearance=clearance), self.document(b, clearance=clearance)
        if first is None or second is None:
            return None
        return kbcompare.compare(first, second)

    def original(self, doc_id: str, clearance: int | None = None) -> Path | None:
        """The stored copy of a document's original file."""
        stored = self.document(doc_id, clearance=clearance)
        if not stored:
            return None
        store = kbindex.OriginalsStore.beside(self.index_dir)
        return store.get(stored["sha"], Path(stored["path"]).suffix)
