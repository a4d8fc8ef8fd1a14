"""Each segment's term arrays (kb.termarrays) hold what its Whoosh blocks hold, and search gives
the same answers with them, without them (an index from an older version) and after deletions."""

from __future__ import annotations

import io
from array import array

import numpy as np

from kb.postings import Postings
from kb.whoosh_adapter import positions_in_arrays, segment_postings, term_arrays
from kb.search import KnowledgeBase
from kb.termarrays import EXTENSION, TermArrays, TermArraysWriter
from tests.support import ingest_paths

QUERIES = ("乡村振兴", "营企业", '"统一战线"', "title:报告", "民营 -顺平", "祁县 OR 灵石县", "", "工作")


def _answers(kb: KnowledgeBase):
    return [(r.total, [(h.id, round(h.score, 6)) for h in r.hits], r.facets)
            for r in (kb.search(q, page_size=50) for q in QUERIES)]


def test_round_trip(tmp_path):
    buffer = io.BytesIO()
    writer = TermArraysWriter(buffer)
    writer.add("body", "乡村".encode(), array("I", [1, 5, 9]), array("f", [1.0, 2.0, 7.0]))
    writer.add("body", "振兴".encode(), array("I", [5]), array("f", [3.0]))
    writer.add("grams", b"ab", array("I", [0, 2]), array("f", [1.0, 2.0]),
               b"".join(len(p).to_bytes(4, "big") + array("I", p).tobytes() for p in ([7], [3, 9])))
    writer.add("grams", b"cd", array("I", [2]), array("f", [1.0]), (1).to_bytes(4, "big") + array("I", [4]).tobytes())
    writer.finish()
    path = tmp_path / f"seg{EXTENSION}"
    path.write_bytes(buffer.getvalue())
    arrays = TermArrays(path)
    ids, tfs = arrays.postings("body", "乡村".encode())
    assert ids.tolist() == [1, 5, 9] and tfs.tolist() == [1.0, 2.0, 7.0]
    assert arrays.postings("body", "振兴".encode())[0].tolist() == [5]
    assert arrays.postings("grams", b"ab")[0].tolist() == [0, 2]
    assert [v[4:] for v in arrays.values("grams", b"ab")] == [array("I", [7]).tobytes(), array("I", [3, 9]).tobytes()]
    assert arrays.positions("grams", b"cd")[2].tolist() == [1 << 24, 4]  # count word (big-endian), position
    assert arrays.has_positions("grams") and not arrays.has_positions("body")
    for absent in (b"", b"a", "乡".encode(), "乡村振兴".encode(), b"\xff"):
        assert arrays.postings("body", absent) is None
    assert not arrays.has_field("title")


def test_arrays_equal_the_blocks_for_every_term(samples_index):
    postings = samples_index.snapshot().postings
    checked = 0
    for seg in postings.segments:
        reader = seg.reader
        arrays = term_arrays(reader)
        assert arrays is not None, "every segment the ingest writes has its arrays"
        for fieldname in ("body", "grams", "chars", "title", "counties", "id"):
            for tbytes in reader.lexicon(fieldname):
                ids, weights, _ = segment_postings(reader, fieldname, tbytes, False)
                got_ids, got_tfs = arrays.postings(fieldname, tbytes)
                assert got_ids.tolist() == ids and got_tfs.tolist() == weights, (fieldname, tbytes)
                checked += 1
    assert checked > 1000


def _segmented_index(samples_dir, index_dir):
    """The samples, one segment per file, with one document deleted inside a segment."""
    from kb.ingest import remove

    files = sorted(p for p in samples_dir.rglob("*") if p.suffix in (".txt", ".md"))
    for path in files:
        ingest_paths([path], index_dir)
    kb = KnowledgeBase(index_dir)
    remove(index_dir, [next(kb.documents())["path"]])
    kb.refresh()
    return kb


def test_every_layout_gives_the_same_answers(samples_dir, tmp_path, monkeypatch):
    """Gram positions in the term arrays (now), in Whoosh's blocks beside arrays of documents
    (the first arrays), and in Whoosh's blocks alone (before arrays): the same answers."""
    from kb import index as kbindex
    from kb import schema

    now = _segmented_index(samples_dir, tmp_path / "now")
    assert any(seg.deleted_mask is not None for seg in now.snapshot().postings.segments)  # a deletion is read
    expected = _answers(now)
    with monkeypatch.context() as patch:  # an index made when grams kept their positions in Whoosh
        patch.setattr(schema, "GramText", schema.PositionalText)
        older = _segmented_index(samples_dir, tmp_path / "older")
    assert not positions_in_arrays(older.snapshot().postings.schema, "grams")
    assert _answers(older) == expected
    for path in (tmp_path / "older").glob(f"*{EXTENSION}"):
        path.unlink()
    older.refresh()
    assert all(seg.arrays is None for seg in older.snapshot().postings.segments)
    assert _answers(older) == expected
    kbindex.writer(kbindex.open_index(tmp_path / "now")).commit(optimize=True)  # merged from the arrays
    now.refresh()
    assert len(now.snapshot().postings.segments) == 1
    assert _answers(now) == expected


def test_lost_positions_are_a_clear_error(samples_dir, tmp_path):
    import pytest

    from kb.errors import IndexDamaged

    index_dir = tmp_path / "index"
    ingest_paths([samples_dir], index_dir)
    kb = KnowledgeBase(index_dir)
    assert kb.search('"统一战线"').total
    for path in index_dir.glob(f"*{EXTENSION}"):
        path.write_bytes(b"garbage")
    kb.refresh()
    assert kb.search("统战").total  # documents and counts are still in Whoosh's postings
    with pytest.raises(IndexDamaged, match="re-ingest"):
        kb.search('"统一战线"')
    from kb.cli import kb_main

    assert kb_main(["search", '"统一战线"', "--index", str(index_dir)]) == 1  # said on stderr, no traceback


def test_positions_in_the_arrays_are_the_analysed_ones(samples_index):
    from kb import analysis

    snap = samples_index.snapshot()
    stored = next(samples_index.documents())
    docnum = int(snap.postings.docs("id", stored["id"])[0])
    text = snap.searcher.stored_fields(docnum)["text"]
    expected = analysis.gram_positions(analysis.normalize(text))
    checked = 0
    for seg in snap.postings.segments:
        offset = seg.offset
        if not offset <= docnum < offset + seg.doc_count_all:
            continue
        arrays = seg.arrays
        for gram in list(expected)[:200]:
            ids, tfs, _ = arrays.positions("grams", gram.encode("utf-8"))
            row = int(np.searchsorted(ids, docnum - offset))
            value = arrays.values("grams", gram.encode("utf-8"))[row]
            assert np.frombuffer(value[4:], dtype=np.uint32).tolist() == expected[gram]
            assert int(tfs[row]) == len(expected[gram]) == int.from_bytes(value[:4], "big")
            checked += 1
    assert checked > 50


def test_postings_read_matches_with_and_without_values(samples_index):
    postings: Postings = samples_index.snapshot().postings
    for fieldname, term in (("grams", "工作"), ("body", "统战"), ("chars", "县"), ("title", "报告")):
        plain, with_values = postings.read(fieldname, term), postings.read(fieldname, term, values=True)
        assert len(plain) > 0
        assert np.array_equal(plain.ids, with_values.ids) and np.array_equal(plain.weights, with_values.weights)
        assert len(with_values.values) == len(plain)
