"""The command lines as a user runs them: ingest.py and python -m kb."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import ROOT

REPORT = "中共祁县县委统战部\n祁县统一战线助力乡村振兴工作总结\n2019年,县委统战部组织新乡贤投身乡村振兴。\n二〇一九年十二月二十日"


def run(*args, cwd=None, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd or ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def folder(make_docs):
    return make_docs({"a.txt": REPORT, "b.txt": "关于宗教工作的通知\n民族宗教工作,平遥县。\n2020年3月1日"})


def test_ingest_then_search_json(folder, tmp_path):
    index = tmp_path / "index"
    done = run("ingest.py", str(folder), "--index", str(index), "--county", "祁县")
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stderr
    found = run("-m", "kb", "search", "乡村振兴", "--index", str(index), "--json")
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    assert set(data) >= {"query", "total", "hits", "facets"}
    assert data["total"] == 1
    hit = data["hits"][0]
    assert set(hit) >= {"id", "path", "title", "year", "counties", "sectors", "score", "snippet"}
    assert hit["path"] == str((folder / "a.txt").resolve()) and hit["year"] == 2019 and hit["counties"] == ["祁县"]
    assert "<mark>乡村振兴</mark>" in hit["snippet"]
    assert set(data["facets"]) >= {"year", "county", "sector"} and data["facets"]["year"] == {"2019": 1}


def test_search_filters_and_text_output(folder, tmp_path):
    index = tmp_path / "index"
    run("ingest.py", str(folder), "--index", str(index))
    out = run("-m", "kb", "search", "", "--index", str(index), "--years", "2020-2021")
    assert out.returncode == 0 and "1 documents" in out.stdout and "关于宗教工作的通知" in out.stdout
    out = run("-m", "kb", "search", "工作", "--index", str(index), "--year", "2019", "--sort", "newest", "--json")
    assert [h["year"] for h in json.loads(out.stdout)["hits"]] == [2019]


def test_index_from_environment(folder, tmp_path):
    index = tmp_path / "env-index"
    assert run("ingest.py", str(folder), env={"KB_INDEX": str(index)}).returncode == 0
    out = run("-m", "kb", "search", "宗教", "--json", env={"KB_INDEX": str(index)})
    assert json.loads(out.stdout)["total"] == 1


def test_exit_codes(folder, tmp_path):
    index = tmp_path / "index"
    (folder / "bad.docx").write_bytes(b"PK\x03\x04 not a zip")
    done = run("ingest.py", str(folder), "--index", str(index))
    assert done.returncode == 1
    assert "failed:" in done.stderr and "bad.docx" in done.stderr and "2 added" in done.stderr
    assert run("ingest.py", str(folder), "--index", str(index), "--year", "twenty").returncode == 2
    assert run("ingest.py", str(folder), "--index", str(index), "--manifest", str(tmp_path / "none.csv")).returncode == 2
    assert run("ingest.py").returncode == 2
    no_index = run("-m", "kb", "search", "x", "--index", str(tmp_path / "nothing"))
    assert no_index.returncode == 2 and "no index in" in no_index.stderr and "kb ingest" in no_index.stderr
    bad_range = run("-m", "kb", "search", "x", "--index", str(index), "--years", "abc")
    assert bad_range.returncode == 2 and "year range" in bad_range.stderr


def test_docs_and_remove(folder, tmp_path):
    index = tmp_path / "index"
    run("ingest.py", str(folder), "--index", str(index))
    listed = run("-m", "kb", "docs", "--index", str(index), "--json")
    docs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(docs) == 2 and all("text" not in d and d["id"] and d["path"] for d in docs)
    first, second = docs
    assert run("-m", "kb", "remove", first["id"], "--index", str(index)).returncode == 0
    assert run("-m", "kb", "remove", second["path"], "--index", str(index)).returncode == 0
    gone = run("-m", "kb", "remove", "nope", "--index", str(index))
    assert gone.returncode == 1 and "not found: nope" in gone.stdout
    assert run("-m", "kb", "docs", "--index", str(index)).stdout == ""
    # removed documents can be ingested again
    assert "2 added" in run("ingest.py", str(folder), "--index", str(index)).stderr


def test_manifest_flag(folder, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,year,counties,sectors\na.txt,2015,平遥县;祁县,乡村振兴\n", encoding="utf-8")
    index = tmp_path / "index"
    # manifest paths are relative to the manifest's folder
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    done = run("ingest.py", str(tmp_path / "a.txt"), "--index", str(index), "--manifest", str(manifest))
    assert done.returncode == 0, done.stderr
    doc = json.loads(run("-m", "kb", "docs", "--index", str(index), "--json").stdout)
    assert doc["year"] == 2015 and doc["counties"] == ["平遥县", "祁县"] and doc["sectors"] == ["乡村振兴"]
