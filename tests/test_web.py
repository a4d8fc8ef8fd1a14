"""The web site through Flask's test client: every route and state, escaping, bad input, uploads."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support import ingest_paths
from web import create_app

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _no_raw_payload(html: str):
    assert "<script>alert" not in html and "<img src=x" not in html and "onerror=alert(1)>" not in html


@pytest.fixture(scope="module")
def site(samples_index):
    app = create_app({"TESTING": True, "KB_INDEX": str(samples_index.index_dir)})
    app.extensions["kb"] = samples_index
    return app.test_client()


@pytest.fixture
def hostile(tmp_path, make_docs):
    """An index holding a document with script in its name, title, text and metadata."""
    root = make_docs({
        f"x{XSS[:8]}.txt": f"{XSS}关于测试的通知\n正文{XSS}乡村振兴。\n2021年1月1日",
        f"x{XSS[:8]}.meta.json": json.dumps({"counties": [XSS], "sectors": [XSS], "note": XSS}),
    })
    index_dir = tmp_path / "hostile-index"
    ingest_paths([root], index_dir)
    app = create_app({"TESTING": True, "KB_INDEX": str(index_dir)})
    return app.test_client()


# --- search page ----------------------------------------------------------------------------------


def test_home_lists_documents_with_facets(site):
    page = site.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'lang="zh-CN"' in html and "检索结果：共 16 篇" in html
    for label in ("年份", "县区", "领域", "城市", "省份", "文种", "发文机关", "主题词"):
        assert f">{label}</h3>" in html


def test_query_results_snippets_timeline_and_links(site):
    html = site.get("/?q=乡村振兴").get_data(as_text=True)
    assert "“乡村振兴”的检索结果" in html and "<mark>乡村振兴</mark>" in html
    assert '<svg class="timeline-chart"' in html and "/?q=%E4%B9%A1%E6%9D%91%E6%8C%AF%E5%85%B4&amp;year=2019" in html
    assert "导出全部结果 (CSV)" in html and "/feed?" in html and "/api/search?" in html


def test_facet_toggle_multi_select_and_chips(site):
    one = site.get("/?county=祁县").get_data(as_text=True)
    assert "县区: 祁县" in one and 'class="selected"' in one
    both = site.get("/?county=祁县&county=灵石县").get_data(as_text=True)
    total_one = int(re.search(r"共 (\d+) 篇", one).group(1))
    total_both = int(re.search(r"共 (\d+) 篇", both).group(1))
    assert total_both >= total_one  # OR within a facet
    across = site.get("/?county=祁县&doctype=综述").get_data(as_text=True)
    assert int(re.search(r"共 (\d+) 篇", across).group(1)) <= total_one  # AND across facets
    # the chip's link removes that filter only
    chip = re.search(r'<li><a href="([^"]+)" title="去掉这个条件">县区: 祁县', both).group(1)
    assert "county=%E7%81%B5%E7%9F%B3%E5%8E%BF" in chip and "%E7%A5%81%E5%8E%BF" not in chip


def test_year_range_sort_and_paging(site):
    html = site.get("/?from=2019&to=2021&sort=oldest&size=2").get_data(as_text=True)
    assert "年份: 2019–2021" in html and "第 1 /" in html and 'rel="next"' in html
    years = [int(y) for y in re.findall(r'<p class="meta">\s*<span>(\d{4})</span>', html)]
    assert years == sorted(years) and all(2019 <= y <= 2021 for y in years)
    second = site.get("/?from=2019&to=2021&sort=oldest&size=2&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second


def test_zero_results_state_helps(site):
    html = site.get("/?q=完全不存在的词组合xyz&county=祁县").get_data(as_text=True)
    assert "没有找到" in html and "去掉筛选条件" in html and "完全不存在的词组合xyz" in html


def test_passage_mode(site):
    html = site.get("/?mode=like&q=" + "推进乡村振兴,组织民营企业参与千企帮千村行动" * 3).get_data(as_text=True)
    assert "<textarea" in html and "检索结果" in html and "改用关键词检索" in html


def test_empty_index_page(tmp_path):
    client = create_app({"TESTING": True, "KB_INDEX": str(tmp_path / "none")}).test_client()
    html = client.get("/").get_data(as_text=True)
    assert "知识库还没有文档" in html
    assert client.get("/api/search?q=x").get_json()["total"] == 0


# --- document page, original, similar ------------------------------------------------------------------


def _first_id(site, query="乡村振兴") -> str:
    return site.get(f"/api/search?q={query}").get_json()["hits"][0]["id"]


def test_document_page(site):
    doc_id = _first_id(site)
    html = site.get(f"/doc/{doc_id}?q=乡村振兴").get_data(as_text=True)
    assert '<mark id="m1">' in html and 'href="#m1"' in html and "下载原始文件" in html
    assert "相似文档" in html and 'class="fulltext"' in html


def test_original_download_is_the_file(site, samples_index):
    doc_id = _first_id(site)
    stored = samples_index.document(doc_id)
    response = site.get(f"/doc/{doc_id}/original")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.data == Path(stored["path"]).read_bytes()


@pytest.mark.parametrize("path", ["/doc/0123456789abcdef", "/doc/..%2F..%2Fetc%2Fpasswd", "/doc/../../etc/passwd",
                                  "/doc/%2e%2e/original", "/doc/0123456789abcdef/original", "/doc/ZZZZ",
                                  "/static/../kb/config.py", "/static/%2e%2e/%2e%2e/kb/config.py"])
def test_paths_never_leave_their_root(site, path):
    response = site.get(path)
    assert response.status_code == 404
    assert b"PACKAGE_DIR" not in response.data and b"root:" not in response.data


# --- export, feed, api ----------------------------------------------------------------------------------


def test_csv_export_has_all_hits_and_a_bom(site):
    response = site.get("/export.csv?q=统战&size=2")
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff") and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    total = site.get("/api/search?q=统战").get_json()["total"]
    assert rows[0][:3] == ["id", "title", "year"] and len(rows) - 1 == total > 2


@pytest.mark.parametrize("route", ["/export.csv", "/feed", "/api/search", "/"])
def test_a_query_too_long_is_a_400_everywhere(site, route):
    # found by the fuzzer: the CSV export streamed, so its query error came after the headers (a 500)
    response = site.get(route, query_string={"q": ":" * 501})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_atom_feed(site):
    response = site.get("/feed?q=统战")
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    # links are relative unless the site's public address is configured (never from the Host header)
    assert entries and all(e.find("a:link", ns).get("href").startswith("/doc/") for e in entries)
    assert all(e.find("a:id", ns).text.startswith("urn:kb:doc:") for e in entries)
    assert root.find("a:author/a:name", ns).text
    updated = [e.find("a:updated", ns).text for e in entries]
    assert updated == sorted(updated, reverse=True)


def test_api_search_doc_facets_openapi(site):
    data = site.get("/api/search?q=乡村振兴&county=祁县").get_json()
    assert {"query", "total", "hits", "facets", "page", "pages"} <= set(data)
    hit = data["hits"][0]
    assert {"id", "path", "title", "year", "counties", "sectors", "score", "snippet", "url"} <= set(hit)
    doc = site.get(f"/api/doc/{hit['id']}").get_json()
    assert doc["id"] == hit["id"] and doc["text"] and doc["original_url"].endswith("/original")
    facets = site.get("/api/facets?county=祁县").get_json()["facets"]
    assert facets["county"]["祁县"] == sum(facets["year"].values()) or facets["county"]["祁县"] >= 1
    spec = site.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/search" in spec["paths"] and "/api/documents" in spec["paths"]


@pytest.mark.parametrize("query", ["page=-1", "page=0", "size=1000", "size=x", "sort=sideways", "year=abc",
                                   "from=abc", "to=99999", "q=" + "长" * 600])
def test_bad_parameters_are_400_not_500(site, query):
    page = site.get(f"/?{query}")
    api = site.get(f"/api/search?{query}")
    assert page.status_code == 400 and api.status_code == 400
    assert "Traceback" not in page.get_data(as_text=True) and api.get_json()["error"]


@pytest.mark.parametrize("query", ["colour=red", "q=%22", "q=OR", "q=-", "q=title:", 'q="unbalanced', "q=%00%01",
                                   "county=不存在", "page=999"])
def test_odd_but_valid_parameters_never_fail(site, query):
    assert site.get(f"/?{query}").status_code in (200, 404)
    assert site.get(f"/api/search?{query}").status_code in (200, 404)


# --- escaping ----------------------------------------------------------------------------------------


def test_script_in_documents_and_queries_is_escaped(hostile):
    for url in ["/", "/?q=乡村振兴", f"/?q={XSS}", "/?county=" + XSS, "/feed", f"/feed?q={XSS}"]:
        _no_raw_payload(hostile.get(url).get_data(as_text=True))
    hits = hostile.get("/api/search?q=乡村振兴").get_json()["hits"]
    assert hits and "&lt;img src=x" in hits[0]["snippet"] and "<img" not in hits[0]["snippet"]
    page = hostile.get(f"/doc/{hits[0]['id']}?q={XSS}").get_data(as_text=True)
    _no_raw_payload(page)
    assert "&lt;script&gt;" in page


def test_security_headers(site):
    headers = site.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_server_errors_are_friendly(site, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internal path /etc/kb")

    app = site.application
    monkeypatch.setattr(app.extensions["kb"], "search", boom)
    app.testing = False  # let the error handler answer, as in production
    try:
        response = site.get("/?q=x")
    finally:
        app.testing = True
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "出错了" in body and "secret internal path" not in body and "Traceback" not in body


# --- uploads -------------------------------------------------------------------------------------------


def _token_app(tmp_path, **extra):
    # uploads answer with their results (a loaded test machine may take longer than the default wait)
    app = create_app({"TESTING": True, "KB_INDEX": str(tmp_path / "index"), "ADMIN_TOKEN": "s3cret",
                      "UPLOAD_WAIT_SECONDS": 120, **extra})
    return app.test_client()


def _csrf(client) -> str:
    html = client.get("/upload").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _file(name="报告.txt", text="关于防汛救灾的通知\n灵石县防汛救灾工作。\n2021年10月1日"):
    return (io.BytesIO(text.encode("utf-8")), name)


def test_uploads_are_off_without_a_configured_token(tmp_path):
    client = create_app({"TESTING": True, "KB_INDEX": str(tmp_path / "index")}).test_client()
    assert "上传功能已关闭" in client.get("/upload").get_data(as_text=True)
    assert client.post("/api/documents", data={"files": _file()}).status_code == 403
    # a token nobody issued is refused as such, on every route
    assert client.post("/api/documents", data={"files": _file()}, headers={"Authorization": "Bearer x"}).status_code == 401


def test_upload_form_needs_csrf_and_the_token(tmp_path):
    client = _token_app(tmp_path)
    assert client.post("/upload", data={"files": _file(), "token": "s3cret"}).status_code == 400  # no CSRF
    token = _csrf(client)
    wrong = client.post("/upload", data={"files": _file(), "token": "nope", "csrf_token": token})
    assert wrong.status_code == 403
    good = client.post("/upload", data={"files": _file(), "token": "s3cret", "csrf_token": token, "year": "2020"})
    assert good.status_code == 200 and "已添加" in good.get_data(as_text=True)
    data = client.get("/api/search?q=防汛救灾").get_json()  # visible at once, no restart
    assert data["total"] == 1 and data["hits"][0]["year"] == 2020


def test_upload_api_with_bearer_token_and_limits(tmp_path):
    client = _token_app(tmp_path, UPLOAD_MAX_FILES=2)
    headers = {"Authorization": "Bearer s3cret"}
    response = client.post("/api/documents", data={"files": [_file("../../../etc/evil.txt"), _file("b.txt", "空")]},
                           headers=headers)
    body = response.get_json()
    assert [f["file"] for f in body["files"]][:1] == ["evil.txt"]
    assert len(list((tmp_path / "index" / "uploads").glob("*/evil.txt"))) == 1 and not (tmp_path / "etc").exists()
    assert client.post("/api/documents", data={"files": [_file("1.txt"), _file("2.txt"), _file("3.txt")]},
                       headers=headers).status_code == 413
    assert client.post("/api/documents", data={"files": _file()}, headers={"Authorization": "Bearer bad"}).status_code == 401


def test_upload_size_limit(tmp_path):
    client = _token_app(tmp_path)
    client.application.config["MAX_CONTENT_LENGTH"] = 1000
    big = (io.BytesIO(b"x" * 5000), "big.txt")
    assert client.post("/api/documents", data={"files": big}, headers={"Authorization": "Bearer s3cret"}).status_code == 413


def test_bad_upload_reports_the_file_and_keeps_the_rest(tmp_path):
    client = _token_app(tmp_path)
    response = client.post("/api/documents", headers={"Authorization": "Bearer s3cret"},
                           data={"files": [_file(), (io.BytesIO(b"PK\x03\x04broken"), "坏.docx")]})
    body = response.get_json()
    assert response.status_code == 422 and not body["ok"]
    statuses = {f["file"]: f["status"] for f in body["files"]}
    assert statuses == {"报告.txt": "added", "坏.docx": "failed"}


def test_timeline_copes_with_far_apart_years():
    from web.params import SearchParams
    from web.timeline import bars

    assert len(bars({"1952": 1, "2024": 3}, SearchParams())) == 73
    assert [b.year for b in bars({"1100": 1, "2024": 3}, SearchParams())] == ["1100", "2024"]


def test_an_index_problem_is_a_clear_503_not_a_traceback(tmp_path, monkeypatch):
    from kb.errors import IndexDamaged

    app = create_app({"TESTING": True, "KB_INDEX": str(tmp_path / "index")})
    kb = app.extensions["kb"]

    def damaged(*args, **kwargs):
        raise IndexDamaged("the index was made by an older version: re-ingest")

    monkeypatch.setattr(kb, "search", damaged)
    monkeypatch.setattr("web.helpers.has_index", lambda: True)
    monkeypatch.setattr("web.pages.has_index", lambda: True)
    monkeypatch.setattr("web.api.has_index", lambda: True)
    for path in ("/?q=x", "/api/search?q=x"):
        response = app.test_client().get(path)
        assert response.status_code == 503 and "re-ingest" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)


def test_the_production_server_freezes_what_it_keeps_after_its_first_requests(samples_index):
    """``kb serve`` keeps its long-lived heap out of the collector's full passes (web.cli)."""
    import gc

    from web import cli

    app = create_app({"TESTING": True, "KB_INDEX": str(samples_index.index_dir)})
    app.extensions["kb"] = samples_index
    cli._freeze_long_lived(app)
    client = app.test_client()
    gc.unfreeze()
    try:
        for n in range(1, cli.FREEZE_AFTER[0] + 1):
            client.get("/?q=乡村振兴").close()  # the freeze runs when the answer is closed
            assert (gc.get_freeze_count() > 0) == (n >= cli.FREEZE_AFTER[0])
    finally:
        gc.unfreeze()
