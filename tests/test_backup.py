"""``kb backup`` / ``kb restore`` (kb.backup): a whole index with its originals and stores, taken
consistently while commits happen — a merge in the middle of the copy, and a real ingest running
in another process the whole time."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ingest_paths

import kb
from kb import backup as kbbackup

ROOT = Path(kb.__file__).resolve().parent.parent


def _marker(tag: str, i: int) -> str:
    return f"标{tag}记{i:03d}号"


def _write_docs(root: Path, count: int, tag: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"{tag}-{i:03d}.txt").write_text(
            f"{tag}第{i}号工作报告\n\n本文件记录乡村振兴和民营经济工作。唯一标记：{_marker(tag, i)}。\n"
            + "统一战线工作持续推进，基层治理水平不断提高。\n" * 20, encoding="utf-8")
    return root


def _index(tmp_path: Path, batches: int, per_batch: int = 3) -> Path:
    """An index with one segment per ingest batch."""
    index_dir = tmp_path / "index"
    for b in range(batches):
        summary = ingest_paths([_write_docs(tmp_path / "docs" / f"b{b}", per_batch, f"b{b}")], index_dir)
        assert summary.count("failed") == 0
    return index_dir


def _kb(folder: Path):
    from kb.search import KnowledgeBase

    return KnowledgeBase(folder)


def _ids(folder: Path, query: str = "乡村振兴") -> list[str]:
    return [h.id for h in _kb(folder).search(query, page_size=100, snippets=False).hits]


def _originals_present(folder: Path) -> None:
    from kb.index import OriginalsStore

    store = OriginalsStore.beside(folder)
    for stored in _kb(folder).documents():
        assert store.get(stored["sha"], Path(stored["path"]).suffix), f"no original for {stored['path']}"


def test_backup_is_a_whole_index_with_its_stores_and_restores(tmp_path):
    from kb.audit import AuditLog
    from kb.corrections import CorrectionStore
    from kb.users import UserStore

    index_dir = _index(tmp_path, batches=2)
    UserStore(index_dir).add("wang", role="editor", password="a long enough password")
    first = next(iter(_kb(index_dir).documents()))
    CorrectionStore(index_dir).update(first["id"], {"title": "改过的标题"})
    AuditLog(index_dir).write("search", "wang", q="乡村振兴")
    audit_file = next((index_dir / "audit").glob("*.jsonl"))
    with open(audit_file, "ab") as f:
        f.write(b'{"time": "2026-12-01T')  # a line being written right now
    (index_dir / "ocr-cache").mkdir()
    (index_dir / "ocr-cache" / "page.json").write_text("{}")
    (index_dir / "originals" / ".half-written.tmp").write_bytes(b"x")

    target = tmp_path / "backups" / "one"
    report = kbbackup.backup(index_dir, target)
    assert report.documents == 6 == _kb(target).count() == _kb(index_dir).count()
    assert report.segments == 2 and report.attempts == 1
    assert sorted(_ids(target)) == sorted(_ids(index_dir)) and len(_ids(target)) == 6
    _originals_present(target)
    assert set(report.stores) == {"users", "corrections", "audit"}
    assert UserStore(target).get("wang").role == "editor"
    assert CorrectionStore(target).get(first["id"]) == {"title": "改过的标题"}
    copied_audit = (target / "audit" / audit_file.name).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["q"] for line in copied_audit] == ["乡村振兴"]  # the half line left out
    names = {p.relative_to(target).as_posix() for p in target.rglob("*")}
    assert not [n for n in names if n.rsplit("/", 1)[-1].startswith(".")]  # locks, temporary files
    assert not [n for n in names if n.startswith(("ocr-cache", "versions.json", "kb_WRITELOCK"))]
    assert stat.S_IMODE(target.stat().st_mode) == 0o700  # password hashes inside
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no staging folder left
    assert "6 documents" in report.line() and str(target) in report.line()

    restored = tmp_path / "restored" / "index"
    again = kbbackup.restore(target, restored)
    assert again.documents == 6 and sorted(_ids(restored)) == sorted(_ids(index_dir))
    assert UserStore(restored).get("wang") and CorrectionStore(restored).get(first["id"])
    _originals_present(restored)
    # the restored index takes new documents
    summary = ingest_paths([_write_docs(tmp_path / "docs" / "late", 2, "late")], restored)
    assert summary.count("added") == 2 and _kb(restored).count() == 8

    with pytest.raises(kbbackup.BackupError, match="not empty"):
        kbbackup.backup(index_dir, target)
    with pytest.raises(kbbackup.BackupError, match="inside the index folder"):
        kbbackup.backup(index_dir, index_dir / "backup")
    with pytest.raises(kbbackup.BackupError, match="no index"):
        kbbackup.backup(tmp_path / "nothing", tmp_path / "b2")
    with pytest.raises(kbbackup.BackupError, match="holds an index already"):
        kbbackup.restore(target, restored)
    with pytest.raises(kbbackup.BackupError, match="does not open"):
        kbbackup.restore(tmp_path / "docs", tmp_path / "r2")


def test_a_merge_during_the_copy_is_caught_and_the_copy_made_again(tmp_path, monkeypatch):
    """A commit that merges every segment (and deletes their files) right after the first file is
    copied: the copy of that generation is abandoned and the newer one copied."""
    from kb import index as kbindex

    index_dir = _index(tmp_path, batches=3)
    assert len(kbbackup._newest_toc(index_dir)[2].segments) == 3
    real_copy, calls = kbbackup._copy_file, []

    def copy_then_merge(source, target):
        size = real_copy(source, target)
        if not calls:
            calls.append(source.name)
            kbindex.writer(kbindex.open_index(index_dir)).commit(optimize=True)
        return size

    monkeypatch.setattr(kbbackup, "_copy_file", copy_then_merge)
    target = tmp_path / "backup"
    report = kbbackup.backup(index_dir, target)
    assert calls and report.attempts >= 2
    assert report.segments == 1 and report.documents == 9 == _kb(target).count()
    newest = kbbackup._newest_toc(index_dir)
    segment = newest[2].segments[0].segment_id()
    index_files = {p.name for p in target.iterdir() if p.is_file()}
    assert index_files == {n for n in os.listdir(index_dir) if n.startswith(segment + ".")} | {f"_kb_{newest[0]}.toc"}
    assert any(n.endswith(".kbp") for n in index_files)  # the term arrays travel with their segment
    assert sorted(_ids(target)) == sorted(_ids(index_dir))


@pytest.mark.slow
def test_backups_taken_while_an_ingest_runs_are_each_whole(tmp_path):
    """An ingest in another process committing every few documents (and merging at the end);
    backups one after another the whole time: each opens, counts what its generation held, finds
    every document's original and every document's own text."""
    index_dir = tmp_path / "index"
    assert ingest_paths([_write_docs(tmp_path / "first", 5, "首批")], index_dir).count("added") == 5
    more = _write_docs(tmp_path / "more", 120, "续批")
    env = dict(os.environ, KB_COMMIT_EVERY_DOCS="6", PYTHONPATH=str(ROOT))
    ingest = subprocess.Popen([sys.executable, "-m", "kb", "ingest", str(more), "--index", str(index_dir)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports, during = [], 0
    try:
        deadline = time.monotonic() + 240
        while ingest.poll() is None and time.monotonic() < deadline:
            report = kbbackup.backup(index_dir, tmp_path / "backups" / f"b{len(reports):03d}")
            reports.append(report)
            during += ingest.poll() is None
            time.sleep(0.15)  # a few dozen copies over the ingest, not hundreds
    finally:
        if ingest.poll() is None:
            ingest.kill()
        out, err = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, err
    reports.append(kbbackup.backup(index_dir, tmp_path / "backups" / "after"))
    assert during >= 2, f"only {during} backups were taken while the ingest ran"
    counts = [r.documents for r in reports]
    assert counts == sorted(counts) and counts[0] >= 5 and counts[-1] == 125
    assert len(set(counts)) >= 2 or during == 0, counts  # the copies saw the ingest progress
    for report in reports:
        folder = report.target
        assert _kb(folder).count() == report.documents
        _originals_present(folder)
        for stored in _kb(folder).documents():  # each document's text came with it, whole
            tag, number = Path(stored["path"]).stem.split("-")
            marker = _marker(tag, int(number))
            assert stored["id"] in _ids(folder, f'"{marker}"'), (folder, stored["path"])
    print(f"{len(reports)} backups, {during} during the ingest, documents {counts}, "
          f"attempts {[r.attempts for r in reports]}")


def test_an_index_of_an_older_format_is_backed_up_as_it_is(tmp_path):
    """Before re-ingesting an index this version refuses (format 1), a backup of it still works:
    counted by Whoosh alone, and said so."""
    from whoosh import fields, index

    from kb import analysis, schema

    old = fields.Schema(id=fields.ID(stored=True, unique=True), path=fields.ID(stored=True),
                        grams=schema.GramText(analyzer=analysis.gram_analyzer(), phrase=False), text=fields.STORED())
    index_dir = tmp_path / "old"
    index_dir.mkdir()
    writer = index.create_in(str(index_dir), old, indexname="kb").writer()
    for n in range(3):
        writer.add_document(id=str(n), path=f"/{n}.txt", grams="统一战线", text="统一战线")
    writer.commit()
    report = kbbackup.backup(index_dir, tmp_path / "b")
    assert report.outdated and report.documents == 3 and "older index format" in report.line()
    assert kbbackup.verify(tmp_path / "b") == (report.generation, 3, True)
    restored = kbbackup.restore(tmp_path / "b", tmp_path / "r")
    assert restored.outdated and restored.documents == 3


def test_cli_backup_and_restore(tmp_path, capsys):
    from kb.cli import main

    index_dir = _index(tmp_path, batches=1)
    assert main(["backup", str(tmp_path / "b"), "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("backup: generation") and "3 documents" in out
    assert main(["backup", str(tmp_path / "b"), "--index", str(index_dir)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "b3"), "--index", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no index" in err
    assert main(["restore", str(tmp_path / "b"), "--index", str(tmp_path / "r")]) == 0
    assert "restore: generation" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "b"), "--index", str(tmp_path / "r")]) == 1
    assert main(["restore", str(tmp_path / "missing"), "--index", str(tmp_path / "r4")]) == 2
    assert _kb(tmp_path / "r").count() == 3
