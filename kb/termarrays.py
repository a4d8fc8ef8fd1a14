"""Each segment's postings as flat arrays, beside its Whoosh files.

Whoosh stores a posting list as pickled blocks: reading which documents hold a term (and how
often) unpickles a Python object per posting. Search needs the documents and frequencies of every
term of a query over the whole collection, so the writer also writes them, per segment, as plain
arrays in one file (``<segment>.kbp``) that search maps into memory and slices with numpy: no
decoding at all. The character-bigram fields' positions (read to verify an exact string in its
candidate documents) live only here (``kb.schema.CountsHere``); the word fields' stay in Whoosh's
blocks. The file is named like the segment's other files, so Whoosh deletes it with the segment;
a segment without one (written by an older version) is read from its blocks instead.

Layout (numbers in the machine's byte order, like ``ArrayPositions``): ``KBTA``; then one record
per term, in (field, term) order, streamed as the writer goes (memory stays flat): its document
numbers (uint32, within the segment), frequencies (float32) and, for a field whose positions
live here, its position values (per posting a big-endian count, then the positions as uint32);
then per field a directory (the sorted UTF-8 keys as one blob plus ``n + 1`` offsets, each
record's offset, with one past the last, and its posting count), 8-byte aligned; then a JSON
header locating the directories, its length (uint32) and ``KBTA`` again.
"""

from __future__ import annotations

import json
import mmap
import struct
from array import array
from pathlib import Path

import numpy as np

EXTENSION = ".kbp"
MAGIC = b"KBTA"
_HEADER_LENGTH = struct.Struct("=I")
_DIRECTORY = {"keys": "u1", "key_offsets": "=u8", "records": "=u8", "counts": "=u4"}


