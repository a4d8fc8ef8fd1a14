"""Each segment's document numbers and term frequencies as flat arrays, beside its Whoosh files.

Whoosh stores a posting list as pickled blocks, each posting's position value in the same pickle:
reading which documents hold a term (and how often) unpickles every position of it too, a Python
object per posting. Search needs the documents and frequencies of every term of a query, over the
whole collection, so we also write them, per segment, as plain arrays in one file
(``<segment>.kbp``) that search maps into memory and slices with numpy: no decoding at all.
The character-bigram fields' positions (read to verify an exact string in its candidate
documents) live only here (``kb.index.CountsHere``); the word fields' stay in Whoosh's blocks.
The file is named like the segment's other files, so Whoosh deletes it with the segment; a
segment without one (written by an older version) is read from its blocks instead.

Layout: ``KBTA`` magic, a little-endian uint32 header length, a JSON header naming each field's
arrays (byte offset, dtype, length), then the arrays, 8-byte aligned. Per field: the term keys
(UTF-8, sorted, one blob plus ``n + 1`` offsets), each term's first posting (``n + 1`` starts),
and every posting's document number (uint32, within the segment) and frequency (float32); for
the fields whose positions live here (``kb.index.CountsHere``), each term's position values too.
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
_HEADER_LENGTH = struct.Struct("<I")


class TermArraysWriter:
    """Collects one segment's terms in (field, term) order and writes them in one file."""

    def __init__(self):
        self.fields: dict[str, dict] = {}
        self._current: dict | None = None

    def add(self, fieldname: str, tbytes: bytes, ids: array, weights: array, positions: bytes | None = None) -> None:
        """One term's postings; ``positions``: its ``ArrayPositions`` values joined, for a field
        whose positions live here."""
        field = self.fields.get(fieldname)
        if field is None:
            field = self.fields[fieldname] = {"keys": bytearray(), "key_offsets": array("Q", [0]),
                                              "starts": array("Q", [0]), "ids": array("I"),
                                              "tfs": array("f")}
            if positions is not None:
                field["positions"] = bytearray()
                field["position_starts"] = array("Q", [0])
        field["keys"] += tbytes
        field["key_offsets"].append(len(field["keys"]))
        field["ids"].extend(ids)
        field["tfs"].extend(weights)
        field["starts"].append(len(field["ids"]))
        if positions is not None:
            field["positions"] += positions
            field["position_starts"].append(len(field["positions"]) >> 2)

    def write(self, file) -> None:
        """Write everything to an open binary file (the caller closes it)."""
        dtypes = {"keys": "u1", "key_offsets": "<u8", "starts": "<u8", "ids": "<u4", "tfs": "<f4",
                  # each value: its count (4 bytes, big-endian), then its positions (uint32, native)
                  "positions": "u1", "position_starts": "<u8"}
        chunks, header, position = [], {}, 0
        for fieldname, field in self.fields.items():
            entry = header[fieldname] = {}
            for name, dtype in dtypes.items():
                if name not in field:
                    continue
                data = np.asarray(field[name]).astype(dtype).tobytes()
                entry[name] = [position, dtype, len(data) // np.dtype(dtype).itemsize]
                chunks.append(data)
                padding = -len(data) % 8
                chunks.append(b"\0" * padding)
                position += len(data) + padding
        head = json.dumps(header).encode("utf-8")
        head += b" " * (-(len(head) + len(MAGIC) + _HEADER_LENGTH.size) % 8)
        file.write(MAGIC + _HEADER_LENGTH.pack(len(head)) + head)
        for chunk in chunks:
            file.write(chunk)


class TermArrays:
    """One segment's term arrays, mapped read-only."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[:len(MAGIC)] != MAGIC:
            raise ValueError(f"{path} is not a term arrays file")
        (length,) = _HEADER_LENGTH.unpack_from(self._map, len(MAGIC))
        base = len(MAGIC) + _HEADER_LENGTH.size + length
        header = json.loads(bytes(self._map[len(MAGIC) + _HEADER_LENGTH.size:base]))
        view = memoryview(self._map)
        self._fields = {}
        for fieldname, entry in header.items():
            self._fields[fieldname] = {name: np.frombuffer(view, dtype=dtype, count=count, offset=base + offset)
                                       for name, (offset, dtype, count) in entry.items()}
            self._fields[fieldname]["keys_at"] = base + entry["keys"][0]
        self._key_offsets: dict[str, list[int]] = {}

    @classmethod
    def of(cls, reader) -> "TermArrays | None":
        """The arrays of a Whoosh segment reader's segment, or None when it has none."""
        storage = getattr(reader, "_storage", None)
        folder = getattr(storage, "folder", None)
        segment = getattr(reader, "_segment", None)
        if folder is None or segment is None:
            return None
        path = Path(folder) / segment.make_filename(EXTENSION)
        if not path.exists():
            return None
        try:
            return cls(path)
        except (OSError, ValueError, KeyError, struct.error):
            return None  # unreadable: the segment's blocks still hold everything

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self._fields

    def _offsets(self, fieldname: str) -> list[int]:
        """Where each key of a field starts in the file (and where the last ends): Python ints,
        made on a field's first lookup (a binary search makes ~20 probes, each must be cheap)."""
        offsets = self._key_offsets.get(fieldname)
        if offsets is None:
            field = self._fields[fieldname]
            offsets = (field["key_offsets"].astype(np.int64) + field["keys_at"]).tolist()
            self._key_offsets[fieldname] = offsets
        return offsets

    def find(self, fieldname: str, tbytes: bytes) -> int | None:
        """The term's number in its field (keys are sorted bytes: a binary search), or None."""
        offsets = self._offsets(fieldname)
        keys = self._map
        lo, hi = 0, len(offsets) - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[offsets[mid]:offsets[mid + 1]] < tbytes:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(offsets) - 1 and keys[offsets[lo]:offsets[lo + 1]] == tbytes:
            return lo
        return None

    def has_positions(self, fieldname: str) -> bool:
        return "positions" in self._fields.get(fieldname, {})

    def positions(self, fieldname: str, tbytes: bytes):
        """(ids, tfs, words) of a term, ``words`` its position values as one uint32 array (each
        posting: a count word, then ``tf`` positions), or None if absent."""
        i = self.find(fieldname, tbytes)
        if i is None:
            return None
        field = self._fields[fieldname]
        start, end = int(field["starts"][i]), int(field["starts"][i + 1])
        first, last = int(field["position_starts"][i]), int(field["position_starts"][i + 1])
        words = field["positions"][first * 4:last * 4].view(np.uint32)
        return field["ids"][start:end], field["tfs"][start:end], words

    def values(self, fieldname: str, tbytes: bytes) -> list[bytes]:
        """A term's position values, one ``bytes`` per posting (as Whoosh would hold them)."""
        _, tfs, words = self.positions(fieldname, tbytes)
        raw = words.tobytes()
        ends = (np.cumsum(tfs.astype(np.int64) + 1) * 4).tolist()
        return [raw[a:b] for a, b in zip([0] + ends[:-1], ends)]

    def postings(self, fieldname: str, tbytes: bytes):
        """(ids uint32, tfs float32) of a term in this segment, or None if absent."""
        i = self.find(fieldname, tbytes)
        if i is None:
            return None
        field = self._fields[fieldname]
        start, end = int(field["starts"][i]), int(field["starts"][i + 1])
        return field["ids"][start:end], field["tfs"][start:end]
