"""Integer streams packed in blocks of 128 values, each block at the bit width of its largest value,
packed and unpacked by numpy: no Python work per value, and random access to any value.

The streams hold small numbers already (deltas of document numbers, gaps between positions,
frequencies minus one), so a block needs only as many bits per value as its largest value: frame
of reference without a base, the codec of Lucene's postings and of tantivy's bitpacker, kept to what
numpy does in whole-array operations. Measured on the laws' bigram postings: document deltas ~8
bits, gaps ~13, frequencies ~4.5 (raw: 32 each); unpacking ~25 ns a value.

Layout of a stream of ``n`` values: ``widths`` (one ``uint8`` per block), ``blocks`` (``uint32``,
``nb + 1``: where each block starts, in units of 16 bytes — a full block of width ``w`` is exactly
``16 w`` bytes, the last one is padded to that), and the packed bytes, least significant bit
first. Value ``i`` starts at bit ``128 · blocks[i >> 7] + (i & 127) · widths[i >> 7]``.
"""

from __future__ import annotations

import numpy as np

try:  # the inner loops in C (kb/bitpack_c.c, built by setup.py where a C compiler is found)
    from kb import bitpack_c as NATIVE
except ImportError:  # the same steps in numpy
    NATIVE = None


def kernel() -> str:
    """Which inner loops run, for ``kb stats`` and the setup script."""
    if NATIVE is not None:
        return "compiled (kb.bitpack_c)"
    return ("numpy: kb.bitpack_c is not built, searches are slower; install a C compiler and the Python "
            "headers (Debian: apt-get install gcc python3-dev) and run ./setup.sh again")

BLOCK = 128
_SHIFT = 7  # log2(BLOCK)
_MASKS = np.array([(1 << w) - 1 for w in range(65)], dtype=np.uint64)
_U64 = np.uint64
_PAD = 8  # readers see the data with this many zero bytes after it (an unaligned 8-byte read at the end)


def bit_widths(maxima: np.ndarray) -> np.ndarray:
    """Bits needed for each value (0 for 0), as uint8."""
    maxima = np.asarray(maxima, dtype=np.uint64)
    widths = np.zeros(maxima.shape, dtype=np.uint8)
    nonzero = maxima > 0
    if nonzero.any():
        # float64 holds every integer below 2**53 exactly; our values are below 2**32
        widths[nonzero] = np.floor(np.log2(maxima[nonzero].astype(np.float64))).astype(np.uint8) + 1
    return widths


def _packing_plan(w: int):
    """For a block of width ``w``: each lane's word and shift, the first lane of each word, and
    the lanes that spill into the next word (with that word and their right shift)."""
    bits = np.arange(BLOCK, dtype=np.int64) * w
    word = bits >> 6
    firsts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
    spill = np.flatnonzero((bits & 63) + w > 64)
    return (word, firsts, (bits & 63).astype(np.uint64), spill, word[spill] + 1,
            (64 - (bits[spill] & 63)).astype(np.uint64))


_PLANS = [_packing_plan(w) for w in range(33)]


