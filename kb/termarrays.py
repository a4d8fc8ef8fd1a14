"""Each segment's postings, in one file of packed arrays beside its Whoosh files (``<segment>.kbp``).

Search works on whole result sets, so it reads a term's postings whole, as arrays; writing and
merging segments are whole-array work too. Whoosh keeps the stored fields, the small keyword
fields it needs for updates and deletions (``id``, ``path``, …), the table of contents and the
segments' lifecycle; the analysed fields (``title``, ``body``, ``grams``, ``title_grams``,
``chars``) exist only here. The file is named like the segment's other files, so Whoosh deletes
it with the segment, and it becomes part of the index only in the commit that lists its segment.

Per field: its terms, sorted (a gram field's terms are integer keys, ``kb.gramarrays.gram_key``;
another field's are UTF-8 strings, found by their first eight bytes as a big-endian integer, then
compared whole), each term's first posting (``starts``) and, for a positional field, its first
position (``position_starts``); then the postings as packed integer streams (``kb.bitpack``): the
documents (the first of each term's as a number within the segment, the others as the difference
from the one before), the frequencies minus one (left out where every frequency is one), and for a
positional field each posting's first position and the gaps to its following ones. Per document:
the quantised field lengths BM25 uses and the numeric fields' values.

Layout: ``KBT2``; arrays, each 8-byte aligned, in the machine's byte order; a JSON header naming
each array's offset, type and length; the header's length (uint32); ``KBT2``.

Why this module is long: the file format is one concept (writing it, reading it, looking a term up
in it, decoding a term's postings block-wise) and its writer and reader must change together;
split, a format change would touch two modules that only make sense side by side.
"""

from __future__ import annotations

import json
import mmap
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

from kb import bitpack

EXTENSION = ".kbp"
MAGIC = b"KBT2"
FORMAT = 2
_HEADER_LENGTH = struct.Struct("=I")
GRAMS, TERMS = "grams", "terms"  # field kinds: integer gram keys, or UTF-8 strings
_NONE64 = np.zeros(0, dtype=np.int64)


def prefix_keys(terms: list[bytes]) -> np.ndarray:
    """Each term's first eight bytes (zero-padded) as a big-endian integer: sorted like the terms."""
    blob = b"".join(t[:8].ljust(8, b"\0") for t in terms)
    return np.frombuffer(blob, dtype=">u8").astype(np.uint64) if terms else np.zeros(0, np.uint64)


def prefix_key(term: bytes) -> int:
    return int.from_bytes(term[:8].ljust(8, b"\0"), "big")


class StreamWriter:
    """One packed stream, given in pieces (whole blocks are packed as they fill, and their bytes go
    to a temporary file until the stream is copied into the segment's file: memory stays flat)."""

    def __init__(self):
        self.widths: list[np.ndarray] = []
        self.block_ends: list[np.ndarray] = []
        self.data = tempfile.TemporaryFile()
        self.blocks_before = 0  # in 16-byte units
        self.pending = np.zeros(0, dtype=np.uint64)
        self.size = 0

    def add(self, values: np.ndarray) -> None:
        self.size += len(values)
        values = np.concatenate((self.pending, np.asarray(values, dtype=np.uint64))) if self.pending.size else values
        whole = len(values) - len(values) % bitpack.BLOCK
        self._pack(values[:whole])
        self.pending = np.asarray(values[whole:], dtype=np.uint64)

    def _pack(self, values) -> None:
        if not len(values):
            return
        widths, blocks, data = bitpack.pack(values)
        self.widths.append(widths)
        self.block_ends.append(blocks[1:].astype(np.uint64) + self.blocks_before)
        self.blocks_before += int(blocks[-1])
        self.data.write(data)

    def finish(self):
        """(widths, blocks, data)."""
        self._pack(self.pending)
        self.pending = np.zeros(0, dtype=np.uint64)
        widths = np.concatenate(self.widths) if self.widths else np.zeros(0, np.uint8)
        ends = np.concatenate(self.block_ends) if self.block_ends else np.zeros(0, np.uint64)
        if self.blocks_before >= 2**32:
            raise ValueError("a packed stream over 64 GB")
        blocks = np.concatenate(([0], ends)).astype(np.uint32)
        self.data.write(bitpack.padding())
        self.data.seek(0)
        return widths, blocks, self.data


