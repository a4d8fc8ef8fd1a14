"""Ingest: incremental, de-duplicated, user metadata wins, bad files reported, crash-safe."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from support import ROOT, ingest_paths
from kb import index as kbindex
from kb.errors import IndexLocked
from kb.ingest import Ingest, load_manifest
from kb.search import KnowledgeBase

REPORT = "中共祁县县委统战部\n祁县统一战线助力乡村振兴工作总结\n2019年,县委统战部组织新乡贤投身乡村振兴。\n二〇一九年十二月二十日"


def _toc_state(index_dir: Path):
    return sorted((p.name, p.stat().st_mtime_ns) for p in index_dir.iterdir() if p.is_file())


# --- the demo documents -----------------------------------------------------------------------------


SAMPLE_TRUTH = {  # file name -> (year, title); from docs/samples.md, written before the extractor
    "2021年晋中统战工作综述.txt": (2021, "凝心聚力共奋进同心逐梦谱新篇——2021年晋中统战工作综述"),
    "2016年榆次区非公有制经济统战工作总结.md": (2016, None),
    "关于在介休市平遥县开展宗教活动场所规范化管理试点工作的通知.txt": (2017, "关于在介休市、平遥县开展宗教活动场所规范化管理试点工作的通知"),
    "关于加强新时代党外知识分子工作的实施意见.docx": (2018, "关于加强新时代党外知识分子工作的实施意见"),
    "2019年祁县统一战线助力乡村振兴同心工程工作总结.txt": (2019, None),
    "关于太谷区新的社会阶层人士统战工作的调研报告.txt": (2020, "关于太谷区新的社会阶层人士统战工作的调研报告"),
    "寿阳县民族团结进步创建工作情况报告.txt": (2020, None),
    "灵石县统一战线抗洪救灾工作动态.html": (2021, None),
    "在全市统一战线党史学习教育动员部署会上的讲话.md": (2021, "在全市统一战线党史学习教育动员部署会上的讲话"),
    "和顺县委统战部2022年工作总结.txt": (2022, None),
    "2023年平遙古城海峽兩岸暨港澳青年文化交流活動實施方案.txt": (2023, None),
    "关于榆社县民营企业营商环境的调研报告.md": (2024, "关于榆社县民营企业营商环境的调研报告"),
    "关于开展2024年左权县同心助学活动的通知.txt": (2024, None),
    "顺平县2023年民营经济统战工作总结.md": (2023, "顺平县2023年民营经济统战工作总结"),
    "关于昔阳县无党派人士开展生态环境保护民主监督工作情况的报告.txt": (2025, "关于昔阳县无党派人士开展生态环境保护民主监督工作情况的报告"),
    "2018年左权县和顺县千企帮千村精准扶贫行动综述.txt": (2018, None),
}


def test_every_sample_ingests_with_its_year_and_title(samples_index):
    docs = {Path(d["path"]).name: d for d in samples_index.documents()}
    assert set(docs) == set(SAMPLE_TRUTH)
    for name, (year, title) in SAMPLE_TRUTH.items():
        assert docs[name]["year"] == year, name
        if title:
            assert docs[name]["title"] == title, name
        assert "统战部" not in docs[name]["title"][-3:], f"a letterhead taken as the title of {name}"


def test_encodings_and_formats_of_the_samples_are_read(samples_index):
    docs = {Path(d["path"]).name: d for d in samples_index.documents()}
    assert docs["关于在介休市平遥县开展宗教活动场所规范化管理试点工作的通知.txt"]["meta"]["encoding"] == "gb18030"
    assert docs["2023年平遙古城海峽兩岸暨港澳青年文化交流活動實施方案.txt"]["meta"]["encoding"] in ("cp950", "big5hkscs")
    assert docs["关于加强新时代党外知识分子工作的实施意见.docx"]["meta"]["format"] == "docx"
    assert docs["灵石县统一战线抗洪救灾工作动态.html"]["meta"]["format"] == "html"


def test_seed_loses_its_scrape_noise(samples_index):
    assert samples_index.search("预览加载中").total == 0
    assert samples_index.search('"在线预览结束"').total == 0
    seed = next(d for d in samples_index.documents() if d["path"].endswith("2021年晋中统战工作综述.txt"))
    text = samples_index.document(seed["id"])["text"]
    assert text.startswith("凝心聚力共奋进同心逐梦谱新篇——2021年晋中统战工作综述\n2021年,恰逢")


def test_sidecar_and_manifest_metadata_win(samples_index):
    docs = {Path(d["path"]).name: d for d in samples_index.documents()}
    sidecar = docs["2019年祁县统一战线助力乡村振兴同心工程工作总结.txt"]
    assert sidecar["counties"] == ["祁县"] and "乡村振兴" in sidecar["sectors"]
    manifest = docs["顺平县2023年民营经济统战工作总结.md"]
    assert manifest["counties"] == ["顺平县"]


# --- incremental ingest -----------------------------------------------------------------------------


def test_reingest_changes_nothing(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT, "b.txt": "关于宗教工作的通知\n民族宗教工作。"})
    index_dir = tmp_path / "index"
    first = ingest_paths([root], index_dir)
    assert first.counts["added"] == 2
    before = _toc_state(index_dir)
    second = ingest_paths([root], index_dir)
    assert second.counts["unchanged"] == 2 and second.counts["added"] == 0
    assert _toc_state(index_dir) == before  # not even a new commit


def test_changed_file_replaces_its_old_version(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT})
    index_dir = tmp_path / "index"
    ingest_paths([root], index_dir)
    kb = KnowledgeBase(index_dir)
    old_id = next(kb.documents())["id"]
    (root / "a.txt").write_text("关于防汛救灾的通知\n灵石县防汛救灾工作。", encoding="utf-8")
    summary = ingest_paths([root], index_dir)
    assert summary.counts["updated"] == 1
    assert kb.count() == 1
    assert next(kb.documents())["id"] == old_id  # the id is stable
    assert kb.search("防汛救灾").total == 1 and kb.search("新乡贤").total == 0


def test_failed_update_keeps_the_stored_version(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT})
    index_dir = tmp_path / "index"
    ingest_paths([root], index_dir)
    (root / "a.txt").write_bytes(b"\x00\x01\x02binary\xff\xfe" * 50)
    summary = ingest_paths([root], index_dir)
    assert summary.counts["failed"] == 1 and summary.exit_code == 1
    assert KnowledgeBase(index_dir).search("新乡贤").total == 1


def test_duplicate_content_is_stored_once(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT, "sub/copy.txt": REPORT})
    summary = ingest_paths([root], tmp_path / "index")
    assert summary.counts["added"] == 1 and summary.counts["duplicate"] == 1
    dup = next(r for r in summary.results if r.status == "duplicate")
    assert "same content as" in dup.message
    assert KnowledgeBase(tmp_path / "index").count() == 1


def test_original_is_kept_in_a_content_addressed_store(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT})
    index_dir = tmp_path / "index"
    ingest_paths([root], index_dir)
    (root / "a.txt").unlink()  # the source moves away
    kb = KnowledgeBase(index_dir)
    doc_id = next(kb.documents())["id"]
    original = kb.original(doc_id)
    assert original.read_text(encoding="utf-8") == REPORT
    assert original.parent.parent == index_dir / "originals"


def test_metadata_precedence_sidecar_over_manifest_over_flags(tmp_path, make_docs):
    root = make_docs({
        "a.txt": REPORT,
        "a.meta.json": json.dumps({"year": 2011}),
        "b.txt": "关于宗教工作的通知\n民族宗教工作。\n2015年1月2日",
        "c.txt": "关于防汛救灾的通知\n防汛。\n2016年1月2日",
    })
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"path": "docs/a.txt", "year": 2012, "county": "平遥县"},
        {"path": "docs/b.txt", "year": 2013},
    ]), encoding="utf-8")
    ingest_paths([root], tmp_path / "index", batch_meta={"year": 2014, "counties": ["榆次区"]},
                 manifest=load_manifest(manifest))
    docs = {Path(d["path"]).name: d for d in KnowledgeBase(tmp_path / "index").documents()}
    assert docs["a.txt"]["year"] == 2011 and docs["a.txt"]["counties"] == ["平遥县"]
    assert docs["b.txt"]["year"] == 2013 and docs["b.txt"]["counties"] == ["榆次区"]
    assert docs["c.txt"]["year"] == 2014


def test_changed_metadata_alone_updates_the_document(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT})
    index_dir = tmp_path / "index"
    ingest_paths([root], index_dir)
    summary = ingest_paths([root], index_dir, batch_meta={"year": 2000})
    assert summary.counts["updated"] == 1
    assert next(KnowledgeBase(index_dir).documents())["year"] == 2000


# --- bad input ------------------------------------------------------------------------------------


def _corrupt_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", "<not really")
    return buffer.getvalue()[:-10]


def test_bad_files_get_one_clear_line_and_the_batch_goes_on(tmp_path, make_docs):
    root = make_docs({
        "good.txt": REPORT,
        "empty.txt": b"",
        "spaces.txt": "   \n\n\t ",
        "binary.txt": bytes(range(256)) * 20,
        "broken.docx": _corrupt_docx(),
        "noise.txt": "预览加载中,请您耐心等待几秒...\n1/8\n2/8",
        "picture.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
        "old.doc": b"\xd0\xcf\x11\xe0" + b"\x00" * 100,
    })
    lines: list[str] = []
    summary = Ingest(tmp_path / "index", report=lines.append).run([root])
    assert summary.counts["added"] == 1
    # a broken image and an OLE file that is not Word fail; without the OCR engine the image is skipped
    assert summary.counts["failed"] + summary.counts["skipped"] == 7
    assert summary.counts["failed"] >= 6
    assert summary.exit_code == 1
    for name in ("empty.txt", "spaces.txt", "binary.txt", "broken.docx", "noise.txt", "picture.png", "old.doc"):
        found = [line for line in lines if name in line]
        assert len(found) == 1 and ": " in found[0], (name, lines)  # one line: status, file, cause
    assert KnowledgeBase(tmp_path / "index").search("新乡贤").total == 1


def test_too_large_file_is_refused_before_reading(tmp_path, make_docs, monkeypatch):
    import kb.ingest

    monkeypatch.setattr(kb.ingest, "MAX_FILE_BYTES", 100)
    root = make_docs({"big.txt": "统战" * 200, "small.txt": "统战工作"})
    summary = ingest_paths([root], tmp_path / "index")
    failed = next(r for r in summary.results if r.status == "failed")
    assert failed.path.endswith("big.txt") and "too large" in failed.message
    assert summary.counts["added"] == 1


def test_missing_path_fails_clearly(tmp_path):
    summary = ingest_paths([tmp_path / "nope"], tmp_path / "index")
    assert summary.exit_code == 1 and summary.results[0].status == "failed"


def test_second_writer_waits_then_fails_clearly(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT})
    index_dir = tmp_path / "index"
    ix = kbindex.open_index(index_dir, create=True)
    holder = kbindex.writer(ix)  # another ingest holds the lock
    try:
        started = time.monotonic()
        with pytest.raises(IndexLocked, match="locked by another writer"):
            Ingest(index_dir, lock_timeout=0.6, report=lambda _: None).run([root])
        assert time.monotonic() - started >= 0.5
    finally:
        holder.cancel()
    assert ingest_paths([root], index_dir).counts["added"] == 1  # and works once the lock is free


# --- parallel and serial paths give the same index -------------------------------------------------


def test_parallel_ingest_matches_serial(samples_dir, tmp_path, monkeypatch):
    import kb.ingest

    monkeypatch.setattr(kb.ingest, "PARALLEL_MIN_FILES", 2)
    serial = ingest_paths([samples_dir], tmp_path / "serial", jobs=1)
    parallel = ingest_paths([samples_dir], tmp_path / "parallel", jobs=2)
    assert serial.counts == parallel.counts
    a, b = KnowledgeBase(tmp_path / "serial"), KnowledgeBase(tmp_path / "parallel")
    strip = lambda docs: sorted((d["id"], d["title"], d.get("year"), d["sha"]) for d in docs)  # noqa: E731
    assert strip(a.documents()) == strip(b.documents())
    for query in ("乡村振兴", "营企业", '"统一战线"', "title:报告", "民营 -顺平", "祁县 OR 灵石县"):
        ra, rb = a.search(query), b.search(query)
        assert ra.total == rb.total and [h.id for h in ra.hits] == [h.id for h in rb.hits], query
    # and a parallel update replaces the old version
    monkeypatch.setattr(kb.ingest, "PARALLEL_MIN_FILES", 1)
    summary = ingest_paths([samples_dir], tmp_path / "parallel", jobs=2, batch_meta={"sectors": ["测试"]})
    # every document takes the batch's sector but the one whose sidecar names its own sectors
    assert summary.counts["updated"] == serial.counts["added"] - 1 and summary.counts["unchanged"] == 1
    assert b.count() == a.count() and b.search("", filters={"sector": ["测试"]}).total == a.count() - 1


def test_workers_fork_only_from_a_single_threaded_process(monkeypatch):
    """Forked where safe (Linux, no other thread), else spawned; KB_WORKER_START=spawn always spawns."""
    import sys
    import threading

    from kb import segments

    monkeypatch.delenv("KB_WORKER_START", raising=False)
    if sys.platform.startswith("linux"):
        assert segments.start_method() == ("fork" if threading.active_count() == 1 else "spawn")
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    try:
        assert segments.start_method() == "spawn"  # a thread of ours (a web server's, say) is running
    finally:
        done.set()
        thread.join()
    monkeypatch.setenv("KB_WORKER_START", "spawn")
    assert segments.start_method() == "spawn"


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_parallel_ingest_by_forked_or_spawned_workers_leaves_the_index_free(samples_dir, tmp_path, monkeypatch, start):
    """Either way the workers start before the index lock is taken: when the run is over the lock is
    free (a forked worker holding it would keep it from the next writer), and the documents are in."""
    import kb.ingest
    from kb import index as kbindex
    from kb import segments

    monkeypatch.setattr(kb.ingest, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(segments, "start_method", lambda: start)
    started = []
    real = segments.SegmentWorkers.__init__
    monkeypatch.setattr(segments.SegmentWorkers, "__init__",
                        lambda self, *a, **k: real(self, *a, **k) or started.append(self.start_method))
    summary = ingest_paths([samples_dir], tmp_path / "index", jobs=2)
    assert started == [start] and summary.counts["added"] > 2 and not summary.count("failed")
    writer = kbindex.writer(kbindex.open_index(tmp_path / "index"), timeout=0)  # the lock is free now
    writer.cancel()
    assert KnowledgeBase(tmp_path / "index").count() == summary.counts["added"]


# --- index location --------------------------------------------------------------------------------


def test_index_location_flag_env_default(tmp_path, monkeypatch):
    from kb.config import DEFAULT_INDEX_DIR, index_dir

    monkeypatch.delenv("KB_INDEX", raising=False)
    assert index_dir(None) == DEFAULT_INDEX_DIR == ROOT / "index"
    monkeypatch.setenv("KB_INDEX", str(tmp_path / "env"))
    assert index_dir(None) == tmp_path / "env"
    assert index_dir(tmp_path / "flag") == tmp_path / "flag"


# --- crash safety: kill -9 a real ingest -------------------------------------------------------------


def _make_corpus(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    vocabulary = ("统一战线 乡村振兴 民营经济 民族宗教 党外知识分子 新的社会阶层 防汛救灾 营商环境 同心工程 "
                  "祁县 平遥县 灵石县 榆次区 太谷区 介休市 工作 推进 加强 发展 落实 组织 开展 服务 群众").split()
    root.mkdir(parents=True)
    for i in range(count):
        body = "".join(rng.choice(vocabulary) + rng.choice(",,,。") for _ in range(rng.randint(300, 900)))
        (root / f"doc{i:04d}.txt").write_text(f"第{i}号工作报告\n{body}\n{2000 + i % 25}年1月{i % 28 + 1}日",
                                              encoding="utf-8")


@pytest.mark.slow
def test_kill_during_ingest_leaves_a_valid_index(tmp_path):
    corpus = tmp_path / "corpus"
    _make_corpus(corpus, 160)
    expected = {str(p.resolve()) for p in corpus.iterdir()}
    rng = random.Random(2026)
    env = {**os.environ, "KB_COMMIT_EVERY_DOCS": "40", "PYTHONPATH": str(ROOT)}
    for trial in range(3):
        index_dir = tmp_path / f"index{trial}"
        command = [sys.executable, str(ROOT / "ingest.py"), str(corpus), "--index", str(index_dir), "--quiet",
                   "--jobs", str(1 + trial % 2)]
        seen: set[str] = set()
        for _ in range(2):  # kill twice at random moments, then let it finish
            child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.8, 3.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            if kbindex.exists(index_dir):
                kb = KnowledgeBase(index_dir)  # opens and searches
                paths = {d["path"] for d in kb.documents()}
                assert seen <= paths <= expected  # what was committed before is still there
                assert kb.search("统一战线").total == len(paths)  # whole documents only
                kb.close()
                seen = paths
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        kb = KnowledgeBase(index_dir)
        docs = list(kb.documents())
        assert {d["path"] for d in docs} == expected
        assert kb.search("统一战线").total == len(expected)
        store = kbindex.OriginalsStore.beside(index_dir)
        for doc in docs:  # every referenced original is whole
            original = store.get(doc["sha"], ".txt")
            assert original and hashlib.sha256(original.read_bytes()).hexdigest() == doc["sha"]
        kb.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker is killed through a forked copy of this test's code (Linux forks workers)")
def test_a_worker_that_dies_mid_batch_is_one_clear_error_and_loses_nothing(tmp_path, monkeypatch, capsys):
    """A worker killed mid-batch (the OOM killer, a crash in an extension): the run stops with one
    message and exit code 1, no traceback; what was committed before stays searchable, and the
    next run indexes the rest."""
    import kb.ingest
    import kb.pipeline
    from kb import segments
    from kb.cli.ingest_cmd import ingest_main

    corpus = tmp_path / "corpus"
    _make_corpus(corpus, 40)
    index_dir = tmp_path / "index"
    first = sorted(corpus.iterdir())[:10]
    assert ingest_paths(first, index_dir).counts["added"] == 10
    real = kb.pipeline.prepare_or_error

    def dies_on_doc0025(args):
        if args[0].endswith("doc0025.txt"):
            os._exit(9)
        return real(args)

    monkeypatch.setattr(kb.ingest, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(segments, "start_method", lambda: "fork")  # the workers get the patched function
    monkeypatch.setattr(kb.pipeline, "prepare_or_error", dies_on_doc0025)
    code = ingest_main([str(corpus), "--index", str(index_dir), "--quiet", "--jobs", "2"])
    err = capsys.readouterr().err
    assert code == 1 and "died" in err and "Traceback" not in err
    base = KnowledgeBase(index_dir)
    assert {d["path"] for d in base.documents()} == {str(p.resolve()) for p in first}
    base.close()
    monkeypatch.setattr(kb.pipeline, "prepare_or_error", real)
    assert ingest_main([str(corpus), "--index", str(index_dir), "--quiet", "--jobs", "2"]) == 0
    base = KnowledgeBase(index_dir)
    assert base.count() == 40 and base.search("统一战线").total == 40
    base.close()


def test_a_batch_ends_as_one_segment(samples_dir, tmp_path, monkeypatch):
    """The segments two workers write (one each, of a size: no tier of four for the size policy)
    are merged at the batch's commit: every segment costs every term lookup of every search."""
    import kb.ingest

    monkeypatch.setattr(kb.ingest, "PARALLEL_MIN_FILES", 2)
    summary = ingest_paths([samples_dir], tmp_path / "index", jobs=2)
    assert summary.count("failed") == 0 and summary.count("added") > 4
    kb = KnowledgeBase(tmp_path / "index")
    assert len(kb.snapshot().postings.segments) == 1
    assert kb.search('"统一战线"').total > 0
    kb.close()


