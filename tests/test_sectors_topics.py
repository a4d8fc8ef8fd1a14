"""Sectors by document shape, topics against official prose, one canonical name per issuer."""

from __future__ import annotations

import pytest

from kb.clean import clean
from kb.meta.issuer import canonical_issuer, issuers_of
from kb.meta.sectors import classify, explain, taxonomy
from kb.meta.topics import is_term, topics_of
from kb.read import read_bytes
from support import SAMPLES, shared

# --- sectors ------------------------------------------------------------------------------------------

LAND_LAW = """中华人民共和国土地管理法

第一章 总则

第一条 为了加强土地管理，维护土地社会主义公有制，保护、开发土地资源，合理利用土地，切实保护耕地，制定本法。
第二条 国家依法实行国有土地有偿使用制度。建设用地应当符合土地利用总体规划。
第三条 十分珍惜、合理利用土地和切实保护耕地是我国的基本国策。各级人民政府应当采取措施，全面规划，严格管理。
第四条 国家实行土地用途管制制度。国家编制土地利用总体规划，规定土地用途，将土地分为农用地、建设用地和未利用地。
第五条 国务院自然资源主管部门统一负责全国土地的管理和监督工作。县级以上地方人民政府自然资源主管部门的设置及其职责，由省、自治区、直辖市人民政府根据国务院有关规定确定。
第二章 土地的所有权和使用权
第九条 城市市区的土地属于国家所有。农村和城市郊区的土地，除由法律规定属于国家所有的以外，属于农民集体所有。
第十条 国有土地和农民集体所有的土地，可以依法确定给单位或者个人使用。使用土地的单位和个人，有保护、管理和合理利用土地的义务。
第三章 耕地保护
第三十条 国家保护耕地，严格控制耕地转为非耕地。国家实行占用耕地补偿制度。征收土地应当给予公平、合理的补偿。
第四十五条 为了公共利益的需要，有下列情形之一，确需征收农民集体所有的土地的，可以依法实施征收。
"""

WORK_REPORT = """政府工作报告

一、2018年工作回顾

过去一年，经济运行保持在合理区间，宏观调控有力有效。

二、2019年政府工作任务

（一）继续创新和完善宏观调控，确保经济运行在合理区间。宏观政策要强化逆周期调节，继续实施积极的财政政策和稳健的货币政策。
（二）激发市场主体活力，着力优化营商环境。深化放管服改革，推进政务服务一网通办。
（三）扎实推进脱贫攻坚和乡村振兴。坚持农业农村优先发展，打好精准脱贫攻坚战，扎实推进乡村振兴战略。
（四）加强污染防治和生态建设，大力推动绿色发展。
""" + "促进经济社会持续健康发展，推动高质量发展。" * 30


def test_a_law_is_about_its_own_area_not_seven():
    found = classify("中华人民共和国土地管理法", LAND_LAW, doctype="法律")
    assert found[0] == "国土资源能源"
    leaves = [s for s in found if s not in {taxonomy().parents.get(x) for x in found}]
    assert len(leaves) <= 2, found


def test_a_heading_that_names_a_sector_makes_it_one():
    found = classify("2019年政府工作报告", WORK_REPORT, doctype="报告")
    assert "乡村振兴" in found and "营商环境" in found
    assert found.index("农业林业水利") == found.index("乡村振兴") + 1  # the parent follows its child
    assert len([s for s in found if s not in {taxonomy().parents.get(x) for x in found}]) <= 4


def test_classify_says_why():
    reasons: dict = {}
    found = classify("2019年政府工作报告", WORK_REPORT, doctype="报告", reasons=reasons)
    assert list(reasons) == found
    assert "乡村振兴" in reasons["乡村振兴"] and "heading" in reasons["乡村振兴"]
    assert reasons["农业林业水利"] == "parent of 乡村振兴"
    assert "title: 土地管理" in explain("中华人民共和国土地管理法", LAND_LAW, doctype="法律")["国土资源能源"]


def test_a_parent_better_supported_than_its_child_covers_it():
    text = ("科技创新、科学技术、科技成果转化、研究开发、高新技术。" * 20) + "学校。"
    found = classify("关于科技工作的意见", text, doctype="意见")
    assert "科技教育" in found and "教育" not in found


@pytest.mark.shared
def test_every_national_report_with_a_rural_revitalisation_heading_gets_the_sector():
    from kb import meta

    docs = shared("corpus", "national-reports", "docs")
    checked = 0
    for path in sorted(docs.glob("*.txt")):
        text = clean(read_bytes(path, path.read_bytes()).text)
        if "乡村振兴" not in text and "乡村全面振兴" not in text:
            continue
        if path.name.startswith("gov_work_report") and ("决议" in text[:200]):
            continue  # the NPC's resolution on the report names no areas
        found = meta.extract(text, None, str(path))[0]
        assert "乡村振兴" in found["sectors"], (path.name, found["sectors"])
        checked += 1
    assert checked >= 9


