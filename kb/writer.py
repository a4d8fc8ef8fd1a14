"""The pieces of segment writing that need no Whoosh objects: the analysed fields' postings as
arrays (``ArrayPool``, written to the segment's term arrays), the small keyword fields' postings
for Whoosh (``GroupedPool``), and the bytes of Whoosh's W3 format for those, produced directly.

Analysed fields arrive as arrays (``kb.schema.Grams``, or a document's words), so a document
costs a few array appends; a segment is written by sorting all its postings at once by (term,
document) and packing the streams (``kb.termarrays``, ``kb.bitpack``). Merging segments is the
same work: their postings, decoded as arrays, renumbered, appended, written again.

Whoosh keeps postings of the keyword fields it needs itself (``id`` and ``path`` for updates and
deletions, the other identifiers and the facets for its document lookups), a few per document:
``GroupedPool`` keeps them grouped per term in flat lists, and each term's W3 blocks and table
entry are written directly (``blocks_entry``, ``inlined_entry``: the bytes Whoosh's W3 writer
objects would produce; ``tests/test_writer.py`` holds them equal).

Why this module is long: the two pools and the W3 bytes they end in are the one place where a
segment's postings take their final shape; the W3 byte layout is Whoosh's, written out in full so
no per-posting Whoosh object is made, and it only reads right next to the pool that feeds it.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections import Counter, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from operator import sub
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.system import pack_int, pack_long
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb import bitpack
from kb.codec import ArrayTermsReader, StoredReader
from kb.termarrays import GRAMS, TermArraysWriter, union_sorted

BLOCK = 128
INLINE_MAX = 2  # posting lists this short live in the term table, not in a block of their own
_CHUNK_POSTINGS = 4_000_000  # a field is sorted and packed this many postings at a time
# A merge runs on both cores: pieces of a field are made on two threads (numpy and kb.bitpack_c
# work without the interpreter lock) while this thread packs the one before. Smaller pieces keep
# the few in flight within the memory of one piece of a serial merge.
MERGE_THREADS = min(2, os.cpu_count() or 1)
_PARALLEL_CHUNK_POSTINGS = 1_000_000
_PARALLEL_MIN_POSTINGS = 100_000
_FEW_TERMS = 64  # a keyword field's terms in one document up to this many are kept in lists (add_few)
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def length_byte(length: int) -> int:
    """A field length as BM25 reads it: Whoosh's one-byte logarithmic approximation."""
    return length_to_byte(length) if length else 0


# --- the analysed fields, as arrays --------------------------------------------------------------------


