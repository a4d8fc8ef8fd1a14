"""Search: query -> matching documents, ranked, counted by facet, with highlighted snippets.

Matching is exact where it matters: a term matches a document when the document contains the
term's string (checked on character bigrams with positions, whitespace-insensitive) or, for an
unquoted term, all of the term's jieba words. Ranking is BM25F over words (body + boosted title)
plus a BM25 score for the exact string; documents that contain more of the query's strings
exactly always come first.

    kb = KnowledgeBase(index_dir)
    results = kb.search("乡村振兴 祁县", filters={"year": [2021]}, sort="relevance", page=1)
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from kb import analysis, highlight, passage
from kb import index as kbindex
from kb.errors import QueryError
from kb.postings import Postings
from kb.query import ParsedQuery, Term, parse

K1, B = 1.2, 0.75
WORDS_CONTAINING = 12  # words that contain a query string, used to skip position checks
SORTS = ("relevance", "newest", "oldest", "added")  # added: most recently ingested first
MAX_PAGE_SIZE = 100
MAX_LIKE_CHARS = 20000


# --- results ------------------------------------------------------------------------------------


@dataclass
class Hit:
    id: str
    path: str
    title: str
    year: int | None
    counties: list[str]
    sectors: list[str]
    score: float
    snippet: str
    exact: int = 0  # how many of the query's strings the document contains exactly
    fields: dict = field(default_factory=dict)  # the other facet values (cities, doctype, ...)

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in ("id", "path", "title", "year", "counties", "sectors", "score", "snippet")}
        data["score"] = round(self.score, 4)
        data.update(self.fields)
        return data


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict]
    page: int = 1
    page_size: int = 10
    sort: str = "relevance"
    took_ms: float = 0.0
    terms: list[str] = field(default_factory=list)  # normalised query strings, for highlighting

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "page_size": self.page_size,
            "sort": self.sort,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
        }


# --- one generation of the index ----------------------------------------------------------------


class Snapshot:
    """A searcher over one generation of the index, with the per-document caches search needs.

    Per-document values are arrays indexed by docnum (``postings.max_docnum`` long), so that
    filtering, counting and ordering a result set is array arithmetic, not a loop per match."""

    def __init__(self, ix):
        self.searcher = ix.searcher()
        self.postings = Postings(self.searcher)
        self.size = self.postings.max_docnum

    def close(self):
        self.searcher.close()

    @cached_property
    def live_mask(self) -> np.ndarray:
        return self.mask(self.postings.live_docs())

    def mask(self, docnums) -> np.ndarray:
        """A set of docnums as a boolean array over all docnums."""
        mask = np.zeros(self.size, dtype=bool)
        mask[np.asarray(docnums, dtype=np.int64)] = True
        return mask

    def _column(self, fieldname: str, low: int, high: int) -> np.ndarray:
        """Every document's value of a numeric column (0 for none: deleted, or the value outside
        ``low..high``, as a document without the field reads). Read segment by segment: Whoosh's
        multi-segment column reader misplaces documents when some segments lack the column."""
        values = np.zeros(self.size, dtype=np.int64)
        for reader, offset, deleted in self.postings.segments:
            if fieldname not in reader.schema or not reader.has_column(fieldname):
                continue
            column = reader.column_reader(fieldname, translate=True)
            for d in range(reader.doc_count_all()):
                if not (deleted and d in deleted) and low <= (v := column[d]) <= high:
                    values[d + offset] = v
        return values

    @cached_property
    def paths(self) -> dict[int, str]:
        """docnum -> source path, from the path field's terms (no stored fields loaded)."""
        return {docnum: text for text, docnums in self.postings.field_docs("path") for docnum in docnums}

    @cached_property
    def path_order(self) -> np.ndarray:
        """Each document's rank in path order (ties in relevance go by path: the same order however
        the index is segmented); documents without a path come first."""
        ranks = np.full(self.size, -1, dtype=np.int64)
        for rank, (docnum, _) in enumerate(sorted(self.paths.items(), key=lambda item: item[1])):
            ranks[docnum] = rank
        return ranks

    @cached_property
    def years(self) -> np.ndarray:
        """docnum -> year (0: none)."""
        return self._column("year", 1, 9999)

    @cached_property
    def added(self) -> np.ndarray:
        """docnum -> when it was ingested (seconds; 0: unknown)."""
        return self._column("added", 1, 2**40)

    def facet_entries(self, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """A list field's values, each value's rank in sorted order, and every (document, value)
        pair as two parallel arrays of docnums and value numbers; read from the postings once."""
        cache = self.__dict__.setdefault("_facet_entries", {})
        if fieldname not in cache:
            names: dict[str, int] = {}
            docs: list[np.ndarray] = []
            numbers: list[np.ndarray] = []
            for text, docnums in self.postings.field_docs(fieldname):
                number = names.setdefault(text, len(names))
                docs.append(np.asarray(docnums, dtype=np.int64))
                numbers.append(np.full(len(docnums), number, dtype=np.int64))
            names_list = list(names)
            name_order = np.zeros(len(names_list), dtype=np.int64)
            name_order[sorted(range(len(names_list)), key=names_list.__getitem__)] = np.arange(len(names_list))
            cache[fieldname] = (names_list, name_order,
                                np.concatenate(docs) if docs else np.zeros(0, np.int64),
                                np.concatenate(numbers) if numbers else np.zeros(0, np.int64))
        return cache[fieldname]

    @cached_property
    def _vocabulary(self) -> str:
        """Every body word, one per line, in one string (searched with str.find: one C-level scan)."""
        words = self.postings.lexicon("body")
        return "\n" + "\n".join(sorted(w.decode("utf-8") for w in words)) + "\n"

    def words_containing(self, string: str, limit: int = WORDS_CONTAINING) -> list[str]:
        """Up to ``limit`` body words that contain ``string``, shortest (usually commonest) first."""
        if len(string) < 2 or "\n" in string:
            return []
        vocabulary = self._vocabulary
        found, start = set(), 0
        while (i := vocabulary.find(string, start)) >= 0:
            begin = vocabulary.rfind("\n", 0, i) + 1
            end = vocabulary.find("\n", i)
            found.add(vocabulary[begin:end])
            start = end
        return sorted(found, key=lambda w: (len(w), w))[:limit]

    def docs_with(self, fieldname: str, value: str) -> np.ndarray:
        return self.postings.docs(fieldname, value)


# --- evaluating terms ---------------------------------------------------------------------------


@dataclass
class TermMatch:
    """What one term matches, over all docnums: ``matched`` (bool), ``exact`` occurrences of its
    string (int), ``scores`` (BM25, 0 where not matched)."""

    matched: np.ndarray
    exact: np.ndarray
    scores: np.ndarray


@dataclass
class Ranked:
    """Matching documents (ascending docnums) with how many of the query's strings each contains
    exactly and its score; parallel arrays."""

    docs: np.ndarray
    exact: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.docs)

    def where(self, keep: np.ndarray) -> "Ranked":
        return Ranked(self.docs[keep], self.exact[keep], self.scores[keep])

    @classmethod
    def from_dense(cls, matched: np.ndarray, exact: np.ndarray, scores: np.ndarray) -> "Ranked":
        docs = np.flatnonzero(matched)
        return cls(docs, exact[docs], scores[docs])


