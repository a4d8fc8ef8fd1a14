"""The benchmark's peer engines (SQLite FTS5 trigram / jieba, tantivy + jieba) on six tiny documents:
what each one matches, and the shapes of the three query variants."""

from __future__ import annotations

import pytest

from bench.engines import Doc
from kb.analysis import normalize, words

DOCS = [
    Doc("a.txt", "统战工作综述", "凝心聚力——2021年晋中统战工作综述。围绕助力全市乡村振兴,培育新乡贤11040名。",
        2021, ["榆次区"], ["统战"]),
    Doc("b.txt", "鄉村振興工作報告", "鄉村振興工作報告。推進鄉村振興戰略,祁縣各界踴躍參與。", 2019, ["祁县"], ["农业", "统战"]),
    Doc("c.txt", "宗教工作通知", "关于宗教工作的通知。民族宗教工作。ＡＢＣ公司２０２１年捐款。", 2021, ["榆次区", "祁县"], ["宗教"]),
    Doc("d.txt", "环境保护条例", "环境保护条例。县级以上地方人民政府应当加强环境保护工作。", 2020, [], ["环境"]),
    Doc("e.txt", "政府工作报告", "政府工作报告。民营企业稳步增长,发展民营经济。", None, ["平遥县"], []),
    Doc("f.txt", "森林法实施条例", "森林法實施條例。保護森林資源,禁止毀林開墾。", 2018, [], []),
]
TEXTS = {d.key: normalize(d.text) for d in DOCS}
BY_KEY = {d.key: d for d in DOCS}


def substring_oracle(query: str) -> set[str]:
    """grep: documents whose normalised text contains every space-separated term."""
    terms = normalize(query).split()
    return {k for k, t in TEXTS.items() if all(term in t for term in terms)}


def _engine(name: str, folder):
    from bench.engines.registry import make

    engine = make(name, folder / name)
    engine.build(DOCS)
    engine = make(name, folder / name)  # open in a fresh object, as the runner does
    engine.open()
    return engine


@pytest.fixture(scope="module")
def trigram(tmp_path_factory):
    engine = _engine("fts5-trigram", tmp_path_factory.mktemp("peers"))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def fts5_jieba(tmp_path_factory):
    engine = _engine("fts5-jieba", tmp_path_factory.mktemp("peers"))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def tantivy_jieba(tmp_path_factory):
    pytest.importorskip("tantivy", reason="tantivy (PyPI) is not installed: the tantivy-jieba peer is optional")
    engine = _engine("tantivy-jieba", tmp_path_factory.mktemp("peers"))
    yield engine
    engine.close()


@pytest.fixture(params=["fts5-trigram", "fts5-jieba", "tantivy-jieba"])
def peer(request):
    return request.getfixturevalue({"fts5-trigram": "trigram", "fts5-jieba": "fts5_jieba",
                                    "tantivy-jieba": "tantivy_jieba"}[request.param])


# --- fts5-trigram: exact substrings, whatever their length ------------------------------------------


@pytest.mark.parametrize("query", [
    "村振兴",          # 3 characters across jieba words: trigram index
    "鄉村振興",        # traditional query, simplified and traditional documents
    "森林资源",        # simplified query, traditional document
    "ａｂｃ公司",      # full-width query and document
    "振兴",            # 2 characters: instr() scan
    "村",              # 1 character
    "abc",             # 3 ASCII characters, full-width in the document
    "乡村振兴 工作",    # long + short term, both required
    "振兴 统战",        # two short terms
    "人民政府 民营",    # no document has both
    "政府工作报告",
])
def test_trigram_matches_are_exact_substrings(trigram, query):
    expected = substring_oracle(query)
    assert trigram.matches(query) == expected
    answer = trigram.query(query, "facets")
    assert set(answer.keys) == expected and answer.total == len(expected)


def test_trigram_finds_a_two_character_query(trigram):
    assert trigram.query("振兴").keys and set(trigram.query("振兴").keys) == {"a.txt", "b.txt"}
    assert trigram.query("祁縣").keys == ["b.txt"]  # 2 traditional characters, simplified index


def test_trigram_quoted_term_and_ranking(trigram):
    assert trigram.matches('"人民政府"') == {"d.txt"}
    # no MATCH (short terms only): most occurrences first ("工作" twice in c, once elsewhere)
    assert trigram.query("工作").keys[0] == "c.txt"
    assert trigram.query("宗教").keys == ["c.txt"]


def test_trigram_snippets_on_both_paths(trigram):
    for query in ("乡村振兴", "振兴"):  # MATCH + snippet(), and the instr() fallback window
        answer = trigram.query(query, "full")
        assert answer.snippets and all("<mark>" in s for s in answer.snippets)
    assert "<mark>乡村振兴</mark>" in trigram.query("鄉村振興", "full").snippets[0]


# --- jieba peers: whole words -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fts5_jieba", "tantivy_jieba"])
def test_jieba_peers_match_whole_words(request, name):
    engine = request.getfixturevalue(name)
    assert "环境保护" in words(TEXTS["d.txt"]) and "森林资源" in words(TEXTS["f.txt"])
    assert engine.matches("环境保护") == {"d.txt"}
    assert engine.matches("森林資源") == {"f.txt"}  # traditional query, traditional document
    assert engine.matches("乡村振兴") == {"a.txt", "b.txt"}
    assert engine.matches("乡村振兴 祁县") == {"b.txt"}  # every word required
    assert engine.matches("ＡＢＣ") == {"c.txt"}
    assert engine.matches("村振兴") == set()  # not a word of any text
    assert engine.query("环境保护").keys == ["d.txt"]


# --- every peer: variants ---------------------------------------------------------------------------


def test_variant_shapes(peer):
    query = "乡村振兴"
    expected = {"a.txt", "b.txt"}
    top = peer.query(query, "top10")
    assert set(top.keys) == expected and top.facets is None and top.snippets is None

    faceted = peer.query(query, "facets")
    assert set(faceted.keys) == expected and faceted.total == 2 and faceted.snippets is None
    assert set(faceted.facets) == {"year", "county", "sector"}
    assert faceted.facets["year"] == {"2021": 1, "2019": 1}
    assert faceted.facets["county"] == {"榆次区": 1, "祁县": 1}
    assert faceted.facets["sector"] == {"统战": 2, "农业": 1}

    full = peer.query(query, "full")
    assert full.keys == faceted.keys and full.facets == faceted.facets
    assert len(full.snippets) == len(full.keys) and all("<mark>" in s for s in full.snippets)


def test_facet_counts_sum_over_all_matches(peer):
    query = "工作"  # a jieba word in b, c, d, e; a substring of a too
    matched = peer.matches(query)
    assert {"b.txt", "c.txt", "d.txt", "e.txt"} <= matched
    answer = peer.query(query, "facets")
    assert answer.total == len(matched) and set(answer.keys) == matched
    docs = [BY_KEY[k] for k in matched]
    assert sum(answer.facets["year"].values()) == sum(d.year is not None for d in docs)
    assert sum(answer.facets["county"].values()) == sum(len(d.counties) for d in docs)
    assert sum(answer.facets["sector"].values()) == sum(len(d.sectors) for d in docs)


def test_no_match_and_empty_query(peer):
    for query in ("不存在的词语", "", "   "):
        answer = peer.query(query, "full")
        assert answer.keys == [] and answer.total == 0 and answer.snippets == []
        assert peer.matches(query) == set()
