"""Synonyms and abbreviations (kb/data/synonyms.txt): a term also finds the documents that only
hold another form of it, ranked below the typed form's exact matches; quoted terms stay exact; the
page says what else was searched; the shipped list is sound."""

from __future__ import annotations

import pytest

from kb import analysis, synonyms
from kb.query import parse

XSS = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    from support import ingest_paths

    from kb.search import KnowledgeBase

    docs = {
        "long-form.txt": "关于加强统一战线工作的意见\n巩固和发展最广泛的爱国统一战线。",
        "short-form.txt": "统战工作要点\n做好新时代统战工作。",
        "neither.txt": "关于乡村振兴的通知\n全面推进乡村振兴。",
        "congress.txt": "市人民代表大会常务委员会公告\n本次人民代表大会审议通过。",
        "abbrev.txt": "市人大工作报告\n人大代表建议办理。",
        "inside-a-word.txt": "医保政策解读\n个人大病保险待遇提高。",
        "scattered.txt": "人民群众的代表参加大会\n人民 代表 大会",
        "both.txt": "统战部和统一战线工作\n统战部部署统一战线工作。",
    }
    root = tmp_path_factory.mktemp("synonym-docs")
    for name, text in docs.items():
        (root / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("synonym-index")
    assert ingest_paths([root], index_dir).count("added") == len(docs)
    return KnowledgeBase(index_dir)


def names(results):
    return [h.path.rsplit("/", 1)[-1] for h in results.hits]


def test_a_term_finds_the_documents_with_only_the_other_form(kb):
    results = kb.search("统战")
    found = names(results)
    assert "long-form.txt" in found  # holds only 统一战线
    assert results.expansions == {"统战": ["统一战线"]}
    exact = [n for n in found if n in ("short-form.txt", "both.txt")]
    assert found[: len(exact)] == exact  # documents with the typed form first
    assert found.index("long-form.txt") > max(found.index(n) for n in exact)
    assert "neither.txt" not in found


def test_the_long_form_finds_the_abbreviation_ranked_below(kb):
    found = names(kb.search("统一战线"))
    assert found.index("short-form.txt") > found.index("long-form.txt")
    assert found.index("short-form.txt") > found.index("both.txt")


def test_expansion_is_grep_like_for_each_form_and_exact_typed_stays_first(kb):
    results = kb.search("人民代表大会")
    found = names(results)
    # 人大 as grep finds it: in 市人大 and inside 个人大病 too (a form is a string, not a word)
    assert {"congress.txt", "abbrev.txt", "inside-a-word.txt"} <= set(found)
    assert found[0] == "congress.txt"  # the only document with what was typed
    assert found.index("congress.txt") < found.index("abbrev.txt")
    # the expansion never matches its words scattered (人民 … 代表 … 大会): that is the typed term's own rule
    by_name = {h.path.rsplit("/", 1)[-1]: h for h in results.hits}
    assert by_name["congress.txt"].exact == 1 and by_name["abbrev.txt"].exact == 0


def test_quoted_and_switched_off_terms_stay_exact(kb):
    assert names(kb.search('"统战"')) and "long-form.txt" not in names(kb.search('"统战"'))
    assert kb.search('"统战"').expansions == {}
    off = kb.search("统战", synonyms=False)
    assert "long-form.txt" not in names(off) and off.expansions == {}
    assert kb.matching_paths("统战") == {h.path for h in off.hits}  # grep comparisons see the typed term only


def test_negated_terms_stay_literal(kb):
    found = names(kb.search("工作 -统战"))
    assert "long-form.txt" in found and "short-form.txt" not in found


def test_clauses_combine(kb):
    found = names(kb.search("统战 工作"))
    assert "long-form.txt" in found and "neither.txt" not in found


def test_snippets_show_the_other_form(kb):
    hit = next(h for h in kb.search("统战").hits if h.path.endswith("long-form.txt"))
    assert "<mark>统一战线</mark>" in hit.snippet


def test_parse_and_lookup():
    found = synonyms.Synonyms.parse(["统战/统一战线", "一个词", "孤/", "人大 / 人民代表大会"])  # a lone form: no group
    assert found.group("統戰") == ("統戰", "统一战线")  # traditional characters normalise
    assert found.others("人 大") == ["人民代表大会"]
    assert found.group("统一") is None  # whole terms only
    assert found.groups == (("统战", "统一战线"), ("人大", "人民代表大会"))
    alternatives = found.alternatives(parse('统战 "人大" title:人民代表大会 -统一战线'))
    assert [t.text for t in alternatives] == ["统战", "人民代表大会"]
    title_alt = [a for t, alts in alternatives.items() if t.in_title for a in alts]
    assert title_alt[0].text == "人大" and title_alt[0].in_title and title_alt[0].phrase


def test_the_shipped_list_is_sound():
    shipped = synonyms.load()
    assert len(shipped.groups) >= 40
    seen: dict[str, tuple] = {}
    for group in shipped.groups:
        assert len(group) >= 2
        for form in group:
            key = synonyms.key(form)
            assert key, form
            assert seen.get(key, group) == group, f"{form} is in two groups: {seen.get(key)} and {group}"
            seen[key] = group
    for required in ("统战", "人大", "政协", "两新组织", "发改委", "非公经济"):
        assert shipped.group(required), required
    assert shipped.others("两新组织")[0] == "新经济组织和新社会组织"
    assert shipped.others("大众创业万众创新") == ["双创", "大众创业、万众创新"]  # punctuation is a difference
    # every form can be searched as an exact string (a bigram at least in every run)
    for form in seen:
        assert len(form) == 1 or analysis.query_grams(form), form


def test_the_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "synonyms.txt"
    path.write_text("甲乙/丙丁\n", encoding="utf-8")
    assert synonyms.load(path).others("甲乙") == ["丙丁"]
    import os

    path.write_text("甲乙/戊己\n", encoding="utf-8")
    os.utime(path, (path.stat().st_atime + 5, path.stat().st_mtime + 5))
    assert synonyms.load(path).others("甲乙") == ["戊己"]
    assert synonyms.load(tmp_path / "missing.txt").groups == ()


# --- the site ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(kb):
    from web import create_app

    return create_app({"KB_INDEX": str(kb.index_dir), "TESTING": True}).test_client()


def test_the_page_says_what_else_it_searched(client):
    page = client.get("/?q=统战").get_data(as_text=True)
    assert "同时搜索了：统一战线" in page
    assert "synonyms=off" in page and "只搜所输入的词" in page
    off = client.get("/?q=统战&synonyms=off").get_data(as_text=True)
    assert "同时搜索了" not in off and "同时搜索 统一战线" in off
    assert client.get("/?q=统战&synonyms=maybe").status_code == 400


def test_api_reports_expansions(client):
    data = client.get("/api/search?q=统战").get_json()
    assert data["expansions"] == {"统战": ["统一战线"]}
    assert client.get("/api/search?q=统战&synonyms=off").get_json()["expansions"] == {}
    names = {p["name"] for p in client.get("/api/openapi.json").get_json()["paths"]["/api/search"]["get"]["parameters"]}
    assert {"synonyms", "collapse"} <= names


def test_queries_are_escaped(client):
    page = client.get(f"/?q=统战 {XSS}").get_data(as_text=True)
    assert "<script>alert" not in page


def test_cli_lists_groups(capsys):
    from kb.cli import main

    assert main(["synonyms", "统战"]) == 0
    assert capsys.readouterr().out.strip() == "统战 / 统一战线"
