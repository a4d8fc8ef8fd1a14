"""The compiled inner loops (kb/bitpack_c.c) give exactly what their numpy definitions give, refuse a
damaged stream with a ValueError instead of reading outside it, and search answers the same with or
without them. Skipped, saying why, where the extension is not built (no C compiler)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import bitpack
from kb.bitpack import Stream, pack, padding
from kb.search import KnowledgeBase
from kb.termarrays import TermArrays

native = pytest.mark.skipif(bitpack.NATIVE is None, reason=f"search kernel: {bitpack.kernel()}")


def _stream(values) -> Stream:
    widths, blocks, data = pack(values)
    return Stream(widths, blocks, np.frombuffer(data + padding(), dtype=np.uint8), len(values))


def _both(call):
    """``call()`` with the compiled loops, then with numpy only."""
    compiled, kept = call(), bitpack.NATIVE
    bitpack.NATIVE = None
    try:
        return compiled, call()
    finally:
        bitpack.NATIVE = kept


@native
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=700), st.integers(0, 32), st.data())
def test_unpacking_equals_numpy(values, width, data):
    values = np.array(values, dtype=np.uint64) & np.uint64((1 << width) - 1)  # blocks of every width
    stream = _stream(values)
    n = len(values)
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start, n))
    index = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=50))), dtype=np.int64)
    for call in (lambda: stream.range(start, stop), lambda: stream.take(index),
                 lambda: stream.running_sum(start, stop)):
        compiled, plain = _both(call)
        assert compiled.dtype == plain.dtype and compiled.tolist() == plain.tolist()
    assert stream.range(start, stop).tolist() == values[start:stop].tolist()


@native
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=700), st.integers(0, 32))
def test_packing_equals_numpy(values, width):
    values = np.array(values, dtype=np.uint64) & np.uint64((1 << width) - 1)
    compiled, plain = _both(lambda: pack(values))
    assert [np.asarray(part).tolist() if not isinstance(part, bytes) else part for part in compiled] == \
           [np.asarray(part).tolist() if not isinstance(part, bytes) else part for part in plain]


@native
def test_packing_refuses_values_of_33_bits():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        pack(np.array([1, 2**32], dtype=np.uint64))


@native
def test_positions_and_postings_equal_numpy_on_a_real_segment(samples_index):
    rng = np.random.default_rng(5)
    checked = 0
    for path in sorted(Path(samples_index.index_dir).glob("*.kbp")):
        arrays = TermArrays(path)
        for name in arrays.fieldnames():
            field = arrays.field(name)
            for t in rng.integers(0, len(field), min(len(field), 150)).tolist() if len(field) else []:
                ids, tfs = field.postings(t)
                compiled, plain = _both(lambda: field.postings(t))
                assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(compiled, plain))
                if field.has_positions:
                    rows = np.sort(rng.choice(len(ids), min(len(ids), 5), replace=False))
                    compiled, plain = _both(lambda: field.positions(t, rows, tfs))
                    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(compiled, plain))
                checked += 1
    assert checked > 100


@native
def test_a_damaged_stream_is_a_value_error_not_a_crash():
    values = np.arange(300, dtype=np.uint64)
    widths, blocks, data = pack(values)
    short = np.frombuffer(data[:40], dtype=np.uint8)  # the file ends inside the second block
    stream = Stream(widths, blocks, short, len(values))
    with pytest.raises(ValueError, match="outside the stream"):
        stream.range(0, 300)
    with pytest.raises(ValueError, match="outside the stream"):
        stream.take(np.array([299], dtype=np.int64))
    with pytest.raises(ValueError, match="outside the stream"):  # an index past the last block
        _stream(values).take(np.array([10_000], dtype=np.int64))
    wide = widths.copy()
    wide[0] = 40  # no block is wider than 32 bits
    with pytest.raises(ValueError):
        Stream(wide, blocks, np.frombuffer(data + padding(), dtype=np.uint8), 300).range(0, 10)


@native
def test_search_answers_the_same_without_the_compiled_loops(samples_index):
    queries = ("乡村振兴", "营企业", '"统一战线"', "title:报告", "民营 -顺平", "祁县 OR 灵石县", "工作", "县")

    def answers():
        kb = KnowledgeBase(samples_index.index_dir)  # its own caches, filled by this pass
        try:
            return [(r.total, [(h.id, round(h.score, 6)) for h in r.hits], r.facets, [h.snippet for h in r.hits])
                    for r in (kb.search(q, page_size=50) for q in queries)]
        finally:
            kb.close()

    compiled, plain = _both(answers)
    assert compiled == plain


def test_the_kernel_in_use_is_named():
    said = bitpack.kernel()
    assert said.startswith("compiled") if bitpack.NATIVE is not None else "apt-get install gcc" in said


_sorted_sets = st.lists(st.integers(-(2**62), 2**62), max_size=300, unique=True).map(sorted)


@settings(max_examples=120, deadline=None)
@given(_sorted_sets, _sorted_sets, st.integers(0, 40), st.sampled_from(["int64", "int32"]))
def test_intersecting_sorted_lists_equals_numpy(a, b, shared, dtype):
    # a merge when the two are of a size, a binary search when one is 16x longer; int32 lists take numpy
    from kb.termarrays import intersect_sorted

    a = np.array(sorted(set(a) | set(b[:shared])), dtype=np.int64)
    b = np.array(b, dtype=np.int64)
    if dtype == "int32":
        a, b = (a % 2**31).astype(np.int32), (b % 2**31).astype(np.int32)
        a, b = np.unique(a), np.unique(b)
    expected = np.intersect1d(a, b, assume_unique=True)
    for x, y in ((a, b), (b, a), (a, np.repeat(b, 1)[: len(b) // 20])):
        wanted = np.intersect1d(x, y, assume_unique=True)
        compiled, numpy_only = _both(lambda: intersect_sorted(x, y))
        assert np.array_equal(compiled, wanted) and compiled.dtype == wanted.dtype
        assert np.array_equal(numpy_only, wanted) and numpy_only.dtype == wanted.dtype
    assert np.array_equal(intersect_sorted(a, b), expected)


@native
def test_intersect_refuses_a_short_output():
    a, b = np.arange(10, dtype=np.int64), np.arange(5, 20, dtype=np.int64)
    with pytest.raises(ValueError):
        bitpack.NATIVE.intersect(a, b, np.empty(3, dtype=np.int64))
    long_b = np.arange(0, 10_000, 3, dtype=np.int64)  # 16x longer: the binary-search path
    out = np.empty(10, dtype=np.int64)
    count = bitpack.NATIVE.intersect(a, long_b, out)
    assert out[:count].tolist() == [0, 3, 6, 9]


@native
@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=60), st.sampled_from([(np.uint32, np.int64), (np.uint32, np.uint32),
                                                                (np.int64, np.int64)]), st.randoms())
def test_taking_runs_equals_numpy(counts, dtypes, rnd):
    """A segment's positions regrouped (kb.writer.take_runs): the C copy is numpy's fancy index."""
    from kb.writer import take_runs

    source, wanted = dtypes
    counts = np.array(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    values = np.array([rnd.randrange(2**31) for _ in range(int(counts.sum()))], dtype=source)
    order = np.array(rnd.sample(range(len(counts)), len(counts)), dtype=np.int64)
    compiled, fallback = _both(lambda: take_runs(values, starts[order], counts[order], wanted))
    assert compiled.dtype == fallback.dtype == np.dtype(wanted)
    assert np.array_equal(compiled, fallback)


@native
def test_taking_runs_refuses_runs_outside_the_values():
    values = np.arange(10, dtype=np.int64)
    with pytest.raises(ValueError, match="outside"):
        bitpack.NATIVE.take_runs(values, np.array([8], np.int64), np.array([3], np.int64), np.empty(3, np.int64), 8, 8)
    with pytest.raises(ValueError, match="exactly"):
        bitpack.NATIVE.take_runs(values, np.array([0], np.int64), np.array([3], np.int64), np.empty(4, np.int64), 8, 8)
    with pytest.raises(ValueError, match="widths"):
        bitpack.NATIVE.take_runs(values, np.array([0], np.int64), np.array([3], np.int64), np.empty(3, np.int64), 8, 4)