class FieldWriter:
    """One field's terms, given in ascending order in one or more pieces (``add``)."""

    def __init__(self, kind: str, frequencies: bool, positions: bool):
        self.kind, self.frequencies, self.positions = kind, frequencies, positions
        self.keys: list[np.ndarray] = []
        self.terms: list[bytes] = []
        self.counts: list[np.ndarray] = []
        self.position_counts: list[np.ndarray] = []
        self.docs, self.tfs, self.firsts, self.gaps = StreamWriter(), StreamWriter(), StreamWriter(), StreamWriter()

    def add(self, keys, counts: np.ndarray, docs: np.ndarray, tfs: np.ndarray | None = None,
            positions: np.ndarray | None = None) -> None:
        """Terms (``keys``: gram keys, or the terms' UTF-8 bytes), each term's number of postings,
        the postings' documents (ascending within a term), frequencies and positions (per posting,
        ascending)."""
        counts = np.asarray(counts, dtype=np.int64)
        if self.kind == GRAMS:
            self.keys.append(np.asarray(keys, dtype=np.uint64))
        else:
            self.terms.extend(keys)
        self.counts.append(counts)
        docs = np.asarray(docs, dtype=np.int64)
        firsts = np.cumsum(counts) - counts  # each term's first posting
        deltas = np.empty_like(docs)
        if docs.size:
            deltas[0] = docs[0]
            deltas[1:] = docs[1:] - docs[:-1]
            deltas[firsts[counts > 0]] = docs[firsts[counts > 0]]
        self.docs.add(deltas)
        if self.frequencies:
            self.tfs.add(np.asarray(tfs, dtype=np.int64) - 1)
        if self.positions:
            tfs = np.asarray(tfs, dtype=np.int64)
            positions = np.asarray(positions, dtype=np.int64)
            starts = np.cumsum(tfs) - tfs  # each posting's first position
            self.firsts.add(positions[starts])
            gaps = np.diff(positions, prepend=0)
            keep = np.ones(positions.size, dtype=bool)
            keep[starts] = False
            self.gaps.add(gaps[keep])
            running = np.concatenate(([0], np.cumsum(tfs)))
            self.position_counts.append(running[firsts + counts] - running[firsts])