def pack(values) -> tuple[np.ndarray, np.ndarray, bytes]:
    """``(widths, blocks, data)`` of a stream of non-negative integers below 2**32: the blocks of
    one width at a time, each lane's word and shift the same in every block of that width."""
    v = np.ascontiguousarray(values, dtype=np.uint64)
    n = v.size
    nb = (n + BLOCK - 1) >> _SHIFT
    if not n:
        return np.zeros(0, np.uint8), np.zeros(1, np.uint32), b""
    if NATIVE is not None:
        widths, blocks = np.empty(nb, dtype=np.uint8), np.empty(nb + 1, dtype=np.uint32)
        return widths, blocks, NATIVE.pack(v, widths, blocks)
    if n != nb * BLOCK:
        padded = np.zeros(nb * BLOCK, dtype=np.uint64)
        padded[:n] = v
    else:
        padded = v
    matrix = padded.reshape(nb, BLOCK)
    widths = bit_widths(matrix.max(axis=1))
    blocks = np.zeros(nb + 1, dtype=np.uint64)
    np.cumsum(widths, out=blocks[1:])
    words = np.zeros(int(blocks[-1]) * 2 + 1, dtype=np.uint64)  # a width unit is 16 bytes: two words
    for w in np.flatnonzero(np.bincount(widths, minlength=33)).tolist():
        if not w:
            continue
        rows = np.flatnonzero(widths == w)
        word, firsts, shift, spill, spill_word, spill_shift = _PLANS[w]
        lanes = matrix[rows]
        packed = np.zeros((len(rows), 2 * w), dtype=np.uint64)
        packed[:, word[firsts]] = np.bitwise_or.reduceat(lanes << shift, firsts, axis=1)
        if spill.size:
            packed[:, spill_word] |= lanes[:, spill] >> spill_shift
        words[(blocks[rows].astype(np.int64) * 2)[:, None] + np.arange(2 * w)] = packed
    return widths, blocks.astype(np.uint32), words.view(np.uint8)[:int(blocks[-1]) * 16].tobytes()


# Per width: where each of a block's 128 values starts, as a byte offset and a bit shift in it
_BYTE = [np.arange(BLOCK, dtype=np.int64) * w >> 3 for w in range(33)]
_BIT = [(np.arange(BLOCK, dtype=np.uint64) * _U64(w)) & _U64(7) for w in range(33)]
_LANES = np.arange(BLOCK, dtype=np.uint64)
_MANY_BLOCKS = 1500  # from this many blocks on, unpacking width by width is faster (measured)


class Stream:
    """A packed stream as read: ``widths``, ``blocks`` and the data, all views over a mapped file
    (the data with ``_PAD`` readable bytes after it)."""

    __slots__ = ("widths", "blocks", "data", "_words", "size")

    def __init__(self, widths: np.ndarray, blocks: np.ndarray, data: np.ndarray, size: int):
        self.widths = widths
        self.blocks = np.ascontiguousarray(blocks, dtype=np.uint32)
        self.data = data
        self.size = size  # values in the stream
        # every byte offset as the start of an unaligned little-endian uint64 (strides of one byte)
        usable = max(0, len(data) - 7)
        self._words = np.ndarray(shape=(usable,), dtype="<u8", buffer=data, offset=0, strides=(1,))

    def take(self, index: np.ndarray) -> np.ndarray:
        """The values at ``index`` (ascending int64 positions in the stream), as uint64."""
        index = np.ascontiguousarray(index, dtype=np.int64)
        if not index.size:
            return np.zeros(0, dtype=np.uint64)
        if NATIVE is not None:
            out = np.empty(index.size, dtype=np.uint64)
            NATIVE.take(self.data, self.widths, self.blocks, index, out)
            return out
        first, last = int(index[0]) >> _SHIFT, int(index[-1]) >> _SHIFT
        if index.size * 2 >= (last - first + 1) * BLOCK:  # dense: unpack the blocks whole, then pick
            return self._blocks(first, last + 1)[index - first * BLOCK]
        block = index >> _SHIFT
        w = self.widths[block]
        bit = self.blocks[block].astype(np.uint64) << _U64(7)
        bit += (index & (BLOCK - 1)).astype(np.uint64) * w
        if not len(self._words):  # every value is 0
            return np.zeros(index.size, dtype=np.uint64)
        values = self._words[(bit >> _U64(3)).astype(np.intp)] >> (bit & _U64(7))
        values &= _MASKS[w]
        return values

    def range(self, start: int, stop: int) -> np.ndarray:
        """Values ``start`` to ``stop`` (exclusive)."""
        if stop <= start:
            return np.zeros(0, dtype=np.uint64)
        if NATIVE is not None:
            out = np.empty(stop - start, dtype=np.uint64)
            NATIVE.unpack(self.data, self.widths, self.blocks, start, out)
            return out
        first = start >> _SHIFT
        return self._blocks(first, ((stop - 1) >> _SHIFT) + 1)[start - first * BLOCK:stop - first * BLOCK]

    def running_sum(self, start: int, stop: int) -> np.ndarray:
        """Running sums of values ``start`` to ``stop`` (document numbers from their deltas), int64."""
        if NATIVE is not None and stop > start:
            out = np.empty(stop - start, dtype=np.int64)
            NATIVE.running_sum(self.data, self.widths, self.blocks, start, out)
            return out
        return np.cumsum(self.range(start, stop).astype(np.int64))

    def _blocks(self, first: int, last: int) -> np.ndarray:
        """Blocks ``first`` to ``last`` (exclusive) unpacked, as one flat uint64 array: each block's
        values from its width broadcast over the block (few blocks), or the blocks of one width at
        a time, each value's byte and shift the same in every block of that width (many blocks)."""
        widths = self.widths[first:last]
        if not len(self._words):
            return np.zeros((last - first) * BLOCK, dtype=np.uint64)
        if last - first < _MANY_BLOCKS:
            w = widths.astype(np.uint64)[:, None]
            bit = (self.blocks[first:last].astype(np.uint64) << _U64(7))[:, None] + _LANES * w
            values = self._words[(bit >> _U64(3)).astype(np.intp)] >> (bit & _U64(7))
            values &= _MASKS[w]
            return values.reshape(-1)
        out = np.zeros((last - first, BLOCK), dtype=np.uint64)
        starts = self.blocks[first:last].astype(np.int64) << 4  # bytes
        present = np.flatnonzero(np.bincount(widths, minlength=33)) if len(widths) > 1 else widths.astype(np.int64)
        for w in present.tolist():
            if not w:
                continue
            rows = np.flatnonzero(widths == w) if len(present) > 1 else slice(None)
            values = self._words[starts[rows, None] + _BYTE[w]] >> _BIT[w]
            values &= _MASKS[w]
            out[rows] = values
        return out.reshape(-1)


