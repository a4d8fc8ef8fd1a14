"""Every contact with Whoosh's private structures, in one module behind a small interface.

Why this module is long: it is the whole of our dependence on Whoosh internals (the W3 codec's
term table and posting blocks, the segment writer's hooks), kept together so that a Whoosh
upgrade is checked in one file. Nothing else in ``kb`` touches a private Whoosh name.

Reading:
* ``segments_of(searcher)``: the generation's segments as ``SegmentView``s (reader, docnum
  offset, deleted documents, its term arrays, its id);
* ``segment_postings`` / ``segment_values``: a term's postings, or only some position values,
  decoded straight from the W3 blocks (one unpickle per block, where Whoosh's matchers step
  one posting at a time);
* ``positions_in_arrays`` / ``packed_positions``: how a field keeps its positions.

Writing:
* ``FastWriter``: a ``SegmentWriter`` for pre-analysed documents (``kb.schema.Preanalyzed``) that
  keeps postings grouped per term (``kb.writer.GroupedPool``) and writes each term's W3 bytes
  directly (``kb.writer.blocks_entry``) plus the segment's term arrays (``kb.termarrays``);
* ``finalize_segment(writer)``: a worker's finished segment, for the parent to commit;
* ``FastWriter.commit_segments``: segments written elsewhere joined in one atomic commit.

The pre-term-arrays reading path (segments without a ``.kbp`` file, indexes made before
2026-11-27) lives in ``segment_postings``/``segment_values`` and the fallbacks that call them.
It goes when ``kb.schema.SCHEMA_VERSION`` next changes: a version change means re-ingesting
anyway, and an index of an older version is then refused with that message.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

from kb.schema import ArrayPositions, CountsHere, Preanalyzed
from kb.termarrays import EXTENSION as TERM_ARRAYS, TermArrays, TermArraysWriter
from kb.writer import BLOCK, INLINE_MAX, GroupedPool, KBCodec, blocks_entry, inlined_entry

_BLOCK_LENGTH = struct.Struct("!i")
_MAGIC_SIZE = 4


# --- reading --------------------------------------------------------------------------------------


@dataclass
class SegmentView:
    """One segment of a generation, as search reads it."""

    reader: object  # Whoosh's SegmentReader
    offset: int  # its first global docnum
    doc_count_all: int  # docnums it spans (deleted ones included)
    deleted: set | None  # its deleted docnums (local), or None
    deleted_mask: np.ndarray | None  # the same as a mask over its local docnums
    arrays: TermArrays | None  # its term arrays (None: an older segment, read from Whoosh's blocks)

    @property
    def segment_id(self) -> str:
        return segment_id(self.reader)

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self.reader.schema


def segments_of(searcher) -> list[SegmentView]:
    """The generation's segments (an index without segments has none)."""
    views = []
    for reader, offset in searcher.reader().leaf_readers():
        if not hasattr(reader, "_terms"):  # an EmptyReader
            continue
        deleted = reader.deleted_docs_set if reader.has_deletions() else None
        mask = None
        if deleted:
            mask = np.zeros(reader.doc_count_all(), dtype=bool)
            mask[list(deleted)] = True
        views.append(SegmentView(reader, offset, reader.doc_count_all(), deleted, mask, term_arrays(reader)))
    return views


def segment_id(reader) -> str:
    return reader._segment.segment_id()


def segment_file(reader, extension: str) -> Path | None:
    """The path of a file named like the reader's segment (``<segment><extension>``)."""
    folder = getattr(getattr(reader, "_storage", None), "folder", None)
    segment = getattr(reader, "_segment", None)
    if folder is None or segment is None:
        return None
    return Path(folder) / segment.make_filename(extension)


def term_arrays(reader) -> TermArrays | None:
    """The term arrays of a reader's segment, or None (an older segment, or an unreadable file:
    what Whoosh's blocks hold is then read from them)."""
    path = segment_file(reader, TERM_ARRAYS)
    if path is None or not path.exists():
        return None
    return TermArrays.open(path)


