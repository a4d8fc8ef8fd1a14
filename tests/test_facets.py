"""The facet registry: a facet is declared once, and every layer takes it from there.

The throw-away facet below (颜色, from an extractor of its own) is declared in one place and is then
filtered and counted by the search API, the CLI, the JSON API, the page, the CSV export and
OpenAPI, with no other change anywhere."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from kb import facets as kbfacets
from kb.errors import QueryError
from kb.facets import FACETS, KeywordFacet

COLOURS = ("红", "蓝", "绿")


def _colours(title: str, text: str, metadata: dict) -> list[str]:
    return [c for c in COLOURS if f"{c}色" in text]


@pytest.fixture
def colour_facet():
    facet = kbfacets.register(KeywordFacet("colour", "colours", "颜色", "colours the text names", ("颜色",),
                                           extractor=_colours))
    yield facet
    kbfacets.unregister("colour")


@pytest.fixture
def colour_index(colour_facet, build_index):
    return build_index({
        "a.txt": "关于红色教育基地的通知\n开展红色教育。\n2021年1月1日",
        "b.txt": "关于绿色发展的报告\n推进绿色发展与红色旅游。\n2022年1月1日",
        "c.txt": "关于蓝色海洋的意见\n保护蓝色海洋。\n2023年1月1日",
        "d.txt": "工作总结\n没有颜色。\n2020年1月1日",
        "d.meta.json": json.dumps({"颜色": "蓝"}, ensure_ascii=False),  # users' metadata names it too
    })


def test_a_new_facet_is_filtered_and_counted_by_the_library(colour_index):
    results = colour_index.search("", filters={"colour": ["红"]})
    assert results.total == 2
    assert results.facets["colour"] == {"红": 2, "绿": 1}
    assert colour_index.search("").facets["colour"] == {"红": 2, "蓝": 2, "绿": 1}
    assert {tuple(h.facets["colour"]) for h in results.hits} == {("红",), ("红", "绿")}


def test_a_new_facet_is_filtered_by_the_cli(colour_index, capsys):
    from kb.cli import kb_main

    assert kb_main(["search", "--index", str(colour_index.index_dir), "--colour", "蓝", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 2 and out["facets"]["colour"] == {"蓝": 2}
    assert all("colours" in hit for hit in out["hits"])


def test_a_new_facet_is_on_the_api_the_page_the_csv_and_openapi(colour_index):
    from web import create_app

    client = create_app({"TESTING": True, "KB_INDEX": str(colour_index.index_dir)}).test_client()
    data = client.get("/api/search?colour=红").get_json()
    assert data["total"] == 2 and data["facets"]["colour"]["红"] == 2
    page = client.get("/?colour=红").get_data(as_text=True)
    assert "颜色" in page and "颜色: 红" in page  # the sidebar and the chip
    doc = data["hits"][0]
    assert "颜色" in client.get(f"/doc/{doc['id']}").get_data(as_text=True)
    assert client.get(f"/api/doc/{doc['id']}").get_json()["colours"]
    header = client.get("/export.csv?colour=红").get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    assert "colours" in header.split(",")
    names = {p["name"] for p in client.get("/api/openapi.json").get_json()["paths"]["/api/search"]["get"]["parameters"]}
    assert "colour" in names


def test_unknown_facets_and_bad_values_are_query_errors():
    with pytest.raises(QueryError):
        kbfacets.read_filters({"colour": ["红"]})
    with pytest.raises(QueryError):
        kbfacets.read_filters({"year": ["二〇二一"]})
    with pytest.raises(QueryError):
        kbfacets.YEAR.parse_range("2022-2018")
    assert kbfacets.YEAR.parse_range("2018-") == (2018, None)


def test_every_facet_is_declared_once():
    assert len({f.field for f in FACETS.values()}) == len(FACETS)
    with pytest.raises(ValueError):
        kbfacets.register(KeywordFacet("county", "x", "x", "x"))


def test_a_facet_limit_keeps_the_most_frequent_values_and_the_selected_ones(colour_index):
    counts = colour_index.search("", facet_limit=1).facets
    assert counts["colour"] == {"红": 2} and counts["colour"].more == 2  # 红 and 蓝 tie at 2: by name
    assert kbfacets.truncated(counts)["colour"] == 2
    assert len(counts["year"]) == 4  # every year: the timeline needs them all
    selected = colour_index.search("", filters={"colour": ["绿"]}, facet_limit=0).facets["colour"]
    assert selected == {"绿": 1} and selected.more == 1  # the filtered value is always counted
    assert colour_index.search("").facets["colour"].more == 0


def test_the_api_limits_facet_values_as_asked(colour_index):
    from web import create_app

    client = create_app({"TESTING": True, "KB_INDEX": str(colour_index.index_dir)}).test_client()
    data = client.get("/api/search?facet_size=1").get_json()
    assert data["facets"]["colour"] == {"红": 2} and data["facets_truncated"]["colour"] == 2
    data = client.get("/api/search").get_json()  # the default (30) holds all three
    assert len(data["facets"]["colour"]) == 3 and "colour" not in data["facets_truncated"]
    assert len(client.get("/api/search?facet_size=max").get_json()["facets"]["colour"]) == 3
    assert client.get("/api/facets?facet_size=2").get_json()["facets_truncated"]["colour"] == 1
    assert client.get("/api/facets").get_json()["facets_truncated"] == {}  # all, unless asked
    bad = client.get("/api/search?facet_size=-1")
    assert bad.status_code == 400 and "facet_size" in bad.get_json()["error"]
    names = {p["name"] for p in client.get("/api/openapi.json").get_json()["paths"]["/api/search"]["get"]["parameters"]}
    assert "facet_size" in names


class _FakeSnapshot:
    """What KeywordFacet.count reads: a field's values and every (document, value) pair."""

    def __init__(self, names, docs, numbers):
        order = np.zeros(len(names), dtype=np.int64)
        order[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        self.entries = (names, order, np.asarray(docs, dtype=np.int64), np.asarray(numbers, dtype=np.int64))

    def facet_entries(self, field):
        return self.entries


def test_a_limited_count_is_the_head_of_the_full_count_ties_included():
    rng = np.random.default_rng(7)
    facet = KeywordFacet("thing", "things", "事物", "test values")
    for trial in range(200):
        values = int(rng.integers(1, 60))
        names = [f"v{i:03d}" for i in rng.permutation(values)]
        pairs = int(rng.integers(1, 400))
        docs, numbers = rng.integers(0, 50, pairs), rng.integers(0, values, pairs)  # many ties in counts
        snap = _FakeSnapshot(names, docs, numbers)
        in_result = rng.random(50) < 0.7
        full = facet.count(snap, np.flatnonzero(in_result), in_result)
        limit = int(rng.integers(0, values + 2))
        keep = [names[int(i)] for i in rng.integers(0, values, 2)]
        limited = facet.count(snap, np.flatnonzero(in_result), in_result, limit, keep)
        head = list(full.items())[:limit]
        assert list(limited.items())[:len(head)] == head
        assert set(limited) == set(dict(head)) | {k for k in keep if k in full}
        assert all(limited[k] == full[k] for k in limited)
        assert limited.more == len(full) - len(limited)
