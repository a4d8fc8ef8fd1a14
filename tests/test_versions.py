"""Versions and near-duplicates (kb.versions): found at ingest by MinHash sketches, grouped, kept
right as documents are added, replaced, removed and re-extracted; the document page, the API,
collapse=versions and the laws corpus's multi-version laws."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from kb import analysis, versions

POOL = "国家机关社会组织公民依法履行职责保障权利义务管理服务监督检查处罚许可登记备案申请审批决定执行救济程序期限"


def _sentences(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(22)) + "。" for _ in range(count)]


BASE = _sentences(1, 60)  # long enough that a different title line leaves a reprint ~0.98 alike
REVISED = BASE[:12] + _sentences(2, 10) + BASE[12:48] + _sentences(3, 8)
OTHER_CITY = [s.replace(s[3:5], "乙市") for s in BASE]  # one model, another city: about 0.7 alike

DOCS = {
    "law-2017.txt": ("甲市养犬管理条例", BASE, 2017, "2017-06-01"),
    "law-2023.txt": ("甲市养犬管理条例（2023年6月修订）", REVISED, 2023, "2023-06-30"),
    "law-excerpt.txt": ("甲市养犬管理条例（摘要）", BASE[10:18], 2017, "2017-06-02"),
    # the same text under another title (the metadata's): a near-duplicate, not a version
    "reprint.txt": ("关于转发养犬管理规定的通知", BASE + ["本通知自发布之日起施行。"], 2018, "2018-01-05"),
    "other-city.txt": ("乙市养犬管理条例", OTHER_CITY, 2019, "2019-03-01"),
    "same-title-unrelated.txt": ("甲市养犬管理条例", _sentences(9, 60), 2010, "2010-01-01"),
}


def _write(root: Path, name: str) -> None:
    title, body, year, date = DOCS[name]
    head = "甲市养犬管理条例\n" if name == "reprint.txt" else title + "\n"
    (root / name).write_text(head + "\n".join(body), encoding="utf-8")
    (root / f"{Path(name).stem}.meta.json").write_text(json.dumps({"year": year, "date": date, "title": title}), encoding="utf-8")


@pytest.fixture
def corpus(tmp_path):
    from support import ingest_paths

    from kb.search import KnowledgeBase

    root = tmp_path / "docs"
    root.mkdir()
    for name in DOCS:
        _write(root, name)
    index_dir = tmp_path / "index"
    assert ingest_paths([root], index_dir).count("added") == len(DOCS)
    return KnowledgeBase(index_dir), root, index_dir


def _ids(kb) -> dict[str, str]:
    return {Path(d["path"]).name: d["id"] for d in kb.documents()}


def _group_names(kb) -> list[set[str]]:
    names = {v: k for k, v in _ids(kb).items()}
    return [{names[m["id"]] for m in group} for group in kb.version_groups()]


def test_title_keys():
    assert versions.title_key("中华人民共和国行政诉讼法（2017年修正）") == "行政诉讼法"
    assert versions.title_key("行政诉讼法(2017-06-27)") == "行政诉讼法"
    assert versions.title_key("2023年政府工作报告（摘登）") == "2023年政府工作报告"
    assert versions.title_key("关于XX的意见（征求意见稿）") == versions.title_key("关于XX的意见")
    assert versions.title_key("宪法修正案（1993年）") != versions.title_key("宪法修正案（1999年）")  # two amendments
    assert versions.title_key("刑法修正案（七）") != versions.title_key("刑法修正案（八）")
    assert versions.title_key("北京市实施《中华人民共和国水法》办法") == versions.title_key("北京市实施《水法》办法")


def test_sketch_is_stored_at_ingest_and_estimates_similarity():
    a, b = versions.sketch("\n".join(BASE)), versions.sketch("\n".join(REVISED))
    assert a["kind"] == versions.settings().kind and a["shingles"] > 1000
    da, db = versions.digest_of(a), versions.digest_of(b)
    estimate = float((da == db).mean())
    exact_a, exact_b = versions.shingles("\n".join(BASE), 5), versions.shingles("\n".join(REVISED), 5)
    exact = len(exact_a & exact_b) / len(exact_a | exact_b)
    assert abs(estimate - exact) < 0.15  # 128 permutations: standard error ~0.045
    assert versions.digest_of({"kind": "another", "digest": a["digest"]}) is None


def test_the_sketch_does_not_depend_on_the_order_shingles_come_in():
    # sketches stored by earlier versions (which sorted the shingles first) stay comparable
    import base64

    import numpy as np
    import rensa

    s = versions.settings()
    text = "\n".join(BASE)
    minhash = rensa.RMinHash(num_perm=s.num_perm, seed=s.seed)
    minhash.update(sorted(versions.shingles(text, s.shingle)))
    old = base64.b64encode(np.asarray(minhash.digest(), dtype="<u4").tobytes()).decode("ascii")
    assert versions.sketch(text)["digest"] == old


def test_versions_are_grouped_and_others_are_not(corpus):
    kb, _, index_dir = corpus
    assert _group_names(kb) == [{"law-2023.txt", "law-2017.txt", "law-excerpt.txt", "reprint.txt"}]
    stored = kb.document(_ids(kb)["law-2017.txt"])
    assert versions.digest_of(stored["meta"]["sketch"]) is not None
    assert (index_dir / versions.CACHE_NAME).exists()  # found at ingest


def test_groups_are_found_at_ingest_not_on_the_first_search(corpus):
    _, _, index_dir = corpus
    from kb.search import KnowledgeBase

    fresh = KnowledgeBase(index_dir)
    found = versions.groups(fresh.snapshot(), index_dir)
    assert found.read == 0 and len(found) == 1  # every document's entry came from the cache


def test_a_document_lists_its_versions_newest_first(corpus):
    kb, _, _ = corpus
    ids = _ids(kb)
    found = kb.versions(ids["law-2017.txt"])
    assert [v.id for v in found] == [ids["law-2023.txt"], ids["reprint.txt"], ids["law-excerpt.txt"]]
    revised, reprint = found[0], found[1]
    assert revised.year == 2023 and revised.date == "2023-06-30" and revised.same_title
    assert 0.3 < revised.jaccard < 0.95 and reprint.jaccard >= 0.95 and not reprint.same_title
    assert found[2].containment > 0.5  # the excerpt is inside the whole (estimated from a small Jaccard: rough)
    assert kb.versions(ids["other-city.txt"]) == [] and kb.versions("0" * 16) == []


def test_collapse_keeps_the_newest_matching_member(corpus):
    kb, _, _ = corpus
    plain = kb.search("养犬管理", page_size=20)
    collapsed = kb.search("养犬管理", page_size=20, collapse="versions")
    assert collapsed.total == plain.total - 3
    kept = {h.path.rsplit("/", 1)[-1]: h.other_versions for h in collapsed.hits}
    assert kept["law-2023.txt"] == 3 and "law-2017.txt" not in kept and kept["other-city.txt"] == 0
    # the newest *matching* member: a query the revision does not match keeps the next one
    only_old = kb.search(f'"{BASE[50][:12]}"', collapse="versions")
    assert {h.path.rsplit("/", 1)[-1] for h in only_old.hits} == {"reprint.txt"}
    with pytest.raises(Exception, match="collapse"):
        kb.search("养犬", collapse="nonsense")


def test_groups_follow_replacement_removal_and_reextract(corpus):
    from support import ingest_paths

    from kb.maintain import reextract, remove

    kb, root, index_dir = corpus
    before = _group_names(kb)
    assert reextract(index_dir) == len(DOCS)
    assert _group_names(kb) == before  # a re-extracted document is a new document: its entry is read again
    # replace the revision with an unrelated text: it leaves the group
    title, _, year, date = DOCS["law-2023.txt"]
    time.sleep(0.01)
    (root / "law-2023.txt").write_text(title + "\n" + "\n".join(_sentences(42, 60)), encoding="utf-8")
    assert ingest_paths([root], index_dir).count("updated") == 1
    assert _group_names(kb) == [{"law-2017.txt", "law-excerpt.txt", "reprint.txt"}]
    remove(index_dir, [_ids(kb)["reprint.txt"]])
    assert _group_names(kb) == [{"law-2017.txt", "law-excerpt.txt"}]
    remove(index_dir, [_ids(kb)["law-excerpt.txt"]])
    assert _group_names(kb) == []


def test_a_damaged_cache_is_rebuilt(corpus):
    kb, _, index_dir = corpus
    (index_dir / versions.CACHE_NAME).write_text("{not json", encoding="utf-8")
    from kb.search import KnowledgeBase

    fresh = KnowledgeBase(index_dir)
    assert len(fresh.version_groups()) == 1


# --- the site ----------------------------------------------------------------------------------------


def test_document_page_and_api_carry_versions(corpus):
    from web import create_app

    kb, _, index_dir = corpus
    ids = _ids(kb)
    client = create_app({"KB_INDEX": str(index_dir), "TESTING": True}).test_client()
    data = client.get(f"/api/doc/{ids['law-2023.txt']}").get_json()
    assert data["versions"] == [ids["reprint.txt"], ids["law-excerpt.txt"], ids["law-2017.txt"]]
    assert data["version_details"][2]["relation"] == "version" and data["version_details"][0]["relation"] == "near-duplicate"
    page = client.get(f"/doc/{ids['law-2023.txt']}").get_data(as_text=True)
    assert "这篇文档的其他版本（3）" in page and "相似度" in page and "2017-06-01" in page
    assert "/compare?id=" in page
    assert client.get(f"/api/doc/{ids['other-city.txt']}").get_json()["versions"] == []
    groups = client.get("/api/versions").get_json()["groups"]
    assert len(groups) == 1 and groups[0][0]["id"] == ids["law-2023.txt"]
    results = client.get("/?q=养犬管理&collapse=versions").get_data(as_text=True)
    assert "另有 3 个版本" in results
    assert client.get("/?q=养犬&collapse=all").status_code == 400


def test_cli_versions(corpus, capsys):
    from kb.cli import main

    kb, _, index_dir = corpus
    assert main(["versions", "--index", str(index_dir)]) == 0
    assert "1 groups of versions (4 documents)" in capsys.readouterr().out
    assert main(["versions", _ids(kb)["law-2017.txt"], "--index", str(index_dir), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["versions"]) == 3


# --- the laws corpus ---------------------------------------------------------------------------------

LAW_VERSIONS = [("诉讼与非诉讼程序法", "民事诉讼法(2021-12-24).md", "民事诉讼法(2023-09-01).md"),
                ("行政法", "行政复议法(2017-09-01).md", "行政复议法(2023-09-01).md"),
                ("宪法相关法", "立法法(2015-03-15).md", "立法法(2023-03-13).md"),
                ("宪法相关法", "监察法(2018-03-20).md", "监察法(2024-12-25).md")]


@pytest.mark.shared
def test_multi_version_laws_are_grouped(tmp_path):
    from support import ingest_paths, shared

    from kb.search import KnowledgeBase

    docs = shared("corpus", "laws", "docs")
    files = []
    for folder, *names in LAW_VERSIONS:
        for name in names:
            found = list(docs.rglob(name))
            if not found:
                pytest.skip(f"{name} is not in ../shared any more")
            files.append(found[0])
    files += sorted((docs / "宪法").glob("宪法修正案*.md"))  # one title, five different amendments: no group
    assert ingest_paths(files, tmp_path / "index").count("failed") == 0
    kb = KnowledgeBase(tmp_path / "index")
    groups = [{Path(m["id"]).name for m in g} for g in kb.version_groups()]
    by_name = {Path(d["path"]).name: d["id"] for d in kb.documents()}
    expected = [{by_name[a], by_name[b]} for _, a, b in LAW_VERSIONS]
    assert sorted(map(sorted, groups)) == sorted(map(sorted, expected))


def test_the_sketch_does_not_depend_on_repeated_shingles():
    # the pipeline hands rensa every shingle in text order; stored sketches (made from the set) hold
    import base64

    import numpy as np
    import rensa

    s = versions.settings()
    text = "\n".join(BASE + BASE[:3])  # repeats
    minhash = rensa.RMinHash(num_perm=s.num_perm, seed=s.seed)
    minhash.update(sorted(versions.shingles(text, s.shingle)))
    old = base64.b64encode(np.asarray(minhash.digest(), dtype="<u4").tobytes()).decode("ascii")
    made = versions.sketch(text)
    assert made["digest"] == old and made["shingles"] == len(versions.shingles(text, s.shingle))
    units = analysis.units(analysis.normalize(text))
    assert versions.sketch(text, units) == made


@pytest.mark.skipif(versions._NATIVE_SHINGLES is None, reason="kb.shingles_c is not built (no C compiler at setup)")
def test_the_compiled_shingle_list_is_the_python_one():
    # one, two and four bytes a character in one string: each shingle must come out as the same str
    samples = ["", "a", "abcd", "abcde", "abcdef", "国务院关于加强", "ab国务院cd", "𠀀𠀁文字abc测试de", "ÀÉ中文😀xyz"]
    rng = random.Random(5)
    alphabet = "abcxyz0189中文字符统战部萬條𠀀😀é"
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(200)]
    for units in samples:
        for size in (1, 2, 5):
            python = [units[i : i + size] for i in range(len(units) - size + 1)]
            assert versions._NATIVE_SHINGLES(units, size) == python, (units, size)
    with pytest.raises(ValueError):
        versions._NATIVE_SHINGLES("abc", 0)


@pytest.mark.skipif(versions._NATIVE_DISTINCT is None, reason="kb.shingles_c is not built (no C compiler at setup)")
def test_the_compiled_distinct_count_is_the_size_of_the_python_set():
    rng = random.Random(9)
    alphabet = "ab中文字萬𠀀😀"  # few letters: many repeated shingles; one, two and four bytes a character
    samples = ["", "a", "abcde", "aaaaaaaaaa", "ab国务院cd", "𠀀𠀁文字abc测试de" * 20]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300))) for _ in range(300)]
    for units in samples:
        for size in (1, 2, 5):
            assert versions._NATIVE_DISTINCT(units, size) == len(set(versions._shingle_list(units, size))), (units, size)
    with pytest.raises(ValueError):
        versions._NATIVE_DISTINCT("abc", 0)
