"""Posting lists as numpy arrays, one index generation at a time.

Search works on whole result sets (counts, facets, exact-substring checks, BM25 over every
match), so it reads a term's postings whole: decoded from each segment's term arrays
(``kb.termarrays``: packed streams in a mapped file) with global document numbers and deleted
documents left out. Positions are decoded only for the documents asked about. One ``Postings``
serves every thread searching its generation: the caches are guarded by a lock, and everything
they hold is read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from kb import scoring
from kb.whoosh_adapter import segments_of
from kb.writer import LENGTH_OF_BYTE

_CACHE_TERMS = 4096  # decoded posting lists kept per generation (each cache), and their bytes at most
_CACHE_BYTES = 64 << 20
_NO_IDS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class TermPostings:
    """One term's postings across the generation: ascending docnums and their term frequencies
    (``values``: always None since format 2; positions are read with ``Postings.start_keys``)."""

    ids: np.ndarray  # int64
    weights: np.ndarray  # float64
    values: list | None = None

    def __len__(self) -> int:
        return len(self.ids)


EMPTY = TermPostings(_NO_IDS, np.zeros(0), None)


def key_docs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(documents, occurrences) of sorted keys ``docnum << 32 | start`` (a run-length count: no
    sort, no hashing)."""
    if not keys.size:
        return _NO_IDS, _NO_IDS
    docs = keys >> 32
    if keys.size > 1 and (docs[1:] < docs[:-1]).any():  # not sorted after all: count the slow way
        return np.unique(docs, return_counts=True)
    firsts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    return docs[firsts], np.diff(np.append(firsts, docs.size))


class LRU:
    """A least-recently-used cache bounded by entries and by bytes, safe to share between threads."""

    def __init__(self, size: int, max_bytes: int = 1 << 62):
        self.size, self.max_bytes = size, max_bytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
            return None

    def put(self, key, value, nbytes: int = 0):
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while self._items and (len(self._items) > self.size or self._bytes > self.max_bytes):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


