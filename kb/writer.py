"""A Whoosh segment writer tuned for documents analysed ahead of time.

Whoosh's stock writer spends most of an ingest on per-posting Python work: one tuple per
posting into a pool that is sorted and spilled to disk in pickled runs, then one call per posting
into the codec, with a column lookup of the document's field length each time. Our documents
arrive with their postings already grouped per term (``kb.index.Preanalyzed``), so this writer

* keeps postings grouped per term in flat lists (no global sort, no spilled runs),
* writes each term's blocks and table entry directly, as the bytes Whoosh's W3 writer objects
  would produce (``tests/test_writer.py`` holds them equal), inlining lists of 1-2 postings,
* skips the per-block length statistics (``length_stats = False``; they only serve Whoosh's
  block-skipping scorers, which ``kb.search`` does not use),
* also writes each term's documents and frequencies as flat arrays (``kb.termarrays``), which
  search reads without unpickling.

The files it writes are ordinary Whoosh segments (plus the arrays file): any Whoosh reader opens them.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections import defaultdict
from itertools import chain
from operator import sub
from pickle import dumps

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from kb.termarrays import EXTENSION as TERM_ARRAYS, TermArraysWriter

BLOCK = 128
INLINE_MAX = 2  # posting lists this short live in the term table, not in a block of their own


class KBCodec(W3Codec):
    """Whoosh's W3 codec without length statistics, inlining short posting lists."""

    length_stats = False

    def __init__(self, blocklimit=BLOCK, compression=0):
        # inlinelimit stays 1: Whoosh's own inlining path has a typo (set_inline); we inline in
        # FastWriter._flush_segment instead.
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=1)

    def field_writer(self, storage, segment):
        writer = super().field_writer(storage, segment)
        for structfile in (writer._postfile, writer._tindex.dbfile):
            structfile.file = _CountingFile(structfile.file)
        return writer


class _CountingFile:
    """A file being written that knows its position itself. The codec asks for it at least twice
    per term, and BufferedWriter.tell() is a system call each time (8% of ingest)."""

    __slots__ = ("_file", "_position")

    def __init__(self, file):
        self._file = file
        self._position = file.tell()

    def write(self, data) -> int:
        written = self._file.write(data)
        self._position += written
        return written

    def tell(self) -> int:
        return self._position

    def seek(self, *args):
        result = self._file.seek(*args)
        self._position = self._file.tell()
        return result

    def __getattr__(self, name):
        return getattr(self._file, name)


class GroupedPool:
    """Postings grouped by field, then term, each term's as one flat list ``[docnum, value, …]``
    in arrival order (two appends per posting; ~100 bytes a posting with its value).

    A posting's weight is not kept: for our formats it is its frequency, the value's packed count
    (``Positions``, ``ArrayPositions``, ``Frequency``), or 1 for a value-less ``Existence``."""

    def __init__(self):
        self.fields: dict[str, defaultdict] = {}
        self.size = 0  # postings held: the ingest writes a segment before this grows too big

    def _terms(self, fieldname: str) -> defaultdict:
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
        postings = self._terms(fieldname)[tbytes]
        postings.append(docnum)
        postings.append(value or b"")
        self.size += 1

    def add_many(self, fieldname: str, docnum: int, items):
        """All postings of one field of one document: ``(tbytes, freq, weight, value)``."""
        terms = self._terms(fieldname)
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