def test_merging_segments_keeps_every_answer(samples_dir, tmp_path):
    """Segments written one by one, one document deleted, then merged: the same answers."""
    from kb import index as kbindex

    index_dir = tmp_path / "index"
    files = sorted(p for p in samples_dir.rglob("*") if p.suffix in (".txt", ".md"))
    for path in files:  # one segment per file
        ingest_paths([path], index_dir)
    kb = KnowledgeBase(index_dir)
    victim = next(kb.documents())["path"]
    from kb.ingest import remove

    remove(index_dir, [victim])
    queries = ("乡村振兴", "营企业", '"统一战线"', "title:报告", "民营 -顺平", "祁县 OR 灵石县", "")
    before = [(r.total, [h.id for h in r.hits], r.facets) for r in (kb.search(q) for q in queries)]
    assert len(kb.snapshot().postings.segments) > 1  # (small ones were merged on the way, too)
    ix = kbindex.open_index(index_dir)
    kbindex.writer(ix).commit(optimize=True)
    kb.refresh()
    assert len(kb.snapshot().postings.segments) == 1
    after = [(r.total, [h.id for h in r.hits], r.facets) for r in (kb.search(q) for q in queries)]
    assert after == before


def _orphan_segment_files(index_dir: Path) -> list[str]:
    """Files of segments no table of contents names (a cancelled writer's, say)."""
    ix = kbindex.open_index(index_dir)
    live = {segment.segment_id() for segment in ix._segments()}
    return sorted(p.name for p in index_dir.iterdir()
                  if p.is_file() and p.name.startswith("kb_") and p.name.split(".")[0] not in live
                  and p.name != "kb_WRITELOCK")