class Postings:
    """Posting lists of one index generation, with global docnums; caches recent terms."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.schema = searcher.schema
        self.segments = segments_of(searcher)
        self.doc_count = searcher.doc_count()
        self.max_docnum = searcher.doc_count_all()  # docnums are below this (deleted ones included)
        self.offsets = np.array([seg.offset for seg in self.segments], dtype=np.int64)
        self._local = LRU(_CACHE_TERMS, _CACHE_BYTES)
        self._global = LRU(_CACHE_TERMS, _CACHE_BYTES)
        self._lengths: dict[str, tuple] = {}

    def _segment_postings(self, fieldname: str, term: str) -> list:
        """Per segment holding the term: (segment, its field arrays, term number, local ids, tfs)."""
        key = (fieldname, term)
        found = self._local.get(key)
        if found is None:
            found = []
            for seg in self.segments:
                field = seg.arrays.field(fieldname)
                if field is None:
                    continue
                t = field.find(term)
                if t >= 0:
                    ids, tfs = field.postings(t)
                    found.append((seg, field, t, ids, tfs))
            self._local.put(key, found, sum(16 * len(item[3]) for item in found))
        return found

    def read(self, fieldname: str, term: str, values: bool = False) -> TermPostings:
        """A term's postings, cached (``values`` is accepted for older callers and ignored)."""
        key = (fieldname, term)
        cached = self._global.get(key)
        if cached is not None:
            return cached
        ids_parts, tf_parts = [], []
        for seg, _, _, ids, tfs in self._segment_postings(fieldname, term):
            if seg.deleted_mask is not None:
                keep = ~seg.deleted_mask[ids]
                ids, tfs = ids[keep], tfs[keep]
            ids_parts.append(ids + seg.offset)
            tf_parts.append(tfs)
        if not ids_parts:
            result = EMPTY
        elif len(ids_parts) == 1:
            result = TermPostings(ids_parts[0], tf_parts[0].astype(np.float64))
        else:
            result = TermPostings(np.concatenate(ids_parts), np.concatenate(tf_parts).astype(np.float64))
        self._global.put(key, result, 16 * len(result))
        return result

    def start_keys(self, fieldname: str, term: str, docs: np.ndarray, offset: int) -> np.ndarray:
        """Where a string holding ``term`` at ``offset`` would start in each of ``docs`` (ascending
        docnums): sorted keys ``docnum << 32 | start``. Positions are decoded for those documents
        only (documents without the term contribute nothing)."""
        parts = []
        docs = np.asarray(docs, dtype=np.int64)
        for seg, field, t, ids, tfs in self._segment_postings(fieldname, term):
            lo, hi = np.searchsorted(docs, (seg.offset, seg.offset + seg.doc_count_all))
            if lo == hi:
                continue
            local = docs[lo:hi] - seg.offset
            rows = np.searchsorted(ids, local)
            rows[rows >= len(ids)] = len(ids) - 1
            held = ids[rows] == local
            if not held.all():
                rows, local = rows[held], local[held]
                if not rows.size:
                    continue
            counts, positions = field.positions(t, rows, tfs)
            keys = (np.repeat(local + seg.offset, counts) << 32) + (positions - offset)
            parts.append(keys[positions >= offset])
        if not parts:
            return _NO_IDS
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def docs(self, fieldname: str, term: str) -> np.ndarray:
        return self.read(fieldname, term).ids

    def field_entries(self, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Every (document, term) pair of a field: (terms, docnums, term numbers), live documents only."""
        names: dict[str, int] = {}
        doc_parts, number_parts = [], []
        for seg in self.segments:
            field = seg.arrays.field(fieldname)
            if field is None or not len(field):
                continue
            term_of, docs, _, _ = field.all_postings(positions=False)
            numbers = np.array([names.setdefault(field.term(t).decode("utf-8"), len(names)) for t in range(len(field))],
                               dtype=np.int64)
            if seg.deleted_mask is not None:
                keep = ~seg.deleted_mask[docs]
                term_of, docs = term_of[keep], docs[keep]
            doc_parts.append(docs + seg.offset)
            number_parts.append(numbers[term_of])
        if not doc_parts:
            return list(names), _NO_IDS, _NO_IDS
        return list(names), np.concatenate(doc_parts), np.concatenate(number_parts)

    def field_docs(self, fieldname: str):
        """Every term of a field with its documents: ``(term, [docnum, ...])``."""
        names, docs, numbers = self.field_entries(fieldname)
        if not docs.size:
            return
        order = np.argsort(numbers, kind="stable")
        docs, numbers = docs[order], numbers[order]
        bounds = np.concatenate(([0], np.flatnonzero(numbers[1:] != numbers[:-1]) + 1, [len(numbers)]))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            yield names[int(numbers[a])], docs[a:b].tolist()

    def lexicon(self, fieldname: str) -> set[bytes]:
        """Every term of a field (UTF-8)."""
        terms: set[bytes] = set()
        for seg in self.segments:
            terms.update(seg.arrays.keys(fieldname))
        return terms

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return len(self.read(fieldname, term))

    def idf(self, df: int) -> float:
        """BM25's inverse document frequency (never negative)."""
        return scoring.idf(self.doc_count, df)

    def live(self) -> np.ndarray:
        """A mask over docnums: the documents not deleted."""
        if not self.segments:
            return np.zeros(self.max_docnum, dtype=bool)
        mask = np.concatenate([seg.live_mask() for seg in self.segments])
        if mask.size < self.max_docnum:
            mask = np.concatenate((mask, np.zeros(self.max_docnum - mask.size, dtype=bool)))
        return mask

    def doc_values(self, name: str, dtype) -> np.ndarray:
        """A per-document array of the term arrays (``length:body``, ``number:year``), over docnums."""
        values = np.zeros(self.max_docnum, dtype=dtype)
        for seg in self.segments:
            found = seg.arrays.doc_array(name)
            if found is not None:
                values[seg.offset:seg.offset + min(len(found), seg.doc_count_all)] = found[:seg.doc_count_all]
        return values

    def lengths(self, fieldname: str) -> tuple[np.ndarray, float]:
        """Every document's field length (indexed by docnum; the mean for deleted ones) and the
        mean (BM25 length normalisation)."""
        found = self._lengths.get(fieldname)
        if found is None:
            quantised = self.doc_values(f"length:{fieldname}", np.uint8)
            lengths = LENGTH_OF_BYTE[quantised]
            lengths[quantised == 0] = 0.0
            live = self.live()
            mean = float(lengths[live].mean()) if live.any() else 1.0
            mean = mean or 1.0
            lengths[~live] = mean
            found = self._lengths[fieldname] = (lengths, mean)
        return found

    def live_docs(self) -> list[int]:
        return np.flatnonzero(self.live()).tolist()

    def segment_of(self, docnum: int):
        """(segment, local docnum) of a global docnum."""
        i = int(np.searchsorted(self.offsets, docnum, side="right")) - 1
        seg = self.segments[i]
        return seg, docnum - seg.offset