class Evaluator:
    def __init__(self, snapshot: Snapshot):
        self.snap = snapshot
        self.p = snapshot.postings
        self.size = snapshot.size
        self._word_matches: dict = {}  # (words, in_title) -> words_match(); narrowing asks first

    # exact strings

    def exact(self, norm: str, in_title: bool = False, within: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """Occurrences of the normalised string in every document (body and title, or title
        only), and how many documents contain it (for ranking). With ``within``, occurrences are
        only looked for in the documents it allows, and the count is estimated: the documents
        holding all the string's bigrams, times the share of those checked that hold the string."""
        counts = np.zeros(self.size, dtype=np.int64)
        candidates = []
        for gram_field, char_field in _string_fields(in_title):
            docs, found, these = self._exact_in(norm, gram_field, char_field, within)
            counts[docs] += found
            candidates.append(these)
        if within is None:
            return counts, np.count_nonzero(counts)
        candidates = np.union1d(*candidates) if len(candidates) > 1 else candidates[0]
        checked = candidates[within[candidates]]
        found_in = np.count_nonzero(counts[checked])
        estimate = round(len(candidates) * found_in / len(checked)) if len(checked) else 0
        return counts, max(estimate, np.count_nonzero(counts))

    def _exact_in(self, norm: str, gram_field: str, char_field: str, within: np.ndarray | None = None):
        """(docnums, occurrences, candidates) of the string in one field: candidates hold all the
        string's bigrams; the occurrences are counted in those ``within`` allows."""
        unit_string = analysis.units(norm)
        if not unit_string:
            return _NONE, _NONE, _NONE
        if len(unit_string) == 1:
            term = self.p.read(char_field, unit_string)
            return term.ids, np.maximum(term.weights.astype(np.int64), 1), term.ids
        grams = analysis.query_grams(norm)
        if not grams:  # only one-unit runs between punctuation: fall back to the units present
            docs = self._all_units(unit_string, char_field)
            return docs, np.ones(len(docs), dtype=np.int64), docs
        if len(grams) == 1 and len(unit_string) == 2:  # the bigram itself is the string
            term = self.p.read(gram_field, grams[0][0])
            return term.ids, term.weights.astype(np.int64), term.ids
        candidates = self._string_candidates(norm, gram_field, char_field)
        if not candidates.size:
            return _NONE, _NONE, _NONE
        todo = candidates if within is None else candidates[within[candidates]]
        known_docs, known_counts = self._known_exact(unit_string, norm, gram_field, todo)
        todo = np.setdiff1d(todo, known_docs, assume_unique=True)
        if not todo.size:
            return known_docs, known_counts, candidates
        starts = None
        for gram, off in self._rarest_first(grams, gram_field):  # the key sets shrink fastest
            keys = self.p.start_keys(gram_field, gram, todo, off)
            starts = keys if starts is None else np.intersect1d(starts, keys, assume_unique=True)
            if not starts.size:
                break
        docs, counts = np.unique(starts >> 32, return_counts=True)
        if known_docs.size:
            docs, counts = np.concatenate((known_docs, docs)), np.concatenate((known_counts, counts))
        return docs, counts, candidates

    def _known_exact(self, unit_string: str, norm: str, gram_field: str, candidates: np.ndarray):
        """Documents with a jieba word that contains the string (人民政 in 人民政府): a word is
        contiguous text, so these contain it exactly, no positions needed."""
        if gram_field != "grams" or unit_string != norm.strip() or not unit_string.isalnum():
            return _NONE, _NONE
        counts = np.zeros(self.size, dtype=np.int64)
        for word in self.snap.words_containing(unit_string):
            term = self.p.read("body", word)
            counts[term.ids] += term.weights.astype(np.int64)
        docs = candidates[counts[candidates] > 0]
        return docs, counts[docs]

    def _all_units(self, unit_string: str, char_field: str) -> np.ndarray:
        docs = None
        for ch in set(unit_string):
            these = self.p.docs(char_field, ch)
            docs = these if docs is None else np.intersect1d(docs, these, assume_unique=True)
        return docs if docs is not None else _NONE

    def candidates(self, term: Term) -> np.ndarray | None:
        """A superset of what a term matches, from document lists alone (no positions): the
        documents holding all the bigrams of its string, or (unquoted) all its words."""
        norm = analysis.normalize(term.text).strip()
        if not analysis.units(norm):
            return None
        found = np.zeros(self.size, dtype=bool)
        for gram_field, char_field in _string_fields(term.in_title):
            found[self._string_candidates(norm, gram_field, char_field)] = True
        if not term.phrase:
            found |= self.words_match(analysis.words(norm) or [norm], term.in_title)[0]
        return found

    def _rarest_first(self, grams: list[tuple[str, int]], gram_field: str) -> list[tuple[str, int]]:
        return sorted(grams, key=lambda g: len(self.p.docs(gram_field, g[0])))

    def _string_candidates(self, norm: str, gram_field: str, char_field: str) -> np.ndarray:
        """The documents holding every bigram (or unit) of a string in one field."""
        unit_string = analysis.units(norm)
        if len(unit_string) == 1:
            return self.p.docs(char_field, unit_string)
        grams = analysis.query_grams(norm)
        if not grams:
            return self._all_units(unit_string, char_field)
        docs = None
        for gram, _ in self._rarest_first(grams, gram_field):
            these = self.p.docs(gram_field, gram)
            docs = these if docs is None else np.intersect1d(docs, these, assume_unique=True)
            if not docs.size:
                break
        return docs

    # ranking

    def bm25(self, fieldname: str, word: str, boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, BM25 scores) of one word in one field."""
        term = self.p.read(fieldname, word)
        if not len(term):
            return _NONE, _NO_SCORES
        return term.ids, self._saturate(term.ids, term.weights, fieldname, self.p.idf(len(term)) * boost)

    def _saturate(self, docs: np.ndarray, tf: np.ndarray, fieldname: str, idf: float) -> np.ndarray:
        lengths, mean = self.p.lengths(fieldname)
        return idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[docs] / mean))

    def words_match(self, words: list[str], in_title: bool) -> tuple[np.ndarray, np.ndarray]:
        """Documents with every word (in the title, or anywhere), scored BM25F: (matched, scores)."""
        key = (tuple(words), in_title)
        if key not in self._word_matches:
            self._word_matches[key] = self._words_match(words, in_title)
        return self._word_matches[key]

    def _words_match(self, words: list[str], in_title: bool) -> tuple[np.ndarray, np.ndarray]:
        matched = np.ones(self.size, dtype=bool)
        total = np.zeros(self.size)
        for word in words:
            these = np.zeros(self.size, dtype=bool)
            fields = [("title", kbindex.TITLE_BOOST)] + ([] if in_title else [("body", 1.0)])
            for fieldname, boost in fields:
                docs, scores = self.bm25(fieldname, word, boost)
                total[docs] += scores
                these[docs] = True
            matched &= these
            if not matched.any():
                break
        if not words:
            matched[:] = False
        total[~matched] = 0.0
        return matched, total

    def term(self, term: Term, within: np.ndarray | None = None) -> TermMatch | None:
        """What one term matches (exactly, among the documents ``within`` allows, when given), or
        None for a term with nothing searchable in it (``,`` or ``-``)."""
        norm = analysis.normalize(term.text).strip()
        if not analysis.units(norm):
            return None
        exact, exact_df = self.exact(norm, term.in_title, within)
        words = analysis.words(norm) or ([norm] if norm else [])
        word_matched, word_scores = self.words_match(words, term.in_title)
        scores = np.zeros(self.size)
        exact_docs = np.flatnonzero(exact)
        if exact_docs.size:
            idf = self.p.idf(exact_df)
            scores[exact_docs] = self._saturate(exact_docs, exact[exact_docs].astype(np.float64), "body", idf)
        if term.phrase:
            matched = exact > 0
            scores[matched] += word_scores[matched]
        else:
            matched = (exact > 0) | word_matched
            scores += word_scores
        return TermMatch(matched, exact, scores)


_NONE = np.zeros(0, dtype=np.int64)
_NO_SCORES = np.zeros(0)


def _string_fields(in_title: bool) -> list[tuple[str, str]]:
    """(gram field, one-character field) pairs a string is looked for in."""
    return [("title_grams", "title_grams")] + ([] if in_title else [("grams", "chars")])


# --- the knowledge base -------------------------------------------------------------------------


@dataclass
class _Run:
    snap: Snapshot
    ranked: Ranked
    order: np.ndarray  # positions in ``ranked``, best first
    strings: tuple
    words: tuple


def highlight_terms(parsed: ParsedQuery | str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The query's exact strings and its words (normalised), as highlighting looks for them."""
    if isinstance(parsed, str):
        parsed = parse(parsed)
    strings, words = [], []
    for term in parsed.terms():
        norm = analysis.normalize(term.text).strip()
        if norm:
            strings.append(norm)
            if not term.phrase:
                words.extend(analysis.words(norm))
    return tuple(strings), tuple(words)


def _normalize_filters(filters: dict | None) -> dict[str, list]:
    out: dict[str, list] = {}
    for name, values in (filters or {}).items():
        if name not in kbindex.FACETS:
            raise QueryError(f"unknown filter {name!r}; known: {', '.join(kbindex.FACETS)}")
        if values is None or values == "" or values == []:
            continue
        values = values if isinstance(values, (list, tuple, set)) else [values]
        if name == "year":
            try:
                values = [int(v) for v in values]
            except (TypeError, ValueError):
                raise QueryError(f"year filter {values!r} is not a year") from None
        out[name] = list(values)
    return out


def parse_years(spec: str | None) -> tuple[int | None, int | None]:
    """``2018-2021``, ``2018-``, ``-2021`` or ``2020`` -> (from, to)."""
    if not spec:
        return None, None
    spec = str(spec).strip().replace("—", "-").replace("~", "-").replace("至", "-")
    try:
        if "-" in spec:
            a, _, b = spec.partition("-")
            return (int(a) if a.strip() else None), (int(b) if b.strip() else None)
        return int(spec), int(spec)
    except ValueError:
        raise QueryError(f"year range {spec!r} is not like 2018-2021") from None


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
    """The search API over one index folder. Thread-safe; picks up new commits by itself."""

    def __init__(self, index_dir: str | Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.RLock()
        self._ix = None
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The current generation (re-opened when an ingest has committed since)."""
        with self._lock:
            if self._ix is None:
                self._ix = kbindex.open_index(self.index_dir)
            if self._snapshot is None or not self._snapshot.searcher.up_to_date():
                old = self._snapshot
                self._ix = kbindex.open_index(self.index_dir)
                self._snapshot = Snapshot(self._ix)
                if old is not None:
                    old.close()
            return self._snapshot

    def close(self):
        with self._lock:
            if self._snapshot:
                self._snapshot.close()
                self._snapshot = None

    def refresh(self) -> None:
        """Forget the current snapshot: the next call opens the newest generation."""
        with self._lock:
            old, self._snapshot, self._ix = self._snapshot, None, None
            if old is not None:
                try:
                    old.close()
                except OSError:
                    pass

    # -- search

    @_survives_commits
    def search(self, query: str = "", filters: dict | None = None, years: str | tuple | None = None,
               sort: str = "relevance", page: int = 1, page_size: int = 10, like: bool = False,
               within: set[str] | None = None, snippets: bool = True, exclude: set[str] | None = None,
               facets: bool = True) -> Results:
        """Run a query. ``filters`` maps facet names to values (OR within a facet, AND across);
        ``years`` is a range; ``like`` treats the query as a passage; ``within`` limits to ids and
        ``exclude`` leaves ids out; ``snippets``/``facets`` can be skipped when not shown."""
        started = time.perf_counter()
        try:
            page, page_size = int(page), int(page_size)
        except (TypeError, ValueError):
            raise QueryError("page and page size must be numbers") from None
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"page must be >= 1 and page size 1..{MAX_PAGE_SIZE}")
        with self._lock:
            run = self._run(query, filters, years, sort, like, within, exclude)
            start = (page - 1) * page_size
            hits = [self._hit(run.snap, run.ranked, i, run.strings, run.words, snippets)
                    for i in run.order[start:start + page_size].tolist()]
            counts = self._facets(run.snap, run.ranked.docs) if facets else {}
        return Results(query=query, total=len(run.ranked), hits=hits, facets=counts, page=page,
                       page_size=page_size, sort=sort, took_ms=(time.perf_counter() - started) * 1000,
                       terms=list(run.strings))

    def iter_hits(self, query: str = "", filters: dict | None = None, years: str | tuple | None = None,
                  sort: str = "relevance", like: bool = False, batch: int = 200):
        """Every matching document, in order, without snippets (for exports).

        The search runs now (a bad query raises QueryError here, before a caller starts streaming);
        the hits come from the returned iterator."""
        run = self._locked_run(query, filters, years, sort, like, None, None)
        return self._hits_of(run, batch)

    def _hits_of(self, run: "_Run", batch: int):
        for start in range(0, len(run.order), batch):
            with self._lock:
                chunk = [self._hit(run.snap, run.ranked, i, (), (), False) for i in run.order[start:start + batch].tolist()]
            yield from chunk

    @_survives_commits
    def matching_paths(self, query: str = "", filters: dict | None = None, years=None, like: bool = False) -> set[str]:
        """Source paths of every matching document (cheap: no stored fields), e.g. to compare with grep."""
        with self._lock:
            run = self._run(query, filters, years, "relevance", like, None, None)
            paths = run.snap.paths
            return {paths[d] for d in run.ranked.docs.tolist() if d in paths}

    def similar(self, doc_id: str, limit: int = 5, passage_chars: int = 3000) -> list[Hit]:
        """Documents most like this one (passage search over its beginning), itself excluded."""
        stored = self.document(doc_id)
        if not stored:
            return []
        passage = f"{stored.get('title', '')}\n{stored.get('text', '')[:passage_chars]}"
        return self.search(passage, like=True, page_size=limit, exclude={doc_id}).hits

    @_survives_commits
    def _locked_run(self, *args) -> "_Run":
        with self._lock:
            return self._run(*args)

    def _run(self, query, filters, years, sort, like, within, exclude) -> "_Run":
        """Match, filter and order (no paging): what search and export share. Call under the lock."""
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
        filters = _normalize_filters(filters)
        year_from, year_to = parse_years(years) if isinstance(years, (str, type(None))) else years
        snap = self.snapshot()
        ev = Evaluator(snap)
        if like:
            if len(query or "") > MAX_LIKE_CHARS:
                raise QueryError(f"the passage is too long (the limit is {MAX_LIKE_CHARS} characters)")
            matched, scores, words = passage.rank_like(ev, query)
            ranked, strings = Ranked.from_dense(matched, np.zeros(snap.size, dtype=np.int64), scores), ()
            listing = False
        else:
            parsed = parse(query)
            ranked, strings, words = self._match(ev, parsed)
            listing = parsed.is_empty()
        allowed = self._allowed(snap, filters, year_from, year_to, within)
        if allowed is not None:
            ranked = ranked.where(allowed[ranked.docs])
        if exclude:
            excluded = snap.mask(np.concatenate([snap.postings.docs("id", doc_id) for doc_id in exclude]))
            ranked = ranked.where(~excluded[ranked.docs])
        # a plain listing has no relevance: newest first unless asked otherwise
        order = self._order(snap, ranked, "newest" if listing and sort == "relevance" else sort)
        return _Run(snap, ranked, order, strings, words)

    def _match(self, ev: Evaluator, parsed: ParsedQuery):
        """The documents matching every clause, with exact-string counts and scores."""
        snap = ev.snap
        # Verifying exact strings (positions) is the costly part: with more than one clause, first
        # narrow to the documents that can match every clause, from document lists alone.
        within = None
        if len(parsed.positive) > 1:
            within = snap.live_mask.copy()
            for clause in parsed.positive:
                supersets = [c for c in map(ev.candidates, clause.terms) if c is not None]
                if supersets:
                    within &= np.logical_or.reduce(supersets)
        positive = [[m for m in (ev.term(t, within) for t in c.terms) if m is not None] for c in parsed.positive]
        positive = [matches for matches in positive if matches]
        if not positive:
            matched = snap.live_mask.copy() if not parsed.positive else np.zeros(snap.size, dtype=bool)
            exact, scores = np.zeros(snap.size, dtype=np.int64), np.zeros(snap.size)
        else:
            matched = np.ones(snap.size, dtype=bool)
            exact, scores = np.zeros(snap.size, dtype=np.int64), np.zeros(snap.size)
            for matches in positive:  # a clause: any of its terms (OR); clauses: all (AND)
                in_clause = np.zeros(snap.size, dtype=bool)
                exact_in_clause = np.zeros(snap.size, dtype=bool)
                for match in matches:
                    in_clause |= match.matched
                    exact_in_clause |= match.matched & (match.exact > 0)
                    scores += match.scores
                matched &= in_clause
                exact += exact_in_clause
                if not matched.any():
                    break
        for clause in parsed.negative:
            for match in filter(None, (ev.term(t, matched) for t in clause.terms)):
                matched &= ~match.matched
        return (Ranked.from_dense(matched, exact, scores), *highlight_terms(parsed))

    def _allowed(self, snap: Snapshot, filters, year_from, year_to, within) -> np.ndarray | None:
        """The documents the filters allow (a mask over docnums), or None without filters."""
        allowed: np.ndarray | None = None

        def narrow(docs: np.ndarray):
            nonlocal allowed
            allowed = docs if allowed is None else allowed & docs

        years = snap.years
        for name, values in filters.items():
            if name == "year":
                narrow(np.isin(years, values) & (years > 0))
            else:
                fieldname = kbindex.FACETS[name]
                narrow(snap.mask(np.concatenate([snap.docs_with(fieldname, str(value)) for value in values])))
        if year_from is not None or year_to is not None:
            lo = year_from if year_from is not None else -1
            hi = year_to if year_to is not None else 10**6
            narrow((years > 0) & (years >= lo) & (years <= hi))
        if within is not None:
            narrow(snap.mask(np.concatenate([_NONE] + [snap.postings.docs("id", doc_id) for doc_id in within])))
        return allowed

    def _facets(self, snap: Snapshot, docs: np.ndarray) -> dict[str, dict]:
        """Counts per value of every facet over the whole result set: array counting over every
        (document, value) pair, a cost that hardly grows with the number of matches."""
        in_result = snap.mask(docs)
        facets: dict[str, dict] = {}
        years = snap.years[docs]
        values, counts = np.unique(years[years > 0], return_counts=True)
        facets["year"] = {str(y): n for y, n in sorted(zip(values.tolist(), counts.tolist()), reverse=True)}
        for name, fieldname in kbindex.FACETS.items():
            if name == "year":
                continue
            names, name_order, entry_docs, entry_values = snap.facet_entries(fieldname)
            counts = np.bincount(entry_values[in_result[entry_docs]], minlength=len(names))
            present = np.flatnonzero(counts)
            present = present[np.lexsort((name_order[present], -counts[present]))]  # most first, then by name
            facets[name] = {names[i]: n for i, n in zip(present.tolist(), counts[present].tolist())}
        return facets

    def _order(self, snap: Snapshot, ranked: Ranked, sort: str) -> np.ndarray:
        """Positions in ``ranked``, in the asked order (np.lexsort: the last key sorts first)."""
        docs, exact, scores = ranked.docs, ranked.exact, np.round(ranked.scores, 9)
        if sort == "relevance":  # ties go by path: the same order however the index is segmented
            return np.lexsort((snap.path_order[docs], -scores, -exact))
        if sort == "added":
            return np.lexsort((-docs, -snap.added[docs]))
        years = snap.years[docs]
        if sort == "newest":
            return np.lexsort((-docs, -scores, -exact, -years))  # no year (0) last
        return np.lexsort((docs, -scores, -exact, years, years == 0))

    def _hit(self, snap: Snapshot, ranked: Ranked, i: int, strings, words, snippets: bool) -> Hit:
        stored = snap.searcher.stored_fields(int(ranked.docs[i]))
        text = stored.get("text", "")
        exact, score = int(ranked.exact[i]), float(ranked.scores[i])
        other = {k: stored.get(k) or [] for k in ("cities", "provinces", "doctype", "issuer", "topics")}
        other.update({k: stored.get(k) for k in ("date", "docno", "added")})
        return Hit(
            id=stored["id"], path=stored.get("path", ""), title=stored.get("title", ""),
            year=stored.get("year"), counties=stored.get("counties") or [], sectors=stored.get("sectors") or [],
            score=score + 1000.0 * exact, exact=exact, fields=other,
            snippet=highlight.snippet(text, strings, words) if snippets else "",
        )

    # -- documents

    @_survives_commits
    def highlighted_text(self, doc_id: str, query: str) -> tuple[str, int] | None:
        """A document's whole text as escaped HTML with the query's matches marked (ids m1, m2, …),
        and the number of matches; None if there is no such document."""
        stored = self.document(doc_id)
        if stored is None:
            return None
        try:
            strings, words = highlight_terms(query or "")
        except QueryError:
            strings, words = (), ()
        return highlight.highlight_all(stored.get("text", ""), strings, words)

    @_survives_commits
    def document(self, doc_id: str) -> dict | None:
        """All stored fields of a document, or None."""
        with self._lock:
            stored = self.snapshot().searcher.document(id=doc_id)
        return dict(stored) if stored else None

    def documents(self):
        """Every stored document's fields except the text, in index order."""
        with self._lock:
            snap = self.snapshot()
            for docnum in np.flatnonzero(snap.live_mask).tolist():
                stored = dict(snap.searcher.stored_fields(docnum))
                stored.pop("text", None)
                yield stored

    @_survives_commits
    def count(self) -> int:
        return int(np.count_nonzero(self.snapshot().live_mask))

    def facets(self, filters: dict | None = None) -> dict[str, dict]:
        return self.search("", filters=filters, page_size=1, snippets=False).facets

    def original(self, doc_id: str) -> Path | None:
        """The stored copy of a document's original file."""
        stored = self.document(doc_id)
        if not stored:
            return None
        store = kbindex.OriginalsStore.beside(self.index_dir)
        return store.get(stored["sha"], Path(stored["path"]).suffix)
