"""How Whoosh reads our segments (``kb.writer.KBCodec`` hands out these readers): stored fields
from mapped files, and the analysed fields from the term arrays.

**Stored fields**, safe from many threads at once, the text apart. Whoosh reads a segment's stored
fields through one shared file object (seek, then read): two threads reading at once get each
other's bytes. ``StoredReader`` maps the segment's column files (Whoosh's ``VarBytesColumn``
layout: the values, then their lengths, and their offsets when there are many, as big-endian
arrays, then type codes) and slices them: no shared position. Mapped when the segment is opened,
so a commit that deletes the files later does not matter. The clean text is stored in a column of
its own (``TEXT_COLUMN``), not in the pickled dict of the other stored fields: a hit without a
snippet never decompresses it.

**Terms**: ``ArrayTermsReader`` answers Whoosh's term and posting questions for the analysed
fields from the segment's term arrays (``kb.termarrays``), the keyword fields from Whoosh's own
W3 files, so Whoosh's own queries (``Phrase("body", …)``, ``Term``) keep working on the whole
index. Search never goes this way (``kb.postings`` reads the arrays whole); it is for Whoosh's
tools and for checks, and builds a Python object per posting.
"""

from __future__ import annotations

import mmap
import pickle
import zlib
from pathlib import Path

import numpy as np
from whoosh import columns
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.matching import ListMatcher
from whoosh.reading import TermInfo, TermNotFound

from kb.termarrays import EXTENSION as TERM_ARRAYS, TermArrays

TEXT_COLUMN_NAME = "_kbtext"
TEXT_COLUMN = columns.CompressedBytesColumn(level=3)
_STORED = "_stored"


class ColumnFile:
    """One mapped ``VarBytesColumn`` file: ``raw(docnum)`` is the value's bytes as written."""

    def __init__(self, path: Path, doc_count: int):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if f.seek(0, 2) else None
        if self._map is None:
            self._offsets = self._lengths = np.zeros(doc_count, dtype=np.int64)
            return
        end = len(self._map) - 1
        code = chr(self._map[end])
        offsets = None
        if code == "X":  # offsets written too
            code, offsets_code = chr(self._map[end - 2]), chr(self._map[end - 1])
            size = np.dtype(offsets_code).itemsize
            start = end - 2 - doc_count * size
            offsets = np.frombuffer(self._map, dtype=np.dtype(offsets_code).newbyteorder(">"), count=doc_count,
                                    offset=start).astype(np.int64)
            end = start
        size = np.dtype(code).itemsize
        lengths = np.frombuffer(self._map, dtype=np.dtype(code).newbyteorder(">"), count=doc_count,
                                offset=end - doc_count * size).astype(np.int64)
        if offsets is None:
            offsets = np.cumsum(lengths) - lengths
        self._offsets, self._lengths = offsets, lengths

    def raw(self, docnum: int) -> bytes:
        length = int(self._lengths[docnum])
        if not length:
            return b""
        start = int(self._offsets[docnum])
        return self._map[start:start + length]


def column_path(storage, segment, name: str) -> Path | None:
    folder = getattr(storage, "folder", None)
    if folder is None or getattr(segment, "compound", False):
        return None
    path = Path(folder) / W3Codec.column_filename(segment, name)
    return path if path.exists() else None


class StoredReader(W3PerDocReader):
    """Whoosh's per-document reader, with stored fields and the text read from mapped columns."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        count = segment.doc_count_all()
        stored, text = column_path(storage, segment, _STORED), column_path(storage, segment, TEXT_COLUMN_NAME)
        self._stored = ColumnFile(stored, count) if stored else None
        self._text = ColumnFile(text, count) if text else None

    def stored_fields(self, docnum):
        if self._stored is None:
            return super().stored_fields(docnum)
        raw = self._stored.raw(docnum)
        return pickle.loads(zlib.decompress(raw)) if raw else {}

    def stored_pickle(self, docnum) -> bytes:
        """The stored fields' pickle, decompressed (b"": none)."""
        if self._stored is None:
            return pickle.dumps(super().stored_fields(docnum))
        raw = self._stored.raw(docnum)
        return zlib.decompress(raw) if raw else b""

    def stored_raw(self, docnum) -> tuple[bytes, bytes]:
        """(the stored fields' bytes, the text's), compressed as written: for merges."""
        return (self._stored.raw(docnum) if self._stored else b"", self._text.raw(docnum) if self._text else b"")

    def stored_text(self, docnum) -> str:
        raw = self._text.raw(docnum) if self._text is not None else b""
        return zlib.decompress(raw).decode("utf-8") if raw else ""