class FastWriter(SegmentWriter):
    """A SegmentWriter whose pool is a GroupedPool and whose flush writes blocks in bulk."""

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("codec", KBCodec())
        # Plain files per segment, not one compound file: Whoosh reads a compound segment through a
        # BytesIO copy of its terms and postings (the whole index in RAM); plain files are read
        # on demand.
        kwargs.setdefault("compound", False)
        super().__init__(ix, **kwargs)
        self.pool = GroupedPool()

    def _finish(self):
        """Whoosh's _finish, except the shared ``kb.tmp`` folder is removed only when empty:
        writers in other processes may be using it (Whoosh assumes one writer at a time)."""
        if self._searcher is not None:
            self._searcher._orig_close()
            self._searcher = None
        try:
            os.rmdir(self._tempstorage.folder)
        except OSError:
            pass
        if self.writelock:
            self.writelock.release()
        self.is_closed = True

    def commit_segments(self, segments: list, merge: bool = True) -> None:
        """Commit, adding segments written elsewhere (by ``kb.segments`` workers) in the same
        atomic table-of-contents write as this writer's own changes (deletions, merges)."""
        self._check_state()
        final = self._merge_segments(None, None, merge)
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        final.extend(segments)
        self._commit_toc(final)
        self._finish()

    def add_document(self, **fields):
        """Whoosh's add_document, minus per-posting work for ``Preanalyzed`` values.

        Not supported (unused here): document/field boosts, term vectors, separate spelling fields.
        """
        from kb.index import Preanalyzed

        self._check_state()
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    if isinstance(value, Preanalyzed):
                        pool.add_many(name, docnum, value.items)
                        if field.scorable:
                            length = sum(item[1] for item in value.items)
                    else:
                        for tbytes, freq, weight, vbytes in field.index(value):
                            length += freq if field.scorable else 0
                            pool.add((name, tbytes, docnum, weight, vbytes))
                stored = fields.get(f"_stored_{name}", value)
                perdoc.add_field(name, field, stored if field.stored else None, length)
                if field.column_type and stored is not None:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(stored))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def add_postings_to_pool(self, reader, startdoc, docmap):
        """Merging a segment: its postings a block at a time (Whoosh reads them one by one)."""
        from kb.postings import segment_postings
        from kb.termarrays import TermArrays

        pool = self.pool
        arrays = TermArrays.of(reader)
        for fieldname in sorted(reader.indexed_field_names()):
            if fieldname not in self.schema:
                continue
            terms = pool._terms(fieldname)
            positions_elsewhere = getattr(self.schema[fieldname].format, "positions_in_arrays", False)
            if positions_elsewhere and (arrays is None or not arrays.has_positions(fieldname)):
                raise ValueError(f"segment {reader._segment.segment_id()} lacks the positions of {fieldname!r} "
                                 f"(its {TERM_ARRAYS} file is missing or damaged)")
            for tbytes in reader.lexicon(fieldname):
                ids, weights, values = segment_postings(reader._terms, fieldname, tbytes, True)
                if positions_elsewhere:
                    values = arrays.values(fieldname, tbytes)
                if not values:
                    values = [b""] * len(ids)
                if docmap is None:
                    kept = [(startdoc + d, v) for d, v in zip(ids, values)]
                else:  # documents deleted in the old segment are not in docmap: they go
                    kept = [(docmap[d], v) for d, v in zip(ids, values) if d in docmap]
                if kept:
                    postings = terms[tbytes]
                    for d, v in kept:
                        postings.append(d)
                        postings.append(v)
                    pool.size += len(kept)

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        schema = self.schema
        postfile = fw._postfile
        add_entry = fw._tindex.add
        arrays_file = self.newsegment.create_file(self.storage, TERM_ARRAYS)
        term_arrays = TermArraysWriter(arrays_file)
        current = None
        for (fieldname, tbytes), ids, weights, values in self.pool.iter_terms():
            if fieldname != current:
                if current is not None:
                    fw.finish_field()
                field = schema[fieldname]
                fw.start_field(fieldname, field)
                current = fieldname
                prefix = pack_ushort(fw._fieldid)
                value_size = field.format.fixed_value_size()
                positions_elsewhere = getattr(field.format, "positions_in_arrays", False)
            if positions_elsewhere:  # positions to the arrays, each value's count to Whoosh
                term_arrays.add(fieldname, tbytes, ids, weights, b"".join(values))
                values = [v[:4] for v in values]
            else:
                term_arrays.add(fieldname, tbytes, ids, weights)
            if len(ids) <= INLINE_MAX:
                entry = _inlined_entry(ids, weights, values if value_size != 0 else ())
            else:
                entry = _blocks_entry(postfile, ids, weights, values, value_size)
            add_entry(prefix + tbytes, entry)
        if current is not None:
            fw.finish_field()
        fw.close()
        term_arrays.finish()
        arrays_file.close()


# The bytes Whoosh's W3 codec writes for a term (W3PostingsWriter, W3TermInfo), produced directly:
# going through its writer objects cost a third of ingest (several calls and objects per term).
# tests/test_writer.py holds the two byte for byte equal.
_TERMINFO = struct.Struct("!BfIBBfII")
_NO_LENGTH = length_to_byte(0)  # length statistics are off (KBCodec.length_stats)


def _inlined_entry(ids, weights, values) -> bytes:
    """A short posting list stored in the term's table entry (what Whoosh's inlining means to do;
    its own inlining path has a typo)."""
    weights = tuple(weights)
    head = _TERMINFO.pack(1, sum(weights), len(ids), 0, _NO_LENGTH, max(weights), ids[0], ids[-1])
    return head + dumps((tuple(ids), weights, tuple(values)), 2)


def _blocks_entry(postfile, ids, weights, values, value_size) -> bytes:
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
