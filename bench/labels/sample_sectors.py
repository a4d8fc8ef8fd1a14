"""Draw the documents of the hand-labelled sectors set (bench/labels/sectors.jsonl).

Run from anywhere: `python bench/labels/sample_sectors.py` prints stratum and path (relative to the
shared folder), tab-separated, in the order of `sectors.jsonl`. Documents already in `metadata.jsonl`
are never drawn. The manifests are used ONLY to find candidates by category, region or year; the labels
are written by reading each document. Deterministic: random.Random(20261203), fixed order of draws,
every pool sorted before it is sampled.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared"
SEED = 20261203
WEB_PER_ENCODING = 2
# pages read and found to be only lists of titles/links, or not a page at all (examined in draw order
# until WEB_PER_ENCODING articles were found); the first three come from sample.py
NOT_ARTICLES = {"w3cn.org.xml", "myblog.pchome.com.tw.xml", "oui-design.com.xml"}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def draw() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    labelled = {d["path"] for d in load(HERE / "metadata.jsonl")}
    out: list[tuple[str, str]] = []

    def take(stratum: str, pool: list[str], k: int) -> None:
        pool = sorted(set(pool) - labelled - {p for _, p in out})
        assert len(pool) >= k, (stratum, len(pool))
        for p in rng.sample(pool, k):
            out.append((stratum, p))

    # --- corpus/work-reports: 20, by region (河北省 7, 保定市 7, 高阳县 6) --------------------
    W = "corpus/work-reports/docs/"
    work = load(SHARED / "corpus/work-reports/manifest.jsonl")
    for region, k in (("河北省", 7), ("保定市", 7), ("高阳县", 6)):
        take(f"work-reports/{region}", [W + d["path"] for d in work if d["region"] == region], k)

    # --- corpus/national-reports: 12 -----------------------------------------------------------
    R = "corpus/national-reports/"
    reps = load(SHARED / "corpus/national-reports/manifest.jsonl")
    gwr = [d for d in reps if d["type"] == "gov_work_report"]
    take("reports/gov-work-report-2018-2025", [R + d["path"] for d in gwr if 2018 <= d["year"] <= 2025], 5)
    take("reports/gov-work-report-before-2018", [R + d["path"] for d in gwr if d["year"] < 2018], 3)
    take("reports/cpc-congress", [R + d["path"] for d in reps if d["type"] == "cpc_congress_report"], 3)
    take("reports/npc-resolution", [R + d["path"] for d in reps if d["type"] == "npc_resolution_on_gov_report"], 1)

    # --- corpus/laws: 25, 5 per category group -------------------------------------------------
    L = "corpus/laws/docs/"
    laws = load(SHARED / "corpus/laws/manifest.jsonl")
    national_law_cats = {"宪法", "宪法相关法", "民法典", "民法商法", "行政法", "经济法", "社会法", "刑法",
                         "诉讼与非诉讼程序法"}
    take("laws/local-regulation", [L + d["path"] for d in laws if d["category"] == "地方性法规"], 5)
    take("laws/administrative-regulation", [L + d["path"] for d in laws if d["category"] == "行政法规"], 5)
    take("laws/departmental-rule", [L + d["path"] for d in laws if d["category"] == "部门规章"], 5)
    take("laws/judicial-interpretation", [L + d["path"] for d in laws if d["category"] == "司法解释"], 5)
    take("laws/national-law", [L + d["path"] for d in laws if d["category"] in national_law_cats], 5)

    # --- corpus/formats web pages: a fixed random order of each folder; the first WEB_PER_ENCODING
    # pages that are real articles and not yet labelled are kept (NOT_ARTICLES decided by reading) ----
    F = SHARED / "corpus/formats"
    for enc in ("gb2312-web", "big5-web"):
        pool = sorted(str(p.relative_to(SHARED)) for p in (F / enc).iterdir())
        rng.shuffle(pool)
        kept = [p for p in pool if p not in labelled and Path(p).name not in NOT_ARTICLES]
        out.extend((f"formats/{enc}", p) for p in kept[:WEB_PER_ENCODING])
    return out


if __name__ == "__main__":
    for stratum, path in draw():
        print(stratum, path, sep="\t")
