"""Engines by name (peers are optional: skipped with a reason when their package is missing)."""

from __future__ import annotations

from pathlib import Path


def make(name: str, folder: Path):
    if name == "ours":
        from bench.engines.ours import Ours

        return Ours(folder)
    if name == "naive":
        from bench.engines.naive import Naive

        return Naive(folder)
    if name == "fts5-trigram":
        from bench.engines.fts5 import Fts5Trigram

        return Fts5Trigram(folder)
    if name == "fts5-jieba":
        from bench.engines.fts5 import Fts5Jieba

        return Fts5Jieba(folder)
    if name == "tantivy-jieba":
        from bench.engines.tantivy_engine import TantivyJieba

        return TantivyJieba(folder)
    raise ValueError(f"unknown engine {name!r}")


ALL = ("ours", "naive", "fts5-trigram", "fts5-jieba", "tantivy-jieba")