def positions_in_arrays(schema, fieldname: str) -> bool:
    """Does the field keep its positions in the term arrays (``CountsHere``), not in Whoosh?"""
    return isinstance(schema[fieldname].format, CountsHere)


def packed_positions(schema, fieldname: str) -> bool:
    """Are the field's position values ``ArrayPositions`` ones (else Whoosh's pickled deltas)?"""
    return isinstance(schema[fieldname].format, (ArrayPositions, CountsHere))


def _term_entry(reader, fieldname: str, tbytes: bytes):
    """A term's W3 entry in one segment: ``(inlined postings, None)`` for a short list kept in
    the term table, ``(None, block bytes)`` otherwise; None if the segment lacks the term."""
    terms = reader._terms
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


def segment_postings(reader, fieldname: str, tbytes: bytes, want_values: bool):
    """``(ids, weights, values)`` of one segment's posting list, read straight from the W3 blocks
    (the format ``kb.writer`` and Whoosh's own writer produce); None if the segment lacks the term."""
    entry = _term_entry(reader, fieldname, tbytes)
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


def segment_values(reader, fieldname: str, tbytes: bytes, rows: list[int]) -> list:
    """The position values of the given postings (``rows``: ascending numbers within the
    segment's posting list), unpickling only the blocks that hold them."""
    inlined, raw = _term_entry(reader, fieldname, tbytes)
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


# --- writing --------------------------------------------------------------------------------------


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


class FastWriter(SegmentWriter):
    """A SegmentWriter whose pool is a GroupedPool and whose flush writes blocks in bulk."""

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("codec", KBCodec())
        # Plain files per segment, not one compound file: Whoosh reads a compound segment through a
        # BytesIO copy of its terms and postings (the whole index in RAM); plain files are read
        # on demand.
        kwargs.setdefault("compound", False)
        super().__init__(ix, **kwargs)
        for structfile in (self.fieldwriter._postfile, self.fieldwriter._tindex.dbfile):
            structfile.file = _CountingFile(structfile.file)
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
        pool = self.pool
        arrays = term_arrays(reader)
        for fieldname in sorted(reader.indexed_field_names()):
            if fieldname not in self.schema:
                continue
            terms = pool.terms(fieldname)
            positions_elsewhere = positions_in_arrays(self.schema, fieldname)
            if positions_elsewhere and (arrays is None or not arrays.has_positions(fieldname)):
                raise ValueError(f"segment {segment_id(reader)} lacks the positions of {fieldname!r} "
                                 f"(its {TERM_ARRAYS} file is missing or damaged)")
            for tbytes in reader.lexicon(fieldname):
                ids, weights, values = segment_postings(reader, fieldname, tbytes, True)
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
                positions_elsewhere = positions_in_arrays(schema, fieldname)
            if positions_elsewhere:  # positions to the arrays, each value's count to Whoosh
                term_arrays.add(fieldname, tbytes, ids, weights, b"".join(values))
                values = [v[:4] for v in values]
            else:
                term_arrays.add(fieldname, tbytes, ids, weights)
            if len(ids) <= INLINE_MAX:
                entry = inlined_entry(ids, weights, values if value_size != 0 else ())
            else:
                entry = blocks_entry(postfile, ids, weights, values, value_size)
            add_entry(prefix + tbytes, entry)
        if current is not None:
            fw.finish_field()
        fw.close()
        term_arrays.finish()
        arrays_file.close()


def finalize_segment(writer: FastWriter):
    """Write a worker writer's segment files and return the segment (None if it holds no
    documents); the writer is finished either way."""
    if not writer._added:
        writer.cancel()
        return None
    segment = writer._finalize_segment()
    writer._finish()
    return segment


__all__ = ["SegmentView", "segments_of", "segment_id", "segment_file", "term_arrays", "positions_in_arrays",
           "packed_positions", "segment_postings", "segment_values", "FastWriter", "KBCodec", "finalize_segment",
           "BLOCK", "INLINE_MAX", "Preanalyzed", "GroupedPool"]
