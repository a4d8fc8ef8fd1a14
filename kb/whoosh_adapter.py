"""Every contact with Whoosh's private structures, in one module behind a small interface.

Why this module is long: it is the whole of our dependence on Whoosh internals (the segment
writer's hooks, the W3 codec's term table and posting blocks for the keyword fields Whoosh still
indexes, its column writers for merges), kept together so that a Whoosh upgrade is checked in one
file. Nothing else in ``kb`` touches a private Whoosh name (``kb.codec`` reads the column layout
and answers Whoosh's term questions from the term arrays, ``kb.writer`` produces W3 bytes).

Reading:
* ``segments_of(searcher)``: the generation's segments as ``SegmentView``s (reader, docnum
  offset, deleted documents, its term arrays, its id); an index of an older format is refused
  here (``kb.schema.IndexOutdated``);
* ``stored_fields`` / ``stored_text``: one document's stored fields and its text, thread-safe.

Writing:
* ``FastWriter``: a ``SegmentWriter`` for pre-analysed documents whose analysed fields go to the
  segment's term arrays (``kb.writer.ArrayPool``) and whose keyword fields go to Whoosh's postings
  (``kb.writer.GroupedPool``); merges (``add_reader``) move stored fields as the compressed bytes
  they are and postings as arrays; ``merge_policy`` chooses what to merge;
* ``finalize_segment(writer)``: a worker's finished segment, for the parent to commit;
* ``FastWriter.commit_segments``: segments written elsewhere joined in one atomic commit.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np
from whoosh import columns, fields
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.reading import SegmentReader
from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

from kb import analysis, gramarrays
from kb.errors import IndexDamaged
from kb.schema import ArrayField, Grams, IndexOutdated, Words, is_current, outdated_message
from kb.codec import TEXT_COLUMN, TEXT_COLUMN_NAME
from kb.termarrays import EXTENSION as TERM_ARRAYS, TermArrays
from kb.writer import BLOCK, INLINE_MAX, ArrayPool, GroupedPool, KBCodec, blocks_entry, inlined_entry

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
    arrays: TermArrays  # its term arrays

    @property
    def segment_id(self) -> str:
        return segment_id(self.reader)

    def has_field(self, fieldname: str) -> bool:
        return self.arrays.has_field(fieldname)

    def live_mask(self) -> np.ndarray:
        return ~self.deleted_mask if self.deleted_mask is not None else np.ones(self.doc_count_all, dtype=bool)


def segments_of(searcher) -> list[SegmentView]:
    """The generation's segments (an index without segments has none)."""
    if not is_current(searcher.schema) and searcher.doc_count_all():
        raise IndexOutdated(outdated_message(_folder(searcher)))
    views = []
    for reader, offset in searcher.reader().leaf_readers():
        if not hasattr(reader, "_terms"):  # an EmptyReader
            continue
        deleted = reader.deleted_docs_set if reader.has_deletions() else None
        mask = None
        if deleted:
            mask = np.zeros(reader.doc_count_all(), dtype=bool)
            mask[list(deleted)] = True
        arrays = term_arrays(reader)
        if arrays is None and not searcher.up_to_date():
            # a commit since this generation was opened merged the segment away and deleted its
            # files: not damage, a stale snapshot (the caller retries on the newest generation)
            raise FileNotFoundError(f"segment {segment_id(reader)} was merged away by a newer commit")
        if arrays is None:
            raise IndexDamaged(f"segment {segment_id(reader)} of the index in {_folder(searcher)} has lost its "
                               f"term arrays (its {TERM_ARRAYS} file is missing or damaged); re-ingest to rebuild it")
        views.append(SegmentView(reader, offset, reader.doc_count_all(), deleted, mask, arrays))
    return views


def _folder(searcher) -> str:
    return str(getattr(getattr(searcher.reader(), "_storage", None), "folder", "") or "this folder")


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
    """The term arrays of a reader's segment, or None (missing or unreadable)."""
    path = segment_file(reader, TERM_ARRAYS)
    if path is None or not path.exists():
        return None
    return TermArrays.open(path)