class TermArraysWriter:
    """Writes one segment's term arrays to an open binary file: fields (``field`` then its pieces),
    per-document arrays (``doc_array``), then ``finish``."""

    def __init__(self, file, doc_count: int):
        self.file = file
        self.position = 0
        self.header: dict = {"format": FORMAT, "doc_count": doc_count, "fields": {}, "docs": {}}
        self._write(MAGIC)

    def _write(self, data) -> None:
        self.file.write(data)
        self.position += len(data)

    def _array(self, array: np.ndarray) -> list:
        self._write(b"\0" * (-self.position % 8))
        at = self.position
        array = np.ascontiguousarray(array)
        self._write(array.tobytes())
        return [at, array.dtype.str, int(array.size)]

    def _stream(self, stream: StreamWriter) -> dict:
        widths, blocks, data = stream.finish()
        entry = {"size": stream.size, "widths": self._array(widths), "blocks": self._array(blocks)}
        self._write(b"\0" * (-self.position % 8))
        at = self.position
        with data:
            shutil.copyfileobj(data, self.file, 1 << 20)
            size = data.tell()
        self.position += size
        entry["data"] = [at, "|u1", size]
        return entry

    def field(self, name: str, kind: str, frequencies: bool = True, positions: bool = False) -> FieldWriter:
        """The next field (the one before it is written out now)."""
        self._write_fields()
        writer = FieldWriter(kind, frequencies, positions)
        self.header["fields"][name] = writer
        return writer

    def doc_array(self, name: str, values: np.ndarray) -> None:
        self.header["docs"][name] = self._array(values)

    def finish(self) -> None:
        """Write the last field's arrays and the header (the caller closes the file)."""
        self._write_fields()
        head = json.dumps(self.header).encode("utf-8")
        self._write(head + _HEADER_LENGTH.pack(len(head)) + MAGIC)

    def _write_fields(self) -> None:
        fields = self.header["fields"]
        for name, writer in list(fields.items()):
            if not isinstance(writer, FieldWriter):
                continue
            counts = np.concatenate(writer.counts) if writer.counts else _NONE64
            entry = {"kind": writer.kind, "frequencies": writer.frequencies, "positions": writer.positions,
                     "terms": int(counts.size)}
            if writer.kind == GRAMS:
                entry["keys"] = self._array(np.concatenate(writer.keys) if writer.keys else np.zeros(0, np.uint64))
            else:
                entry["keys"] = self._array(prefix_keys(writer.terms))
                offsets = np.zeros(len(writer.terms) + 1, dtype=np.int64)
                np.cumsum([len(t) for t in writer.terms], out=offsets[1:])
                entry["term_offsets"] = self._array(_narrow(offsets))
                entry["term_bytes"] = self._array(np.frombuffer(b"".join(writer.terms), dtype=np.uint8))
            entry["starts"] = self._array(_narrow(np.concatenate(([0], np.cumsum(counts)))))
            entry["docs"] = self._stream(writer.docs)
            if writer.frequencies:
                entry["tfs"] = self._stream(writer.tfs)
            if writer.positions:
                per_term = np.concatenate(writer.position_counts) if writer.position_counts else _NONE64
                entry["position_starts"] = self._array(_narrow(np.concatenate(([0], np.cumsum(per_term)))))
                entry["firsts"] = self._stream(writer.firsts)
                entry["gaps"] = self._stream(writer.gaps)
            else:
                for stream in (writer.firsts, writer.gaps):
                    stream.data.close()
            if not writer.frequencies:
                writer.tfs.data.close()
            fields[name] = entry


def _narrow(values: np.ndarray) -> np.ndarray:
    return values.astype(np.uint32 if not values.size or values[-1] < 2**32 else np.uint64)


