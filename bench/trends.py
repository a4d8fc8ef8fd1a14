"""Timing of term trends (issue 14) beside a plain search, in the same run.

    python -m bench.trends                      # ingests the laws corpus into a temporary index first
    python -m bench.trends --index DIR          # an index you already have
    python -m bench.trends --index DIR --runs 60 --json bench/out/trends.json

Per run, interleaved (so the machine's noise falls on both alike): a 3-term trend (every year,
documents, shares, mentions, per 10,000 characters) and the plain search of the same three terms
(top 10 with every facet counted and snippets, as the site asks for it). Terms are words drawn from
the corpus with a fixed seed, a new triple each run (no answer comes from a cache), plus the
issue's example 乡村振兴,脱贫攻坚,新乡贤. The first trend of a generation also counts every
document's characters once (``kb.trends.unit_counts``): reported apart, as "cold".
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ISSUE_TERMS = ["乡村振兴", "脱贫攻坚", "新乡贤"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict:
    return {"n": len(values), "median_ms": round(statistics.median(values), 2), "p95_ms": round(_percentile(values, 0.95), 2),
            "max_ms": round(max(values), 2)}


def _term_triples(kb, runs: int, seed: int) -> list[list[str]]:
    """``runs`` triples of corpus words (2-4 characters, letters only), drawn from random documents."""
    from kb import analysis

    rng = random.Random(seed)
    documents = [d["id"] for d in kb.documents()]
    words: list[str] = []
    for doc_id in rng.sample(documents, min(60, len(documents))):
        text = kb.document(doc_id)["text"][:4000]
        words.extend(w for w in analysis.words(analysis.normalize(text)) if 2 <= len(w) <= 4 and w.isalpha())
    words = sorted(set(words))
    return [ISSUE_TERMS] + [rng.sample(words, 3) for _ in range(runs - 1)]


def measure(index_dir: Path, runs: int, seed: int = 14) -> dict:
    from kb.search import KnowledgeBase

    kb = KnowledgeBase(index_dir)
    started = time.perf_counter()
    kb.trends(ISSUE_TERMS)  # the generation's first trend: character counts of every document
    cold = (time.perf_counter() - started) * 1000
    kb.search("乡村振兴")  # and the first search (postings mapped, facet arrays built)
    triples = _term_triples(kb, runs, seed)
    trend_ms, search_ms = [], []
    for terms in triples:
        started = time.perf_counter()
        kb.trends(terms)
        trend_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        kb.search(" ".join(terms))
        search_ms.append((time.perf_counter() - started) * 1000)
    return {"index": str(index_dir), "documents": kb.count(), "runs": runs, "seed": seed,
            "trend_3_terms": _summary(trend_ms), "plain_search_same_terms": _summary(search_ms),
            "first_trend_of_generation_ms": round(cold, 1),  # the issue's terms, character counts included
            "measured": time.strftime("%Y-%m-%d %H:%M")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trends", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an index (default: ingest the laws corpus into a temporary one)")
    parser.add_argument("--runs", type=int, default=40, help="3-term trends (and searches) to time (default 40)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.index is None:
        from bench.corpora import CORPORA, corpus_files
        from kb.ingest import Ingest

        corpus_files("laws")  # exits with a message when ../shared is absent
        args.index = Path(tempfile.mkdtemp(prefix="kb-bench-trends-")) / "index"
        print(f"ingesting the laws corpus into {args.index} …", file=sys.stderr)
        Ingest(args.index, report=lambda line: None).run([str(CORPORA["laws"])])
    figures = measure(args.index, max(2, args.runs))
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
