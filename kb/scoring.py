"""Every ranking knob in one place, shared by keyword search and passage search.

* BM25F over jieba words: ``body`` plus ``title`` (boosted by ``TITLE_BOOST``), BM25 saturation
  with ``K1``/``B``, idf as BM25 defines it (never negative);
* an exact occurrence of a query's string scores as a BM25 term of its own (its document
  frequency as the idf's);
* tiers: a document holding more of the query's strings exactly always ranks above one holding
  fewer (``EXACT_TIER`` is added per exact string, far above any BM25 sum);
* ties go by source path, so the order is the same however the index is segmented.

Measured choices (LeCaRD dev, ``python -m bench.lecard``): see ``kb.passage`` for what was tried.
"""

from __future__ import annotations

import math

import numpy as np

K1, B = 1.2, 0.75
TITLE_BOOST = 2.5
EXACT_TIER = 1000.0


def idf(doc_count: int, df: int) -> float:
    """BM25's inverse document frequency (never negative)."""
    return math.log(1 + (doc_count - df + 0.5) / (df + 0.5))


def saturate(tf: np.ndarray, lengths: np.ndarray, mean_length: float, weight: float) -> np.ndarray:
    """BM25's term score for frequencies ``tf`` in documents of ``lengths``; ``weight`` = idf × boost."""
    return weight * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths / mean_length))


def word_fields(in_title: bool = False) -> list[tuple[str, float]]:
    """(field, boost) pairs a word is scored in: the title, and the body unless ``title:``."""
    return [("title", TITLE_BOOST)] + ([] if in_title else [("body", 1.0)])


def shown_score(score: float, exact: int) -> float:
    """The score a hit reports: its tier (exact strings held) and its BM25 sum."""
    return score + EXACT_TIER * exact
