"""Our engine: kb (read -> clean -> metadata -> jieba words + bigram recall field -> Whoosh), as shipped."""

from __future__ import annotations

from pathlib import Path

from bench.engines import Answer, Engine


class Ours(Engine):
    name = "ours"
    reads_files = True

    def __init__(self, folder: Path, jobs: int = 2):
        super().__init__(folder)
        self.jobs = jobs
        self.kb = None

    def build(self, inputs) -> None:
        from kb.ingest import Ingest

        summary = Ingest(self.folder, jobs=self.jobs, report=lambda line: None).run([Path(p) for p in inputs])
        if summary.count("failed"):
            raise RuntimeError(f"ours: {summary.count('failed')} files failed")

    def open(self) -> None:
        from kb.search import KnowledgeBase

        self.kb = KnowledgeBase(self.folder)
        self.kb.search("预热", snippets=False)  # load the segmenter and per-generation caches

    def query(self, text: str, variant: str = "top10") -> Answer:
        results = self.kb.search(text, snippets=variant == "full", facets=variant != "top10")
        return Answer([h.path for h in results.hits], results.total,
                      results.facets if variant != "top10" else None,
                      [h.snippet for h in results.hits] if variant == "full" else None)

    def matches(self, text: str) -> set[str]:
        return self.kb.matching_paths(text)

    def size_bytes(self) -> int:  # the index without the copies of the original files
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file() and "originals" not in p.parts)

    def close(self) -> None:
        if self.kb:
            self.kb.close()