class FieldArrays:
    """One field of one segment, as read: term lookups and decoded postings."""

    def __init__(self, view: np.ndarray, entry: dict):
        def array(spec):
            offset, dtype, count = spec
            return np.frombuffer(view, dtype=np.dtype(dtype), count=count, offset=offset)

        def stream(spec):
            data = array(spec["data"])
            return bitpack.Stream(array(spec["widths"]), array(spec["blocks"]), data, spec["size"])

        self.kind = entry["kind"]
        self.frequencies = entry["frequencies"]
        self.has_positions = entry["positions"]
        self.keys = array(entry["keys"])
        self.starts = array(entry["starts"])
        self.docs = stream(entry["docs"])
        self.tfs = stream(entry["tfs"]) if self.frequencies else None
        if self.kind == TERMS:
            self.term_offsets = array(entry["term_offsets"])
            self.term_bytes = array(entry["term_bytes"])
        if self.has_positions:
            self.position_starts = array(entry["position_starts"])
            self.firsts = stream(entry["firsts"])
            self.gaps = stream(entry["gaps"])

    def __len__(self) -> int:
        return len(self.keys)

    def term(self, t: int) -> bytes:
        """Term ``t`` as UTF-8 bytes."""
        if self.kind == GRAMS:
            from kb.gramarrays import key_term

            return key_term(int(self.keys[t])).encode("utf-8")
        return self.term_bytes[int(self.term_offsets[t]):int(self.term_offsets[t + 1])].tobytes()

    def find(self, term: str) -> int:
        """The number of ``term`` in this field, or -1."""
        if self.kind == GRAMS:
            from kb.gramarrays import gram_key

            if not 1 <= len(term) <= 2:
                return -1
            key = gram_key(term)
            t = int(np.searchsorted(self.keys, np.uint64(key)))
            return t if t < len(self.keys) and int(self.keys[t]) == key else -1
        tbytes = term.encode("utf-8")
        key = np.uint64(prefix_key(tbytes))
        lo = int(np.searchsorted(self.keys, key, "left"))
        hi = int(np.searchsorted(self.keys, key, "right")) if lo < len(self.keys) and self.keys[lo] == key else lo
        for t in range(lo, hi):
            if self.term(t) == tbytes:
                return t
        return -1

    def count(self, t: int) -> int:
        return int(self.starts[t + 1]) - int(self.starts[t])

    def postings(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(documents int64 ascending, frequencies int64) of term ``t``."""
        first, last = int(self.starts[t]), int(self.starts[t + 1])
        ids = self.docs.running_sum(first, last)
        if self.frequencies:
            tfs = self.tfs.range(first, last).astype(np.int64) + 1
        else:
            tfs = np.ones(last - first, dtype=np.int64)
        return ids, tfs

    def positions(self, t: int, rows: np.ndarray, tfs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of some postings of term ``t`` (``rows``: ascending posting numbers within the
        term; ``tfs``: the term's frequencies, all of them): (each row's count, positions in row
        order, ascending within a row)."""
        first = int(self.starts[t])
        counts = tfs[rows]
        if not int(counts.sum()) - len(counts):  # one position each: the firsts are all
            return counts, self.firsts.take(rows + first).astype(np.int64)
        # gaps of posting r: after the gaps of the term's earlier postings, and of earlier terms
        gap_base = int(self.position_starts[t]) - first
        gaps_before = np.cumsum(tfs - 1) - (tfs - 1)
        return counts, bitpack.positions(self.firsts, self.gaps, rows + first, counts, gaps_before[rows] + gap_base)

    def slice(self, a: int, b: int):
        """Terms ``a`` to ``b`` (exclusive) whole: (each term's posting count, documents, frequencies,
        positions or None), decoded by ranges (for merging)."""
        p0, p1 = int(self.starts[a]), int(self.starts[b])
        counts = np.diff(self.starts[a:b + 1].astype(np.int64))
        deltas = self.docs.range(p0, p1).astype(np.int64)
        docs = restart_sums(deltas, counts)
        tfs = self.tfs.range(p0, p1).astype(np.int64) + 1 if self.frequencies else np.ones(p1 - p0, dtype=np.int64)
        positions = None
        if self.has_positions:
            q0, q1 = int(self.position_starts[a]), int(self.position_starts[b])
            heads = self.firsts.range(p0, p1).astype(np.int64)
            gaps = self.gaps.range(q0 - p0, q1 - p1).astype(np.int64)
            positions = bitpack.interleave(heads, gaps, tfs)
        return counts, docs, tfs, positions

    def all_postings(self, positions: bool = True):
        """Every posting: (term of each posting, documents, frequencies, positions or None)."""
        counts, docs, tfs, found = self.slice(0, len(self.keys)) if len(self.keys) else (_NONE64,) * 4
        if not positions:
            found = None
        return np.repeat(np.arange(len(counts), dtype=np.int64), counts), docs, tfs, found


def union_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays of distinct values: what ``np.union1d`` gives, without
    the hashing numpy 2 does there (15x slower on our document lists and gram keys)."""
    both = np.concatenate((a, b))
    both.sort(kind="stable")  # two sorted runs: a merge
    if both.size < 2:
        return both
    keep = np.empty(both.size, dtype=bool)
    keep[0] = True
    np.not_equal(both[1:], both[:-1], out=keep[1:])
    return both[keep]


def intersect_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted intersection of two sorted arrays of distinct values: what ``np.intersect1d(a, b,
    assume_unique=True)`` gives, without sorting the two together (a frequent string's position
    keys at 16x the laws: ~1M a side, ~50 ms a sort): a merge in C (kb.bitpack_c), else a binary
    search of the shorter in the longer."""
    dtype = np.result_type(a, b)
    if a.size > b.size:
        a, b = b, a
    if not a.size:
        return np.empty(0, dtype=dtype)
    if bitpack.NATIVE is not None and a.dtype == b.dtype == np.int64:
        out = np.empty(a.size, dtype=np.int64)
        count = bitpack.NATIVE.intersect(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
        return out[:count]
    at = np.searchsorted(b, a)
    np.minimum(at, b.size - 1, out=at)
    return a[b[at] == a].astype(dtype, copy=False)


def restart_sums(deltas: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sums of ``deltas`` that restart at each group (``counts`` items each)."""
    running = np.cumsum(deltas)
    if counts.size > 1:
        firsts = (np.cumsum(counts) - counts)[counts > 0]
        running -= np.repeat(running[firsts] - deltas[firsts], counts[counts > 0])
    return running


class TermArrays:
    """One segment's term arrays, mapped read-only (safe to read from many threads)."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        size = len(self._map)
        tail = len(MAGIC) + _HEADER_LENGTH.size
        if size < 2 * len(MAGIC) + _HEADER_LENGTH.size or self._map[:len(MAGIC)] != MAGIC or self._map[-len(MAGIC):] != MAGIC:
            raise ValueError(f"{path} is not a complete term arrays file of format {FORMAT}")
        (length,) = _HEADER_LENGTH.unpack_from(self._map, size - tail)
        header = json.loads(bytes(self._map[size - tail - length:size - tail]))
        view = np.frombuffer(self._map, dtype=np.uint8)
        self.doc_count = header["doc_count"]
        self._fields = {name: FieldArrays(view, entry) for name, entry in header["fields"].items()}
        self._docs = {name: np.frombuffer(view, dtype=np.dtype(dtype), count=count, offset=offset)
                      for name, (offset, dtype, count) in header["docs"].items()}

    @classmethod
    def open(cls, path: Path) -> "TermArrays | None":
        """The arrays in ``path``, or None when the file is missing or unreadable."""
        try:
            return cls(path)
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return None

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self._fields

    def fieldnames(self) -> list[str]:
        return list(self._fields)

    def has_positions(self, fieldname: str) -> bool:
        return fieldname in self._fields and self._fields[fieldname].has_positions

    def field(self, fieldname: str) -> FieldArrays | None:
        return self._fields.get(fieldname)

    def doc_array(self, name: str) -> np.ndarray | None:
        return self._docs.get(name)

    def doc_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The per-document arrays named ``prefix:…``, by the rest of their names."""
        return {name[len(prefix) + 1:]: values for name, values in self._docs.items() if name.startswith(prefix + ":")}

    def postings(self, fieldname: str, term: str):
        """(ids int64, tfs int64) of a term, or None if absent."""
        field = self._fields.get(fieldname)
        if field is None:
            return None
        t = field.find(term)
        return None if t < 0 else field.postings(t)

    def lines(self, fieldname: str) -> bytes:
        """Every term of a (string) field, each followed by a newline, as one UTF-8 blob: built by
        array work, not a Python object per term."""
        field = self._fields.get(fieldname)
        if field is None or field.kind == GRAMS or not len(field):
            return b""
        blob = field.term_bytes
        offsets = field.term_offsets.astype(np.int64)
        n = len(offsets) - 1
        out = np.full(len(blob) + n, ord("\n"), dtype=np.uint8)
        term_of_byte = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
        out[np.arange(len(blob), dtype=np.int64) + term_of_byte] = blob
        return out.tobytes()

    def keys(self, fieldname: str) -> list[bytes]:
        """Every term of a field (UTF-8), in order."""
        field = self._fields.get(fieldname)
        if field is None:
            return []
        if field.kind == GRAMS:
            from kb.gramarrays import key_term

            return [key_term(k).encode("utf-8") for k in field.keys.tolist()]
        blob, offsets = field.term_bytes.tobytes(), field.term_offsets.tolist()
        return [blob[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
