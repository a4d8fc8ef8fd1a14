"""Draw the documents of the hand-labelled metadata set (bench/labels/metadata.jsonl).

Run from anywhere: `python bench/labels/sample.py` prints one path per line (relative to the
shared folder). The manifests are used ONLY to find candidates by category; labels are written by
reading each document. Deterministic: random.Random(20261127), fixed order of draws.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
SEED = 20261127
WEB_PER_ENCODING = 4
# pages read and found to be only lists of titles/links (examined in draw order until 4 articles were found)
NOT_ARTICLES = {"w3cn.org.xml", "myblog.pchome.com.tw.xml", "oui-design.com.xml"}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def draw() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    out: list[tuple[str, str]] = []

    def take(stratum: str, pool: list[str], k: int) -> None:
        pool = sorted(set(pool) - {p for _, p in out})
        for p in rng.sample(pool, min(k, len(pool))):
            out.append((stratum, p))

    # --- corpus/laws -------------------------------------------------------------------------
    laws = load(SHARED / "corpus/laws/manifest.jsonl")
    L = "corpus/laws/docs/"
    local = [d for d in laws if d["category"] == "地方性法规"]
    county_zj = [L + d["path"] for d in local if d["is_county_level"] and d["province"] == "浙江"]
    county_cq = [L + d["path"] for d in local if d["is_county_level"] and d["province"] == "重庆"]
    take("laws/county-autonomous", county_zj, 3)
    take("laws/county-autonomous", county_cq, 3)
    # hand-picked: city regulations whose title names a county-level place inside the city
    for name in ("鹤壁市浚县古城保护条例(2020-10-28).md", "安阳市林州红旗渠保护条例(2016-12-09).md",
                 "宁波市慈城古县城保护条例(2010-08-11).md", "杭州市萧山湘湖旅游度假区条例(2018-10-20).md",
                 "义乌国际贸易综合改革试验区条例(2019-11-29).md"):
        hit = [L + d["path"] for d in local if d["path"].endswith("/" + name)]
        assert len(hit) == 1, name
        out.append(("laws/county-named-in-city-title", hit[0]))
    city = [d for d in local if d["place"] and not d["is_county_level"]]
    for prov, k in (("山东", 3), ("河南", 3), ("浙江", 2), ("广东", 2)):
        take("laws/city", [L + d["path"] for d in city if d["province"] == prov], k)
    take("laws/province", [L + d["path"] for d in local if not d["place"]], 4)
    national_law_cats = {"宪法", "宪法相关法", "民法典", "民法商法", "行政法", "经济法", "社会法", "刑法",
                         "诉讼与非诉讼程序法"}
    take("laws/national-law", [L + d["path"] for d in laws if d["category"] in national_law_cats], 5)
    take("laws/administrative-regulation", [L + d["path"] for d in laws if d["category"] == "行政法规"], 5)
    take("laws/judicial-interpretation", [L + d["path"] for d in laws if d["category"] == "司法解释"], 3)
    take("laws/departmental-rule", [L + d["path"] for d in laws if d["category"] == "部门规章"], 2)

    # --- corpus/national-reports -------------------------------------------------------------
    reps = load(SHARED / "corpus/national-reports/manifest.jsonl")
    R = "corpus/national-reports/"
    gwr = [d for d in reps if d["type"] == "gov_work_report"]
    take("reports/gov-work-report-before-1980", [R + d["path"] for d in gwr if d["year"] < 1980], 3)
    take("reports/gov-work-report-1980-1999", [R + d["path"] for d in gwr if 1980 <= d["year"] < 2000], 3)
    take("reports/gov-work-report-2000-", [R + d["path"] for d in gwr if d["year"] >= 2000], 4)
    take("reports/npc-resolution", [R + d["path"] for d in reps if d["type"] == "npc_resolution_on_gov_report"], 4)
    out.append(("reports/cpc-congress-traditional", R + "docs/cpc_congress_report_001_na.txt"))
    take("reports/cpc-congress", [R + d["path"] for d in reps if d["type"] == "cpc_congress_report"], 5)

    # --- corpus/formats ----------------------------------------------------------------------
    F = SHARED / "corpus/formats"
    for p in sorted(F.glob("word-pdf/docx_doc/*.docx")) + sorted(F.glob("word-pdf/pdf/*.pdf")) \
            + sorted(F.glob("pdf-research/*.pdf")):
        out.append(("formats/word-pdf-research", str(p.relative_to(SHARED))))
    # web pages: a fixed random order of each folder; the first WEB_PER_ENCODING pages that are real
    # articles (running text: posts, essays, press releases) are kept, pure link/title lists skipped.
    # Which pages are link lists was decided by reading them (see README.md): NOT_ARTICLES.
    for enc in ("gb2312-web", "big5-web"):
        pool = sorted(str(p.relative_to(SHARED)) for p in (F / enc).iterdir())
        rng.shuffle(pool)
        kept = [p for p in pool if Path(p).name not in NOT_ARTICLES][:WEB_PER_ENCODING]
        out.extend((f"formats/{enc}", p) for p in kept)
    return out


if __name__ == "__main__":
    for stratum, path in draw():
        print(stratum, path, sep="\t")
