"""The term arrays (kb.termarrays, kb.bitpack) hold exactly the analysed streams, the array
versions of the streams (kb.analysis) equal the Python ones, search answers the same however the
index is segmented, and an index of an older format or with lost arrays says so."""

from __future__ import annotations

import unicodedata

import io
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import analysis, gramarrays, textview
from kb.bitpack import Stream, pack, padding
from kb.search import KnowledgeBase
from kb.termarrays import EXTENSION, GRAMS, TERMS, TermArrays, TermArraysWriter
from tests.support import ingest_paths

QUERIES = ("乡村振兴", "营企业", '"统一战线"', "title:报告", "民营 -顺平", "祁县 OR 灵石县", "", "工作", "县")


def _answers(kb: KnowledgeBase):
    return [(r.total, [(h.id, round(h.score, 6)) for h in r.hits], r.facets, [h.snippet for h in r.hits])
            for r in (kb.search(q, page_size=50) for q in QUERIES)]


# --- the codec ---------------------------------------------------------------------------------------


def _stream(values) -> Stream:
    widths, blocks, data = pack(values)
    return Stream(widths, blocks, np.frombuffer(data + padding(), dtype=np.uint8), len(values))


@pytest.mark.parametrize("width", [0, 1, 7, 8, 13, 31, 32])
def test_bitpack_round_trip(width):
    rng = np.random.default_rng(width)
    for n in (1, 127, 128, 129, 1000):
        values = rng.integers(0, 2**width, n, dtype=np.uint64) if width else np.zeros(n, np.uint64)
        values[::7] = (1 << width) - 1 if width else 0  # the widest value in most blocks
        stream = _stream(values)
        assert stream.range(0, n).tolist() == values.tolist()
        some = np.sort(rng.choice(n, max(1, n // 3), replace=False))
        assert stream.take(some).tolist() == values[some].tolist()


def test_bitpack_mixed_blocks_and_size():
    values = np.concatenate([np.zeros(300, np.uint64), np.arange(500, dtype=np.uint64) % 3, np.full(200, 2**31, np.uint64)])
    widths, blocks, data = pack(values)
    assert _stream(values).range(0, len(values)).tolist() == values.tolist()
    assert len(data) < 2 * len(values)  # half of 4 bytes a value
    assert pack(np.zeros(0, np.uint64))[2] == b""


# --- the file ----------------------------------------------------------------------------------------


def test_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    buffer = io.BytesIO()
    writer = TermArraysWriter(buffer, 50)
    count = 300
    keys = np.sort(rng.choice(2**40, count, replace=False)).astype(np.uint64)
    counts = rng.integers(1, 40, count)
    docs = np.concatenate([np.sort(rng.choice(50, c, replace=False)) for c in counts])
    tfs = rng.integers(1, 6, docs.size)
    positions = np.concatenate([np.sort(rng.choice(100_000, t, replace=False)) for t in tfs])
    grams = writer.field("grams", GRAMS, True, True)
    half = count // 2
    split, split_positions = counts[:half].sum(), tfs[:counts[:half].sum()].sum()
    grams.add(keys[:half], counts[:half], docs[:split], tfs[:split], positions[:split_positions])  # in two pieces
    grams.add(keys[half:], counts[half:], docs[split:], tfs[split:], positions[split_positions:])
    terms = sorted({f"词{i}".encode() for i in range(100)} | {b"abcdefghij", b"abcdefghik", b"abcdefgh"})
    words = writer.field("body", TERMS, True, False)
    words.add(terms, np.ones(len(terms), np.int64), np.arange(len(terms)) % 50, np.arange(len(terms)) % 3 + 1)
    writer.field("id", TERMS, False, False).add([b"x", b"y"], [2, 1], [3, 7, 9])
    writer.doc_array("length:body", np.arange(50, dtype=np.uint8))
    writer.finish()
    path = tmp_path / f"seg{EXTENSION}"
    path.write_bytes(buffer.getvalue())
    arrays = TermArrays(path)
    field = arrays.field("grams")
    starts, position_starts = np.concatenate(([0], np.cumsum(counts))), np.concatenate(([0], np.cumsum(tfs)))
    for t in range(count):
        ids, got_tfs = field.postings(t)
        assert ids.tolist() == docs[starts[t]:starts[t + 1]].tolist()
        assert got_tfs.tolist() == tfs[starts[t]:starts[t + 1]].tolist()
        rows = np.sort(rng.choice(len(ids), max(1, len(ids) // 2), replace=False))
        _, got = field.positions(t, rows, got_tfs)
        expected = np.concatenate([positions[position_starts[starts[t] + r]:position_starts[starts[t] + r + 1]] for r in rows])
        assert got.tolist() == expected.tolist()
    term_of, all_docs, all_tfs, all_positions = field.all_postings()
    assert all_docs.tolist() == docs.tolist() and all_tfs.tolist() == tfs.tolist()
    assert all_positions.tolist() == positions.tolist() and term_of.tolist() == np.repeat(np.arange(count), counts).tolist()
    body = arrays.field("body")
    for i, term in enumerate(terms):
        assert body.find(term.decode()) == i
    for absent in ("nope", "abcdefg", "abcdefghijk", "", "词"):
        assert body.find(absent) == -1
    assert arrays.keys("body") == terms
    assert arrays.postings("id", "x")[0].tolist() == [3, 7] and arrays.postings("id", "y")[0].tolist() == [9]
    assert arrays.doc_array("length:body").tolist() == list(range(50))
    assert TermArrays.open(tmp_path / "missing.kbp") is None


# --- the streams as arrays ---------------------------------------------------------------------------


def _as_dict(keys, tfs, positions=None):
    out, at = {}, 0
    for key, n in zip(keys.tolist(), tfs.tolist()):
        out[gramarrays.key_term(key)] = positions[at:at + n].tolist() if positions is not None else n
        at += n
    return out


def _title_reference(norm):
    expected = analysis.gram_positions(norm)
    for start, run in analysis.unit_runs(norm):
        for i, ch in enumerate(run):
            expected.setdefault(ch, []).append(start + i)
    return {k: sorted(v) for k, v in expected.items()}


def _check_streams(norm: str):
    assert _as_dict(*gramarrays.gram_arrays(norm)) == analysis.gram_positions(norm)
    assert _as_dict(*gramarrays.char_arrays(norm)) == analysis.char_counts(norm)
    assert _as_dict(*gramarrays.title_gram_arrays(norm)) == _title_reference(norm)
    assert gramarrays.unit_string(norm) == analysis.units(norm)


TRICKY = "中国 人民，政府。a_b  Ｃ１２　３…①㈠ｶﾞ한\u0301e\u0301\ufb01\U00020000\U0002F800\u00a0\t\n-—"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=400))
def test_array_streams_equal_the_python_streams(text):
    _check_streams(analysis.normalize(text))


def test_array_streams_on_the_samples(samples_dir):
    for path in sorted(samples_dir.rglob("*.txt")) + sorted(samples_dir.rglob("*.md")):
        _check_streams(analysis.normalize(path.read_text(encoding="utf-8", errors="replace")))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), min_size=300, max_size=700))
def test_normalize_of_long_texts_equals_its_definition(text):
    assert analysis.normalize(text) == analysis.normalize_reference(text)
    assert analysis.fold_width(text) == text.translate(analysis._WIDTH_FOLD)
    assert analysis.nfkc(text) == unicodedata.normalize("NFKC", text)
    assert textview.simplified(text) == text.translate(textview._simplify_table())


def test_normalize_every_bmp_character_in_context():
    filler = "政府" * 200
    for start in range(0, 0x10000, 512):
        chars = [chr(cp) for cp in range(start, start + 512) if not 0xD800 <= cp < 0xE000]
        for ch in chars:
            text = f"a{ch}{ch}中{ch}e" + filler
            assert analysis.normalize(text) == analysis.normalize_reference(text), hex(ord(ch))
            assert analysis.nfkc(text) == unicodedata.normalize("NFKC", text), hex(ord(ch))


def test_astral_ideographs_are_left_alone():
    import unicodedata

    for start, end in analysis._ASTRAL_IDEOGRAPHS:
        for cp in range(start, end, 97):
            ch = chr(cp)
            assert unicodedata.normalize("NFKC", ch) == ch and not unicodedata.combining(ch)


def test_unit_classes_match_the_regular_expressions():
    classes = gramarrays._unit_classes()
    for cp in list(range(0, 0x3400)) + list(range(0x3FF00, 0x40100)) + [0xE0001, 0xF0000, 0x10FFFF]:
        ch = chr(cp)
        expected = 1 if ch.isalnum() else 0 if ch.isspace() else 2
        assert classes[cp] == expected, hex(cp)


# --- the index ---------------------------------------------------------------------------------------


def test_positions_in_the_arrays_are_the_analysed_ones(samples_index):
    snap = samples_index.snapshot()
    stored = next(samples_index.documents())
    docnum = int(snap.postings.docs("id", stored["id"])[0])
    norm = analysis.normalize(snap.text(docnum))
    expected = analysis.gram_positions(norm)
    checked = 0
    for gram in list(expected)[:300]:
        keys = snap.postings.start_keys("grams", gram, np.array([docnum]), 0)
        assert (keys & 0xFFFFFFFF).tolist() == expected[gram]
        checked += 1
    assert checked > 50
    words = analysis.word_positions(norm)
    for word, positions in list(words.items())[:100]:
        term = snap.postings.read("body", word)
        assert int(term.weights[np.searchsorted(term.ids, docnum)]) == len(positions)


def test_whoosh_queries_read_the_arrays(samples_index):
    """Whoosh's own Term and Phrase queries see the analysed fields (kb.codec.ArrayTermsReader)."""
    from whoosh.query import Phrase, Term

    snap = samples_index.snapshot()
    searcher = snap.searcher
    for field, term in (("grams", "统战"), ("chars", "县"), ("body", "统战"), ("title", "报告"), ("id", snap.stored(0)["id"])):
        assert set(searcher.docs_for_query(Term(field, term))) == set(snap.postings.docs(field, term).tolist())
    phrase = set(searcher.docs_for_query(Phrase("grams", ["统一", "一战", "战线"])))  # bigrams one apart
    exact = {int(snap.postings.docs("id", h.id)[0]) for h in samples_index.search('"统一战线"', page_size=100).hits}
    assert phrase and phrase == exact


def _segmented_index(samples_dir, index_dir):
    """The samples, a segment per file (some merged on the way), one document deleted in a segment."""
    from kb.ingest import remove

    for path in sorted(p for p in samples_dir.rglob("*") if p.suffix in (".txt", ".md")):
        ingest_paths([path], index_dir)
    kb = KnowledgeBase(index_dir)
    remove(index_dir, [next(kb.documents())["path"]])
    kb.refresh()
    return kb


def test_every_layout_gives_the_same_answers(samples_dir, tmp_path):
    """Many segments with a deletion, merged into one, and ingested in one go: the same answers."""
    from kb import index as kbindex
    from kb.ingest import remove

    many = _segmented_index(samples_dir, tmp_path / "many")
    assert len(many.snapshot().postings.segments) > 1
    assert any(seg.deleted_mask is not None for seg in many.snapshot().postings.segments)
    expected = _answers(many)
    kbindex.writer(kbindex.open_index(tmp_path / "many")).commit(optimize=True)  # merged from the arrays
    many.refresh()
    assert len(many.snapshot().postings.segments) == 1
    assert _answers(many) == expected
    files = sorted(p for p in samples_dir.rglob("*") if p.suffix in (".txt", ".md"))
    ingest_paths(files, tmp_path / "one")
    one = KnowledgeBase(tmp_path / "one")
    kept = {d["path"] for d in many.documents()}
    remove(tmp_path / "one", [d["path"] for d in one.documents() if d["path"] not in kept])
    one.refresh()
    listing = QUERIES.index("")  # a plain listing breaks ties by document number: the same set and counts
    got = _answers(one)
    assert got[:listing] + got[listing + 1:] == expected[:listing] + expected[listing + 1:]
    assert (got[listing][0], sorted(got[listing][1]), got[listing][2]) == \
        (expected[listing][0], sorted(expected[listing][1]), expected[listing][2])


def test_lost_term_arrays_are_a_clear_error(samples_dir, tmp_path):
    from kb.cli import kb_main
    from kb.errors import IndexDamaged

    index_dir = tmp_path / "index"
    ingest_paths([samples_dir], index_dir)
    kb = KnowledgeBase(index_dir)
    assert kb.search('"统一战线"').total
    for path in index_dir.glob(f"*{EXTENSION}"):
        path.write_bytes(b"garbage")
    kb.refresh()
    with pytest.raises(IndexDamaged, match="re-ingest"):
        kb.search('"统一战线"')
    assert kb_main(["search", '"统一战线"', "--index", str(index_dir)]) == 1  # said on stderr, no traceback


def test_a_segment_merged_away_while_a_snapshot_opens_is_retried_not_damage(samples_dir, tmp_path, monkeypatch):
    """A commit between opening a generation and reading its term arrays (the merge deleted them)
    is a stale snapshot: the search answers from the newest generation, not with a 503."""
    from kb import index as kbindex
    from kb import search as kbsearch
    from kb.errors import IndexDamaged
    from kb.whoosh_adapter import segments_of

    index_dir = tmp_path / "index"
    many = _segmented_index(samples_dir, index_dir)
    expected = _answers(many)
    many.close()
    stale = kbindex.open_index(index_dir).searcher()  # the generation as a request opened it
    kbindex.writer(kbindex.open_index(index_dir)).commit(optimize=True)  # a commit merges and deletes
    assert not stale.up_to_date()
    with pytest.raises(FileNotFoundError):
        segments_of(stale)

    opened = []
    real_open = kbindex.open_index

    def open_stale_first(folder):
        ix = real_open(folder)
        if not opened:  # the first request opens the generation the merge has just replaced
            opened.append(ix)
            ix.searcher = lambda: stale
        return ix

    monkeypatch.setattr(kbsearch.kbindex, "open_index", open_stale_first)
    kb = KnowledgeBase(index_dir)
    assert _answers(kb) == expected
    assert opened

    current = kbindex.open_index(index_dir).searcher()  # a file lost from the newest generation is damage
    for path in index_dir.glob(f"*{EXTENSION}"):
        path.unlink()
    with pytest.raises(IndexDamaged, match="re-ingest"):
        segments_of(current)


def test_an_index_of_the_older_format_says_re_ingest(tmp_path, capsys):
    """Format 1 (analysed fields in Whoosh's postings) is refused with one message, by search and ingest."""
    from whoosh import fields, index

    from kb import schema
    from kb.cli import kb_main
    from kb.ingest import Ingest

    old = fields.Schema(id=fields.ID(stored=True, unique=True), path=fields.ID(stored=True),
                        grams=schema.GramText(analyzer=analysis.gram_analyzer(), phrase=False), text=fields.STORED())
    index_dir = tmp_path / "old"
    index_dir.mkdir()
    ix = index.create_in(str(index_dir), old, indexname="kb")
    writer = ix.writer()
    writer.add_document(id="a", path="/a.txt", grams="统一战线", text="统一战线")
    writer.commit()
    with pytest.raises(schema.IndexOutdated, match="re-ingest"):
        KnowledgeBase(index_dir).search("统一")
    (tmp_path / "new.txt").write_text("统一战线工作", encoding="utf-8")
    with pytest.raises(schema.IndexOutdated, match="older version"):
        Ingest(index_dir, jobs=1, report=lambda line: None).run([tmp_path / "new.txt"])
    assert kb_main(["search", "统一", "--index", str(index_dir)]) == 1
    assert "re-ingest" in capsys.readouterr().err


def test_stored_fields_are_read_safely_from_many_threads(samples_index):
    snap = samples_index.snapshot()
    docnums = np.flatnonzero(snap.live_mask).tolist()
    expected = {d: (snap.stored(d), snap.text(d)) for d in docnums}
    errors = []

    def read(seed: int):
        rng = np.random.default_rng(seed)
        for _ in range(300):
            d = int(rng.choice(docnums))
            if (dict(snap.searcher.stored_fields(d)), snap.text(d)) != expected[d]:
                errors.append(d)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@settings(max_examples=80, deadline=None)
@given(st.sets(st.integers(0, 2**40)), st.sets(st.integers(0, 2**40)))
def test_union_sorted_is_union1d(a, b):
    from kb.termarrays import union_sorted

    left, right = np.array(sorted(a), dtype=np.int64), np.array(sorted(b), dtype=np.int64)
    assert union_sorted(left, right).tolist() == np.union1d(left, right).tolist()