class _FieldPool:
    """One field's postings of the documents given to the writer, in arrival order."""

    __slots__ = ("kind", "frequencies", "positions", "keys", "docs", "tfs", "places", "vocabulary", "few")

    def __init__(self, kind: str, frequencies: bool, positions: bool):
        self.kind, self.frequencies, self.positions = kind, frequencies, positions
        self.keys: list[np.ndarray] = []  # gram keys, or numbers in ``vocabulary``
        self.docs: list[np.ndarray] = []
        self.tfs: list[np.ndarray] = []
        self.places: list[np.ndarray] = []  # positions, grouped per posting
        self.vocabulary: dict[str, int] = {}
        self.few: tuple[list, list, list] = ([], [], [])  # (numbers, documents, counts) of add_few

    def add_few(self, counts: dict[str, int], docnum: int) -> None:
        """A document's few distinct terms (a keyword field: an id, a year, some counties) with
        their counts, kept in lists: arrays of one or two items cost more than the terms."""
        vocabulary = self.vocabulary
        numbers, docs, tfs = self.few
        for term, count in counts.items():
            number = vocabulary.get(term)
            if number is None:
                number = vocabulary[term] = len(vocabulary)
            numbers.append(number)
            docs.append(docnum)
            tfs.append(count)

    def add(self, keys: np.ndarray, docs: np.ndarray, tfs: np.ndarray | None, positions: np.ndarray | None):
        self.keys.append(keys)
        self.docs.append(docs)
        if self.frequencies or self.positions:
            self.tfs.append(tfs)
        if self.positions:
            self.places.append(positions)

    def numbers(self, terms) -> np.ndarray:
        """Each term's number in the vocabulary (new terms get the next ones)."""
        vocabulary = self.vocabulary
        # new terms found by set algebra and numbered in sorted order (numbers are ranked by bytes
        # when written, so any order will do; sorted keeps runs alike); the lookups run in C (map)
        new = sorted(set(terms).difference(vocabulary))
        vocabulary.update(zip(new, range(len(vocabulary), len(vocabulary) + len(new))))
        return np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.uint64, count=len(terms))

    def sorted(self) -> "_SortedField":
        """The postings sorted by (term, document), as a merge source."""
        if self.few[0]:  # (each (term, document) is added once: the order they come in does not matter)
            numbers, docs, tfs = self.few
            self.add(np.array(numbers, dtype=np.uint64), np.array(docs, dtype=np.int64),
                     np.array(tfs, dtype=np.uint32), None)
            self.few = ([], [], [])
        keys = np.concatenate(self.keys) if self.keys else np.zeros(0, np.uint64)
        docs = np.concatenate(self.docs) if self.docs else np.zeros(0, np.int64)
        with_tfs = (self.frequencies or self.positions) and self.tfs
        tfs = np.concatenate(self.tfs).astype(np.int64) if with_tfs else np.ones(len(keys), np.int64)
        terms = None
        if self.kind != GRAMS:  # vocabulary numbers -> ranks in the terms' byte order
            encoded = [t.encode("utf-8") for t in self.vocabulary]
            order = sorted(range(len(encoded)), key=encoded.__getitem__)
            rank = np.empty(len(encoded), dtype=np.uint64)
            rank[order] = np.arange(len(encoded), dtype=np.uint64)
            keys = rank[keys.astype(np.int64)] if keys.size else keys
            terms = [encoded[i] for i in order]
        order = _term_doc_order(keys, docs)
        keys, docs = keys[order], docs[order]
        positions = None
        if self.positions:
            places = np.concatenate(self.places) if self.places else np.zeros(0, np.uint32)
            starts = np.cumsum(tfs) - tfs
            tfs = tfs[order]
            positions = take_runs(places, starts[order], tfs, np.int64)
        else:
            tfs = tfs[order]
        bounds = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1, [len(keys)])) if keys.size \
            else np.zeros(1, np.int64)
        distinct = keys[bounds[:-1]]
        if terms is not None:
            terms = [terms[int(k)] for k in distinct.tolist()]
        self.keys, self.docs, self.tfs, self.places = [], [], [], []
        return _SortedField(self.kind, self.positions, distinct, terms, bounds, docs, tfs, positions)


class _SortedField:
    """Postings in (term, document) order, with the interface of ``kb.termarrays.FieldArrays``
    that merging uses (``keys`` or ``term``, ``slice``)."""

    def __init__(self, kind, has_positions, keys, terms, starts, docs, tfs, positions):
        self.kind, self.has_positions = kind, has_positions
        self.keys, self._terms, self.starts = keys, terms, starts
        self._docs, self._tfs, self._positions = docs, tfs, positions
        self._position_starts = np.concatenate(([0], np.cumsum(tfs))) if positions is not None else None
        self.position_starts = self._position_starts[starts] if positions is not None else None  # per term

    def __len__(self) -> int:
        return len(self.keys)

    def term_list(self) -> list[bytes]:
        return self._terms

    def slice(self, a: int, b: int):
        p0, p1 = int(self.starts[a]), int(self.starts[b])
        positions = None
        if self._positions is not None:
            positions = self._positions[int(self._position_starts[p0]):int(self._position_starts[p1])]
        return np.diff(self.starts[a:b + 1]), self._docs[p0:p1], self._tfs[p0:p1], positions


def _term_list(field) -> list[bytes]:
    if hasattr(field, "term_list"):
        return field.term_list()
    blob, offsets = field.term_bytes.tobytes(), field.term_offsets.tolist()
    return [blob[a:b] for a, b in zip(offsets[:-1], offsets[1:])]


