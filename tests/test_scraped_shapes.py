"""Titles and years on the shapes of scraped pages (tests/fixtures/scraped: fictional documents
written for these tests, labels in labels.jsonl written before the extractor was run on them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import meta
from kb.clean import clean
from kb.read import read_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "scraped"
LABELS = [json.loads(line) for line in (FIXTURES / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def extract(name: str) -> tuple[dict, str]:
    path = FIXTURES / name
    extracted = read_bytes(path, path.read_bytes())
    return meta.extract(clean(extracted.text), extracted.title, str(path))


@pytest.fixture(scope="module")
def found() -> dict[str, tuple[dict, str]]:
    return {row["file"]: extract(row["file"]) for row in LABELS}


def test_there_are_enough_shapes():
    assert len(LABELS) >= 30


@pytest.mark.parametrize("row", LABELS, ids=[row["file"] for row in LABELS])
def test_title(found, row):
    got = found[row["file"]][0]
    assert got["title"] == row["title"], row["shape"]
    assert got["title_source"] == row["title_source"], row["shape"]


@pytest.mark.parametrize("row", LABELS, ids=[row["file"] for row in LABELS])
def test_year(found, row):
    got = found[row["file"]][0]
    assert got["year"] == row["year"], row["shape"]


@pytest.mark.parametrize("row", LABELS, ids=[row["file"] for row in LABELS])
def test_county(found, row):
    got = found[row["file"]][0]
    if row["county"]:
        assert got["counties"][:1] == [row["county"]], row["shape"]
    else:
        assert got["counties"] == [], row["shape"]


@pytest.mark.parametrize("row", LABELS, ids=[row["file"] for row in LABELS])
def test_every_extracted_title_and_year_says_where_it_came_from(found, row):
    got = found[row["file"]][0]
    provenance = got["provenance"]
    assert provenance["title"] and isinstance(provenance["title"], str)
    if got["year"] is not None:
        assert provenance["year"] and isinstance(provenance["year"], str)
    else:
        assert "year" not in provenance


def test_composed_titles_say_what_they_were_composed_from(found):
    got = found["05_no_title_meeting_line_dated.txt"][0]
    assert got["provenance"]["title"].startswith("composed")
    assert "line 1" in got["provenance"]["title"]


def test_year_provenance_names_the_line(found):
    got = found["02_scrape_header_summary_no_title.txt"][0]
    assert "2020年1月21日" in got["provenance"]["year"]
    assert "2023" not in got["provenance"]["year"]


def test_scrape_furniture_is_gone_and_the_text_keeps_its_characters(found):
    for name, noise in [
        ("02_scrape_header_summary_no_title.txt", ("阅读：175", "内容摘要")),
        ("08_newspaper_page_furniture.txt", ("版面导航", "上一版", "责任编辑", "第02版")),
        ("09_news_kicker_headline.txt", ("信息发布人",)),
        ("10_disclosure_table_header.txt", ("索引号", "生成日期")),
        ("23_portal_menu_one_item_per_line.txt", ("长者模式", "繁體中文", "领导之窗", "字体")),
        ("33_site_header_font_size_tt.txt", ("T|T",)),
        ("37_summary_full_width_note.txt", ("【打印】",)),
    ]:
        text = found[name][1]
        for word in noise:
            assert word not in text, (name, word)
    assert "（摘要）" in found["08_newspaper_page_furniture.txt"][1]
    assert "雲和縣第十七屆人民代表大會" in found["11_traditional_characters.txt"][1]