class TermArraysWriter:
    """Writes one segment's terms, given in (field, term) order, to an open binary file."""

    def __init__(self, file):
        self.file = file
        self.position = 0
        self.fields: dict[str, dict] = {}
        self._write(MAGIC)

    def _write(self, data) -> None:
        self.file.write(data)
        self.position += len(data)

    def add(self, fieldname: str, tbytes: bytes, ids: array, weights: array, positions: bytes | None = None) -> None:
        """One term's postings; ``positions``: its ``ArrayPositions`` values joined, for a field
        whose positions live here."""
        field = self.fields.get(fieldname)
        if field is None:
            self._end_field()
            field = self.fields[fieldname] = {"keys": bytearray(), "key_offsets": array("Q", [0]),
                                              "records": array("Q"), "counts": array("I"),
                                              "positions": positions is not None}
        field["keys"] += tbytes
        field["key_offsets"].append(len(field["keys"]))
        field["records"].append(self.position)
        field["counts"].append(len(ids))
        self._write(ids.tobytes())
        self._write(weights.tobytes())
        if positions is not None:
            self._write(positions)

    def _end_field(self) -> None:
        if self.fields:  # the last field's records end here
            self.fields[next(reversed(self.fields))]["records"].append(self.position)

    def finish(self) -> None:
        """Write the directories and the header (the caller closes the file)."""
        self._end_field()
        header = {}
        for fieldname, field in self.fields.items():
            entry = header[fieldname] = {"positions": field.pop("positions")}
            for name, dtype in _DIRECTORY.items():
                self._write(b"\0" * (-self.position % 8))
                data = np.asarray(field[name]).astype(dtype).tobytes()
                entry[name] = [self.position, dtype, len(data) // np.dtype(dtype).itemsize]
                self._write(data)
        head = json.dumps(header).encode("utf-8")
        self._write(head + _HEADER_LENGTH.pack(len(head)) + MAGIC)


class TermArrays:
    """One segment's term arrays, mapped read-only."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        size = len(self._map)
        tail = len(MAGIC) + _HEADER_LENGTH.size
        if size < 2 * len(MAGIC) + _HEADER_LENGTH.size or self._map[:len(MAGIC)] != MAGIC or self._map[-len(MAGIC):] != MAGIC:
            raise ValueError(f"{path} is not a complete term arrays file")
        (length,) = _HEADER_LENGTH.unpack_from(self._map, size - tail)
        header = json.loads(bytes(self._map[size - tail - length:size - tail]))
        view = memoryview(self._map)
        self._fields = {}
        for fieldname, entry in header.items():
            field = {name: np.frombuffer(view, dtype=dtype, count=count, offset=offset)
                     for name, (offset, dtype, count) in ((n, entry[n]) for n in _DIRECTORY)}
            field["keys_at"] = entry["keys"][0]
            field["positions"] = entry["positions"]
            self._fields[fieldname] = field
        self._directory: dict[str, tuple] = {}

    @classmethod
    def open(cls, path: Path) -> "TermArrays | None":
        """The arrays in ``path``, or None when the file is unreadable (what Whoosh's blocks hold
        is then read from them)."""
        try:
            return cls(path)
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return None

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self._fields

    def has_positions(self, fieldname: str) -> bool:
        return fieldname in self._fields and self._fields[fieldname]["positions"]

    def _lists(self, fieldname: str):
        """A field's key offsets, record offsets and counts as memoryviews over the file: indexing
        one gives a Python int without decoding the whole directory (a binary search makes ~20
        probes; materialising lists cost seconds and hundreds of MB on a large index)."""
        lists = self._directory.get(fieldname)
        if lists is None:
            field = self._fields[fieldname]
            lists = self._directory[fieldname] = tuple(
                memoryview(field[name]).cast("B").cast(code) for name, code in
                (("key_offsets", "Q"), ("records", "Q"), ("counts", "I")))
        return lists

    def _find(self, fieldname: str, tbytes: bytes) -> tuple[int, int, int] | None:
        """(record offset, record end, posting count) of a term (keys are sorted bytes: a binary
        search), or None."""
        offsets, records, counts = self._lists(fieldname)
        keys, base = self._map, self._fields[fieldname]["keys_at"]
        lo, hi = 0, len(offsets) - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[base + offsets[mid]:base + offsets[mid + 1]] < tbytes:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(offsets) - 1 and keys[base + offsets[lo]:base + offsets[lo + 1]] == tbytes:
            return records[lo], records[lo + 1], counts[lo]
        return None

    def keys(self, fieldname: str) -> list[bytes]:
        """Every term of a field, in order."""
        offsets = self._lists(fieldname)[0]
        keys, base = self._map, self._fields[fieldname]["keys_at"]
        return [keys[base + a:base + b] for a, b in zip(offsets[:-1], offsets[1:])]

    def terms(self, fieldname: str):
        """Every term of a field with its documents: ``(key, ids)``, in order."""
        _, records, counts = self._lists(fieldname)
        for key, start, n in zip(self.keys(fieldname), records, counts):
            yield key, np.frombuffer(self._map, dtype=np.uint32, count=n, offset=start)

    def postings(self, fieldname: str, tbytes: bytes):
        """(ids uint32, tfs float32) of a term in this segment, or None if absent."""
        found = self._find(fieldname, tbytes)
        if found is None:
            return None
        start, _, n = found
        return (np.frombuffer(self._map, dtype=np.uint32, count=n, offset=start),
                np.frombuffer(self._map, dtype=np.float32, count=n, offset=start + 4 * n))

    def positions(self, fieldname: str, tbytes: bytes):
        """(ids, tfs, words) of a term, ``words`` its position values as one uint32 array (each
        posting: a count word, then ``tf`` positions), or None if absent."""
        found = self._find(fieldname, tbytes)
        if found is None:
            return None
        start, end, n = found
        first = start + 8 * n
        return (np.frombuffer(self._map, dtype=np.uint32, count=n, offset=start),
                np.frombuffer(self._map, dtype=np.float32, count=n, offset=start + 4 * n),
                np.frombuffer(self._map, dtype=np.uint32, count=(end - first) // 4, offset=first))

    def values(self, fieldname: str, tbytes: bytes) -> list[bytes]:
        """A term's position values, one ``bytes`` per posting (as Whoosh would hold them)."""
        _, tfs, words = self.positions(fieldname, tbytes)
        raw = words.tobytes()
        ends = (np.cumsum(tfs.astype(np.int64) + 1) * 4).tolist()
        return [raw[a:b] for a, b in zip([0] + ends[:-1], ends)]