# --- topics -------------------------------------------------------------------------------------------

# The vocabulary of all official prose: never among any document's topics.
GENERIC = {"政府", "改革", "经济", "发展", "推进", "工作", "继续", "必须", "促进", "人民", "我国", "纳入",
           "成员", "负责同志", "加强", "建设", "社会", "国家", "管理", "企业", "全市", "统战工作"}

FIXED_TEXTS = {
    "新乡贤": ("关于培育新乡贤助力乡村振兴的报告",
               "我县把培育新乡贤作为乡村振兴的重要抓手。新乡贤理事会在各村成立，新乡贤回乡投资兴业。"
               "政府继续推进改革，促进经济发展，必须加强工作。" * 5),
    "千企帮千村": ("千企帮千村行动综述",
                 "民营企业积极参与“千企帮千村”精准扶贫行动，实施“同心工程”，企业结对帮扶贫困村。"
                 "政府工作必须继续推进改革发展。" * 4),
    "万企兴万村": ("民营经济统战工作总结", "组织商会会员企业参与“万企兴万村”行动，助力乡村振兴。" * 3),
}


def _sample_texts():
    for path in sorted(SAMPLES.rglob("*")):
        if path.is_file() and path.suffix in {".txt", ".md", ".html", ".docx"}:
            extracted = read_bytes(path, path.read_bytes())
            yield path.name, extracted.title or path.stem, clean(extracted.text)


def test_no_generic_word_among_the_samples_topics():
    for name, title, text in _sample_texts():
        topics = topics_of(title, text)
        assert topics, name
        assert not set(topics) & GENERIC, (name, topics)


def test_topics_of_fixed_texts_name_their_programmes():
    for expected, (title, text) in FIXED_TEXTS.items():
        topics = topics_of(title, text)
        assert expected in topics, (expected, topics)
        assert not set(topics) & GENERIC, topics


def test_a_quoted_name_is_one_term_not_its_pieces():
    topics = topics_of("民营经济统战工作总结", FIXED_TEXTS["万企兴万村"][1])
    assert "万企兴万村" in topics
    assert not {"兴万村", "万企"} & set(topics)


def test_numbering_is_not_a_topic_but_a_plan_name_is():
    assert not any(is_term(w) for w in ("第十四届", "五十万元", "一九八二年", "百分之九", "二十三"))
    assert is_term("十四五") and is_term("新乡贤")


@pytest.mark.shared
def test_no_generic_word_among_national_reports_topics():
    docs = shared("corpus", "national-reports", "docs")
    for path in sorted(docs.glob("gov_work_report_0[0-4]*.txt")):
        text = clean(read_bytes(path, path.read_bytes()).text)
        topics = topics_of(text.split("\n", 1)[0], text)
        assert not set(topics) & GENERIC, (path.name, topics)


# --- issuers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("written, canonical", [
    ("十三届中央委员会", "中国共产党中央委员会"),
    ("第十四届中央委员会", "中国共产党中央委员会"),
    ("中国共产党第十一届中央委员会", "中国共产党中央委员会"),
    ("中共中央", "中国共产党中央委员会"),
    ("中华人民共和国国务院", "国务院"),
    ("国务院", "国务院"),
    ("中华人民共和国海关总署", "海关总署"),
    ("第十三届全国人民代表大会常务委员会", "全国人民代表大会常务委员会"),
    ("全国人大常委会", "全国人民代表大会常务委员会"),
    ("全国人大", "全国人民代表大会"),
    ("宁波市第十三届人民代表大会常务委员会", "宁波市人民代表大会常务委员会"),
    ("景宁畲族自治县八届人大四次", "景宁畲族自治县人民代表大会"),
    ("河北省政府", "河北省人民政府"),
    ("洛阳市人民代表大会常务委员会会", "洛阳市人民代表大会常务委员会"),
    ("郑州市人民代表大会常务委员", "郑州市人民代表大会常务委员会"),
    ("中国共产党晋中市委员会统一战线工作部", "中共晋中市委统战部"),
    ("中共晋中市委统战部", "中共晋中市委统战部"),
    ("中华人民共和国主席", "中华人民共和国主席"),  # an office, not a body with a short name
])
def test_one_canonical_name_per_body(written, canonical):
    assert canonical_issuer(written) == canonical


def test_congress_and_its_standing_committee_stay_two_bodies():
    assert canonical_issuer("河南省人民代表大会") != canonical_issuer("河南省人民代表大会常务委员会")


