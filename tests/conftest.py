"""Shared fixtures: in-repo samples, throwaway indexes, and the real data in ../shared when present."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import SAMPLES, ingest_paths


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory) -> Path:
    """A private copy of samples/ (tests may touch files without changing the repo)."""
    target = tmp_path_factory.mktemp("samples") / "samples"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture(scope="session")
def samples_index(samples_dir, tmp_path_factory):
    """The demo documents, ingested once for the whole session (with the samples' manifest)."""
    from kb.ingest import load_manifest
    from kb.search import KnowledgeBase

    index_dir = tmp_path_factory.mktemp("samples-index")
    summary = ingest_paths([samples_dir], index_dir, manifest=load_manifest(samples_dir / "manifest.csv"))
    assert summary.count("failed") == 0, summary.results
    return KnowledgeBase(index_dir)


@pytest.fixture
def make_docs(tmp_path):
    """Write {relative name: text or bytes} under a fresh folder; return the folder."""

    def make(docs: dict[str, str | bytes], folder: str = "docs") -> Path:
        root = tmp_path / folder
        for name, content in docs.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture
def build_index(tmp_path, make_docs):
    """Ingest {name: text} documents into a fresh index; returns a KnowledgeBase."""
    from kb.search import KnowledgeBase

    def build(docs: dict[str, str | bytes], **kwargs):
        root = make_docs(docs)
        index_dir = tmp_path / "index"
        summary = ingest_paths([root], index_dir, **kwargs)
        assert summary.count("failed") == 0, [r for r in summary.results if r.status == "failed"]
        return KnowledgeBase(index_dir)

    return build
