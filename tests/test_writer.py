"""kb.writer writes a term's postings as Whoosh's own W3 writer objects would, byte for byte."""

from __future__ import annotations

import io
import random
from array import array

import pytest
from whoosh import formats
from whoosh.codec.whoosh3 import W3PostingsWriter, W3TermInfo
from whoosh.filedb.structfile import StructFile

from kb.schema import ArrayPositions, build_schema
from kb.writer import BLOCK, INLINE_MAX, blocks_entry, inlined_entry


def _reference(postfile, fmt, ids, weights, values) -> bytes:
    """The term entry (and block bytes) through Whoosh's W3PostingsWriter and W3TermInfo."""
    pw = W3PostingsWriter(postfile, BLOCK, compression=0, inlinelimit=1)
    pw.start_postings(fmt, W3TermInfo())
    fixed = fmt.fixed_value_size() == 0
    n = len(ids)
    for start in range(0, n, BLOCK):
        end = min(start + BLOCK, n)
        pw._ids, pw._weights = ids[start:end], weights[start:end]
        pw._values = [] if fixed else list(values[start:end])
        pw._maxweight, pw._minlength, pw._maxlength = max(pw._weights), None, 0
        if end < n:
            pw._write_block()
    if n <= INLINE_MAX:
        terminfo = pw._terminfo
        terminfo.add_block(pw)
        terminfo.set_inlined(ids, weights, values if not fixed else ())
        return terminfo.to_bytes()
    return pw.finish_postings().to_bytes()


def _postings(rng, fmt, n):
    ids = array("I", sorted(rng.sample(range(10 * n + 10), n)))
    if isinstance(fmt, formats.Existence):
        return ids, array("f", [1.0]) * n, [b""] * n
    counts = [rng.choice([1, 1, 1, 2, 3, 7]) for _ in range(n)]
    if isinstance(fmt, ArrayPositions):
        values = [len(p).to_bytes(4, "big") + array("I", p).tobytes()
                  for p in (sorted(rng.sample(range(5000), c)) for c in counts)]
    else:
        values = [c.to_bytes(4, "big") for c in counts]
    return ids, array("f", counts), values


@pytest.mark.parametrize("field", ["grams", "chars", "counties", "body"])
@pytest.mark.parametrize("n", [1, 2, 3, BLOCK, BLOCK + 1, 3 * BLOCK + 7])
def test_term_bytes_equal_whooshs_own(field, n):
    fmt = build_schema()[field].format
    rng = random.Random(n)
    for _ in range(3):
        ids, weights, values = _postings(rng, fmt, n)
        ours, theirs = StructFile(io.BytesIO()), StructFile(io.BytesIO())
        value_size = fmt.fixed_value_size()
        if n <= INLINE_MAX:
            entry = inlined_entry(ids, weights, values if value_size != 0 else ())
        else:
            entry = blocks_entry(ours, ids, weights, values, value_size)
        assert entry == _reference(theirs, fmt, ids, weights, values)
        assert ours.file.getvalue() == theirs.file.getvalue()
