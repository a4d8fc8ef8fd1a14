"""The text shown is the text written: full-width punctuation and traditional characters survive
storage, snippets, highlights, titles and the API; normalisation is for matching only."""

from __future__ import annotations

DOCS = {
    "summary.txt": "县委统战部工作总结（摘要）\n2019年，县委统战部围绕“乡村振兴”开展工作；培育新乡贤１２０名。\n2019年12月30日",
    "big5.txt": "海峽兩岸青年交流活動實施方案\n推進鄉村振興，兩岸青年踴躍參與。\n2023年5月1日",
}


def test_stored_text_and_title_keep_full_width_marks(build_index):
    kb = build_index(DOCS)
    hit = kb.search("县委统战部").hits[0]
    stored = kb.document(hit.id)
    assert "2019年，县委统战部围绕“乡村振兴”开展工作；" in stored["text"]
    assert hit.title == "县委统战部工作总结（摘要）"
    assert "，" in hit.snippet and "<mark>县委统战部</mark>" in hit.snippet


def test_half_width_query_matches_full_width_text_and_highlights_the_original(build_index):
    kb = build_index(DOCS)
    results = kb.search('"2019年,县委统战部"')
    assert results.total == 1
    assert "<mark>2019年，县委统战部</mark>" in results.hits[0].snippet
    results = kb.search("新乡贤120名")  # full-width digits in the document
    assert results.total == 1 and "<mark>新乡贤１２０名</mark>" in results.hits[0].snippet


def test_full_width_query_matches_half_width_text(build_index):
    kb = build_index({"a.txt": "工作报告\n2021年,乡村振兴(试点)取得成效。"})
    assert kb.search('"2021年，乡村振兴（试点）"').total == 1


def test_traditional_text_is_shown_traditional_and_found_by_simplified_query(build_index):
    kb = build_index(DOCS)
    results = kb.search("乡村振兴 两岸")
    assert results.total == 1
    hit = results.hits[0]
    assert hit.title == "海峽兩岸青年交流活動實施方案"
    assert "<mark>鄉村振興</mark>" in hit.snippet
    html, count = kb.highlighted_text(hit.id, "两岸")
    assert count == 2 and "<mark id=\"m1\">兩岸</mark>" in html


def test_document_page_and_csv_show_the_original_marks(build_index):
    from web import create_app

    kb = build_index(DOCS)
    app = create_app({"TESTING": True, "KB_INDEX": str(kb.index_dir)})
    client = app.test_client()
    hit = kb.search("县委统战部").hits[0]
    page = client.get(f"/doc/{hit.id}?q=县委统战部").get_data(as_text=True)
    assert "2019年，<mark" in page and "（摘要）" in page
    export = client.get("/export.csv?q=县委统战部").get_data(as_text=True)
    assert "县委统战部工作总结（摘要）" in export
    api = client.get(f"/api/doc/{hit.id}").get_json()
    assert "围绕“乡村振兴”开展工作；" in api["text"]
