"""Peer on tantivy (PyPI ``tantivy``, the Rust engine's Python binding) over jieba words.

Fields: ``text`` (stored; the jieba words of the normalised text joined by spaces, indexed with
tantivy's built-in ``whitespace`` tokenizer, which keeps every CJK word whole, long ones included,
and does not lower-case: the text is already lower case), ``key`` and ``title`` (stored, ``raw``),
``ord`` (unsigned fast field: the document's index in ``keys.json``, so keys are read from a column
instead of decompressing stored documents), ``year`` (integer, indexed + fast), ``county`` and
``sector`` (``raw`` text fast fields, one value per county / sector).

Build: one ``IndexWriter`` with 1 indexing thread and a 128 MB heap (on 2 cores the other core runs
the Python side: normalisation and jieba), one commit, then wait for merges.

Facets come from tantivy's own aggregations (``Searcher.aggregate``, ``terms`` on the fast fields),
counted over all matches inside tantivy: a second pass over the postings after the top-10 search.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.engines import Answer, Engine
from bench.engines.fts5 import sort_facets

HEAP_BYTES = 128_000_000
THREADS = 1
FACET_BUCKETS = 10_000  # per facet; far more than China's ~2,900 county-level divisions
SNIPPET_CHARS = 150


def _unique(items) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


class TantivyJieba(Engine):
    """tantivy over the jieba words of the normalised text (``kb.analysis.words``: our ranking
    words, stop words and punctuation dropped), one whitespace-separated term per word.

    A query is normalised and cut into jieba words the same way (no operators: quotes, ``-``,
    ``OR``, ``field:`` are punctuation or plain words); the query is a BooleanQuery with every word
    a required (MUST) TermQuery on ``text``. A document matches when it contains every query word
    as a whole jieba word of its own text; a substring that jieba cut differently in the document
    does not match. Ranking: tantivy's BM25. Snippets (``SnippetGenerator``, ``<b>`` turned into
    ``<mark>``) show the indexed words, space-separated, not the original text.
    """

    name = "tantivy-jieba"
    reads_files = False
    requires = ("tantivy",)

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.index = self.searcher = self.schema = None
        self.keys: list[str] = []

    @staticmethod
    def make_schema():
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("key", stored=True, tokenizer_name="raw")
        builder.add_unsigned_field("ord", fast=True)
        builder.add_text_field("title", stored=True, tokenizer_name="raw")
        builder.add_text_field("text", stored=True, tokenizer_name="whitespace")
        builder.add_integer_field("year", stored=True, indexed=True, fast=True)
        builder.add_text_field("county", fast=True, tokenizer_name="raw")
        builder.add_text_field("sector", fast=True, tokenizer_name="raw")
        return builder.build()

    def build(self, inputs) -> None:
        import tantivy

        from kb.analysis import normalize, words

        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        index = tantivy.Index(self.make_schema(), path=str(self.folder))
        writer = index.writer(heap_size=HEAP_BYTES, num_threads=THREADS)
        keys = []
        for doc in inputs:
            d = tantivy.Document()
            d.add_text("key", doc.key)
            d.add_unsigned("ord", len(keys))
            d.add_text("title", doc.title or "")
            d.add_text("text", " ".join(words(normalize(doc.text))))
            if doc.year is not None:
                d.add_integer("year", int(doc.year))
            for value in _unique(doc.counties):
                d.add_text("county", value)
            for value in _unique(doc.sectors):
                d.add_text("sector", value)
            writer.add_document(d)
            keys.append(doc.key)
        writer.commit()
        writer.wait_merging_threads()
        (self.folder / "keys.json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")

    def open(self) -> None:
        import tantivy

        self.index = tantivy.Index.open(str(self.folder))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        self.keys = json.loads((self.folder / "keys.json").read_text(encoding="utf-8"))
        self.query("预热", "full")

    def _query(self, text: str):
        """All jieba words of the query as required TermQuerys (None when there are none)."""
        import tantivy

        from kb.analysis import normalize, words

        terms = _unique(words(normalize(text)))
        if not terms:
            return None
        queries = [tantivy.Query.term_query(self.schema, "text", t) for t in terms]
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])

    def _keys(self, addresses) -> list[str]:
        return [self.keys[i] for i in self.searcher.fast_field_values("ord", addresses)]

    def query(self, text: str, variant: str = "top10") -> Answer:
        q = self._query(text)
        if q is None:
            return Answer([], 0, {"year": {}, "county": {}, "sector": {}} if variant != "top10" else None,
                          [] if variant == "full" else None)
        result = self.searcher.search(q, 10, count=variant != "top10")
        addresses = [address for _, address in result.hits]
        keys = self._keys(addresses)
        if variant == "top10":
            return Answer(keys)
        facets = self._facets(q)
        snippets = None
        if variant == "full":
            import tantivy

            generator = tantivy.SnippetGenerator.create(self.searcher, q, self.schema, "text")
            generator.set_max_num_chars(SNIPPET_CHARS)
            snippets = [generator.snippet_from_doc(self.searcher.doc(a)).to_html()
                        .replace("<b>", "<mark>").replace("</b>", "</mark>") for a in addresses]
        return Answer(keys, result.count, facets, snippets)

    def _facets(self, q) -> dict:
        """Counts per year / county / sector over all matches: tantivy terms aggregations."""
        spec = {name: {"terms": {"field": name, "size": FACET_BUCKETS}} for name in ("year", "county", "sector")}
        result = self.searcher.aggregate(q, spec)
        counts = {name: {str(b["key"]): b["doc_count"] for b in result[name]["buckets"]} for name in ("county", "sector")}
        counts["year"] = {str(int(b["key"])): b["doc_count"] for b in result["year"]["buckets"]}
        return sort_facets(counts)

    def matches(self, text: str) -> set[str]:
        q = self._query(text)
        if q is None:
            return set()
        result = self.searcher.search(q, max(1, self.searcher.num_docs), count=False)
        return set(self._keys([address for _, address in result.hits]))