def stored_fields(reader, docnum: int) -> dict:
    """A document's stored fields but the text (``docnum`` local to the segment)."""
    return reader._perdoc.stored_fields(docnum)


def stored_pickle(reader, docnum: int) -> bytes:
    """A document's stored fields but the text, as their decompressed pickle (``stored_fields`` is
    ``pickle.loads`` of it)."""
    perdoc = reader._perdoc
    if hasattr(perdoc, "stored_pickle"):
        return perdoc.stored_pickle(docnum)
    import pickle

    return pickle.dumps(perdoc.stored_fields(docnum))


def stored_text(reader, docnum: int) -> str:
    perdoc = reader._perdoc
    return perdoc.stored_text(docnum) if hasattr(perdoc, "stored_text") else ""


def _w3_terms(reader):
    return getattr(reader._terms, "_w3", reader._terms)  # W3's own reader under kb.codec.ArrayTermsReader


def _entry_of(terms, info):
    """A term's W3 entry: ``(inlined postings, None)`` for a short list kept in the term table,
    ``(None, block bytes)`` otherwise."""
    if info.is_inlined():
        return info.inlined_postings(), None
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length unpacked as a 1-tuple
        length = length[0]
    return None, terms._postfile.get(offset, length)


def _term_entry(reader, fieldname: str, tbytes: bytes):
    """A term's W3 entry in one segment (``_entry_of``); None if the segment lacks the term."""
    terms = _w3_terms(reader)
    try:
        info = W3TermInfo.from_bytes(terms._tindex[terms._keycoder(fieldname, tbytes)])
    except KeyError:
        return None
    return _entry_of(terms, info)


def segment_postings(reader, fieldname: str, tbytes: bytes, want_values: bool):
    """``(ids, weights, values)`` of one segment's Whoosh posting list (a keyword field), read
    straight from the W3 blocks; None if the segment lacks the term."""
    entry = _term_entry(reader, fieldname, tbytes)
    return None if entry is None else _decoded(entry, want_values)


def field_postings(reader, fieldname: str, want_values: bool):
    """``(term bytes, ids, weights, values)`` of every term of one keyword field of a segment, in
    term order: one pass along the term table (a merge reads every term; looking each up by its
    hash cost a third of merging the laws)."""
    terms = _w3_terms(reader)
    if fieldname not in terms._fieldmap:
        return
    for (name, tbytes), info in terms.items_from(fieldname, b""):
        if name != fieldname:
            return
        yield (tbytes, *_decoded(_entry_of(terms, info), want_values))


def _decoded(entry, want_values: bool):
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
            if isinstance(block_values, bytes):  # fixed-size values
                width = len(block_values) // size
                values.extend(block_values[i:i + width] for i in range(0, len(block_values), width))
            else:
                values.extend(block_values if block_values is not None else [None] * size)
        if block_length < 0:  # the last block
            return ids, weights, values


# --- writing --------------------------------------------------------------------------------------------


class _CountingFile:
    """A file that counts its own write position: Whoosh asks for ``tell()`` twice per term, and
    BufferedWriter.tell() is a system call each time."""

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


# Merge policy: segments are grouped in size tiers (a factor MERGE_FACTOR apart, by the size of their
# term arrays). A merge takes the segments far smaller than the largest (tails of ingest runs,
# uploads) and the smallest tier that holds MERGE_FACTOR segments, up to MERGE_MAX bytes in all
# (a merge maps its sources and holds a range of terms at a time); segments of MERGE_MAX or more
# are left alone. The segments one ingest batch wrote (one or more per worker process) are merged
# together at its commit: each segment costs every term lookup a search does (searches on the laws
# took 1.5x as long on the four segments two workers wrote as on one), and a batch's segments are
# of a size. After a commit, merges go on one at a time while there is something to merge.
MERGE_FACTOR = 4
MERGE_MAX = 400 * 2**20
_TAIL = 1 / 16
_MERGES_AFTER_COMMIT = 16


