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
from collections import Counter, defaultdict
from itertools import chain
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from whoosh import index as whoosh_index

from kb import analysis, highlight, passage
from kb import index as kbindex
from kb.errors import QueryError
from kb.postings import Postings, shifted_positions
from kb.query import ParsedQuery, Term, parse

K1, B = 1.2, 0.75
BITSET_FROM = 800  # result sets larger than this count facets with bitsets
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
    """A searcher over one generation of the index, with the per-document caches search needs."""

    def __init__(self, ix):
        self.searcher = ix.searcher()
        self.postings = Postings(self.searcher)

    def close(self):
        self.searcher.close()

    @cached_property
    def live(self) -> set[int]:
        return set(self.postings.live_docs())

    def _column(self, fieldname: str, low: int, high: int) -> dict[int, int]:
        """docnum -> value of a numeric column, for live documents that have one (a document
        without the field reads as the column's filler value, outside ``low..high``)."""
        reader = self.searcher.reader()
        if fieldname not in reader.schema or not reader.has_column(fieldname):
            return {}
        column = reader.column_reader(fieldname, translate=True)
        return {d: v for d in self.live if low <= (v := column[d]) <= high}

    @cached_property
    def paths(self) -> dict[int, str]:
        """docnum -> source path, from the path field's terms (no stored fields loaded)."""
        return {docnum: text for text, docnums in self.postings.field_docs("path") for docnum in docnums}

    @cached_property
    def years(self) -> dict[int, int]:
        """docnum -> year, for documents that have one."""
        return self._column("year", 1, 9999)

    @cached_property
    def added(self) -> dict[int, int]:
        """docnum -> when it was ingested (seconds)."""
        return self._column("added", 1, 2**40)

    def facet_values(self, fieldname: str) -> dict[int, list[str]]:
        """docnum -> values of a list field, read from the field's posting lists once."""
        cache = self.__dict__.setdefault("_facet_values", {})
        if fieldname not in cache:
            values: dict[int, list[str]] = defaultdict(list)
            for text, docnums in self.postings.field_docs(fieldname):
                for docnum in docnums:
                    values[docnum].append(text)
            cache[fieldname] = values
        return cache[fieldname]

    @cached_property
    def _vocabulary(self) -> str:
        """Every body word, one per line, in one string (searched with str.find: one C-level scan)."""
        words: set[bytes] = set()
        for reader, _, _ in self.postings.segments:
            words.update(reader.lexicon("body"))
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

    def facet_masks(self, fieldname: str) -> dict[str, int]:
        """value -> bitset of the live documents that have it (years as strings)."""
        cache = self.__dict__.setdefault("_facet_masks", {})
        if fieldname not in cache:
            if fieldname == "year":
                by_value: dict[str, list[int]] = defaultdict(list)
                for docnum, year in self.years.items():
                    by_value[str(year)].append(docnum)
                items = by_value.items()
            else:
                grouped: dict[str, list[int]] = defaultdict(list)
                for text, docnums in self.postings.field_docs(fieldname):
                    grouped[text].extend(docnums)
                items = grouped.items()
            cache[fieldname] = {value: self.bitset(docnums) for value, docnums in items}
        return cache[fieldname]

    def bitset(self, docnums) -> int:
        """A set of document numbers as an int with those bits set."""
        bits = bytearray((self.postings.max_docnum >> 3) + 1)
        for d in docnums:
            bits[d >> 3] |= 1 << (d & 7)
        return int.from_bytes(bits, "little")

    def docs_with(self, fieldname: str, value: str) -> set[int]:
        return set(self.postings.docs(fieldname, value))


# --- evaluating terms ---------------------------------------------------------------------------


@dataclass
class TermMatch:
    """Documents a term matches: ``exact`` docnum -> occurrences; ``scores`` docnum -> BM25."""

    exact: dict[int, int]
    scores: dict[int, float]

    @property
    def docs(self) -> set[int]:
        return set(self.scores)


