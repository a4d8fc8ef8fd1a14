"""Crash safety: kill -9 a real ingest at random moments, many times; nothing committed is ever lost.

Bounded by default (CI); ``KB_STRESS=full`` runs the full campaign (30 trials).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ROOT
from kb import index as kbindex
from kb.search import KnowledgeBase
from stress_config import FULL, corpus_of

pytestmark = pytest.mark.stress

TRIALS = 30 if FULL else 6


def _ingest_command(corpus: Path, index_dir: Path, jobs: int) -> list[str]:
    return [sys.executable, str(ROOT / "ingest.py"), str(corpus), "--index", str(index_dir), "--quiet",
            "--jobs", str(jobs)]


def _env():
    # commit often, so kills land before, inside and after commits
    return {**os.environ, "KB_COMMIT_EVERY_DOCS": "25", "PYTHONPATH": str(ROOT)}


def _state(index_dir: Path) -> dict[str, str]:
    """path -> sha of every stored document (opens and searches the index, as a user would)."""
    kb = KnowledgeBase(index_dir)
    try:
        docs = {d["path"]: d["sha"] for d in kb.documents()}
        assert kb.search("统一战线").total == len(docs)  # every stored document is whole and searchable
        assert kb.search("", page_size=1).total == len(docs)
        return docs
    finally:
        kb.close()


def test_kill_at_random_moments(tmp_path):
    corpus = corpus_of(tmp_path / "corpus", 240 if FULL else 120)
    expected_paths = {str(p.resolve()) for p in corpus.iterdir()}

    # the reference: an uninterrupted run, and how long it takes
    reference_index = tmp_path / "reference"
    started = time.monotonic()
    subprocess.run(_ingest_command(corpus, reference_index, 2), env=_env(), check=True, capture_output=True)
    duration = time.monotonic() - started
    reference = _state(reference_index)
    assert set(reference) == expected_paths

    rng = random.Random(20261127)
    survived = 0
    for trial in range(TRIALS):
        index_dir = tmp_path / f"trial{trial}"
        jobs = 1 + trial % 2  # serial and parallel paths both
        seen: dict[str, str] = {}
        for _ in range(3):  # kill three times, at moments spread over a whole run (start-up included)
            child = subprocess.Popen(_ingest_command(corpus, index_dir, jobs), env=_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, duration * 1.1))
            child.send_signal(signal.SIGKILL)
            child.wait()
            if kbindex.exists(index_dir):
                now = _state(index_dir)
                # what an earlier commit stored is still there, unchanged (never fewer documents)
                assert all(now.get(path) == sha for path, sha in seen.items())
                assert set(now) <= expected_paths
                seen = now
                store = kbindex.OriginalsStore.beside(index_dir)
                for path, sha in now.items():  # every referenced original is whole
                    original = store.get(sha, Path(path).suffix)
                    assert original and hashlib.sha256(original.read_bytes()).hexdigest() == sha
        finish = subprocess.run(_ingest_command(corpus, index_dir, jobs), env=_env(), capture_output=True, text=True,
                                timeout=600)
        assert finish.returncode == 0, finish.stderr[-2000:]
        assert _state(index_dir) == reference  # the same final set as the uninterrupted run
        survived += 1
    print(f"\ncrash safety: {survived}/{TRIALS} trials survived 3 kills each; 0 documents lost")
