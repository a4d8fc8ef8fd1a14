"""Posting lists as numpy arrays, one index generation at a time.

Search works on whole result sets (counts, facets, exact-substring checks, BM25 over every
match), so it reads a term's postings whole: from each segment's term arrays (``kb.termarrays``,
slices of a mapped file) with global document numbers and deleted documents left out. A segment
written before term arrays is read from its Whoosh W3 blocks (``kb.whoosh_adapter``).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from kb import scoring
from kb.errors import IndexDamaged
from kb.whoosh_adapter import packed_positions, positions_in_arrays, segment_postings, segment_values, segments_of

_CACHE_SIZE = 512
_NO_IDS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class TermPostings:
    """One term's postings across the generation: ascending docnums, their term frequencies and,
    when asked for, their raw position values (one ``bytes`` per document)."""

    ids: np.ndarray  # int64
    weights: np.ndarray  # float64
    values: list | None = None

    def __len__(self) -> int:
        return len(self.ids)


EMPTY = TermPostings(_NO_IDS, np.zeros(0), [])


def positions_of(value: bytes, packed: bool = True) -> np.ndarray:
    """The positions in one posting value. ``packed``: an ``ArrayPositions`` value (kb.index);
    otherwise Whoosh's pickled deltas (indexes made before it)."""
    if packed:
        return np.frombuffer(value, dtype=np.uint32, offset=4).astype(np.int64)
    body = value[4:]
    if not body.endswith(b"."):
        body += b"."
    return np.fromiter(accumulate(pickle.loads(body)), dtype=np.int64)


def start_keys(values: list, docs: np.ndarray, offset: int, packed: bool = True) -> np.ndarray:
    """Where a string containing this bigram at ``offset`` would start, for each of ``docs`` (whose
    position values are ``values``): sorted keys ``docnum << 32 | start``."""
    if not docs.size:
        return _NO_IDS
    if packed:
        # one buffer for all documents; each value is a 4-byte count, then the positions
        joined = np.frombuffer(b"".join(values), dtype=np.uint32)
        words = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) >> 2
        heads = np.cumsum(words) - words
        keep = np.ones(joined.size, dtype=bool)
        keep[heads] = False
        positions = joined[keep].astype(np.int64)
        counts = words - 1
    else:
        decoded = [positions_of(v, packed=False) for v in values]
        positions = np.concatenate(decoded) if decoded else _NO_IDS
        counts = np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded))
    keys = (np.repeat(docs, counts) << 32) + (positions - offset)
    return keys[positions >= offset]