class Evaluator:
    def __init__(self, snapshot: Snapshot):
        self.snap = snapshot
        self.p = snapshot.postings

    # exact strings

    def exact(self, norm: str, in_title: bool = False) -> dict[int, int]:
        """docnum -> occurrences of the normalised string (body and title, or title only)."""
        found = self._exact_in(norm, "title_grams", "title_grams")
        if not in_title:
            for docnum, n in self._exact_in(norm, "grams", "chars").items():
                found[docnum] = found.get(docnum, 0) + n
        return found

    def _exact_in(self, norm: str, gram_field: str, char_field: str) -> dict[int, int]:
        unit_string = analysis.units(norm)
        if not unit_string:
            return {}
        if len(unit_string) == 1:
            ids, weights, _ = self.p._read(char_field, unit_string, False)
            return {d: int(w) or 1 for d, w in zip(ids, weights)}
        grams = analysis.query_grams(norm)
        if not grams:  # only one-unit runs between punctuation: fall back to the units present
            return self._all_units(unit_string, char_field)
        if len(grams) == 1 and len(unit_string) == 2:  # the bigram itself is the string
            return {d: int(w) for d, w in self.p.weights(gram_field, grams[0][0]).items()}
        postings = sorted(((g, off, self.p.docs(gram_field, g)) for g, off in grams), key=lambda x: len(x[2]))
        candidates = set(postings[0][2])
        for _, _, docs in postings[1:]:
            candidates.intersection_update(docs)
            if not candidates:
                return {}
        known = self._known_exact(unit_string, norm, gram_field, candidates)
        found = dict(known)
        todo = candidates.difference(known)
        if todo:
            values = [(off, self.p.positions(gram_field, g, todo)) for g, off, _ in postings]
            packed = self.p.packed_positions(gram_field)
            for docnum in todo:
                starts = None
                for off, by_doc in values:
                    shifted = shifted_positions(by_doc[docnum], off, packed)
                    starts = shifted if starts is None else starts & shifted
                    if not starts:
                        break
                if starts:
                    found[docnum] = len(starts)
        return found

    def _known_exact(self, unit_string: str, norm: str, gram_field: str, candidates: set[int]) -> dict[int, int]:
        """Documents with a jieba word that contains the string (人民政 in 人民政府): a word is
        contiguous text, so these contain it exactly, no positions needed."""
        if gram_field != "grams" or unit_string != norm.strip() or not unit_string.isalnum():
            return {}
        found: dict[int, int] = {}
        for word in self.snap.words_containing(unit_string):
            for d, w in self.p.weights("body", word).items():
                if d in candidates:
                    found[d] = found.get(d, 0) + int(w)
        return found

    def _all_units(self, unit_string: str, char_field: str) -> dict[int, int]:
        docs = None
        for ch in set(unit_string):
            these = set(self.p.docs(char_field, ch))
            docs = these if docs is None else docs & these
        return {d: 1 for d in docs or ()}

    # ranking

    def bm25(self, fieldname: str, word: str, boost: float = 1.0) -> dict[int, float]:
        weights = self.p.weights(fieldname, word)
        if not weights:
            return {}
        lengths, mean = self.p.lengths(fieldname)
        idf = self.p.idf(len(weights)) * boost
        return {
            d: idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths.get(d, mean) / mean))
            for d, tf in weights.items()
        }

    def words_match(self, words: list[str], in_title: bool) -> dict[int, float]:
        """Documents with every word (in the title, or anywhere), scored BM25F."""
        total: dict[int, float] | None = None
        for word in words:
            scores = self.bm25("title", word, kbindex.TITLE_BOOST)
            if not in_title:
                for d, s in self.bm25("body", word).items():
                    scores[d] = scores.get(d, 0.0) + s
            if total is None:
                total = scores
            else:
                total = {d: total[d] + s for d, s in scores.items() if d in total}
            if not total:
                return {}
        return total or {}

    def term(self, term: Term) -> TermMatch | None:
        """What one term matches, or None for a term with nothing searchable in it (``,`` or ``-``)."""
        norm = analysis.normalize(term.text).strip()
        if not analysis.units(norm):
            return None
        exact = self.exact(norm, term.in_title)
        words = analysis.words(norm) or ([norm] if norm else [])
        word_scores = self.words_match(words, term.in_title)
        scores: dict[int, float] = {}
        lengths, mean = self.p.lengths("body")
        if exact:
            idf = self.p.idf(len(exact))
            for d, tf in exact.items():
                scores[d] = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths.get(d, mean) / mean))
        if not term.phrase:
            for d, s in word_scores.items():
                scores[d] = scores.get(d, 0.0) + s
        else:
            for d in scores:
                scores[d] += word_scores.get(d, 0.0)
        return TermMatch(exact, scores)


# --- the knowledge base -------------------------------------------------------------------------


