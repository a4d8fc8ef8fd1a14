"""Search engines under benchmark, behind one small interface, so every figure compares like with like.

An engine indexes a list of files into a folder and answers queries. Documents are identified by
their file path (a string) in every engine. Variants of a query:

* ``top10``: the ten best documents only;
* ``facets``: top ten plus counts per year/county/sector over the whole result set (where the
  engine can);
* ``full``: facets plus a highlighted snippet for each of the ten.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

VARIANTS = ("top10", "facets", "full")


@dataclass
class Doc:
    """What peers index for one file: the same clean text and metadata ours derives, so that all
    engines see the same words (the read/clean/metadata cost is ours alone and is timed in ours)."""

    key: str  # the file path
    title: str
    text: str  # clean text (NFKC, noise removed)
    year: int | None = None
    counties: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)


@dataclass
class Answer:
    keys: list[str]  # ranked, at most 10
    total: int | None = None  # matches in all (None if the engine cannot tell cheaply)
    facets: dict | None = None
    snippets: list[str] | None = None


class Engine(ABC):
    name: str = "engine"
    #: True if the engine reads files itself (ours); False if it takes prepared ``Doc``s.
    reads_files: bool = False
    #: Importable modules the engine needs beyond the product's own (optional peers).
    requires: tuple[str, ...] = ()

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @abstractmethod
    def build(self, inputs) -> None:
        """Index ``inputs``: a list of file paths if ``reads_files``, else a list of ``Doc``."""

    @abstractmethod
    def open(self) -> None:
        """Get ready to answer queries (after build, possibly in another process)."""

    @abstractmethod
    def query(self, text: str, variant: str = "top10") -> Answer:
        """Answer a user query (words; "quoted" for exact strings where supported)."""

    def matches(self, text: str) -> set[str] | None:
        """All documents the engine returns for ``text`` (for recall); None if unsupported."""
        return None

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def close(self) -> None:
        pass
