"""Term trends (kb.trends, /trends, /api/trends, kb trends): counts equal a substring count over
the stored texts, for random substrings and years; mentions are non-overlapping; filters,
clearance, folding, the chart, CSV, JSON, errors and escaping."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from kb import analysis, trends
from kb.errors import QueryError
from kb.facets import YEAR

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'

DOCS = {
    # year, county and text; traditional, full-width and spaced forms count as the simplified string
    "a2019.txt": "2019年祁县乡村振兴工作总结\n乡村振兴是重点。脱贫攻坚决战决胜，鄉村振興起步。\n哈哈哈哈",
    "b2019.txt": "2019年平遥县工作报告\n脱贫攻坚取得胜利。脱贫攻坚脱贫攻坚。乡 村 振 兴。\n哈哈哈",
    "c2020.txt": "2020年祁县工作报告\n全面推进乡村振兴，新乡贤参与乡村治理。ＡＢＣ abc Abc\n统一战线工作",
    "d2021.txt": "2021年平遥县统战工作总结\n统战工作和统一战线。新乡贤，新乡贤！乡村振兴",
    "e.txt": "没有年份的材料\n乡村振兴乡村振兴",
}
META = {"a2019.txt": (2019, "祁县"), "b2019.txt": (2019, "平遥县"), "c2020.txt": (2020, "祁县"),
        "d2021.txt": (2021, "平遥县")}


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    from support import ingest_paths

    from kb.search import KnowledgeBase

    root = tmp_path_factory.mktemp("trend-docs")
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
        if name in META:
            year, county = META[name]
            (root / f"{Path(name).stem}.meta.json").write_text(json.dumps({"year": year, "counties": [county]}), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("trend-index")
    assert ingest_paths([root], index_dir).count("added") == len(DOCS)
    return KnowledgeBase(index_dir)


def _reference(kb, term: str, bucket_of) -> dict[str, tuple[int, int]]:
    """What grep finds: per bucket, (documents containing the normalised term, non-overlapping
    occurrences), over each stored text normalised with whitespace deleted."""
    norm = re.sub(r"\s+", "", analysis.normalize(term))
    out: dict[str, list[int]] = {}
    for doc in kb.documents():
        text = re.sub(r"\s+", "", analysis.normalize(kb.document(doc["id"])["text"]))
        for bucket in bucket_of(doc):
            cell = out.setdefault(str(bucket), [0, 0])
            cell[0] += norm in text
            cell[1] += text.count(norm)
    return {k: tuple(v) for k, v in out.items()}


def _by_year(doc):
    return [doc["year"]] if doc.get("year") else []


def _random_substrings(kb, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    runs = []
    for doc in kb.documents():
        text = analysis.normalize(kb.document(doc["id"])["text"])
        runs.extend(r for r in re.findall(r"[^\W_]+", re.sub(r"\s+", "", text)) if len(r) >= 2)
    out = []
    while len(out) < count:
        run = rng.choice(runs)
        size = rng.randint(1, min(6, len(run)))
        start = rng.randrange(len(run) - size + 1)
        out.append(run[start : start + size])
    return out


def _check_against_reference(kb, terms, **kwargs):
    found = kb.trends(terms, **kwargs)
    for term in found.terms:
        reference = _reference(kb, term, _by_year)
        for year, cell in found.terms[term].items():
            assert (cell["docs"], cell["mentions"]) == reference.get(year, (0, 0)), (term, year, cell)
        for year, (docs, _) in reference.items():
            if docs:
                assert found.terms[term][year]["docs"] == docs, (term, year)
    return found


def test_random_substrings_equal_a_substring_count_per_year(kb):
    for term in _random_substrings(kb, 150, seed=14):
        _check_against_reference(kb, [term])


def test_random_substrings_on_the_samples(samples_index):
    for start in range(0, 90, 3):
        _check_against_reference(samples_index, _random_substrings(samples_index, 90, seed=7)[start : start + 3])


def test_years_and_characters(kb):
    found = kb.trends(["乡村振兴"])
    assert list(found.years if hasattr(found, "years") else found.buckets) == ["2019", "2020", "2021"]
    assert found.buckets["2019"]["docs"] == 2 and found.documents == 5 and found.unplaced == 1  # e.txt: no year
    for doc in kb.documents():
        if doc.get("year") == 2020:
            units = len(analysis.units(analysis.normalize(kb.document(doc["id"])["text"])))
    assert found.buckets["2020"]["chars"] == units
    cell = found.terms["乡村振兴"]["2019"]
    assert cell["docs"] == 2 and cell["mentions"] == 4  # 乡村振兴 鄉村振興 and 乡 村 振 兴 count
    assert cell["share"] == 1.0
    assert cell["per10k"] == round(4 * 10000 / found.buckets["2019"]["chars"], 3)


def test_mentions_do_not_overlap(kb):
    cell = kb.trends(["哈哈"]).terms["哈哈"]["2019"]
    assert cell["mentions"] == 2 + 1  # 哈哈哈哈: two; 哈哈哈: one (as str.count and grep -o count)
    assert cell["docs"] == 2
    assert kb.trends(["脱贫攻坚"]).terms["脱贫攻坚"]["2019"]["mentions"] == 4


def test_case_and_width_fold(kb):
    assert kb.trends(["abc"]).terms["abc"]["2020"]["mentions"] == 3  # ＡＢＣ abc Abc


def test_filters_years_and_dimensions(kb):
    qixian = kb.trends(["乡村振兴"], filters={"county": ["祁县"]})
    assert qixian.buckets["2019"]["docs"] == 1 and "2021" not in qixian.buckets
    assert set(kb.trends(["乡村振兴"], years="2020-2021").buckets) == {"2020", "2021"}
    by_county = kb.trends(["乡村振兴", "新乡贤"], by="county")
    assert by_county.to_dict()["buckets"]["祁县"] == {"docs": 2, "chars": by_county.buckets["祁县"]["chars"]}
    assert by_county.terms["新乡贤"]["平遥县"] == {"docs": 1, "share": 0.5, "mentions": 2,
                                                "per10k": by_county.terms["新乡贤"]["平遥县"]["per10k"]}
    assert "years" not in by_county.to_dict()


def test_fold_counts_a_synonym_group_as_one_line(kb):
    plain = kb.trends(["统战"]).terms["统战"]
    folded = kb.trends(["统战"], fold=True)
    assert folded.forms["统战"] == ["统战", "统一战线"]
    assert plain["2020"]["docs"] == 0 and folded.terms["统战"]["2020"]["docs"] == 1
    assert folded.terms["统战"]["2021"]["mentions"] == 3  # 统战 twice (title, body), 统一战线 once


def test_folded_forms_count_longest_first_where_they_overlap(kb):
    snap = kb.snapshot()
    docs, found = trends.count(snap, ["脱贫", "脱贫攻坚"])
    single, counts = trends.count(snap, ["脱贫"])
    assert dict(zip(docs.tolist(), found.tolist())) == dict(zip(single.tolist(), counts.tolist()))  # one occurrence each


def test_clearance_hides_documents(kb):
    from kb.access import levels

    everything = kb.trends(["乡村振兴"])
    lowest = kb.trends(["乡村振兴"], clearance=levels().lowest)
    assert lowest.documents <= everything.documents


@pytest.mark.parametrize("terms, message", [
    ("", "至少一个词"), (",,", "至少一个词"), (",".join(f"词{i}" for i in range(11)), "最多"),
    ("乡" * 51, "太长"), ("，。", "没有可检索"), ("乡,村", None),
])
def test_bad_terms_are_query_errors(kb, terms, message):
    if message is None:
        assert kb.trends(terms).terms
        return
    with pytest.raises(QueryError, match=message):
        kb.trends(terms)


def test_bad_dimension(kb):
    with pytest.raises(QueryError):
        kb.trends(["乡村振兴"], by="nonsense")


def test_chart_layout(kb):
    found = kb.trends(["乡村振兴", "脱贫攻坚", "新乡贤"])
    chart = trends.layout(found, "share")
    assert [s.term for s in chart.series] == ["乡村振兴", "脱贫攻坚", "新乡贤"]
    left, top, right, bottom = chart.plot
    for series in chart.series:
        assert len(series.points) == 3
        assert all(left <= p.x <= right and top - 0.1 <= p.y <= bottom + 0.1 for p in series.points)
        assert "年" in series.points[0].label and "每万字" in series.points[0].label
    labels = sorted(s.label_y for s in chart.series)
    assert all(b - a >= 18.9 for a, b in zip(labels, labels[1:]))  # names at the ends do not overlap
    assert [label for _, label in chart.x_ticks] == ["2019", "2020", "2021"]
    assert trends.layout(found, "docs", narrow=True).width < chart.width
    assert trends.layout(kb.trends(["乡村振兴"], by="county")) is None


# --- the site and the command line -----------------------------------------------------------------


@pytest.fixture(scope="module")
def client(kb):
    from web import create_app

    return create_app({"KB_INDEX": str(kb.index_dir), "TESTING": True}).test_client()


def test_api_trends_is_the_issue_s_json(client):
    data = client.get("/api/trends?terms=乡村振兴,脱贫攻坚&county=祁县").get_json()
    assert set(data["terms"]) == {"乡村振兴", "脱贫攻坚"}
    assert data["years"] == {"2019": {"docs": 1, "chars": data["years"]["2019"]["chars"]},
                             "2020": {"docs": 1, "chars": data["years"]["2020"]["chars"]}}
    cell = data["terms"]["乡村振兴"]["2019"]
    assert set(cell) == {"docs", "share", "mentions", "per10k"} and cell["docs"] == 1 and cell["mentions"] == 3


def test_trends_page_draws_a_line_per_term_and_a_table(client):
    page = client.get("/trends?terms=乡村振兴,脱贫攻坚,新乡贤&metric=share").get_data(as_text=True)
    assert page.count('<path class="line"') == 6  # three terms, desktop and phone drawings
    assert "<script" not in page and "style=" not in page  # nothing the CSP would block
    assert "占当年文档的比例" in page and "trend-table" in page and "/trends.csv?" in page
    assert client.get("/trends").status_code == 200  # the empty form


def test_trends_csv(client):
    response = client.get("/trends.csv?terms=乡村振兴")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith("\ufeffterm,year,docs")
    assert "乡村振兴,2019,2,2,1.0,4," in body


@pytest.mark.parametrize("query", ["terms=乡村振兴&metric=x", "terms=乡村振兴&by=x", "terms=乡村振兴&fold=maybe",
                                   "terms=乡村振兴&from=abc", "terms=乡村振兴&from=2022&to=2020",
                                   "terms=" + "乡" * 600, "terms=，。", "terms=乡村振兴&county=" + "x" * 300,
                                   "terms=" + ",".join(f"词{i}" for i in range(11)), "terms=乡村振兴&year=abc"])
def test_bad_parameters_are_400_with_a_message(client, query):
    for path in ("/trends", "/api/trends", "/trends.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query, response.status_code)
    assert "error" in client.get(f"/api/trends?{query}").get_json()


def test_terms_and_filters_are_escaped(client):
    page = client.get(f"/trends?terms=乡村振兴,{XSS[:40]}&county={XSS}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page


def test_search_page_links_its_query_to_trends(client):
    page = client.get("/?q=乡村振兴 新乡贤&county=祁县").get_data(as_text=True)
    link = re.search(r'class="trend-link" href="([^"]+)"', page).group(1)
    assert link.startswith("/trends?terms=") and "county=" in link
    target = client.get(link.replace("&amp;", "&"))
    assert target.status_code == 200 and "乡村振兴、新乡贤" in target.get_data(as_text=True)


def test_openapi_describes_trends(client):
    spec = client.get("/api/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/api/trends"]["get"]["parameters"]}
    assert {"terms", "by", "metric", "fold", "from", "to", "county", "year"} <= names


def test_cli_trends_json_matches_the_api(kb, client, capsys):
    from kb.cli import main

    assert main(["trends", "乡村振兴", "脱贫攻坚", "--index", str(kb.index_dir), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = client.get("/api/trends?terms=乡村振兴,脱贫攻坚").get_json()
    assert cli["terms"] == api["terms"] and cli["years"] == api["years"]
    assert main(["trends", "统战", "--fold", "--by", "county", "--index", str(kb.index_dir)]) == 0
    assert "统一战线" in capsys.readouterr().out
    assert main(["trends", "，", "--index", str(kb.index_dir)]) == 2


def test_year_column_is_what_trends_count_by(kb):
    snap = kb.snapshot()
    assert int((YEAR.column(snap) > 0).sum()) == 4


def test_character_counts_kept_per_document_equal_the_postings(kb):
    from kb import versions

    snap = kb.snapshot()
    kept = versions.groups(snap, kb.index_dir).unit_counts()
    summed = trends.unit_counts(snap)
    live = snap.live_mask
    assert (kept[live] == summed[live]).all() and kept[live].min() > 0
