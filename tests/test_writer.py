"""kb.writer: the keyword fields' W3 bytes are those Whoosh's own writer objects produce, and the
array pool writes every posting it is given, sorted by (term, document), merges included."""

from __future__ import annotations

import io
import random
from array import array

import numpy as np
import pytest
from whoosh import formats
from whoosh.codec.whoosh3 import W3PostingsWriter, W3TermInfo
from whoosh.filedb.structfile import StructFile

from kb import analysis, gramarrays
from kb.schema import ArrayPositions, Grams, build_schema
from kb.termarrays import TermArrays
from kb.writer import BLOCK, INLINE_MAX, ArrayPool, blocks_entry, inlined_entry


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


@pytest.mark.parametrize("fmt", [build_schema()["id"].format, build_schema()["counties"].format, formats.Frequency()],
                         ids=["id", "counties", "frequency"])
@pytest.mark.parametrize("n", [1, 2, 3, BLOCK, BLOCK + 1, 3 * BLOCK + 7])
def test_term_bytes_equal_whooshs_own(fmt, n):
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


TEXTS = ["统一战线工作，乡村振兴。统一战线", "民营经济 发展民营经济", "a b c，统一", "", "县县县县"]


def _pool_of(texts, docnums=None) -> ArrayPool:
    pool = ArrayPool(build_schema())
    for docnum, text in zip(docnums or range(len(texts)), texts):
        norm = analysis.normalize(text)
        pool.add_grams("grams", docnum, *gramarrays.gram_arrays(norm))
        keys, tfs = gramarrays.char_arrays(norm)
        pool.add_grams("chars", docnum, keys, tfs, None)
        pool.add_length("body", docnum, pool.add_words("body", docnum, analysis.words(norm)))
        pool.add_terms("counties", docnum, ["祁县", f"县{docnum % 2}"])
        pool.add_number("year", docnum, 2000 + docnum)
    return pool


def _read(pool: ArrayPool, doc_count: int, tmp_path) -> TermArrays:
    path = tmp_path / f"seg{random.random()}.kbp"
    with open(path, "wb") as f:
        pool.write(f, doc_count)
    return TermArrays(path)


def _expected(texts, docnums=None):
    grams, words = {}, {}
    for docnum, text in zip(docnums or range(len(texts)), texts):
        norm = analysis.normalize(text)
        for gram, positions in analysis.gram_positions(norm).items():
            grams.setdefault(gram, []).append((docnum, positions))
        for word, positions in analysis.word_positions(norm).items():
            words.setdefault(word, []).append((docnum, positions))
    return grams, words


def _contents(arrays: TermArrays, fieldname: str) -> dict:
    field = arrays.field(fieldname)
    out = {}
    for t in range(len(field)):
        ids, tfs = field.postings(t)
        counts, positions = field.positions(t, np.arange(len(ids)), tfs)
        ends = np.cumsum(counts).tolist()
        out[field.term(t).decode("utf-8")] = [(d, positions[a:b].tolist())
                                             for d, a, b in zip(ids.tolist(), [0] + ends[:-1], ends)]
    return out


def test_the_pool_writes_every_posting(tmp_path):
    arrays = _read(_pool_of(TEXTS), len(TEXTS), tmp_path)
    grams, words = _expected(TEXTS)
    assert _contents(arrays, "grams") == grams
    assert _contents(arrays, "body") == words
    assert arrays.keys("counties") == sorted(t.encode() for t in ("祁县", "县0", "县1"))
    assert arrays.postings("counties", "祁县")[0].tolist() == list(range(len(TEXTS)))
    assert arrays.doc_array("number:year").tolist() == [2000 + d for d in range(len(TEXTS))]
    assert arrays.doc_array("length:body")[3] == 0 and arrays.doc_array("length:body")[0] > 0


def test_merging_renumbers_and_drops_deleted(tmp_path):
    first = _read(_pool_of(TEXTS), len(TEXTS), tmp_path)
    merged = ArrayPool(build_schema())
    docmap = np.array([0, -1, 1, 2, -1])  # documents 1 and 4 deleted
    lengths = {"body": first.doc_array("length:body")}
    numbers = {"year": first.doc_array("number:year")}
    merged.add_segment(first, docmap, lengths, numbers)
    merged.add_segment(first, np.array([3, 4, 5, 6, 7]), lengths, numbers)  # the same segment again, after
    arrays = _read(merged, 8, tmp_path)
    kept = [TEXTS[0], TEXTS[2], TEXTS[3]] + TEXTS
    grams, words = _expected(kept)
    assert _contents(arrays, "grams") == grams
    assert _contents(arrays, "body") == words
    assert arrays.doc_array("number:year").tolist() == [2000, 2002, 2003, 2000, 2001, 2002, 2003, 2004]