def _segment_bytes(storage, segment) -> int:
    try:
        return storage.file_length(segment.make_filename(TERM_ARRAYS))
    except OSError:
        return 0


def merge_plan(storage, segments, together=()) -> list:
    """The segments the next merge takes (none, or at least two); ``together``: segments of one
    batch, merged with each other (as far as MERGE_MAX allows)."""
    sizes = {id(s): _segment_bytes(storage, s) for s in segments}
    candidates = sorted((s for s in segments if sizes[id(s)] < MERGE_MAX), key=lambda s: sizes[id(s)])
    if len(candidates) < 2:
        return []
    largest = max(sizes.values())
    batch = {id(s) for s in together} if len(together) > 1 else set()
    chosen = [s for s in candidates if sizes[id(s)] < largest * _TAIL or id(s) in batch]
    tiers: dict[int, list] = {}
    for s in candidates:
        if sizes[id(s)] >= largest * _TAIL:
            tiers.setdefault(int(np.log(max(sizes[id(s)], 1)) / np.log(MERGE_FACTOR)), []).append(s)
    for tier in sorted(tiers):
        if len(tiers[tier]) >= MERGE_FACTOR:
            chosen += [s for s in tiers[tier] if id(s) not in batch]  # (tails are in no tier)
            break
    kept, total = [], 0
    for s in chosen:  # never more than MERGE_MAX at once
        if total + sizes[id(s)] <= MERGE_MAX or not kept:
            kept.append(s)
            total += sizes[id(s)]
    return kept if len(kept) >= 2 else []


def merge_policy(writer, segments, together=()):
    """Whoosh's merge-policy interface: merge some of ``segments`` into ``writer``; returns the rest."""
    chosen = merge_plan(writer.storage, segments, together)
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return [s for s in segments if all(s is not c for c in chosen)]


