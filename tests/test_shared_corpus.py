"""On real documents nobody here wrote (../shared); skipped, with the reason, when it is absent."""

from __future__ import annotations

import json
import random

import pytest

from support import ingest_paths, shared
from kb import analysis
from kb.search import KnowledgeBase

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def laws_sample(tmp_path_factory):
    """150 laws chosen with a fixed seed, ingested with two workers."""
    docs = shared("corpus", "laws", "docs")
    files = sorted(docs.rglob("*.md"))
    chosen = random.Random(5).sample(files, 150)
    index_dir = tmp_path_factory.mktemp("laws-index")
    summary = ingest_paths(chosen, index_dir, jobs=2)
    assert summary.count("failed") == 0
    return KnowledgeBase(index_dir)


def test_seed_ingests_clean(tmp_path):
    seed = shared("seed")
    ingest_paths([seed], tmp_path / "index")
    kb = KnowledgeBase(tmp_path / "index")
    doc = kb.document(next(kb.documents())["id"])
    assert doc["title"] == "凝心聚力共奋进同心逐梦谱新篇——2021年晋中统战工作综述"
    assert doc["year"] == 2021
    assert kb.search("预览加载中").total == 0 and kb.search("金币").total == 0
    for query in ("乡村振兴", "新乡贤", "战部", "营企业", "村振兴", '"统一战线"', "灵石县", "祁县"):
        assert kb.search(query).total == 1, query


def test_every_format_file_ingests_or_fails_clearly(tmp_path):
    formats = shared("corpus", "formats")
    lines: list[str] = []
    from kb.ingest import Ingest

    summary = Ingest(tmp_path / "index", report=lines.append, jobs=2).run([formats])
    by_status = {}
    for result in summary.results:
        by_status.setdefault(result.status, []).append(result)
    assert not by_status.get("failed"), by_status.get("failed")
    for result in by_status.get("skipped", []):  # non-documents (.json data): a reason each
        assert result.message and (result.path.endswith(".json") or "not" in result.message), result
    assert sum(1 for r in summary.results if r.path.endswith((".doc", ".ofd")) and r.status == "added") == 6 + 16
    kb = KnowledgeBase(tmp_path / "index")
    for doc in kb.documents():
        text = kb.document(doc["id"])["text"]
        cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
        assert "\ufffd" not in text[:2000], doc["path"]
        assert cjk > 0 or "LICENSE" in doc["path"], doc["path"]
    # the GBK, GB18030 and UTF-8-with-BOM copies of a law are the same text: stored once, and said so
    assert kb.search('"彭水苗族土家族自治县城乡建设管理条例"').total == 1
    copies = [r for r in by_status["duplicate"] if "gbk-gb18030-bom" in r.path]
    assert len(copies) >= 14 and all("same" in r.message for r in copies)
    assert kb.search("臺灣").total == kb.search("台湾").total > 0  # Big5 pages, simplified query


def test_random_substrings_against_grep(laws_sample):
    kb = laws_sample
    docs = {d["id"]: analysis.normalize(kb.document(d["id"])["text"]) for d in kb.documents()}
    rng = random.Random(11)
    ids = sorted(docs)
    checked = misses = 0
    while checked < 300:
        text = docs[rng.choice(ids)]
        n = rng.randint(2, 6)
        start = rng.randrange(0, max(1, len(text) - n))
        sub = text[start:start + n]
        if not analysis.units(sub) or any(ch in sub for ch in '"“”') or any(ch.isspace() for ch in sub):
            continue
        expected = {i for i, t in docs.items() if sub in t}
        found = {h.id for p in range(1, 4) for h in kb.search(f'"{sub}"', page=p, page_size=100, snippets=False).hits}
        misses += len(expected - found)
        checked += 1
    assert misses == 0


def test_exact_matches_rank_first_on_laws(laws_sample):
    kb = laws_sample
    results = kb.search("人民政府", page_size=20)
    exact = [h for h in results.hits if h.exact]
    assert [h.exact for h in results.hits] == sorted((h.exact for h in results.hits), reverse=True)
    assert exact


def test_traditional_report_found_with_simplified_query(tmp_path):
    docs = shared("corpus", "national-reports", "docs")
    manifest = [json.loads(line) for line in (docs.parent / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    ingest_paths([docs / m["path"].split("/")[-1] for m in manifest[:12]], tmp_path / "index")
    kb = KnowledgeBase(tmp_path / "index")
    assert kb.search("政府工作报告").total >= 1
    assert kb.search("政府工作报告").total == kb.search("政府工作報告").total
