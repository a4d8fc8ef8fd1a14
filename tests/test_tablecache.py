"""The table cache (kb.tablecache): derived tables built once a machine, read back the same."""

import numpy as np
import pytest

from kb import analysis, tablecache, textview


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("KB_TABLE_CACHE", raising=False)
    return tmp_path / "kb"


def _counting(arrays):
    calls = []

    def build():
        calls.append(1)
        return {k: v.copy() for k, v in arrays.items()}

    return build, calls


def test_a_table_is_built_once_then_read_back_equal(cache):
    build, calls = _counting({"a": np.arange(10, dtype=np.uint32), "b": np.array([3, 1], dtype=np.int64)})
    first = tablecache.cached_arrays("t", "stamp-1", build)
    second = tablecache.cached_arrays("t", "stamp-1", build)
    assert len(calls) == 1
    assert set(second) == {"a", "b"}
    for key in first:
        assert np.array_equal(first[key], second[key]) and first[key].dtype == second[key].dtype
    assert len(list(cache.glob("t-*.npz"))) == 1


def test_a_new_stamp_builds_again_and_the_old_file_goes(cache):
    build, calls = _counting({"a": np.zeros(3)})
    tablecache.cached_arrays("t", "stamp-1", build)
    tablecache.cached_arrays("t", "stamp-2", build)
    assert len(calls) == 2
    assert len(list(cache.glob("t-*.npz"))) == 1


def test_a_damaged_file_is_built_again(cache):
    build, calls = _counting({"a": np.arange(5)})
    tablecache.cached_arrays("t", "s", build)
    (path,) = cache.glob("t-*.npz")
    path.write_bytes(path.read_bytes()[:20])
    again = tablecache.cached_arrays("t", "s", build)
    assert len(calls) == 2 and np.array_equal(again["a"], np.arange(5))


def test_an_unwritable_cache_still_gives_the_table(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    build, calls = _counting({"a": np.arange(4)})
    assert np.array_equal(tablecache.cached_arrays("t", "s", build)["a"], np.arange(4))


def test_the_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("KB_TABLE_CACHE", "off")
    build, calls = _counting({"a": np.arange(4)})
    tablecache.cached_arrays("t", "s", build)
    tablecache.cached_arrays("t", "s", build)
    assert len(calls) == 2 and not cache.exists()


def test_strings_survive_the_round_trip():
    strings = ["", "县", "...", "a\nb", "𠀀字"]
    assert tablecache.arrays_to_strings(**tablecache.strings_to_arrays(strings)) == strings


def test_the_real_tables_read_back_as_built(cache):
    """NFKC, traditional -> simplified and the rule view's table: the cached file is the build."""
    for name, build in (("nfkc", analysis._build_nfkc), ("t2s", analysis._build_t2s), ("simplify", textview._build_simplify)):
        built = build()
        tablecache.cached_arrays(name, "s", build)
        read = tablecache.cached_arrays(name, "s", build)  # from the file this time
        assert set(read) == set(built)
        for key in built:
            assert np.array_equal(read[key], built[key]), (name, key)


def test_the_unit_classes_and_topic_generality_read_back_as_built(cache):
    """Two tables every ingest worker needs at its first document, now from the cache: the code
    point classes the gram fields use and the topics' generality of each word."""
    from kb import gramarrays
    from kb.meta import topics

    for clear in (gramarrays._unit_classes.cache_clear, topics.generality.cache_clear):
        clear()
    try:
        built_classes, built_shares = gramarrays._unit_classes(), topics.generality()  # built, then written
        for clear in (gramarrays._unit_classes.cache_clear, topics.generality.cache_clear):
            clear()
        assert {p.name.split("-")[0] for p in cache.glob("*.npz")} >= {"unit", "topic"}
        assert np.array_equal(gramarrays._unit_classes(), built_classes)
        assert np.array_equal(built_classes, gramarrays._classify_code_points())
        read = topics.generality()
        assert read == built_shares == topics._read_generality() and list(read) == list(topics._read_generality())
    finally:
        for clear in (gramarrays._unit_classes.cache_clear, topics.generality.cache_clear):
            clear()