class FastWriter(SegmentWriter):
    """A SegmentWriter whose analysed fields go to term arrays and whose merges move arrays."""

    def __init__(self, ix, **kwargs):
        if not is_current(ix.schema) and ix.doc_count_all():
            raise IndexOutdated(outdated_message(getattr(ix.storage, "folder", "this folder")))
        kwargs.setdefault("codec", KBCodec())
        # Plain files per segment, not one compound file: Whoosh reads a compound segment through a
        # BytesIO copy of its terms and postings (the whole index in RAM); plain files are read
        # on demand.
        kwargs.setdefault("compound", False)
        super().__init__(ix, **kwargs)
        self._ix = ix
        for structfile in (self.fieldwriter._postfile, self.fieldwriter._tindex.dbfile):
            structfile.file = _CountingFile(structfile.file)
        self.pool = GroupedPool()
        self.arrays = ArrayPool(self.schema)

    @property
    def items(self) -> int:
        """Postings and positions held in memory (the ingest writes a segment before too many)."""
        return self.arrays.size + self.pool.size

    def cancel(self):
        """Whoosh's cancel, and this writer's own segment files go with it: no table of contents
        names them (Whoosh leaves them until a later commit; after every ingest, the check for
        another merge left three)."""
        own = self.newsegment.segment_id() + "."
        storage = self.storage
        super().cancel()
        for name in storage.list():
            if name.startswith(own):
                with contextlib.suppress(OSError):
                    storage.delete_file(name)

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

    def _close_segment(self):
        super()._close_segment()
        self.arrays.cleanup()

    def commit(self, mergetype=None, optimize=None, merge=None):
        super().commit(mergetype=mergetype, optimize=optimize, merge=merge)
        if not mergetype and not optimize and (merge if merge is not None else self.merge):
            merge_more(self._ix)

    def _commit_merged(self) -> None:
        """Commit one merge of the policy's choice (nothing else)."""
        self._check_state()
        final = merge_policy(self, list(self.segments))
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(final)
        self._finish()

    def _merge_segments(self, mergetype, optimize, merge):
        """Whoosh's merge step with our policies (``merge_policy``; all of them for ``optimize``)."""
        if mergetype:
            return mergetype(self, self.segments)
        if optimize if optimize is not None else self.optimize:
            return _merge_all(self, self.segments)
        if not (merge if merge is not None else self.merge):
            return list(self.segments)
        return merge_policy(self, self.segments)

    def commit_segments(self, segments: list, merge: bool = True) -> None:
        """Commit, adding segments written elsewhere (by ``kb.segments`` workers) in the same
        atomic table-of-contents write as this writer's own changes (deletions, merges); with
        ``merge``, the new segments take part in the merge policy too."""
        self._check_state()
        if merge:
            kept = merge_policy(self, list(self.segments) + list(segments), together=segments)
            new = {id(s) for s in segments}
            final, segments = [s for s in kept if id(s) not in new], [s for s in kept if id(s) in new]
        else:
            final = list(self.segments)
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        final.extend(segments)
        self._commit_toc(final)
        self._finish()
        if merge:
            merge_more(self._ix)

    def add_document(self, **fields_):
        """Whoosh's add_document for our fields: analysed ones to the term arrays, keyword ones to
        Whoosh's postings (and the term arrays), the text to a column of its own.

        Not supported (unused here): document/field boosts, term vectors, separate spelling fields.
        """
        self._check_state()
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool, arrays = self.pool, self.arrays
        names = sorted(name for name in fields_ if not name.startswith("_"))
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields_[name]
                if value is None:
                    continue
                field = schema[name]
                stored = fields_.get(f"_stored_{name}", value)
                if isinstance(field, ArrayField):
                    length = _add_analysed(arrays, name, field, docnum, value)
                    if field.scored:
                        arrays.add_length(name, docnum, length)
                    if field.stored:
                        perdoc.add_field(name, field, stored, 0)
                    continue
                if name == "text":
                    perdoc.add_column_value(TEXT_COLUMN_NAME, TEXT_COLUMN, str(value).encode("utf-8"))
                    continue
                if isinstance(field, fields.NUMERIC):  # a number per document: the term arrays' column
                    arrays.add_number(name, docnum, int(value))
                elif field.indexed:
                    items = list(field.index(value))
                    pool.add_many(name, docnum, items)
                    arrays.add_terms(name, docnum, [item[0].decode("utf-8") for item in items])
                perdoc.add_field(name, field, stored if field.stored else None, 0)
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader):
        """Merging a segment: stored fields and text as the compressed bytes they are, Whoosh's
        keyword postings a block at a time, the term arrays as arrays."""
        self._check_state()
        arrays = term_arrays(reader)
        if arrays is None:
            raise IndexDamaged(f"segment {segment_id(reader)} lacks its term arrays (its {TERM_ARRAYS} file "
                               "is missing or damaged); re-ingest to rebuild the index")
        count = reader.doc_count_all()
        deleted = reader.deleted_docs_set if reader.has_deletions() else set()
        live = np.array([d for d in range(count) if d not in deleted], dtype=np.int64)
        docmap = np.full(count, -1, dtype=np.int64)
        docmap[live] = np.arange(self.docnum, self.docnum + len(live), dtype=np.int64)
        perdoc = self.perdocwriter
        source = reader._perdoc
        for name, column in (("_stored", None), (TEXT_COLUMN_NAME, TEXT_COLUMN)):
            if column is not None and not perdoc._has_column(name):
                perdoc._create_column(name, column)
        stored_column = _raw_writer(perdoc._get_column("_stored"))
        text_column = _raw_writer(perdoc._get_column(TEXT_COLUMN_NAME))
        for old, new in zip(live.tolist(), docmap[live].tolist()):
            perdoc.start_doc(new)
            raw_stored, raw_text = source.stored_raw(old)
            if raw_stored:
                columns.VarBytesColumn.Writer.add(stored_column, new, raw_stored)
            if raw_text:
                columns.VarBytesColumn.Writer.add(text_column, new, raw_text)
            perdoc.finish_doc()
        new_number = docmap.tolist()  # a list: indexing a numpy array per posting costs ~10x
        for fieldname in sorted(reader.indexed_field_names()):
            if fieldname not in self.schema or isinstance(self.schema[fieldname], ArrayField):
                continue
            terms = self.pool.terms(fieldname)
            for tbytes, ids, _, values in field_postings(reader, fieldname, True):
                if not values:  # an inlined list of a value-less format keeps no values
                    values = [b""] * len(ids)
                kept = [(new_number[d], v or b"") for d, v in zip(ids, values) if new_number[d] >= 0]
                if kept:
                    postings = terms[tbytes]
                    for d, v in kept:
                        postings.append(d)
                        postings.append(v)
                    self.pool.size += len(kept)
        self.arrays.add_segment(arrays, docmap, arrays.doc_arrays("length"), arrays.doc_arrays("number"))
        self.docnum += len(live)
        self._added = True

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        schema = self.schema
        postfile = fw._postfile
        add_entry = fw._tindex.add
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
            if len(ids) <= INLINE_MAX:
                entry = inlined_entry(ids, weights, values if value_size != 0 else ())
            else:
                entry = blocks_entry(postfile, ids, weights, values, value_size)
            add_entry(prefix + tbytes, entry)
        if current is not None:
            fw.finish_field()
        fw.close()
        arrays_file = self.newsegment.create_file(self.storage, TERM_ARRAYS)
        try:
            self.arrays.write(arrays_file, self.docnum - self.docbase)
        finally:
            arrays_file.close()


