"""Posting lists as numpy arrays, one index generation at a time.

Search works on whole result sets (counts, facets, exact-substring checks, BM25 over every
match), so it reads a term's postings whole: from each segment's term arrays (``kb.termarrays``,
slices of a mapped file) with global document numbers and deleted documents left out. A segment
written before term arrays is read from its Whoosh W3 blocks directly (one file read per term, one
unpickle per block; Whoosh's matchers step one posting at a time).
"""

from __future__ import annotations

import io
import math
import pickle
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo

from kb.errors import IndexDamaged
from kb.termarrays import TermArrays

_CACHE_SIZE = 512
_BLOCK_LENGTH = struct.Struct("!i")
_MAGIC_SIZE = 4
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


def _term_entry(terms, fieldname: str, tbytes: bytes):
    """A term's W3 entry in one segment: ``(inlined postings, None)`` for a short list kept in
    the term table, ``(None, block bytes)`` otherwise; None if the segment lacks the term."""
    try:
        info = W3TermInfo.from_bytes(terms._tindex[terms._keycoder(fieldname, tbytes)])
    except KeyError:
        return None
    if info.is_inlined():
        return info.inlined_postings(), None
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length unpacked as a 1-tuple
        length = length[0]
    return None, terms._postfile.get(offset, length)


def segment_postings(terms, fieldname: str, tbytes: bytes, want_values: bool):
    """``(ids, weights, values)`` of one segment's posting list, read straight from the W3 blocks
    (the format ``kb.writer`` and Whoosh's own writer produce); None if the segment lacks the term."""
    entry = _term_entry(terms, fieldname, tbytes)
    if entry is None:
        return None
    inlined, raw = entry
    if inlined is not None:
        ids, weights, values = inlined
        return list(ids), list(weights), (list(values) if want_values else None)
    stream = io.BytesIO(raw)
    stream.seek(_MAGIC_SIZE)
    ids: list[int] = []
    weights: list[float] = []
    values: list | None = [] if want_values else None
    while True:
        block_length = _BLOCK_LENGTH.unpack(stream.read(4))[0]
        start = stream.tell()
        end = start + abs(block_length)
        size, _, _, compression, _, _ = pickle.load(stream)
        if compression:
            block_ids, block_weights, block_values = pickle.loads(zlib.decompress(raw[stream.tell():end]))
        else:
            block_ids, block_weights, block_values = pickle.load(stream)
        stream.seek(end)
        ids.extend(accumulate(block_ids))  # deltas from 0: the first one is the block's first id
        if block_weights is None:
            weights.extend([1.0] * size)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * size)
        else:
            weights.extend(block_weights)
        if want_values:
            if isinstance(block_values, bytes):  # fixed-size values: not used by our fields
                width = len(block_values) // size
                values.extend(block_values[i:i + width] for i in range(0, len(block_values), width))
            else:
                values.extend(block_values if block_values is not None else [None] * size)
        if block_length < 0:  # the last block
            return ids, weights, values


