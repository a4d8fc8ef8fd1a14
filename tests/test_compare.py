"""Comparing two documents (kb.compare, /compare, /api/compare, kb compare): aligned paragraphs with
changes marked, distinctive terms, escaping, errors, and the 2021 -> 2022 work reports."""

from __future__ import annotations

import json
import re

import pytest

from kb import compare

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'

EARLIER = """2021年某县政府工作报告
一、过去一年的工作
全县脱贫攻坚取得全面胜利，贫困人口全部脱贫，贫困县摘帽。
复工复产有序推进，新冠肺炎疫情防控取得重大成果。
新冠肺炎疫情防控常态化，复工复产全面完成。
二、今年的主要任务
巩固拓展脱贫攻坚成果，做好十三五规划收官总结。
加强基层治理，推进平安建设。
"""

LATER = """2022年某县政府工作报告
一、过去一年的工作
全县巩固拓展脱贫攻坚成果同乡村振兴有效衔接，留抵退税政策落地见效。
留抵退税惠及企业，专精特新企业加快成长，专精特新企业达到三十家。
二、今年的主要任务
实施留抵退税，支持专精特新企业发展。
加强基层治理，推进平安建设。
""" + XSS + "\n"


def test_paragraphs_are_aligned_with_changes_marked():
    rows = compare.align(compare.paragraphs("甲\n乙段落相同的内容\n丙原来的说法是这样\n丁被删去"),
                         compare.paragraphs("甲\n乙段落相同的内容\n丙现在的说法是这样\n新增一段"))
    kinds = [r.kind for r in rows]
    assert kinds[:2] == ["same", "same"] and "changed" in kinds
    changed = next(r for r in rows if r.kind == "changed")
    assert ("del", "原来") in changed.a and ("ins", "现在") in changed.b
    assert "".join(t for _, t in changed.a) == "丙原来的说法是这样"  # segments rebuild the paragraph
    assert "".join(t for _, t in changed.b) == "丙现在的说法是这样"


def test_short_equal_runs_inside_a_change_are_part_of_it():
    a, b = compare.inline_diff("推进乡村全面振兴的工作", "推动城乡融合发展的工作")
    assert len([s for s in a if s[0] == "del"]) == 1 and len([s for s in b if s[0] == "ins"]) == 1


def test_distinctive_terms():
    new, dropped, rising, falling = compare.distinctive_terms(EARLIER, LATER)
    new_terms = {t.term for t in new}
    assert {"留抵退税", "专精特新"} & new_terms, new_terms
    assert all(t.a == 0 and t.b >= 2 for t in new)
    assert {"新冠肺炎", "复工复产", "复工", "肺炎疫情防控"} & {t.term for t in dropped}
    assert all(t.b == 0 and t.a >= 2 for t in dropped)
    assert "加强基层治理" not in new_terms  # in both


def test_comparison_summary_and_json():
    first = {"id": "a" * 16, "title": "2021年报告", "text": EARLIER, "year": 2021}
    second = {"id": "b" * 16, "title": "2022年报告", "text": LATER, "year": 2022, "date": "2022-01-10"}
    found = compare.compare(first, second)
    data = json.loads(json.dumps(found.to_dict(), ensure_ascii=False))
    assert data["a"] == {"id": "a" * 16, "title": "2021年报告", "date": None, "year": 2021}
    assert set(data["terms"]) == {"new", "dropped", "rising", "falling"}
    assert sum(found.counts.values()) == len(data["rows"])
    assert {r["kind"] for r in data["rows"]} <= {"same", "changed", "added", "removed"}


