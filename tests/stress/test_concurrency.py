"""Concurrency: ingest batches while clients search the running server; two ingests at once."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest

from support import ROOT
from kb.search import KnowledgeBase
from server import Server
from stress_config import FULL, corpus_of

pytestmark = pytest.mark.stress

SECONDS = 60 if FULL else 15
CLIENTS = 4
QUERIES = ["统一战线", "乡村振兴 民营经济", '"同心工程"', "祁县 OR 平遥县", "工作 -防汛救灾", "党外知识分子", "title:报告", ""]


def _ingest(folder, index_dir, jobs=1):
    return subprocess.run([sys.executable, str(ROOT / "ingest.py"), str(folder), "--index", str(index_dir), "--quiet",
                           "--jobs", str(jobs)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)


def test_search_while_ingesting(tmp_path):
    index_dir = tmp_path / "index"
    assert _ingest(corpus_of(tmp_path / "batch0", 40, seed=0, prefix="b0-"), index_dir).returncode == 0
    server = Server(index_dir)
    stop = threading.Event()
    stats = {"requests": 0, "failures": []}
    lock = threading.Lock()

    def client(seed: int):
        rng = random.Random(seed)
        while not stop.is_set():
            query = rng.choice(QUERIES)
            path = rng.choice(["/", "/api/search"])
            url = f"{server.base}{path}?q={urllib.parse.quote(query)}&page={rng.randint(1, 3)}"
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    ok = response.status in (200, 404)
            except urllib.error.HTTPError as exc:
                ok = exc.code == 404  # a page past the end
                if not ok:
                    with lock:
                        stats["failures"].append(f"{exc.code} {url}")
            except OSError as exc:
                ok = False
                with lock:
                    stats["failures"].append(f"{exc} {url}")
            with lock:
                stats["requests"] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    batches = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < SECONDS:
            batches += 1
            marker = f"批次标记{batches:03d}号"
            folder = corpus_of(tmp_path / f"batch{batches}", 12, seed=batches, prefix=f"b{batches}-")
            for path in folder.iterdir():  # a word only this batch has
                path.write_text(path.read_text(encoding="utf-8") + f"\n{marker}", encoding="utf-8")
            done = _ingest(folder, index_dir, jobs=1 + batches % 2)
            assert done.returncode == 0, done.stderr
            # visible to the running server right after the commit, without a restart
            with urllib.request.urlopen(f"{server.base}/api/search?q={urllib.parse.quote(marker)}") as r:
                assert json.loads(r.read())["total"] == 12
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        errors = server.stop()
    print(f"\nconcurrency: {stats['requests']} requests from {CLIENTS} clients over {SECONDS} s "
          f"while {batches} ingest batches committed; {len(stats['failures'])} failed")
    if stats["failures"]:
        print(errors[-8000:])
    assert not stats["failures"], stats["failures"][:5]
    assert "Traceback" not in errors, errors[-5000:]
    kb = KnowledgeBase(index_dir)
    assert kb.count() == 40 + 12 * batches


def test_two_ingests_at_once(tmp_path):
    index_dir = tmp_path / "index"
    corpus_a = corpus_of(tmp_path / "a", 150, seed=1, prefix="a")
    corpus_b = corpus_of(tmp_path / "b", 150, seed=2, prefix="b")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KB_LOCK_TIMEOUT": "300"}
    first = subprocess.Popen([sys.executable, str(ROOT / "ingest.py"), str(corpus_a), "--index", str(index_dir),
                              "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    second = subprocess.Popen([sys.executable, str(ROOT / "ingest.py"), str(corpus_b), "--index", str(index_dir),
                               "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out_a, err_a = first.communicate(timeout=600)
    out_b, err_b = second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, (err_a, err_b)  # the second one waited
    assert KnowledgeBase(index_dir).count() == 300

    # and with a short timeout the second one fails clearly, touching nothing
    corpus_c = corpus_of(tmp_path / "c", 150, seed=3, prefix="c")
    holder = subprocess.Popen([sys.executable, str(ROOT / "ingest.py"), str(corpus_c), "--index", str(index_dir),
                               "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    impatient = subprocess.run([sys.executable, str(ROOT / "ingest.py"), str(corpus_of(tmp_path / "d", 5, seed=4,
                                prefix="d")), "--index", str(index_dir), "--lock-timeout", "0.5"],
                               env=env, capture_output=True, text=True, timeout=120)
    holder.communicate(timeout=600)
    if impatient.returncode != 0:  # it met the lock (it may also have found it free: both are fine)
        assert impatient.returncode == 1 and "locked by another writer" in impatient.stderr
    assert KnowledgeBase(index_dir).count() in (450, 455)