def positions(firsts: Stream, gaps: Stream, rows: np.ndarray, counts: np.ndarray, gap_starts: np.ndarray) -> np.ndarray:
    """The positions of some postings, in row order: each row's first position (``firsts`` at the
    row), then its ``counts - 1`` gaps (``gaps`` from the row's gap start) summed on, as int64."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    more = counts - 1
    total = int(more.sum())
    if NATIVE is not None and rows.size:
        out = np.empty(total + rows.size, dtype=np.int64)
        NATIVE.positions(firsts.data, firsts.widths, firsts.blocks, gaps.data, gaps.widths, gaps.blocks, rows,
                         counts, np.ascontiguousarray(gap_starts, dtype=np.int64), out)
        return out
    heads = firsts.take(rows).astype(np.int64)
    if not total:
        return heads
    index = np.repeat(gap_starts - (np.cumsum(more) - more), more) + np.arange(total, dtype=np.int64)
    return interleave(heads, gaps.take(index).astype(np.int64), counts)


def interleave(heads: np.ndarray, gaps: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Positions of postings given each one's first position (``heads``) and the gaps to its
    following ones (``gaps``, ``counts - 1`` per posting, in posting order)."""
    out_starts = np.cumsum(counts) - counts
    values = np.empty(int(counts.sum()), dtype=np.int64)
    rest = np.ones(values.size, dtype=bool)
    rest[out_starts] = False
    values[rest] = gaps
    values[out_starts] = heads
    running = np.cumsum(values)
    return running - np.repeat(running[out_starts] - heads, counts)


def padding() -> bytes:
    """What a writer puts after a stream's data, so that ``Stream`` can read 8 bytes anywhere in it."""
    return b"\0" * _PAD
