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


# --- the rules one by one -------------------------------------------------------------------------


def test_years_merely_cited_or_targeted_are_not_the_documents():
    from kb.meta.dates import find_year, title_years

    body = "各位代表：\n2019年以来，全县累计引进项目一百个。\n“十四五”时期，我们将加快发展。\n到2025年，地区生产总值突破五百亿元。"
    assert find_year(body, "", None, is_report=True).year is None
    assert title_years("龙游县国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要") == []
    assert title_years("某县第十四个五年规划纲要(2021-2025年)") == [2021]
    assert title_years("2021年高阳成绩单、2022年高阳这样干") == [2021, 2022]


def test_review_and_plan_headings_date_only_a_report_unless_they_agree():
    from kb.meta.dates import structure_year

    review_only = "一、2019年工作回顾\n过去的一年，全县经济平稳。"
    assert structure_year(review_only, is_report=False).year is None
    assert structure_year(review_only, is_report=True).year == 2020
    both = "一、2019年工作回顾\n过去的一年。\n二、2020年工作安排\n今年。"
    assert structure_year(both, is_report=False).year == 2020
    assert structure_year("一、2020年主要工作\n过去一年。\n二、2021年主要任务", is_report=True).year == 2021


def test_numbered_sessions_give_a_year_only_where_the_data_knows_it():
    from kb.meta.dates import session_of, session_year

    assert session_year("在河北省第九届人民代表大会第三次会议上") == 2000
    assert session_year("在河北省第十四届人民代表大会第四次会议上") == 2026
    assert session_of("在保定市第十三届人民代表大会第三次会议上") is None  # a city: its sessions are irregular
    assert session_of("在涞水县第十四届人民代表大会第五次会议上") is None
    assert session_year("第二届全国人民代表大会第三次会议") == 1962  # off the yearly rhythm (sessions.toml)
    assert session_year("第十二届全国人民代表大会第五次会议") == 2017


def test_a_page_stamp_above_the_title_is_not_the_documents_date():
    found, _ = meta.extract(clean("2021年03月02日\n政府工作报告\n——在某某县第十六届人民代表大会第四次会议上\n（2020年1月9日）\n各位代表：\n正文。"))
    assert found["year"] == 2020 and found["date"] == "2020-01-09"
    found, _ = meta.extract(clean("2022年1月5日\n某某县2021年工作总结\n正文。"))
    assert found["year"] == 2021 and found["date"] is None


def test_a_title_cut_from_two_lines_keeps_the_documents_characters():
    found, _ = meta.extract(clean("關於雲和縣國民經濟和社會發展\n第十四個五年規劃綱要的報告\n（草案）\n正文。"))
    assert found["title"] == "關於雲和縣國民經濟和社會發展第十四個五年規劃綱要的報告（草案）"
    assert found["title_source"] == "text" and found["provenance"]["title"].startswith("line 1-2")


def test_the_format_title_wins_unless_it_names_only_a_section():
    found, _ = meta.extract(clean("沭阳县2020年政府工作报告\n各位代表：\n正文。"), "政务公开")
    assert found["title"] == "沭阳县2020年政府工作报告" and found["title_source"] == "text"
    found, _ = meta.extract(clean("各位代表：\n正文。"), "德清县2022年政府工作报告_德清县人民政府")
    assert found["title"] == "德清县2022年政府工作报告" and found["title_source"] == "format"


def test_a_format_title_that_names_only_the_site_is_passed_over():
    for hint in ("德清县人民政府门户网站", "德清县人民政府", "政务公开 - 德清县人民政府"):
        found, _ = meta.extract(clean("德清县2022年政府工作报告\n各位代表：\n正文。"), hint)
        assert found["title"] == "德清县2022年政府工作报告" and found["title_source"] == "text", hint