def segment_values(terms, fieldname: str, tbytes: bytes, rows: list[int]) -> list:
    """The position values of the given postings (``rows``: ascending numbers within the
    segment's posting list), unpickling only the blocks that hold them."""
    inlined, raw = _term_entry(terms, fieldname, tbytes)
    if inlined is not None:
        return [inlined[2][r] for r in rows]
    stream = io.BytesIO(raw)
    position, first_row, wanted, found = _MAGIC_SIZE, 0, 0, []
    while wanted < len(rows):
        block_length = _BLOCK_LENGTH.unpack_from(raw, position)[0]
        stream.seek(position + 4)
        end = position + 4 + abs(block_length)
        size, _, _, compression, _, _ = pickle.load(stream)
        if rows[wanted] < first_row + size:  # this block holds some of them
            if compression:
                block_values = pickle.loads(zlib.decompress(raw[stream.tell():end]))[2]
            else:
                block_values = pickle.load(stream)[2]
            while wanted < len(rows) and rows[wanted] < first_row + size:
                found.append(block_values[rows[wanted] - first_row])
                wanted += 1
        if block_length < 0:
            break
        position, first_row = end, first_row + size
    return found


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
        self.segments = []  # (segment reader, docnum offset, deleted docnums or None)
        self._arrays = []  # per segment: its TermArrays (or None) and a mask of its deleted docs
        for reader, offset in searcher.reader().leaf_readers():
            if not hasattr(reader, "_terms"):  # an index without segments has an EmptyReader
                continue
            deleted = reader.deleted_docs_set if reader.has_deletions() else None
            self.segments.append((reader, offset, deleted))
            mask = None
            if deleted:
                mask = np.zeros(reader.doc_count_all(), dtype=bool)
                mask[list(deleted)] = True
            self._arrays.append((TermArrays.of(reader), mask))
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
        for (reader, offset, deleted), (arrays, deleted_mask) in zip(self.segments, self._arrays):
            if fieldname not in reader.schema:
                continue
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
            found = segment_postings(reader._terms, fieldname, tbytes, values)
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
        packed = self.packed_positions(fieldname)
        parts = []
        for (reader, seg_offset, _), (arrays, _) in zip(self.segments, self._arrays):
            local = docs[(docs >= seg_offset) & (docs < seg_offset + reader.doc_count_all())] - seg_offset
            if not local.size:
                continue
            if arrays is not None and arrays.has_positions(fieldname):
                seg_ids, tfs, words = arrays.positions(fieldname, tbytes)
                parts.append(_keys_from_words(seg_ids, tfs, words, local, seg_offset, offset))
            elif self.positions_elsewhere(fieldname):
                raise IndexDamaged(f"segment {reader._segment.segment_id()} of the index has lost the positions of "
                                   f"{fieldname!r} (its term arrays file is missing or damaged); re-ingest to rebuild it")
            elif arrays is not None and arrays.has_field(fieldname):  # positions in Whoosh's blocks
                rows = np.searchsorted(arrays.postings(fieldname, tbytes)[0], local).tolist()
                values = segment_values(reader._terms, fieldname, tbytes, rows)
                parts.append(start_keys(values, local + seg_offset, offset, packed))
            else:  # an index from before term arrays: whole posting lists, cached
                term_postings = self.read(fieldname, term, values=True)
                rows = np.searchsorted(term_postings.ids, local + seg_offset).tolist()
                parts.append(start_keys([term_postings.values[i] for i in rows], local + seg_offset, offset, packed))
        return np.concatenate(parts) if parts else _NO_IDS

    def positions_elsewhere(self, fieldname: str) -> bool:
        return getattr(self.schema[fieldname].format, "positions_in_arrays", False)

    def docs(self, fieldname: str, term: str) -> np.ndarray:
        return self.read(fieldname, term).ids

    def field_docs(self, fieldname: str):
        """Every term of a field with its documents: ``(term, [docnum, ...])``, segment by segment
        (terms absent from a segment cost nothing there). For building per-document facet maps."""
        if fieldname not in self.schema:
            return
        for (reader, offset, deleted), (arrays, deleted_mask) in zip(self.segments, self._arrays):
            if fieldname not in reader.schema:
                continue
            if arrays is not None and arrays.has_field(fieldname):
                for tbytes, ids in arrays.terms(fieldname):
                    if deleted_mask is not None:
                        ids = ids[~deleted_mask[ids]]
                    if ids.size:
                        yield tbytes.decode("utf-8"), (ids.astype(np.int64) + offset).tolist()
                continue
            for tbytes in reader.lexicon(fieldname):
                ids, _, _ = segment_postings(reader._terms, fieldname, tbytes, False)
                ids = [d + offset for d in ids if not deleted or d not in deleted]
                if ids:
                    yield tbytes.decode("utf-8"), ids

    def lexicon(self, fieldname: str) -> set[bytes]:
        """Every term of a field (UTF-8), from the term arrays where a segment has them."""
        terms: set[bytes] = set()
        for (reader, _, _), (arrays, _) in zip(self.segments, self._arrays):
            if arrays is not None and arrays.has_field(fieldname):
                terms.update(arrays.keys(fieldname))
            elif fieldname in reader.schema:
                terms.update(reader.lexicon(fieldname))
        return terms

    def packed_positions(self, fieldname: str) -> bool:
        """Are this field's position values ``ArrayPositions`` ones (else Whoosh's pickled deltas)?"""
        return type(self.schema[fieldname].format).__name__ in ("ArrayPositions", "CountsHere")

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return len(self.read(fieldname, term))

    def idf(self, df: int) -> float:
        """BM25's inverse document frequency (never negative)."""
        return math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))

    def lengths(self, fieldname: str) -> tuple[np.ndarray, float]:
        """Every document's field length (indexed by docnum; the mean for deleted ones) and the
        mean (BM25 length normalisation)."""
        if fieldname not in self._lengths:
            lengths = np.zeros(self.max_docnum, dtype=np.float64)
            live = np.zeros(self.max_docnum, dtype=bool)
            for reader, offset, _ in self.segments:
                for docnum in reader.all_doc_ids():
                    lengths[docnum + offset] = reader.doc_field_length(docnum, fieldname, 0)
                    live[docnum + offset] = True
            mean = float(lengths[live].mean()) if live.any() else 1.0
            mean = mean or 1.0
            lengths[~live] = mean
            self._lengths[fieldname] = (lengths, mean)
        return self._lengths[fieldname]

    def live_docs(self) -> list[int]:
        return [docnum + offset for reader, offset, _ in self.segments for docnum in reader.all_doc_ids()]