def merge_more(ix, limit: int = _MERGES_AFTER_COMMIT) -> int:
    """Merge, one commit at a time, while the policy finds something to merge and no other writer
    wants the index (a commit merges into one segment only); returns the merges done."""
    from whoosh.index import LockError

    done = 0
    while done < limit:
        try:
            writer = FastWriter(ix)  # no waiting: another writer's commit will merge in its turn
        except LockError:
            break
        if not merge_plan(writer.storage, writer.segments):
            writer.cancel()
            break
        try:
            writer._commit_merged()
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        done += 1
    return done


def _raw_writer(column_writer):
    """The bytes writer under a column writer (a pickling or compressing wrapper's child)."""
    return getattr(column_writer, "_child", column_writer)


def _add_analysed(arrays: ArrayPool, name: str, field: ArrayField, docnum: int, value) -> int:
    """One analysed field of one document into the pool; returns its length (terms counted)."""
    if isinstance(value, str):  # a caller that gives text: analyse it here
        norm = analysis.normalize(value)
        if field.kind == "terms":
            value = Words(analysis.words(norm))
        elif field.positions:
            value = Grams(*gramarrays.gram_arrays(norm))
        else:
            value = Grams(*gramarrays.char_arrays(norm))
    if isinstance(value, Grams):
        arrays.add_grams(name, docnum, value.keys, value.tfs, value.positions if field.positions else None)
        return len(value)
    return arrays.add_words(name, docnum, value.words)


def _merge_all(writer, segments):
    for segment in segments:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return []


def finalize_segment(writer: FastWriter):
    """Write a worker writer's segment files and return the segment (None if it holds no
    documents); the writer is finished either way."""
    if not writer._added:
        writer.cancel()
        return None
    segment = writer._finalize_segment()
    writer._finish()
    return segment


__all__ = ["SegmentView", "segments_of", "segment_id", "segment_file", "term_arrays", "stored_fields", "stored_pickle",
           "stored_text",
           "segment_postings", "field_postings", "FastWriter", "KBCodec", "finalize_segment", "merge_policy", "BLOCK", "INLINE_MAX"]