def _keys_from_words(seg_ids, tfs, words, local, seg_offset: int, offset: int) -> np.ndarray:
    """``start_keys`` for one segment's term arrays, without a Python object per position."""
    counts_all = tfs.astype(np.int64)
    firsts = np.cumsum(counts_all + 1) - counts_all  # each posting's first position (after its count)
    rows = np.searchsorted(seg_ids, local)
    counts, firsts = counts_all[rows], firsts[rows]
    total = int(counts.sum())
    index = np.repeat(firsts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    positions = words[index].astype(np.int64)
    keys = (np.repeat(local.astype(np.int64) + seg_offset, counts) << 32) + (positions - offset)
    return keys[positions >= offset]


class Postings:
    """Posting lists of one index generation, with global docnums; caches recent terms."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.schema = searcher.schema
        self.segments = segments_of(searcher)
        self.doc_count = searcher.doc_count()
        self.max_docnum = searcher.doc_count_all()  # docnums are below this (deleted ones included)
        self._cache: OrderedDict = OrderedDict()
        self._lengths: dict[str, tuple] = {}

    def read(self, fieldname: str, term: str, values: bool = False) -> TermPostings:
        """A term's postings (with position values if asked), cached."""
        key = (fieldname, term, values)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        tbytes = term.encode("utf-8")
        id_parts, weight_parts, value_parts = [], [], []
        for seg in self.segments:
            if not seg.has_field(fieldname):
                continue
            arrays, deleted_mask, deleted, offset = seg.arrays, seg.deleted_mask, seg.deleted, seg.offset
            if not values and arrays is not None and arrays.has_field(fieldname):
                found = arrays.postings(fieldname, tbytes)
                if found is None:
                    continue
                ids, weights = found
                if deleted_mask is not None:
                    keep = ~deleted_mask[ids]
                    ids, weights = ids[keep], weights[keep]
                id_parts.append(ids.astype(np.int64) + offset)
                weight_parts.append(weights.astype(np.float64))
                continue
            found = segment_postings(seg.reader, fieldname, tbytes, values)
            if found is None:
                continue
            ids, weights, seg_values = found
            if deleted:
                keep = [d not in deleted for d in ids]
                ids = [d for d, k in zip(ids, keep) if k]
                weights = [w for w, k in zip(weights, keep) if k]
                seg_values = [v for v, k in zip(seg_values, keep) if k] if values else None
            id_parts.append(np.array(ids, dtype=np.int64) + offset)
            weight_parts.append(np.array(weights, dtype=np.float64))
            if values:
                value_parts.extend(seg_values)
        if not id_parts:
            result = EMPTY
        else:
            result = TermPostings(np.concatenate(id_parts), np.concatenate(weight_parts), value_parts if values else None)
        self._cache[key] = result
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def start_keys(self, fieldname: str, term: str, docs: np.ndarray, offset: int) -> np.ndarray:
        """Where a string holding ``term`` at ``offset`` would start in each of ``docs`` (ascending
        docnums, each holding the term): sorted keys ``docnum << 32 | start``. Positions come from
        the term arrays where they live there, else from only the Whoosh blocks that hold them."""
        tbytes = term.encode("utf-8")
        packed = packed_positions(self.schema, fieldname)
        parts = []
        for seg in self.segments:
            arrays, seg_offset = seg.arrays, seg.offset
            local = docs[(docs >= seg_offset) & (docs < seg_offset + seg.doc_count_all)] - seg_offset
            if not local.size:
                continue
            if arrays is not None and arrays.has_positions(fieldname):
                seg_ids, tfs, words = arrays.positions(fieldname, tbytes)
                parts.append(_keys_from_words(seg_ids, tfs, words, local, seg_offset, offset))
            elif positions_in_arrays(self.schema, fieldname):
                raise IndexDamaged(f"segment {seg.segment_id} of the index has lost the positions of "
                                   f"{fieldname!r} (its term arrays file is missing or damaged); re-ingest to rebuild it")
            elif arrays is not None and arrays.has_field(fieldname):  # positions in Whoosh's blocks
                rows = np.searchsorted(arrays.postings(fieldname, tbytes)[0], local).tolist()
                values = segment_values(seg.reader, fieldname, tbytes, rows)
                parts.append(start_keys(values, local + seg_offset, offset, packed))
            else:  # an index from before term arrays: whole posting lists, cached
                term_postings = self.read(fieldname, term, values=True)
                rows = np.searchsorted(term_postings.ids, local + seg_offset).tolist()
                parts.append(start_keys([term_postings.values[i] for i in rows], local + seg_offset, offset, packed))
        return np.concatenate(parts) if parts else _NO_IDS

    def docs(self, fieldname: str, term: str) -> np.ndarray:
        return self.read(fieldname, term).ids

    def field_docs(self, fieldname: str):
        """Every term of a field with its documents: ``(term, [docnum, ...])``, segment by segment
        (terms absent from a segment cost nothing there). For building per-document facet maps."""
        if fieldname not in self.schema:
            return
        for seg in self.segments:
            if not seg.has_field(fieldname):
                continue
            arrays, deleted_mask, deleted, offset = seg.arrays, seg.deleted_mask, seg.deleted, seg.offset
            if arrays is not None and arrays.has_field(fieldname):
                for tbytes, ids in arrays.terms(fieldname):
                    if deleted_mask is not None:
                        ids = ids[~deleted_mask[ids]]
                    if ids.size:
                        yield tbytes.decode("utf-8"), (ids.astype(np.int64) + offset).tolist()
                continue
            for tbytes in seg.reader.lexicon(fieldname):
                ids, _, _ = segment_postings(seg.reader, fieldname, tbytes, False)
                ids = [d + offset for d in ids if not deleted or d not in deleted]
                if ids:
                    yield tbytes.decode("utf-8"), ids

    def lexicon(self, fieldname: str) -> set[bytes]:
        """Every term of a field (UTF-8), from the term arrays where a segment has them."""
        terms: set[bytes] = set()
        for seg in self.segments:
            if seg.arrays is not None and seg.arrays.has_field(fieldname):
                terms.update(seg.arrays.keys(fieldname))
            elif seg.has_field(fieldname):
                terms.update(seg.reader.lexicon(fieldname))
        return terms

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return len(self.read(fieldname, term))

    def idf(self, df: int) -> float:
        """BM25's inverse document frequency (never negative)."""
        return scoring.idf(self.doc_count, df)

    def lengths(self, fieldname: str) -> tuple[np.ndarray, float]:
        """Every document's field length (indexed by docnum; the mean for deleted ones) and the
        mean (BM25 length normalisation)."""
        if fieldname not in self._lengths:
            lengths = np.zeros(self.max_docnum, dtype=np.float64)
            live = np.zeros(self.max_docnum, dtype=bool)
            for seg in self.segments:
                for docnum in seg.reader.all_doc_ids():
                    lengths[docnum + seg.offset] = seg.reader.doc_field_length(docnum, fieldname, 0)
                    live[docnum + seg.offset] = True
            mean = float(lengths[live].mean()) if live.any() else 1.0
            mean = mean or 1.0
            lengths[~live] = mean
            self._lengths[fieldname] = (lengths, mean)
        return self._lengths[fieldname]

    def live_docs(self) -> list[int]:
        return [docnum + seg.offset for seg in self.segments for docnum in seg.reader.all_doc_ids()]