def _merge_field(out, name: str, kind: str, frequencies: bool, positions: bool, sources: list,
                 threads=None) -> None:
    """Write one field from its sources (``(field, docmap or None)``, in document order), a range
    of terms at a time: each source's postings of those terms decoded, renumbered, put in (term,
    source) order, written; memory stays within a few pieces whatever the size of the sources.
    ``threads`` (an executor): pieces are made on them, a few ahead, and written here in order."""
    writer = out.field(name, kind, frequencies, positions)
    sources = [(field, docmap) for field, docmap in sources if len(field)]
    if not sources:
        return
    if kind == GRAMS:
        union = sources[0][0].keys.astype(np.uint64)
        for field, _ in sources[1:]:
            union = union_sorted(union, field.keys.astype(np.uint64))
        maps = [np.searchsorted(union, field.keys).astype(np.int64) for field, _ in sources]
        terms = None
    else:
        lists = [_term_list(field) for field, _ in sources]
        terms = sorted(set().union(*lists))
        number = {t: i for i, t in enumerate(terms)}
        maps = [np.fromiter((number[t] for t in items), dtype=np.int64, count=len(items)) for items in lists]
        union = None
    # the work per term (postings, and positions), to cut the terms into pieces of similar size
    work = np.zeros(len(terms) if terms is not None else len(union), dtype=np.int64)
    for (field, _), where in zip(sources, maps):
        counts = np.diff(field.starts.astype(np.int64))
        work[where] += counts
        if positions and field.has_positions:
            work[where] += np.diff(field.position_starts.astype(np.int64))
    cumulative = np.cumsum(work)
    chunk = _CHUNK_POSTINGS
    if threads is not None:  # pieces enough for both threads, each small: several are in memory at once
        chunk = min(_PARALLEL_CHUNK_POSTINGS, max(_PARALLEL_MIN_POSTINGS, int(cumulative[-1]) // 8))
    cuts = [0, *np.unique(np.searchsorted(cumulative, np.arange(chunk, int(cumulative[-1]) + 1, chunk),
                                          side="right")).tolist(), len(work)]
    pieces = [(u0, u1) for u0, u1 in zip(cuts[:-1], cuts[1:]) if u0 < u1]
    keep_tfs = frequencies or positions

    def piece(bounds):
        u0, u1 = bounds
        parts = []
        for (field, docmap), where in zip(sources, maps):
            a, b = int(np.searchsorted(where, u0)), int(np.searchsorted(where, u1))
            if a >= b:
                continue
            counts, docs, tfs, places = field.slice(a, b)
            term_of = np.repeat(where[a:b], counts)
            if docmap is not None:
                docs = docmap[docs]
                live = docs >= 0
                if not live.all():
                    if places is not None:
                        places = places[np.repeat(live, tfs)]
                    term_of, docs, tfs = term_of[live], docs[live], tfs[live]
            parts.append((term_of, docs, tfs, places))
        if not parts:
            return None
        term_of = np.concatenate([p[0] for p in parts])
        docs = np.concatenate([p[1] for p in parts]).astype(np.int64)
        tfs = np.concatenate([p[2] for p in parts]).astype(np.int64)
        places = np.concatenate([p[3] for p in parts]) if positions else None
        # sources are in document order, so a stable sort by term is (term, document) order; one
        # source (a worker's own pool, a range only one segment has) is in that order already
        if len(parts) > 1 and term_of.size > 1 and bool((term_of[1:] < term_of[:-1]).any()):
            order = np.argsort(term_of, kind="stable")
            term_of, docs = term_of[order], docs[order]
            if positions:
                starts = np.cumsum(tfs) - tfs
                tfs = tfs[order]
                places = take_runs(places, starts[order], tfs)
            else:
                tfs = tfs[order]
        if not term_of.size:
            return None
        bounds = np.concatenate(([0], np.flatnonzero(term_of[1:] != term_of[:-1]) + 1, [term_of.size]))
        distinct = term_of[bounds[:-1]]
        keys = union[distinct] if terms is None else [terms[t] for t in distinct.tolist()]
        return keys, np.diff(bounds), docs, tfs if keep_tfs else None, places

    for made in _in_order(piece, pieces, threads if len(pieces) > 1 else None):
        if made is not None:
            writer.add(*made)


def _in_order(make, items: list, threads, ahead: int = 3):
    """``make(item)`` for each item, in order: on ``threads`` (an executor), at most ``ahead`` at
    a time (what is made waits in memory to be written), or here when ``threads`` is None."""
    if threads is None:
        yield from map(make, items)
        return
    pending = deque(threads.submit(make, item) for item in items[:ahead])
    for item in items[ahead:]:
        yield pending.popleft().result()
        pending.append(threads.submit(make, item))
    while pending:
        yield pending.popleft().result()


def _grouped_terms(numbers: np.ndarray):
    """A document's term numbers in text order -> (distinct numbers, counts, positions grouped by term)."""
    positions = np.arange(len(numbers), dtype=np.uint64)
    if len(numbers) < 2**24 and (not len(numbers) or int(numbers.max()) < 2**39):
        pairs = np.sort((numbers << np.uint64(24)) | positions)
        numbers, positions = pairs >> np.uint64(24), pairs & np.uint64(2**24 - 1)
    else:
        order = np.argsort(numbers, kind="stable")
        numbers, positions = numbers[order], positions[order]
    bounds = np.concatenate(([0], np.flatnonzero(numbers[1:] != numbers[:-1]) + 1, [len(numbers)]))
    return numbers[bounds[:-1]], np.diff(bounds), positions.astype(np.uint32)


def _term_doc_order(keys: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The order of postings by (term, document)."""
    if not keys.size:
        return np.zeros(0, dtype=np.int64)
    if keys.size < 2 or bool((docs[1:] >= docs[:-1]).all()):
        # postings in document order (as documents are added): a stable sort by term keeps it, and
        # numpy's stable sort merges the per-document runs (each sorted) in half the time
        return np.argsort(keys, kind="stable")
    top_key, top_doc = int(keys.max()), int(docs.max())
    doc_bits = max(1, top_doc.bit_length())
    if top_key.bit_length() + doc_bits <= 63:  # one integer sort key
        return np.argsort((keys.astype(np.int64) << doc_bits) | docs.astype(np.int64))
    return np.lexsort((docs, keys))


def _gather(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indexes of ``counts[i]`` consecutive items from ``starts[i]``, for every i, in order."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total, dtype=np.int64)


_RUN_WIDTHS = {np.dtype(np.uint32): 4, np.dtype(np.int64): 8}


def take_runs(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, dtype=None) -> np.ndarray:
    """``values[starts[i]:starts[i] + counts[i]]`` for every i, concatenated (as ``dtype``, default
    the values'): in C where kb.bitpack_c is built (no index array: a segment's positions are a
    third of its size), else ``values[_gather(starts, counts)]``."""
    dtype = np.dtype(dtype or values.dtype)
    native = bitpack.NATIVE
    if native is not None and values.dtype in _RUN_WIDTHS and dtype in _RUN_WIDTHS \
            and _RUN_WIDTHS[dtype] >= _RUN_WIDTHS[values.dtype]:
        starts = np.ascontiguousarray(starts, dtype=np.int64)
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        out = np.empty(int(counts.sum()), dtype=dtype)
        native.take_runs(np.ascontiguousarray(values), starts, counts, out, _RUN_WIDTHS[values.dtype], _RUN_WIDTHS[dtype])
        return out
    return values[_gather(starts, counts)].astype(dtype, copy=False)



class ArrayPool:
    """The postings (as arrays) and per-document values of the documents a writer was given, and
    the segments it merges, for the new segment's term arrays. ``size``: postings and positions
    held in memory (the ingest writes a segment before it grows too big)."""

    def __init__(self, schema):
        self.schema = schema
        self.fields: dict[str, _FieldPool] = {}
        self.sources: list[tuple] = []  # (TermArrays, docmap) of segments being merged, in document order
        self.lengths: dict[str, list] = defaultdict(list)  # field -> [(docnum, length byte)]
        self.numbers: dict[str, list] = defaultdict(list)  # field -> [(docnum, value)]
        self.size = 0
        self._merged_docs = False

    def _field(self, name: str) -> _FieldPool:
        pool = self.fields.get(name)
        if pool is None:
            if self._merged_docs:
                raise RuntimeError("documents are added before segments are merged in (document order)")
            kind, frequencies, positions = _field_format(self.schema, name)
            pool = self.fields[name] = _FieldPool(kind, frequencies, positions)
        return pool

    def add_grams(self, name: str, docnum: int, keys: np.ndarray, tfs: np.ndarray, positions: np.ndarray | None):
        pool = self._field(name)
        pool.add(keys, np.full(len(keys), docnum, dtype=np.int64), tfs, positions)
        self.size += len(keys) + (len(positions) if positions is not None and pool.positions else 0)

    def add_words(self, name: str, docnum: int, words) -> int:
        """A document's words in order (repeats counted); returns their number."""
        if not words:
            return 0
        pool = self._field(name)
        if pool.positions:  # positions count words
            numbers, tfs, positions = _grouped_terms(pool.numbers(words))
        else:
            numbers, tfs = np.unique(pool.numbers(words), return_counts=True)
            positions = None
        pool.add(numbers, np.full(len(numbers), docnum, dtype=np.int64), tfs.astype(np.uint32), positions)
        self.size += len(numbers) + (len(words) if positions is not None else 0)
        return len(words)

    def add_terms(self, name: str, docnum: int, terms: list[str]) -> None:
        """A keyword field's terms in one document."""
        if not terms:
            return
        pool = self._field(name)
        if pool.positions or len(terms) > _FEW_TERMS:
            self.add_words(name, docnum, terms)
            return
        counts = {terms[0]: 1} if len(terms) == 1 else Counter(terms)
        pool.add_few(counts, docnum)
        self.size += len(counts)

    def add_length(self, name: str, docnum: int, length: int) -> None:
        if length:
            self.lengths[name].append((docnum, length_byte(length)))

    def add_number(self, name: str, docnum: int, value: int) -> None:
        self.numbers[name].append((docnum, value))

    def add_segment(self, arrays, docmap: np.ndarray, lengths: dict, numbers: dict) -> None:
        """A whole segment to merge in (its ``kb.termarrays.TermArrays``), its documents renumbered
        by ``docmap`` (old number -> new one, -1 for a deleted document): read when written."""
        self._merged_docs = True
        self.sources.append((arrays, np.asarray(docmap, dtype=np.int64)))
        kept = docmap >= 0
        for name, values in lengths.items():
            self.lengths[name].extend(zip(docmap[kept].tolist(), values[kept].tolist()))
        for name, values in numbers.items():
            self.numbers[name].extend(zip(docmap[kept].tolist(), values[kept].tolist()))

    def write(self, file, doc_count: int) -> None:
        """The segment's term arrays file (``doc_count`` documents)."""
        out = TermArraysWriter(file, doc_count)
        names = set(self.fields) | {name for arrays, _ in self.sources for name in arrays.fieldnames()}
        # a merge (segments in ``sources``) has the machine to itself: the ingest's workers are done
        threads = ThreadPoolExecutor(MERGE_THREADS, "kb-merge") if self.sources and MERGE_THREADS > 1 else None
        try:
            for name in sorted(names):
                sources = []
                if name in self.fields:
                    sources.append((self.fields.pop(name).sorted(), None))
                sources += [(arrays.field(name), docmap) for arrays, docmap in self.sources if arrays.has_field(name)]
                first = sources[0][0]
                kind, frequencies, positions = _field_format(self.schema, name, first)
                _merge_field(out, name, kind, frequencies, positions, sources, threads)
        finally:
            if threads is not None:
                threads.shutdown()
        for name, pairs in sorted(self.lengths.items()):
            values = np.zeros(doc_count, dtype=np.uint8)
            if pairs:
                docs, lengths = zip(*pairs)
                values[list(docs)] = lengths
            out.doc_array(f"length:{name}", values)
        for name, pairs in sorted(self.numbers.items()):
            values = np.zeros(doc_count, dtype=np.int64)
            if pairs:
                docs, numbers = zip(*pairs)
                values[list(docs)] = numbers
            out.doc_array(f"number:{name}", values)
        out.finish()

    def cleanup(self):
        self.fields.clear()
        self.sources.clear()
        self.lengths.clear()
        self.numbers.clear()
        self.size = 0
        self._merged_docs = False


def _field_format(schema, name: str, existing=None) -> tuple[str, bool, bool]:
    """(kind, frequencies, positions) of a field: from the schema, else as a merged segment kept it."""
    if name in schema:
        field = schema[name]
        return getattr(field, "kind", "terms"), getattr(field, "frequencies", False), getattr(field, "positions", False)
    return existing.kind, getattr(existing, "frequencies", True), existing.has_positions


# --- the keyword fields Whoosh indexes, in its W3 format -------------------------------------------------


class KBCodec(W3Codec):
    """Whoosh's W3 codec without length statistics (segments pickle their codec: it lives here,
    where indexes made before kb.whoosh_adapter found it). ``kb.whoosh_adapter`` gives it a
    thread-safe stored-fields reader."""

    length_stats = False

    def __init__(self, blocklimit=BLOCK, compression=0):
        # inlinelimit stays 1: Whoosh's own inlining path has a typo (set_inline); the writer
        # inlines short lists itself (inlined_entry)
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=1)

    def per_document_reader(self, storage, segment):
        return StoredReader(storage, segment)

    def terms_reader(self, storage, segment):
        return ArrayTermsReader.open(super().terms_reader(storage, segment), storage, segment)


class GroupedPool:
    """Postings grouped by field, then term, each term's as one flat list ``[docnum, value, …]``
    in arrival order (two appends per posting).

    A posting's weight is not kept: for our formats it is its frequency, the value's packed count
    (``Frequency``), or 1 for a value-less ``Existence``."""

    def __init__(self):
        self.fields: dict[str, defaultdict] = {}
        self.size = 0  # postings held

    def terms(self, fieldname: str) -> defaultdict:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = defaultdict(list)
        return terms

    @property
    def fieldnames(self) -> set[str]:
        return set(self.fields)

    def add(self, item):
        """One posting ``(fieldname, tbytes, docnum, weight, value)``, as Whoosh's merges send them."""
        fieldname, tbytes, docnum, _, value = item
        postings = self.terms(fieldname)[tbytes]
        postings.append(docnum)
        postings.append(value or b"")
        self.size += 1

    def add_many(self, fieldname: str, docnum: int, items):
        """All postings of one field of one document: ``(tbytes, freq, weight, value)``."""
        terms = self.terms(fieldname)
        for tbytes, _, _, value in items:
            postings = terms[tbytes]
            postings.append(docnum)
            postings.append(value)
        self.size += len(items)

    def iter_terms(self):
        """((field, term), ids, weights, values) in (field, term) order, ids ascending.

        Postings arrive in document order: documents are numbered as they are added, and a merge
        adds each old segment's documents after everything before it, in their order."""
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for tbytes in sorted(terms):
                postings = terms[tbytes]
                values = postings[1::2]
                if values[0]:
                    weights = array("f", [int.from_bytes(v[:4], "big") for v in values])
                else:
                    weights = array("f", [1.0]) * len(values)
                yield (fieldname, tbytes), array("I", postings[0::2]), weights, values

    def iter_postings(self):  # the stock pool's interface, for Whoosh code that wants it
        for (fieldname, tbytes), ids, weights, values in self.iter_terms():
            for docnum, weight, value in zip(ids, weights, values):
                yield fieldname, tbytes, docnum, weight, value

    def cleanup(self):
        self.fields.clear()
        self.size = 0


# The bytes Whoosh's W3 codec writes for a term (W3PostingsWriter, W3TermInfo), produced directly:
# going through its writer objects cost a third of ingest (several calls and objects per term).
# tests/test_writer.py holds the two byte for byte equal.
_TERMINFO = struct.Struct("!BfIBBfII")
_NO_LENGTH = length_to_byte(0)  # length statistics are off (kb.whoosh_adapter.KBCodec.length_stats)


def inlined_entry(ids, weights, values) -> bytes:
    """A short posting list stored in the term's table entry (what Whoosh's inlining means to do;
    its own inlining path has a typo)."""
    weights = tuple(weights)
    head = _TERMINFO.pack(1, sum(weights), len(ids), 0, _NO_LENGTH, max(weights), ids[0], ids[-1])
    return head + dumps((tuple(ids), weights, tuple(values)), 2)


def blocks_entry(postfile, ids, weights, values, value_size) -> bytes:
    """Write a posting list as W3 blocks of BLOCK postings; returns its term table entry."""
    start = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    n = len(ids)
    total_weight = 0.0
    max_weight = 0
    for first in range(0, n, BLOCK):
        last = min(first + BLOCK, n)
        block_ids = ids[first:last]
        block_weights = weights[first:last]
        size = last - first
        if block_weights.count(1.0) == size:
            mini_weights = None
        elif block_weights.count(block_weights[0]) == size:
            mini_weights = block_weights[0]
        else:
            mini_weights = tuple(block_weights)
        if value_size is None or value_size < 0:
            mini_values = tuple(values[first:last])
        elif value_size == 0:
            mini_values = None
        else:
            mini_values = b"".join(values[first:last])
        deltas = tuple(map(sub, block_ids, chain((0,), block_ids)))
        data = dumps((deltas, mini_weights, mini_values), 2)
        block_max = max(block_weights)
        info = dumps((size, block_ids[-1], block_max, 0, 0, _NO_LENGTH), 2)
        length = len(info) + len(data)
        postfile.write_int(-length if last == n else length)
        postfile.write(info)
        postfile.write(data)
        total_weight += sum(block_weights)
        max_weight = max(max_weight, block_max)
    extent = pack_long(start) + pack_int(postfile.tell() - start)
    return _TERMINFO.pack(0, total_weight, n, 0, _NO_LENGTH, max_weight, ids[0], ids[-1]) + extent