def test_an_ingest_leaves_no_files_of_unused_segments(tmp_path):
    """Parallel ingest, a serial one, and a writer that is given up: every segment file left in the
    folder belongs to a segment of the index."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(30):  # enough for the worker processes
        (folder / f"报告{i:02d}.txt").write_text(f"第{i}号工作报告\n\n县里推进乡村振兴第{i}项工作，统一战线工作有新进展。\n",
                                                encoding="utf-8")
    index_dir = tmp_path / "ix"
    ingest_paths([folder], index_dir)
    assert _orphan_segment_files(index_dir) == []
    (folder / "报告99.txt").write_text("第99号工作报告\n\n防汛救灾工作总结。\n", encoding="utf-8")
    ingest_paths([folder / "报告99.txt"], index_dir)
    assert _orphan_segment_files(index_dir) == []
    kbindex.writer(kbindex.open_index(index_dir)).cancel()
    assert _orphan_segment_files(index_dir) == []
    assert KnowledgeBase(index_dir).search("防汛救灾").total == 1


def test_an_ingest_says_where_its_time_went(tmp_path):
    """``Summary.phases``: the steps of a run in order, with the seconds since its start (what
    ``python -m bench.timeline`` prints)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(30):
        (folder / f"总结{i:02d}.txt").write_text(f"第{i}份工作总结\n\n民营经济发展第{i}项举措。\n", encoding="utf-8")
    summary = ingest_paths([folder], tmp_path / "ix")
    names = [name for name, _ in summary.phases]
    assert names == ["files listed", "workers started", "first document back", "documents analysed",
                     "segments written", "committed (segments merged)", "versions found"]
    seconds = [at for _, at in summary.phases]
    assert seconds == sorted(seconds) and seconds[-1] <= summary.seconds
    (folder / "总结99.txt").write_text("第99份工作总结\n\n民族宗教工作。\n", encoding="utf-8")
    serial = ingest_paths([folder / "总结99.txt"], tmp_path / "ix")
    assert [name for name, _ in serial.phases] == ["files listed", "documents analysed",
                                                  "committed (segment written, merges done)", "versions found"]


def test_the_timeline_tool_runs_on_the_samples(capsys):
    from bench import timeline

    assert timeline.main(["--corpus", "samples", "--files", "0"]) == 0
    out = capsys.readouterr().out
    assert "added" in out and "versions found" in out and "CPU: this process" in out
