"""Title and year: from the document itself, never from scrape headers or cited laws."""

import pytest

from kb import meta
from kb.clean import clean
from kb.meta.dates import cn_number, document_year
from kb.meta.title import extract_title


def test_glued_title_is_cut_after_its_document_type():
    text = clean("凝心聚力共奋进同心逐梦谱新篇——2021年晋中统战工作综述2021年,恰逢党的百年华诞和“十四五”开局之年,"
                 "是极不平凡的一年。围绕助力全市乡村振兴,培育新乡贤11040名,实施乡村振兴项目114个。" * 2)
    title, text = extract_title(text)
    assert title == "凝心聚力共奋进同心逐梦谱新篇——2021年晋中统战工作综述"
    assert text.split("\n")[0] == title


@pytest.mark.parametrize("text,title", [
    ("中共祁县县委统战部\n祁县统一战线助力乡村振兴2019年工作总结\n2019年,县委统战部……", "祁县统一战线助力乡村振兴2019年工作总结"),
    ("中共昔阳县委统一战线工作部文件\n昔统字〔2025〕9号\n关于昔阳县无党派人士工作情况的报告\n县委:", "关于昔阳县无党派人士工作情况的报告"),
    ("中共和顺县委统战部\n工 作 总 结\n(2022年度)\n2022年,县委统战部……", "中共和顺县委统战部工作总结(2022年度)"),
    ("千企帮千村 同心奔小康\n——2018年左权县“千企帮千村”行动综述\n晋中市工商联", "千企帮千村 同心奔小康——2018年左权县“千企帮千村”行动综述"),
    ("关于进一步加强新时代\n民营经济统战工作的实施意见\n各县:", "关于进一步加强新时代民营经济统战工作的实施意见"),
    ("政 府 工 作 报 告\n各位代表:", "政府工作报告"),
])
def test_title_lines(text, title):
    assert extract_title(text)[0] == title


def test_format_title_wins_and_loses_its_site_suffix():
    assert extract_title("正文", "灵石县统一战线投身抗洪抢险_工作动态_晋中统战网")[0] == "灵石县统一战线投身抗洪抢险"


@pytest.mark.parametrize("text,year", [
    ("2021年晋中统战工作综述\n正文", 2021),
    ("关于做好统战工作的通知\n各县:\n正文。\n晋中市委统战部\n二〇一九年三月十二日", 2019),
    ("关于做好统战工作的通知\n正文。\n(2018年6月15日)", 2018),
    # a law: the latest dated header line (its last amendment), not the effective-date article
    ("# 某某条例\n2008年8月22日 某市人大常委会通过\n2013年4月26日 修正\n第一条 本条例自2009年1月1日起施行。", 2013),
    # a cited law's year in the title is not the document's year
    ("关于贯彻《中华人民共和国民法典(2020年)》的通知\n正文。\n2021年3月1日", 2021),
])
def test_document_year(text, year):
    title, text = extract_title(text)
    assert document_year(text, title)[0] == year


def test_scrape_header_year_is_never_used():
    raw = "时间：2023-03-30 作者：办公室 来源：晋中统战网 阅读：1234次 评论：0\n寿阳县民族团结进步创建工作情况报告\n正文。\n2020年11月25日"
    found, _ = meta.extract(clean(raw))
    assert found["year"] == 2020 and found["date"] == "2020-11-25"


def test_chinese_numerals():
    assert cn_number("二〇二一") == 2021
    assert cn_number("二○二三") == 2023  # Big5 texts write ○ (U+25CB)
    assert cn_number("三十一") == 31 and cn_number("十二") == 12 and cn_number("十") == 10


def test_given_metadata_is_normalised_and_wins():
    given = meta.normalize_given({"year": "2020年", "county": "祁县;平遥县", "sector": ["乡村振兴"], "note": "x"}, "test")
    assert given == {"year": 2020, "counties": ["祁县", "平遥县"], "sectors": ["乡村振兴"], "note": "x"}
    merged = meta.merge({"year": 2021, "counties": ["榆次区"], "title": "t"}, given)
    assert merged["year"] == 2020 and merged["counties"] == ["祁县", "平遥县"] and merged["title"] == "t"


def test_bad_given_year_names_its_origin():
    with pytest.raises(ValueError, match="manifest.csv entry 3: year 'abc'"):
        meta.normalize_given({"year": "abc"}, "manifest.csv entry 3")
