"""Engines by name (peers are optional: skipped with a reason when their package is missing)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def make(name: str, folder: Path):
    """The engine called ``name``; ImportError naming the package when an optional peer's is missing."""
    engine = _engine(name, folder)
    for module in engine.requires:
        if importlib.util.find_spec(module) is None:
            raise ImportError(f"the {module!r} package is not installed (pip install {module})")
    return engine


def _engine(name: str, folder: Path):
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