def test_issuers_are_canonical_split_and_placed():
    report = ["第十九届中央委员会向大会的报告", "同志们：", "我代表第十八届中央委员会，向大会作报告。"]
    assert issuers_of("决胜全面建成小康社会", report, 0) == ["中国共产党中央委员会"]
    law = ["宁波市人民调解条例", "(2015年2月13日市十四届人大常委会第十七次会议通过)"]
    assert issuers_of("宁波市人民调解条例", law, 0) == ["宁波市人民代表大会常务委员会"]
    joint = ["最高人民法院、最高人民检察院关于办理案件若干问题的解释", "(2016年4月18日公布)"]
    assert issuers_of(joint[0], joint, 0)[:2] == ["最高人民法院", "最高人民检察院"]


# --- phrases in a text: the longest at the leftmost place ------------------------------------------

from collections import Counter  # noqa: E402

import ahocorasick  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kb import analysis  # noqa: E402
from kb.meta import sectors  # noqa: E402
from kb.meta.sectors import Phrases  # noqa: E402


def _leftmost_longest(phrases, text):
    """The definition, one place at a time."""
    found, i = Counter(), 0
    longest_first = sorted(phrases, key=len, reverse=True)
    while i < len(text):
        match = next((p for p in longest_first if text.startswith(p, i)), None)
        if match:
            found[match] += 1
            i += len(match)
        else:
            i += 1
    return found


def _phrase_soup():
    """Texts made of keywords, pieces of keywords and other characters: overlaps and near misses,
    short (the plain loop) and long (the array path)."""
    phrases = sorted(taxonomy().keywords.keys())[::3]
    pieces = phrases + [p[:k] for p in phrases[::4] for k in range(1, len(p))] + list("，。的和在与\n ")
    return st.lists(st.sampled_from(pieces), max_size=400).map("".join)


@settings(max_examples=200, deadline=None)
@given(_phrase_soup())
def test_phrases_are_found_longest_at_the_leftmost_place(text):
    keywords = taxonomy().keywords
    assert keywords.count(text) == _leftmost_longest(list(keywords.keys()), text)


@pytest.mark.skipif(sectors._NATIVE_MATCHES is None, reason="kb.phrases_c is not built (no C compiler at setup)")
@settings(max_examples=100, deadline=None)
@given(_phrase_soup())
def test_the_compiled_phrase_matching_is_the_python_loop(text):
    keywords = taxonomy().keywords
    compiled = keywords.count(text)
    native, sectors._NATIVE_MATCHES = sectors._NATIVE_MATCHES, None
    try:
        assert keywords.count(text) == compiled
    finally:
        sectors._NATIVE_MATCHES = native


@pytest.mark.skipif(sectors._NATIVE_MATCHES is None, reason="kb.phrases_c is not built (no C compiler at setup)")
def test_the_compiled_phrase_matching_refuses_what_it_cannot_read():
    with pytest.raises(TypeError):
        sectors._NATIVE_MATCHES("文化", [0], {"文化": ["文化"]})  # groups must be tuples
    with pytest.raises(TypeError):
        sectors._NATIVE_MATCHES(b"bytes", [0], {})
    assert sectors._NATIVE_MATCHES("文化", [5, -1, 1], {"文化": ("文化",)}) == {}  # places off the text: none


def test_a_phrase_inside_a_longer_one_that_fails_still_counts():
    phrases = Phrases({"历史文化名城": (), "文化": (), "名城": ()})
    assert phrases.count("历史文化") == Counter({"文化": 1})
    assert phrases.count("历史文化名城和文化" * 40) == Counter({"历史文化名城": 40, "文化": 40})


def test_on_real_documents_the_same_as_an_automaton():
    """pyahocorasick's longest matches (which miss 文化 in a bare 历史文化) agree on real texts."""
    keywords = taxonomy().keywords
    automaton = ahocorasick.Automaton()
    for phrase in keywords.keys():
        automaton.add_word(phrase, phrase)
    automaton.make_automaton()
    files = sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".md", ".txt"))
    assert files, "the demo samples are part of the repository"
    for text in [LAND_LAW] + [read_bytes(p, p.read_bytes()).text for p in files]:
        norm = analysis.normalize(text)
        assert keywords.count(norm) == Counter(word for _, word in automaton.iter_long(norm))


def test_a_one_character_phrase_is_refused(tmp_path):
    from kb.meta.sectors import Taxonomy

    path = tmp_path / "sectors.toml"
    path.write_text('[[sector]]\nname = "教育"\nkeywords = { "校" = 1.0 }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="two characters"):
        Taxonomy.load(path)
