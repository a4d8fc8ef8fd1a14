"""Bulk reads of Whoosh posting lists, one index generation at a time.

Whoosh's matchers step through postings one call at a time; for whole-result-set work (counts,
facets, exact-substring checks) we read a term's postings a block at a time instead, with global
document numbers and deleted documents left out.
"""

from __future__ import annotations

import math
import pickle
from collections import OrderedDict
from array import array
from itertools import accumulate, repeat
from operator import sub

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound

_CACHE_SIZE = 512


def _leaf_items(matcher, want_values: bool):
    """(ids, weights, values) of one segment's posting list, block by block when possible."""
    ids: list[int] = []
    weights: list[float] = []
    values: list = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if want_values:
                matcher._read_values()
                values.extend(matcher._values)
            matcher._next_block()
    else:  # inlined short lists and other matchers
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if want_values:
                values.append(matcher.value())
            matcher.next()
    return ids, weights, values


def decode_positions(value: bytes) -> list[int]:
    """Whoosh's own ``Positions`` value (pickled deltas, indexes made before ``ArrayPositions``)."""
    body = value[4:]
    if not body.endswith(b"."):
        body += b"."
    return list(accumulate(pickle.loads(body)))


def shifted_positions(value: bytes, offset: int, packed: bool = True) -> set[int]:
    """The positions of a posting value minus ``offset``, as a set, in C. ``packed``: the value is
    an ``ArrayPositions`` one (kb.index); otherwise Whoosh's pickled deltas (older indexes)."""
    if packed:
        positions = array("I")
        positions.frombytes(value[4:])
    else:
        positions = decode_positions(value)
    return set(map(sub, positions, repeat(offset, len(positions))))


class Postings:
    """Posting lists of one index generation, with global docnums; caches recent terms."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.schema = searcher.schema
        self.segments = []  # (segment reader, docnum offset, deleted docnums or None)
        for reader, offset in searcher.reader().leaf_readers():
            deleted = reader.deleted_docs_set if reader.has_deletions() else None
            self.segments.append((reader, offset, deleted))
        self.doc_count = searcher.doc_count()
        self.max_docnum = searcher.doc_count_all()  # docnums are below this (deleted ones included)
        self._cache: OrderedDict = OrderedDict()
        self._lengths: dict[str, dict] = {}

    def _read(self, fieldname: str, term: str, want_values: bool):
        key = (fieldname, term, want_values)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        tbytes = term.encode("utf-8")
        fmt = self.schema[fieldname].format
        ids: list[int] = []
        weights: list[float] = []
        values: list = []
        for reader, offset, deleted in self.segments:
            try:
                if (fieldname, tbytes) not in reader:
                    continue
                matcher = reader._terms.matcher(fieldname, tbytes, fmt)
            except TermNotFound:
                continue
            seg_ids, seg_weights, seg_values = _leaf_items(matcher, want_values)
            if deleted:
                keep = [i for i, d in enumerate(seg_ids) if d not in deleted]
                seg_ids = [seg_ids[i] for i in keep]
                seg_weights = [seg_weights[i] for i in keep]
                seg_values = [seg_values[i] for i in keep] if want_values else seg_values
            ids.extend(d + offset for d in seg_ids)
            weights.extend(seg_weights)
            values.extend(seg_values)
        result = (ids, weights, values)
        self._cache[key] = result
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def field_docs(self, fieldname: str):
        """Every term of a field with its documents: ``(term, [docnum, ...])``, segment by segment
        (terms absent from a segment cost nothing there). For building per-document facet maps."""
        if fieldname not in self.schema:
            return
        fmt = self.schema[fieldname].format
        for reader, offset, deleted in self.segments:
            if fieldname not in reader.schema:
                continue
            for tbytes in reader.lexicon(fieldname):
                ids, _, _ = _leaf_items(reader._terms.matcher(fieldname, tbytes, fmt), False)
                ids = [d + offset for d in ids if not deleted or d not in deleted]
                if ids:
                    yield tbytes.decode("utf-8"), ids

    def docs(self, fieldname: str, term: str) -> list[int]:
        return self._read(fieldname, term, False)[0]

    def weights(self, fieldname: str, term: str) -> dict[int, float]:
        ids, weights, _ = self._read(fieldname, term, False)
        return dict(zip(ids, weights))

    def positions(self, fieldname: str, term: str, docs: set[int]) -> dict[int, bytes]:
        """Raw position values for the given docs (decode with ``decode_positions``)."""
        ids, _, values = self._read(fieldname, term, True)
        return {d: v for d, v in zip(ids, values) if d in docs}

    def packed_positions(self, fieldname: str) -> bool:
        """Does this field store positions as ``ArrayPositions``?"""
        return type(self.schema[fieldname].format).__name__ == "ArrayPositions"

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return len(self.docs(fieldname, term))

    def idf(self, df: int) -> float:
        """BM25's inverse document frequency (never negative)."""
        return math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))

    def lengths(self, fieldname: str) -> tuple[dict[int, int], float]:
        """Per-document field lengths and their mean (BM25 length normalisation)."""
        if fieldname not in self._lengths:
            lengths = {}
            for reader, offset, deleted in self.segments:
                for docnum in reader.all_doc_ids():
                    lengths[docnum + offset] = reader.doc_field_length(docnum, fieldname, 0)
            mean = (sum(lengths.values()) / len(lengths)) if lengths else 1.0
            self._lengths[fieldname] = (lengths, mean or 1.0)
        return self._lengths[fieldname]

    def live_docs(self) -> list[int]:
        return [docnum + offset for reader, offset, _ in self.segments for docnum in reader.all_doc_ids()]