# --- the site and the command line ---------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from support import ingest_paths

    from web import create_app

    root = tmp_path_factory.mktemp("compare-docs")
    (root / "r2021.txt").write_text(EARLIER, encoding="utf-8")
    (root / "r2022.txt").write_text(LATER, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("compare-index")
    assert ingest_paths([root], index_dir).count("added") == 2
    client = create_app({"KB_INDEX": str(index_dir), "TESTING": True}).test_client()
    hits = client.get("/api/search?q=").get_json()["hits"]
    ids = {h["path"].rsplit("/", 1)[-1]: h["id"] for h in hits}
    return client, ids["r2021.txt"], ids["r2022.txt"], index_dir


def test_compare_page(site):
    client, a, b, _ = site
    page = client.get(f"/compare?a={a}&b={b}").get_data(as_text=True)
    assert "<del>" in page and "<ins>" in page and "B 新出现" in page and "留抵退税" in page
    assert "<script>alert" not in page and "<img src=x" not in page and "&lt;script&gt;" in page
    only = client.get(f"/compare?a={a}&b={b}&changes=only").get_data(as_text=True)
    assert only.count('<tr class="same">') == 0 < page.count('<tr class="same">')


def test_two_checked_hits_redirect_older_first(site):
    client, a, b, _ = site
    response = client.get(f"/compare?id={b}&id={a}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/compare?a={a}&b={b}")
    search = client.get("/?q=政府工作报告").get_data(as_text=True)
    assert 'id="compare-form"' in search and search.count('form="compare-form"') == 2


@pytest.mark.parametrize("query, status", [
    ("", 400), ("a=zz&b=yy", 400), ("id=0123456789abcdef", 400), ("a=0123456789abcdef&b=0123456789abcdef", 400),
    ("a=0123456789abcdef&b=fedcba9876543210", 404), ("a=A&b=B&changes=all", 400),
])
def test_bad_parameters(site, query, status):
    client, _, _, _ = site
    for path in ("/compare", "/api/compare"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == status, (path, query)
    assert "error" in client.get(f"/api/compare?{query}").get_json()


def test_api_compare_and_openapi(site):
    client, a, b, _ = site
    data = client.get(f"/api/compare?a={a}&b={b}&changes=only").get_json()
    assert data["a"]["id"] == a and all(r["kind"] != "same" for r in data["rows"])
    assert any(t["term"] == "留抵退税" for t in data["terms"]["new"])
    names = {p["name"] for p in client.get("/api/openapi.json").get_json()["paths"]["/api/compare"]["get"]["parameters"]}
    assert {"a", "b", "changes", "id"} <= names


def test_cli_compare(site, capsys):
    from kb.cli import main

    _, a, b, index_dir = site
    assert main(["compare", a, b, "--index", str(index_dir), "--terms-only"]) == 0
    out = capsys.readouterr().out
    assert "new in B:" in out and "留抵退税" in out
    assert main(["compare", a, "0" * 16, "--index", str(index_dir)]) == 2


# --- the 2021 and 2022 government work reports ---------------------------------------------------


@pytest.mark.shared
def test_2022_report_against_2021_lists_new_terms(tmp_path):
    from support import ingest_paths, shared

    from kb.search import KnowledgeBase

    docs = shared("corpus", "national-reports", "docs")
    files = [docs / "gov_work_report_008_2021.txt", docs / "gov_work_report_006_2022.txt"]
    assert ingest_paths(files, tmp_path / "index").count("added") == 2
    kb = KnowledgeBase(tmp_path / "index")
    ids = {d["path"].rsplit("/", 1)[-1]: d["id"] for d in kb.documents()}
    found = kb.compare(ids[files[0].name], ids[files[1].name])
    new = {t.term for t in found.new}
    dropped = {t.term for t in found.dropped}
    # what the 2022 report says that the 2021 one did not: the tax refunds of 2022, the coming 20th
    # congress, the "macro-economic fundamentals" of that year; what it no longer says: the 13th plan
    assert {"留抵退税", "稳定宏观经济大盘", "二十大胜利召开"} <= new, new
    assert {"十三五", "新冠肺炎"} <= dropped, dropped
    assert "留抵" in {t.term for t in found.rising}
    text_2021 = re.sub(r"\s+", "", kb.document(ids[files[0].name])["text"])
    assert all(t.term not in text_2021 for t in found.new)  # new: not in the earlier text at all
