"""Export an index for OpenSearch: an index mapping that carries our analysis, and NDJSON bulk files.

The analysis stays ours (``docs/scale-out.md``): every analysed field is sent pre-analysed, as
space-separated tokens that OpenSearch's ``whitespace`` tokenizer splits back, on the documents
and (in a future backend) on the queries alike:

* ``title_words``, ``body_words``: jieba words (stop words left out), BM25-scored text fields;
* ``title_grams``, ``body_grams``: character bigrams in text order with positions, one array
  element per run of units, so a phrase never crosses punctuation (``position_increment_gap``):
  an exact string is a ``match_phrase`` of its bigrams;
* ``body_chars``: the units, for one-character queries;
* facets as ``keyword`` fields (``integer`` for the year), counted with ``terms`` aggregations;
* ``text``, the clean text as written, kept in ``_source`` only (not indexed): our own snippets;
* the other stored fields as they are (``meta`` kept, not indexed).

``python -m kb export --format opensearch-bulk DIR`` writes ``DIR/mapping.json`` (the body of
``PUT /<index>``) and ``DIR/bulk-00001.ndjson`` … (each the body of one ``POST /_bulk``).
``check_document`` validates a document against the mapping (used by the exporter and its test).
"""

from __future__ import annotations

import json
from pathlib import Path

from kb import analysis
from kb.facets import FACETS

FORMATS = ("opensearch-bulk",)
DEFAULT_INDEX = "kb"
DOCS_PER_FILE = 500
_PRE_ANALYSED = "kb_preanalysed"
_GAP = 100  # positions between array elements: a phrase never spans two runs


def mapping() -> dict:
    """The index settings and mappings (``PUT /<index>`` body)."""
    tokens = {"type": "text", "analyzer": _PRE_ANALYSED, "search_analyzer": _PRE_ANALYSED}
    properties = {
        "id": {"type": "keyword"},
        "path": {"type": "keyword"},
        "sha": {"type": "keyword"},
        "content": {"type": "keyword"},
        "title": {"type": "keyword", "index": False},  # as written, shown
        "title_words": {**tokens, "index_options": "freqs"},
        "title_grams": {**tokens, "index_options": "positions", "position_increment_gap": _GAP},
        "body_words": {**tokens, "index_options": "freqs"},
        "body_grams": {**tokens, "index_options": "positions", "position_increment_gap": _GAP},
        "body_chars": {**tokens, "index_options": "freqs"},
        "text": {"type": "text", "index": False},  # the clean text: snippets are made from it
        "added": {"type": "date", "format": "epoch_second"},
        "date": {"type": "keyword"},
        "docno": {"type": "keyword"},
        "meta": {"type": "object", "enabled": False},
    }
    for facet in FACETS.values():
        properties[facet.field] = {"type": "integer"} if facet.numeric else {"type": "keyword"}
    return {
        "settings": {
            "index": {"number_of_shards": 1, "number_of_replicas": 0},
            "analysis": {"analyzer": {_PRE_ANALYSED: {"type": "custom", "tokenizer": "whitespace"}}},
        },
        "mappings": {"dynamic": "strict", "properties": properties},
    }


def _runs(norm: str) -> list[str]:
    """Bigrams in text order, one string per run of units (runs of one unit have none)."""
    out = []
    for _, run in analysis.unit_runs(norm):
        if len(run) > 1:
            out.append(" ".join(run[i:i + 2] for i in range(len(run) - 1)))
    return out


def document(stored: dict, text: str) -> dict:
    """One document's ``_source``: stored fields plus the pre-analysed fields, from the text."""
    title = stored.get("title") or ""
    norm_title, norm_text = analysis.normalize(title), analysis.normalize(text)
    title_units = analysis.units(norm_title)
    source = {
        "id": stored["id"], "path": stored.get("path", ""), "sha": stored.get("sha", ""), "title": title,
        "title_words": " ".join(analysis.words(norm_title)),
        # the title's single characters too (as our title_grams field holds them), after its bigrams
        "title_grams": _runs(norm_title) + ([" ".join(title_units)] if title_units else []),
        "body_words": " ".join(analysis.words(norm_text)),
        "body_grams": _runs(norm_text),
        "body_chars": " ".join(analysis.units(norm_text)),
        "text": text,
        "meta": stored.get("meta") or {},
    }
    for key in ("content", "added", "date", "docno"):
        if stored.get(key) not in (None, ""):
            source[key] = stored[key]
    for facet in FACETS.values():
        values = facet.values(stored)
        if values:
            source[facet.field] = values[0] if facet.numeric else list(values)
    return source


_TYPES = {"keyword": (str,), "text": (str,), "integer": (int,), "date": (int,), "object": (dict,)}


def check_document(mapping_: dict, source: dict) -> list[str]:
    """What is wrong with a document under the mapping (empty: nothing)."""
    properties = mapping_["mappings"]["properties"]
    problems = []
    for name, value in source.items():
        spec = properties.get(name)
        if spec is None:
            problems.append(f"{name}: not in the mapping (dynamic: strict)")
            continue
        allowed = _TYPES[spec["type"]]
        values = value if isinstance(value, list) and spec["type"] != "object" else [value]
        for item in values:
            if not isinstance(item, allowed) or isinstance(item, bool):
                problems.append(f"{name}: {type(item).__name__} where {spec['type']} is mapped")
                break
    if "id" not in source:
        problems.append("id: missing")
    return problems


def export_opensearch(kb, folder: Path, index_name: str = DEFAULT_INDEX, per_file: int = DOCS_PER_FILE,
                      report=None) -> tuple[int, int]:
    """Write ``mapping.json`` and the bulk files of every document; returns (documents, files)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = mapping()
    (folder / "mapping.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for old in folder.glob("bulk-*.ndjson"):
        old.unlink()
    count = files = 0
    out = None
    try:
        for stored in kb.documents():
            full = kb.document(stored["id"]) or stored
            source = document(full, full.get("text", ""))
            problems = check_document(spec, source)
            if problems:
                raise ValueError(f"document {stored['id']} does not fit the mapping: {'; '.join(problems)}")
            if count % per_file == 0:
                if out is not None:
                    out.close()
                files += 1
                out = open(folder / f"bulk-{files:05d}.ndjson", "w", encoding="utf-8")
            out.write(json.dumps({"index": {"_index": index_name, "_id": source["id"]}}) + "\n")
            out.write(json.dumps(source, ensure_ascii=False, default=str) + "\n")
            count += 1
            if report and count % 1000 == 0:
                report(f"export: {count} documents")
    finally:
        if out is not None:
            out.close()
    return count, files
