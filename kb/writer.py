"""The pieces of segment writing that need no Whoosh objects: postings grouped per term, and the
bytes of Whoosh's W3 format for a term's postings, produced directly.

Whoosh's stock writer spends most of an ingest on per-posting Python work: one tuple per
posting into a pool that is sorted and spilled to disk in pickled runs, then one call per posting
into the codec. Our documents arrive with their postings already grouped per term
(``kb.schema.Preanalyzed``), so ``kb.whoosh_adapter.FastWriter``

* keeps postings grouped per term in flat lists (``GroupedPool``: no global sort, no spilled runs),
* writes each term's blocks and table entry directly (``blocks_entry``, ``inlined_entry``: the
  bytes Whoosh's W3 writer objects would produce; ``tests/test_writer.py`` holds them equal),
  inlining lists of 1-2 postings, without per-block length statistics (they only serve Whoosh's
  block-skipping scorers, which search does not use).
"""

from __future__ import annotations

import struct
from array import array
from collections import defaultdict
from itertools import chain
from operator import sub
from pickle import dumps

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.system import pack_int, pack_long
from whoosh.util.numeric import length_to_byte

BLOCK = 128
INLINE_MAX = 2  # posting lists this short live in the term table, not in a block of their own


class KBCodec(W3Codec):
    """Whoosh's W3 codec without length statistics (segments pickle their codec: it lives here,
    where indexes made before kb.whoosh_adapter found it)."""

    length_stats = False

    def __init__(self, blocklimit=BLOCK, compression=0):
        # inlinelimit stays 1: Whoosh's own inlining path has a typo (set_inline); the writer
        # inlines short lists itself (inlined_entry)
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=1)


class GroupedPool:
    """Postings grouped by field, then term, each term's as one flat list ``[docnum, value, …]``
    in arrival order (two appends per posting; ~100 bytes a posting with its value).

    A posting's weight is not kept: for our formats it is its frequency, the value's packed count
    (``Positions``, ``ArrayPositions``, ``Frequency``), or 1 for a value-less ``Existence``."""

    def __init__(self):
        self.fields: dict[str, defaultdict] = {}
        self.size = 0  # postings held: the ingest writes a segment before this grows too big

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