@dataclass
class _Run:
    snap: Snapshot
    ranked: dict
    order: list
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
            hits = [self._hit(run.snap, d, run.ranked[d], run.strings, run.words, snippets)
                    for d in run.order[start:start + page_size]]
            counts = self._facets(run.snap, run.ranked.keys()) if facets else {}
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
                chunk = [self._hit(run.snap, d, run.ranked[d], (), (), False) for d in run.order[start:start + batch]]
            yield from chunk

    @_survives_commits
    def matching_paths(self, query: str = "", filters: dict | None = None, years=None, like: bool = False) -> set[str]:
        """Source paths of every matching document (cheap: no stored fields), e.g. to compare with grep."""
        with self._lock:
            run = self._run(query, filters, years, "relevance", like, None, None)
            paths = run.snap.paths
            return {paths[d] for d in run.ranked if d in paths}

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
            ranked, strings, words = passage.rank_like(ev, query)
            listing = False
        else:
            parsed = parse(query)
            ranked, strings, words = self._match(ev, parsed)
            listing = parsed.is_empty()
        allowed = self._allowed(snap, filters, year_from, year_to, within)
        if allowed is not None:
            ranked = {d: v for d, v in ranked.items() if d in allowed}
        if exclude:
            excluded = {d for doc_id in exclude for d in snap.postings.docs("id", doc_id)}
            ranked = {d: v for d, v in ranked.items() if d not in excluded}
        # a plain listing has no relevance: newest first unless asked otherwise
        order = self._order(snap, ranked, "newest" if listing and sort == "relevance" else sort)
        return _Run(snap, ranked, order, strings, words)

    def _match(self, ev: Evaluator, parsed: ParsedQuery):
        """docnum -> (exact count, score) for documents matching every clause."""
        snap = ev.snap
        positive = [[m for m in map(ev.term, c.terms) if m is not None] for c in parsed.positive]
        positive = [matches for matches in positive if matches]
        if not positive:
            ranked = {d: (0, 0.0) for d in snap.live} if not parsed.positive else {}
        else:
            ranked = None
            for matches in positive:
                clause_scores: dict[int, tuple[int, float]] = {}
                for match in matches:
                    for d, s in match.scores.items():
                        e, old = clause_scores.get(d, (0, 0.0))
                        clause_scores[d] = (max(e, 1 if d in match.exact else 0), old + s)
                if ranked is None:
                    ranked = clause_scores
                else:
                    ranked = {d: (e + clause_scores[d][0], s + clause_scores[d][1])
                              for d, (e, s) in ranked.items() if d in clause_scores}
                if not ranked:
                    break
            ranked = ranked or {}
        for clause in parsed.negative:
            for match in filter(None, map(ev.term, clause.terms)):
                ranked = {d: v for d, v in ranked.items() if d not in match.scores}
        return (ranked, *highlight_terms(parsed))

    def _allowed(self, snap: Snapshot, filters, year_from, year_to, within) -> set[int] | None:
        allowed: set[int] | None = None

        def narrow(docs: set[int]):
            nonlocal allowed
            allowed = docs if allowed is None else allowed & docs

        for name, values in filters.items():
            if name == "year":
                wanted = set(values)
                narrow({d for d, y in snap.years.items() if y in wanted})
            else:
                fieldname = kbindex.FACETS[name]
                docs: set[int] = set()
                for value in values:
                    docs |= snap.docs_with(fieldname, str(value))
                narrow(docs)
        if year_from is not None or year_to is not None:
            lo = year_from if year_from is not None else -1
            hi = year_to if year_to is not None else 10**6
            narrow({d for d, y in snap.years.items() if lo <= y <= hi})
        if within is not None:
            docs = set()
            for doc_id in within:
                docs.update(snap.postings.docs("id", doc_id))
            narrow(docs)
        return allowed

    def _facets(self, snap: Snapshot, docs) -> dict[str, dict]:
        """Counts per value of every facet over the whole result set.

        Small result sets count document by document; large ones intersect bitsets (a Python int
        per facet value, one bit per document), which costs little per matching document."""
        docs = list(docs)
        facets: dict[str, dict] = {}
        if len(docs) > BITSET_FROM:
            result = snap.bitset(docs)
            for name, fieldname in kbindex.FACETS.items():
                counts = {v: n for v, mask in snap.facet_masks(fieldname).items() if (n := (mask & result).bit_count())}
                facets[name] = counts
        else:
            years = snap.years
            facets["year"] = Counter(str(years[d]) for d in docs if d in years)
            for name, fieldname in kbindex.FACETS.items():
                if name != "year":
                    values = snap.facet_values(fieldname)
                    facets[name] = Counter(chain.from_iterable(values.get(d, ()) for d in docs))
        for name, counts in facets.items():
            if name == "year":
                facets[name] = dict(sorted(counts.items(), reverse=True))
            else:
                facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return facets

    def _order(self, snap: Snapshot, ranked: dict, sort: str) -> list[int]:
        if sort == "relevance":  # ties go by path: the same order however the index is segmented
            paths = snap.paths
            return sorted(sorted(ranked, key=lambda d: paths.get(d, "")),
                          key=lambda d: (ranked[d][0], round(ranked[d][1], 9)), reverse=True)
        if sort == "added":
            added = snap.added
            return sorted(ranked, key=lambda d: (added.get(d, 0), d), reverse=True)
        years = snap.years
        if sort == "newest":
            return sorted(ranked, key=lambda d: (d in years, years.get(d, 0), ranked[d], d), reverse=True)
        return sorted(ranked, key=lambda d: (d not in years, years.get(d, 0), -ranked[d][0], -ranked[d][1], d))

    def _hit(self, snap: Snapshot, docnum: int, rank, strings, words, snippets: bool) -> Hit:
        stored = snap.searcher.stored_fields(docnum)
        text = stored.get("text", "")
        exact, score = rank
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
            for docnum in sorted(snap.live):
                stored = dict(snap.searcher.stored_fields(docnum))
                stored.pop("text", None)
                yield stored

    @_survives_commits
    def count(self) -> int:
        return len(self.snapshot().live)

    def facets(self, filters: dict | None = None) -> dict[str, dict]:
        return self.search("", filters=filters, page_size=1, snippets=False).facets

    def original(self, doc_id: str) -> Path | None:
        """The stored copy of a document's original file."""
        stored = self.document(doc_id)
        if not stored:
            return None
        store = kbindex.OriginalsStore.beside(self.index_dir)
        return store.get(stored["sha"], Path(stored["path"]).suffix)
