"""``kb export --format opensearch-bulk``: a mapping and bulk files that parse, fit the mapping, hold
every document, and whose bigram fields find by phrase exactly what our exact search finds."""

from __future__ import annotations

import json

from kb import analysis
from kb.cli import kb_main
from kb.export import check_document, mapping


def _bulk(folder):
    """(action, source) pairs of every bulk file, in order."""
    pairs = []
    for path in sorted(folder.glob("bulk-*.ndjson")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) % 2 == 0, path
        pairs += [(json.loads(a), json.loads(b)) for a, b in zip(lines[0::2], lines[1::2])]
    return pairs


def _phrase(tokens_by_run: list[str], query: str) -> bool:
    """OpenSearch's match_phrase on a field of runs (no phrase crosses two array elements)."""
    wanted = " ".join(analysis.normalize(query)[i:i + 2] for i in range(len(query) - 1))
    return any(f" {wanted} " in f" {run} " for run in tokens_by_run)


def test_export_fits_the_mapping_and_finds_what_we_find(samples_index, tmp_path):
    out = tmp_path / "export"
    assert kb_main(["export", "--format", "opensearch-bulk", "--index", str(samples_index.index_dir), "--per-file", "5",
                    str(out)]) == 0
    spec = json.loads((out / "mapping.json").read_text(encoding="utf-8"))
    assert spec == mapping()
    assert spec["settings"]["analysis"]["analyzer"]["kb_preanalysed"]["tokenizer"] == "whitespace"
    pairs = _bulk(out)
    assert len(list(out.glob("bulk-*.ndjson"))) == -(-samples_index.count() // 5)
    assert len(pairs) == samples_index.count()
    for action, source in pairs:
        assert action == {"index": {"_index": "kb", "_id": source["id"]}}
        assert check_document(spec, source) == []
        assert source["text"] == samples_index.document(source["id"])["text"]
    by_id = {source["id"]: source for _, source in pairs}
    for query in ("统一战线", "乡村振兴", "营企业", "同心", "民营经济"):
        ours = {h.id for h in samples_index.search(f'"{query}"', page_size=100).hits}
        theirs = {i for i, s in by_id.items() if _phrase(s["body_grams"], query) or _phrase(s["title_grams"], query)}
        assert ours == theirs, query
    counties = {c for s in by_id.values() for c in s.get("counties", [])}
    assert counties == set(samples_index.facets()["county"])


def test_check_document_names_what_does_not_fit():
    spec = mapping()
    assert check_document(spec, {"id": "a", "year": "2020"}) == ["year: str where integer is mapped"]
    assert check_document(spec, {"id": "a", "colour": "red"}) == ["colour: not in the mapping (dynamic: strict)"]
    assert check_document(spec, {"title": "x"}) == ["id: missing"]


def test_export_usage_errors(samples_index, tmp_path):
    (tmp_path / "file").write_text("x")
    assert kb_main(["export", "--format", "csv", "--index", str(samples_index.index_dir), str(tmp_path / "o")]) == 2
    assert kb_main(["export", "--index", str(samples_index.index_dir), str(tmp_path / "file")]) == 2
    assert kb_main(["export", "--index", str(tmp_path / "nothing"), str(tmp_path / "o")]) == 2
