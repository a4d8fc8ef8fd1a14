"""Search: grep-complete recall, exact matches first, query syntax, facets, snippets."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import analysis
from kb.errors import QueryError
from kb.query import parse

DOCS = {
    "a.txt": "凝心聚力——2021年晋中统战工作综述\n围绕助力全市乡村振兴,培育新乡贤11040名。民营企业家积极履行社会责任。\n2021年12月30日",
    "b.txt": "鄉村振興工作報告\n推進鄉村振興戰略,祁縣各界踴躍參與。\n2019年5月1日",
    "c.txt": "政 府 工 作 报 告\n乡村建设与振兴并重,发展民营经济,民营企业稳步增长。\n2018年3月1日",
    "d.txt": "关于宗教工作的通知\n民族宗教工作。ＡＢＣ公司２０２１年捐款。\n2021年6月1日",
    "e.txt": "关于振兴乡村的意见\n乡村、振兴、乡村;振兴,乡村。振兴:多次提到振兴和乡村。\n2020年1月1日",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    from support import ingest_paths
    from kb.search import KnowledgeBase

    root = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    ingest_paths([root], index_dir, batch_meta={})
    return KnowledgeBase(index_dir)


def names(results) -> list[str]:
    return [hit.path.rsplit("/", 1)[-1] for hit in results.hits]


# --- query syntax ----------------------------------------------------------------------------------


def test_parse_syntax():
    q = parse('乡村振兴 民营 OR 宗教 -通知 NOT 报告 "统一 战线" title:综述 标题:通知')
    assert [[t.text for t in c.terms] for c in q.positive] == [["乡村振兴"], ["民营", "宗教"], ["统一 战线"], ["综述"], ["通知"]]
    assert [[t.text for t in c.terms] for c in q.negative] == [["通知"], ["报告"]]
    assert q.positive[2].terms[0].phrase and q.positive[3].terms[0].in_title


@pytest.mark.parametrize("text", ['"unbalanced', "OR", "- OR", "NOT", '""', "title:", "-", "AND OR NOT"])
def test_odd_queries_parse(text):
    parse(text)


def test_too_long_query_is_a_clear_error():
    with pytest.raises(QueryError, match="too long"):
        parse("统战" * 300)


# --- matching --------------------------------------------------------------------------------------


def test_substring_inside_a_word_is_found(kb):
    assert names(kb.search("营企业")) == ["a.txt", "c.txt"] or set(names(kb.search("营企业"))) == {"a.txt", "c.txt"}
    assert set(names(kb.search("村振兴"))) == {"a.txt", "b.txt"}


def test_traditional_and_simplified_find_each_other(kb):
    assert set(names(kb.search("鄉村振興"))) == set(names(kb.search("乡村振兴"))) == {"a.txt", "b.txt"}
    assert "b.txt" in names(kb.search("祁县"))


def test_full_width_and_half_width_find_each_other(kb):
    assert names(kb.search("abc公司")) == ["d.txt"]
    assert set(names(kb.search("２０２１年"))) == set(names(kb.search("2021年")))


def test_spaced_title_matches(kb):
    assert names(kb.search("政府工作报告")) == ["c.txt"]
    assert names(kb.search('"政府工作报告"')) == ["c.txt"]


def test_phrase_requires_the_exact_string(kb):
    assert set(names(kb.search('"乡村振兴"'))) == {"a.txt", "b.txt"}  # e.txt has the words, not the string
    assert "e.txt" in names(kb.search("乡村 振兴"))


def test_exact_string_ranks_above_scattered_words(kb):
    results = kb.search("振兴乡村")
    assert names(results)[0] == "e.txt"  # only e.txt has 振兴乡村 exactly... as 振兴乡村 in its title
    results = kb.search("乡村振兴战略")
    assert names(results)[0] == "b.txt"


def test_or_not_and_title(kb):
    assert set(names(kb.search("祁县 OR 宗教"))) == {"b.txt", "d.txt"}
    assert "d.txt" not in names(kb.search("工作 -通知"))
    assert "d.txt" not in names(kb.search("工作 NOT 通知"))
    assert names(kb.search("title:综述")) == ["a.txt"]
    assert names(kb.search("title:宗教")) == ["d.txt"]  # body-only matches do not count


def test_one_character_query(kb):
    assert set(names(kb.search("祁"))) == {"b.txt"}
    assert len(kb.search("村").hits) == 4


def test_punctuation_only_terms_are_ignored(kb):
    assert kb.search("乡村振兴 ,").total == kb.search("乡村振兴").total


def test_empty_query_lists_documents_newest_first(kb):
    results = kb.search("")
    assert results.total == len(DOCS)
    assert [h.year for h in results.hits] == sorted([h.year for h in results.hits], reverse=True)


# --- filters, facets, sorting ------------------------------------------------------------------


def test_year_filter_and_range(kb):
    assert {h.year for h in kb.search("", filters={"year": [2021]}).hits} == {2021}
    assert {h.year for h in kb.search("", years="2019-2020").hits} == {2019, 2020}
    assert {h.year for h in kb.search("", years="2020-").hits} == {2020, 2021}
    assert {h.year for h in kb.search("", filters={"year": [2018, 2019]}).hits} == {2018, 2019}


def test_facet_counts_cover_the_whole_result_set(kb):
    results = kb.search("乡村", page_size=1)
    assert results.total == 4 and len(results.hits) == 1
    assert sum(results.facets["year"].values()) == 4
    assert results.facets["year"] == {"2021": 1, "2020": 1, "2019": 1, "2018": 1}


def test_bad_parameters_are_query_errors(kb):
    for kwargs in ({"sort": "sideways"}, {"page": 0}, {"page_size": 10_001}, {"years": "abc"}, {"years": "2022-2018"},
                   {"filters": {"colour": ["red"]}}, {"filters": {"year": ["x"]}}):
        with pytest.raises(QueryError):
            kb.search("乡村", **kwargs)


def test_sorting(kb):
    newest = kb.search("工作", sort="newest")
    assert [h.year for h in newest.hits] == sorted([h.year for h in newest.hits], reverse=True)
    oldest = kb.search("工作", sort="oldest")
    assert [h.year for h in oldest.hits] == sorted([h.year for h in oldest.hits])


def test_paging(kb):
    everything = [h.id for h in kb.search("", page_size=100).hits]
    pages = [h.id for p in (1, 2, 3) for h in kb.search("", page=p, page_size=2).hits]
    assert pages == everything and kb.search("", page=9, page_size=2).hits == []


# --- snippets --------------------------------------------------------------------------------------


def test_snippet_marks_matches_and_escapes(tmp_path):
    from kb.highlight import snippet

    text = "前文<script>alert(1)</script>鄉村 振興是重点"
    html = snippet(text, ("乡村振兴",))
    assert "<mark>鄉村 振興</mark>" in html and "<script>" not in html and "&lt;script&gt;" in html


def test_hits_carry_highlighted_snippets(kb):
    hit = kb.search("营企业").hits[0]
    assert "<mark>营企业</mark>" in hit.snippet
    hit = kb.search("鄉村振興").hits[0]
    assert "<mark>" in hit.snippet


# --- passage search -------------------------------------------------------------------------------


def test_like_finds_similar_documents(kb):
    results = kb.search("各地推进乡村振兴战略,发展民营经济和民营企业", like=True)
    assert results.total >= 3
    assert names(results)[0] in {"a.txt", "c.txt", "b.txt"}
    assert kb.search("", like=True).total == 0


def test_within_restricts_to_given_ids(kb):
    some = {h.id for h in kb.search("乡村").hits[:2]}
    assert {h.id for h in kb.search("乡村", within=some).hits} == some


# --- recall: every document that contains the string, as grep would -------------------------------


def _oracle(kb, query: str) -> set[str]:
    norm = analysis.normalize(query)
    return {d["id"] for d in (kb.document(x["id"]) for x in kb.documents()) if norm in analysis.normalize(d["text"])}


def test_random_substrings_find_every_containing_document(samples_index):
    rng = random.Random(42)
    docs = [samples_index.document(d["id"]) for d in samples_index.documents()]
    checked = 0
    while checked < 300:
        text = rng.choice(docs)["text"]
        n = rng.randint(2, 6)
        start = rng.randrange(0, max(1, len(text) - n))
        sub = text[start:start + n]
        if not analysis.units(analysis.normalize(sub)) or '"' in sub or "“" in sub:
            continue  # punctuation and whitespace alone are not a search
        quoted = f'"{sub}"' if not any(ch.isspace() for ch in sub) else sub
        found = {h.id for h in samples_index.search(quoted, page_size=100, snippets=False).hits}
        total = samples_index.search(quoted, page_size=1, snippets=False).total
        expected = _oracle(samples_index, sub)
        assert expected <= found or total > 100, (sub, expected - found)
        checked += 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_substring_recall(kb, data):
    """Hypothesis: any 2-6 character substring of any document finds that document."""
    name = data.draw(st.sampled_from(sorted(DOCS)))
    doc = next(kb.document(d["id"]) for d in kb.documents() if d["path"].endswith(name))
    text = doc["text"]
    n = data.draw(st.integers(2, 6))
    start = data.draw(st.integers(0, max(0, len(text) - n)))
    sub = text[start:start + n]
    if not analysis.units(analysis.normalize(sub)) or '"' in sub:
        return
    query = f'"{sub}"' if not any(ch.isspace() for ch in sub) else sub
    assert doc["id"] in {h.id for h in kb.search(query, page_size=100, snippets=False).hits}


def test_facet_counts_equal_counting_every_hit(samples_index):
    """Facet counts (array counting over the index's postings) agree with counting the stored
    metadata of every matching document, one by one."""
    from collections import Counter

    from kb.facets import FACETS

    for query in ["", "统战", "乡村振兴 OR 民营经济", "工作", "-工作", "title:总结"]:
        facets = samples_index.search(query, page_size=1).facets
        expected = {name: Counter() for name in FACETS}
        for stored in samples_index.documents():
            if stored["id"] not in {h.id for h in samples_index.iter_hits(query)}:
                continue
            if stored.get("year"):
                expected["year"][str(stored["year"])] += 1
            for name, facet in FACETS.items():
                if name != "year":
                    expected[name].update(stored.get(facet.field) or [])
        assert facets == {name: dict(counts) for name, counts in expected.items()}, query


def test_whoosh_phrase_queries_work_on_word_positions(kb):
    """Word positions count words (stop words left out), so Whoosh's own Phrase query finds
    adjacent words and nothing else."""
    from whoosh.query import Phrase

    from kb import index as kbindex

    ix = kbindex.open_index(kb.index_dir)
    with ix.searcher() as searcher:
        def found(*words):
            return {searcher.stored_fields(d)["path"].rsplit("/", 1)[-1]
                    for d in searcher.docs_for_query(Phrase("body", list(words)))}

        assert found("发展", "民营经济") == {"c.txt"}  # 发展民营经济
        assert found("民营经济", "民营企业") == {"c.txt"}  # 民营经济,民营企业 (punctuation is no word)
        assert found("民营企业", "发展") == set()
