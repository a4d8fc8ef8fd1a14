"""The naive baseline: the plain build of our design. Whoosh with jieba's ChineseAnalyzer on one TEXT
field (stored, for highlighting), the stock single writer, Whoosh's QueryParser (words AND-ed),
Whoosh's own facets (groupedby) and highlighter. Facet fields carry the metadata ours extracted."""

from __future__ import annotations

import logging
from pathlib import Path

from bench.engines import Answer, Engine


def _analyzer():
    import jieba
    from jieba.analyse import ChineseAnalyzer

    jieba.setLogLevel(logging.WARNING)
    return ChineseAnalyzer()


class Naive(Engine):
    name = "naive"

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.ix = self.searcher = self.parser = None
        self.keys: dict[int, str] = {}

    def schema(self):
        from whoosh import fields

        return fields.Schema(key=fields.ID(stored=True, unique=True), title=fields.TEXT(analyzer=_analyzer(), stored=True),
                             content=fields.TEXT(analyzer=_analyzer(), stored=True),
                             year=fields.NUMERIC(int, stored=True, sortable=True),
                             county=fields.KEYWORD(stored=True, commas=True, sortable=True),
                             sector=fields.KEYWORD(stored=True, commas=True, sortable=True))

    def build(self, inputs) -> None:
        from whoosh import index

        self.folder.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(self.folder), self.schema())
        writer = ix.writer()  # the stock single writer
        for doc in inputs:
            fields = {"key": doc.key, "title": doc.title, "content": doc.text}
            if doc.year:
                fields["year"] = doc.year
            if doc.counties:
                fields["county"] = ",".join(doc.counties)
            if doc.sectors:
                fields["sector"] = ",".join(doc.sectors)
            writer.add_document(**fields)
        writer.commit()

    def open(self) -> None:
        from whoosh import index
        from whoosh.qparser import QueryParser

        self.ix = index.open_dir(str(self.folder))
        self.searcher = self.ix.searcher()
        self.parser = QueryParser("content", self.ix.schema)
        reader = self.searcher.reader()
        for term in reader.lexicon("key"):  # docnum -> key without loading stored texts
            for docnum in reader.postings("key", term).all_ids():
                self.keys[docnum] = term.decode("utf-8")
        self.query("预热")

    def _parse(self, text: str):
        return self.parser.parse(text)

    def query(self, text: str, variant: str = "top10") -> Answer:
        from whoosh import sorting

        q = self._parse(text)
        if variant == "top10":
            results = self.searcher.search(q, limit=10)
            return Answer([hit["key"] for hit in results], None)
        facets = sorting.Facets()
        facets.add_field("year")
        facets.add_field("county", allow_overlap=True)
        facets.add_field("sector", allow_overlap=True)
        results = self.searcher.search(q, limit=10, groupedby=facets)
        counts = {name: {k: len(v) for k, v in results.groups(name).items()} for name in ("year", "county", "sector")}
        snippets = [hit.highlights("content") for hit in results] if variant == "full" else None
        return Answer([hit["key"] for hit in results], len(results), counts, snippets)

    def matches(self, text: str) -> set[str]:
        return {self.keys[d] for d in self.searcher.docs_for_query(self._parse(text))}

    def close(self) -> None:
        if self.searcher:
            self.searcher.close()