def test_the_pool_is_sorted_in_pieces(tmp_path, monkeypatch):
    """A field too big for one sorting pass is written in pieces of whole terms: the same file."""
    from kb import writer

    texts = [f"统一战线{i}工作{i % 7}乡村振兴" * 5 for i in range(60)]
    whole = _read(_pool_of(texts), len(texts), tmp_path)
    monkeypatch.setattr(writer, "_CHUNK_POSTINGS", 50)
    pieces = _read(_pool_of(texts), len(texts), tmp_path)
    assert _contents(pieces, "grams") == _contents(whole, "grams")
    assert _contents(pieces, "body") == _contents(whole, "body")


def test_a_merge_on_threads_writes_the_same_file(tmp_path, monkeypatch):
    """A merge's pieces made on two threads, a few ahead, are written in order: the file is byte for
    byte the one the same merge writes on one thread (deletions, renumbering and pieces included)."""
    from kb import writer

    texts = [f"统一战线{i}工作{i % 7}乡村振兴" * 5 for i in range(60)]
    first = _read(_pool_of(texts), len(texts), tmp_path)
    lengths = {"body": first.doc_array("length:body")}
    numbers = {"year": first.doc_array("number:year")}
    docmap = np.array([-1 if d % 9 == 4 else d for d in range(len(texts))])
    docmap[docmap >= 0] = np.arange(int((docmap >= 0).sum()))
    kept = int((docmap >= 0).sum())

    def merged(threads: int) -> bytes:
        monkeypatch.setattr(writer, "MERGE_THREADS", threads)
        pool = ArrayPool(build_schema())
        pool.add_segment(first, docmap, lengths, numbers)
        pool.add_segment(first, np.arange(len(texts)) + kept, lengths, numbers)
        path = tmp_path / f"merged-{threads}.kbp"
        with open(path, "wb") as f:
            pool.write(f, kept + len(texts))
        return path.read_bytes()

    monkeypatch.setattr(writer, "_PARALLEL_MIN_POSTINGS", 40)  # many pieces, more than are in flight
    monkeypatch.setattr(writer, "_PARALLEL_CHUNK_POSTINGS", 60)
    made = []
    real = writer._in_order
    monkeypatch.setattr(writer, "_in_order", lambda make, items, threads, ahead=3:
                        made.append((len(items), threads is not None)) or real(make, items, threads, ahead))
    on_threads = merged(2)
    assert any(pieces > 3 and threaded for pieces, threaded in made)
    assert on_threads == merged(1)
    arrays = TermArrays(tmp_path / "merged-2.kbp")
    grams, _ = _expected([t for t, d in zip(texts, docmap) if d >= 0] + texts)
    assert _contents(arrays, "grams") == grams


def test_few_keyword_terms_kept_in_lists_write_the_same_file(tmp_path, monkeypatch):
    """A document's few keyword terms (add_terms) go to Python lists, not arrays of one item: the file
    is byte for byte the one the array path writes (repeated terms included)."""
    from kb import writer

    def written(few: int) -> bytes:
        monkeypatch.setattr(writer, "_FEW_TERMS", few)
        pool = _pool_of(TEXTS)
        for docnum in range(len(TEXTS)):
            pool.add_terms("sectors", docnum, ["教育", "教育", f"农业{docnum % 3}"][: docnum % 4])
        path = tmp_path / f"few-{few}.kbp"
        with open(path, "wb") as f:
            pool.write(f, len(TEXTS))
        return path.read_bytes()

    assert written(64) == written(0)
    arrays = TermArrays(tmp_path / "few-64.kbp")
    assert arrays.postings("sectors", "教育")[0].tolist() == [d for d in range(len(TEXTS)) if d % 4]


def test_grams_value_counts_positions():
    keys, tfs, positions = gramarrays.gram_arrays(analysis.normalize("统一战线统一"))
    assert len(Grams(keys, tfs, positions)) == 5


def test_a_merge_reads_each_keyword_field_in_one_pass_as_by_lookups(samples_index):
    """``field_postings`` (one pass along the term table, what merges read) gives every term's
    postings as looking each term up does."""
    from kb import index as kbindex
    from kb.schema import ArrayField
    from kb.whoosh_adapter import field_postings, segment_postings

    ix = kbindex.open_index(samples_index.index_dir)
    with ix.searcher() as searcher:
        seen = 0
        for reader, _ in searcher.reader().leaf_readers():
            for name in sorted(reader.indexed_field_names()):
                if isinstance(ix.schema[name], ArrayField):
                    continue
                in_one_pass = [(t, ids, values) for t, ids, _, values in field_postings(reader, name, True)]
                by_lookup = []
                for t in reader.lexicon(name):
                    ids, _, values = segment_postings(reader, name, t, True)
                    by_lookup.append((t, ids, values))
                assert in_one_pass == by_lookup, name
                seen += len(in_one_pass)
        assert seen > 50
        assert list(field_postings(reader, "no such field", True)) == []
