"""Metadata extraction: places, sectors, topics, doctype, issuer, docno; facets and reextract."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import meta
from kb.clean import clean
from kb.meta.issuer import docno_of, doctype_of, issuers_of
from kb.meta.places import Gazetteer, find_places
from kb.meta.sectors import classify
from kb.read import read_bytes


def extract_file(path: Path) -> dict:
    extracted = read_bytes(path, path.read_bytes())
    return meta.extract(clean(extracted.text), extracted.title, str(path))[0]


# --- the seed -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(samples_dir):
    return extract_file(samples_dir / "seed" / "2021年晋中统战工作综述.txt")


def test_seed_year_type_and_places(seed):
    assert seed["year"] == 2021
    assert seed["doctype"] == ["综述"]
    assert {"祁县", "灵石县", "平遥县", "榆次区"} <= set(seed["counties"])
    assert seed["cities"][0] == "晋中市" and seed["provinces"][0] == "山西省"


def test_seed_sectors(seed):
    sectors = set(seed["sectors"])
    assert {"乡村振兴", "防汛救灾", "党史学习教育"} <= sectors  # docs/samples.md's truth
    assert "民族宗教" not in sectors  # named once in passing (在民族宗教界人士中开展…活动)


def test_seed_topics_are_its_key_terms(seed):
    assert set(seed["topics"]) & {"统一战线", "新乡贤", "乡村振兴", "党史学习教育", "统战工作"}
    assert not set(seed["topics"]) & {"工作", "推进", "全市", "晋中市"}


# --- the demo documents against their written ground truth (docs/samples.md) --------------------------


SAMPLE_PLACES = {  # file -> (principal county or None for city-wide, doctype)
    "2016年榆次区非公有制经济统战工作总结.md": ("榆次区", "总结"),
    "关于在介休市平遥县开展宗教活动场所规范化管理试点工作的通知.txt": ("介休市", "通知"),
    "关于加强新时代党外知识分子工作的实施意见.docx": (None, "意见"),
    "2019年祁县统一战线助力乡村振兴同心工程工作总结.txt": ("祁县", "总结"),
    "关于太谷区新的社会阶层人士统战工作的调研报告.txt": ("太谷区", "报告"),
    "寿阳县民族团结进步创建工作情况报告.txt": ("寿阳县", "报告"),
    "灵石县统一战线抗洪救灾工作动态.html": ("灵石县", None),
    "和顺县委统战部2022年工作总结.txt": ("和顺县", "总结"),
    "2023年平遙古城海峽兩岸暨港澳青年文化交流活動實施方案.txt": ("平遥县", "方案"),
    "关于榆社县民营企业营商环境的调研报告.md": ("榆社县", "报告"),
    "关于开展2024年左权县同心助学活动的通知.txt": ("左权县", "通知"),
    "顺平县2023年民营经济统战工作总结.md": ("顺平县", "总结"),
    "关于昔阳县无党派人士开展生态环境保护民主监督工作情况的报告.txt": ("昔阳县", "报告"),
    "2018年左权县和顺县千企帮千村精准扶贫行动综述.txt": ("左权县", "综述"),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_PLACES))
def test_sample_principal_place_and_type(samples_dir, name):
    path = next(samples_dir.rglob(name))
    found = extract_file(path)
    county, doctype = SAMPLE_PLACES[name]
    if county:
        assert found["counties"][:1] == [county]
    else:
        assert found["counties"] == []
    assert found["doctype"] == ([doctype] if doctype else [])
    expected_city = "保定市" if "顺平县" in name else "晋中市"
    assert found["cities"][:1] == [expected_city]


def test_traditional_document_gets_simplified_facet_values(samples_dir):
    found = extract_file(next(samples_dir.rglob("*平遙古城*")))
    assert found["docno"] == "平统发〔2023〕7号"
    assert "中共平遥县委统战部" in found["issuer"]
    assert found["counties"][0] == "平遥县"


# --- places: the hard cases ---------------------------------------------------------------------------


def test_short_names_need_an_anchor_and_a_word_boundary():
    # 和顺 inside 和顺利 is no place; 平定 (a verb) is no place even in a Shanxi text
    found = find_places("工作总结", "山西省各项工作和顺利推进,平定叛乱的历史。")
    assert found.counties == []
    # short names anchored by their city
    found = find_places("晋中市工作综述", "晋中市所属平遥、灵石、介休等地,平遥古城游客增加,灵石煤炭,介休绵山。")
    assert {"平遥县", "灵石县", "介休市"} <= set(found.counties)


def test_short_name_followed_by_its_unit_word_is_a_full_mention():
    found = find_places("关于做好统战工作的通知", "中共和顺县委统战部 灵石县委书记 中共晋中市榆次区委")
    assert {"和顺县", "灵石县", "榆次区"} <= set(found.counties)


def test_former_names_map_to_todays_units():
    found = find_places("满城县2010年工作总结", "满城县人民政府。")
    assert found.counties == ["满城区"] and found.cities[0] == "保定市"
    assert find_places("工作总结", "中共太谷县委统战部。").counties == ["太谷区"]


def test_ambiguous_names_resolved_by_city_or_province():
    beijing = find_places("朝阳区工作报告", "北京市朝阳区人民政府。朝阳区位于北京城区东部。")
    changchun = find_places("朝阳区工作报告", "长春市朝阳区人民政府。朝阳区位于吉林省长春市。")
    assert beijing.counties[:1] == ["朝阳区"] and beijing.cities[:1] == ["北京市"]
    assert changchun.counties[:1] == ["朝阳区"] and changchun.cities[:1] == ["长春市"]
    unknown = find_places("城区工作报告", "城区建设。老城区改造。")
    assert unknown.counties == []


def test_principal_place_is_the_one_in_the_title():
    text = "近年来,祁县学习借鉴平遥县、平遥县、平遥县、介休市、介休市的经验。" * 2
    found = find_places("祁县乡村振兴工作总结", text)
    assert found.counties[0] == "祁县"


def test_gazetteer_covers_every_county():
    gaz = Gazetteer.load()
    counties = {p.name for places in gaz.full.values() for p in places if p.level == "county"}
    assert len(counties) > 2800


# --- doctype, issuer, docno ---------------------------------------------------------------------------


@pytest.mark.parametrize("title,kind", [
    ("关于做好2021年统战工作的通知", "通知"), ("晋中市民营经济发展促进条例(试行)", "条例"),
    ("中华人民共和国刑法", "法律"), ("2021年晋中统战工作综述", "综述"), ("关于加强党外知识分子工作的实施意见", "意见"),
    ("在全市统战部长会议上的讲话", "讲话"), ("灵石县统一战线投身抗洪抢险", None),
])
def test_doctype(title, kind):
    assert doctype_of(title) == kind


@pytest.mark.parametrize("line,docno", [
    ("晋政发〔2021〕12号", "晋政发〔2021〕12号"), ("晋政发[2021]12号", "晋政发〔2021〕12号"),
    ("晋政发(2021)12号", "晋政发〔2021〕12号"), ("中华人民共和国主席令第三十一号", "中华人民共和国主席令第三十一号"),
])
def test_docno_forms(line, docno):
    assert docno_of(["中共晋中市委文件", line, "关于X的通知"]) == docno


def test_docno_cited_in_the_body_is_not_the_documents():
    assert docno_of(["关于X的通知", "根据省委《关于进一步做好统战工作的意见》(晋发〔2019〕5号)等文件精神,现将有关事项通知如下。"]) is None


def test_issuers_from_letterhead_signature_and_law_header():
    lines = ["中共晋中市委统战部", "晋中市民族宗教事务局", "晋中统发〔2017〕12号", "关于开展试点工作的通知", "各县:", "正文。",
             "中共晋中市委统一战线工作部    晋中市民族宗教事务局", "2017年9月18日"]
    assert issuers_of("关于开展试点工作的通知", lines, 3) == ["中共晋中市委统战部", "晋中市民族宗教事务局"]
    law = ["宁波市专利管理条例", "2003年9月26日 宁波市第十二届人民代表大会常务委员会第五次会议通过", "第一条 为了"]
    assert issuers_of("宁波市专利管理条例", law, 0) == ["宁波市人民代表大会常务委员会"]


# --- sectors ------------------------------------------------------------------------------------------


def test_sector_taxonomy_is_data_and_user_sectors_win(tmp_path, monkeypatch):
    from kb.meta import sectors

    taxonomy = tmp_path / "sectors.toml"
    taxonomy.write_text('[settings]\nmin_score = 1.0\n[[sector]]\nname = "测试领域"\n'
                        'keywords = { "新乡贤" = 3.0 }\n', encoding="utf-8")
    custom = sectors.Taxonomy.load(taxonomy)
    assert classify("工作总结", "培育新乡贤。", custom) == ["测试领域"]
    assert classify("工作总结", "没有关键词。", custom) == []
    merged = meta.merge({"sectors": ["测试领域"]}, meta.normalize_given({"sector": "乡村振兴"}, "test"))
    assert merged["sectors"] == ["乡村振兴"]


def test_child_sector_brings_its_parent():
    found = classify("关于宗教活动场所规范化管理的通知", "宗教活动场所规范化管理。宗教教职人员。宗教事务条例。" * 3)
    assert "宗教工作" in found and "民族宗教" in found
    assert found.index("宗教工作") < found.index("民族宗教")


# --- facets, filters and reextract through the whole stack --------------------------------------------


def test_all_facets_have_counts_and_filters(samples_index):
    results = samples_index.search("", page_size=1)
    for name in ("year", "county", "sector", "city", "province", "doctype", "issuer", "topic"):
        assert results.facets[name], name
    assert results.facets["city"]["晋中市"] == results.total - 1  # all but the 顺平县 document
    for name in ("city", "province", "doctype", "issuer", "topic"):
        value = next(iter(results.facets[name]))
        narrowed = samples_index.search("", filters={name: [value]})
        assert narrowed.total == results.facets[name][value], name


def test_reextract_uses_stored_text_and_keeps_given_metadata(tmp_path, make_docs, monkeypatch):
    from support import ingest_paths
    from kb.ingest import reextract
    from kb.meta import sectors
    from kb.search import KnowledgeBase

    root = make_docs({
        "a.txt": "祁县乡村振兴工作总结\n培育新乡贤,推进乡村振兴。\n2021年12月1日",
        "b.txt": "灵石县防汛救灾工作总结\n防汛救灾,新乡贤参与。\n2021年10月1日",
        "b.meta.json": '{"sectors": ["用户领域"]}',
    })
    index_dir = tmp_path / "index"
    ingest_paths([root], index_dir)
    for path in root.iterdir():
        path.unlink()  # the sources are gone: reextract must not need them
    taxonomy = tmp_path / "sectors.toml"
    taxonomy.write_text('[settings]\nmin_score = 1.0\n[[sector]]\nname = "新分类"\nkeywords = { "新乡贤" = 3.0 }\n',
                        encoding="utf-8")
    monkeypatch.setattr(sectors, "taxonomy", lambda: sectors.Taxonomy.load(taxonomy))
    assert reextract(index_dir) == 2
    kb = KnowledgeBase(index_dir)
    docs = {Path(d["path"]).name: d for d in kb.documents()}
    assert docs["a.txt"]["sectors"] == ["新分类"]
    assert docs["b.txt"]["sectors"] == ["用户领域"]  # what the user gave still wins
    assert kb.search("新乡贤").total == 2 and kb.search("", filters={"sector": ["新分类"]}).total == 1


def test_a_short_name_means_the_place_the_text_names_in_full():
    """河北 is both 河北省 and Tianjin's 河北区: in a text that says 河北省, it is the province; a
    place glued to its own organ in one word (河北省政府, 保定市委) is a full mention."""
    text = ("2021年河北省政府工作报告\n各位代表：\n过去一年，河北省经济稳中向好。河北发展动能增强，"
            "河北人民团结奋斗。京津冀协同发展，天津、北京合作深化。河北省上下齐心。")
    found = find_places("2021年河北省政府工作报告", text, [])
    assert found.provinces[:1] == ["河北省"] and "河北区" not in found.counties
    assert find_places("保定市委工作报告", "保定市委召开会议。", []).cities[:1] == ["保定市"]
