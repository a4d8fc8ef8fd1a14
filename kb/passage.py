"""Passage search ("documents like this paragraph"): rank documents by similarity to a passage.

Any of the passage's words may match; documents are ranked by BM25F over its most telling words
(body plus boosted title), each weighted by how often the passage uses it.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

from kb import analysis
from kb import index as kbindex

LIKE_TERMS = 60


def rank_like(ev, passage: str):
    """``(ranked, strings, words)`` as ``Evaluator``-based matching returns them:
    ranked = {docnum: (0, score)}; no exact strings; the words used, for highlighting."""
    norm = analysis.normalize(passage or "")
    counts = Counter(w for w in analysis.words(norm) if len(w) > 1 or not w.isascii())
    p = ev.p
    weighted = []
    for word, qtf in counts.items():
        df = p.doc_frequency("body", word)
        if df:
            weighted.append((qtf * p.idf(df), word, qtf))
    top = heapq.nlargest(LIKE_TERMS, weighted)
    scores: dict[int, float] = defaultdict(float)
    for _, word, qtf in top:
        for d, s in ev.bm25("body", word).items():
            scores[d] += qtf * s
        for d, s in ev.bm25("title", word, kbindex.TITLE_BOOST).items():
            scores[d] += qtf * s
    ranked = {d: (0, s) for d, s in scores.items()}
    return ranked, (), tuple(w for _, w, _ in top[:12])