class ArrayTermsReader:
    """Whoosh's terms-reader interface: analysed fields from the term arrays, the rest from W3."""

    def __init__(self, w3, arrays: TermArrays | None):
        self._w3 = w3
        self._arrays = arrays

    @classmethod
    def open(cls, w3, storage, segment) -> "ArrayTermsReader":
        folder = getattr(storage, "folder", None)
        path = Path(folder) / segment.make_filename(TERM_ARRAYS) if folder else None
        return cls(w3, TermArrays.open(path) if path is not None and path.exists() else None)

    def _field(self, fieldname: str):
        return self._arrays.field(fieldname) if self._arrays is not None and fieldname not in self._w3_fields() else None

    def _w3_fields(self):
        return self._w3.indexed_field_names()

    def _find(self, fieldname: str, tbytes: bytes):
        field = self._field(fieldname)
        if field is None:
            return None, -1
        return field, field.find(tbytes.decode("utf-8"))

    def __contains__(self, term):
        field, t = self._find(*term)
        return t >= 0 if field is not None else term in self._w3

    def indexed_field_names(self):
        names = list(self._w3_fields())
        if self._arrays is not None:
            names += [name for name in self._arrays.fieldnames() if name not in names]
        return names

    def terms(self):
        yield from self._w3.terms()
        if self._arrays is not None:
            for name in self._arrays.fieldnames():
                if name not in self._w3_fields():
                    yield from ((name, t) for t in self._arrays.keys(name))

    def terms_from(self, fieldname, prefix):
        if self._field(fieldname) is None:
            return self._w3.terms_from(fieldname, prefix)
        return ((fieldname, t) for t in self._arrays.keys(fieldname) if t >= prefix)

    def items(self):
        for fieldname, tbytes in self.terms():
            yield (fieldname, tbytes), self.term_info(fieldname, tbytes)

    def items_from(self, fieldname, prefix):
        for name, tbytes in self.terms_from(fieldname, prefix):
            yield (name, tbytes), self.term_info(name, tbytes)

    def _postings(self, fieldname, tbytes):
        field, t = self._find(fieldname, tbytes)
        if t < 0:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return field, t, *field.postings(t)

    def term_info(self, fieldname, tbytes):
        if self._field(fieldname) is None:
            return self._w3.term_info(fieldname, tbytes)
        _, _, ids, tfs = self._postings(fieldname, tbytes)
        return TermInfo(weight=float(tfs.sum()), df=len(ids), maxweight=float(tfs.max()), minid=int(ids[0]),
                        maxid=int(ids[-1]))

    def frequency(self, fieldname, tbytes):
        if self._field(fieldname) is None:
            return self._w3.frequency(fieldname, tbytes)
        return self.term_info(fieldname, tbytes).weight()

    def doc_frequency(self, fieldname, tbytes):
        if self._field(fieldname) is None:
            return self._w3.doc_frequency(fieldname, tbytes)
        return self.term_info(fieldname, tbytes).doc_frequency()

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        if self._field(fieldname) is None:
            return self._w3.matcher(fieldname, tbytes, format_, scorer=scorer)
        field, t, ids, tfs = self._postings(fieldname, tbytes)
        values = None
        if field.has_positions and format_.supports("positions"):
            counts, positions = field.positions(t, np.arange(len(ids), dtype=np.int64), tfs)
            ends = np.cumsum(counts).tolist()
            flat = positions.tolist()
            values = [format_.encode(flat[a:b]) for a, b in zip([0] + ends[:-1], ends)]
        return ListMatcher(ids.tolist(), tfs.astype(float).tolist(), values, format=format_, scorer=scorer,
                           term=(fieldname, tbytes))

    def cursor(self, fieldname, fieldobj):
        return self._w3.cursor(fieldname, fieldobj)

    def close(self):
        self._w3.close()
