"""Topics: a document's key terms (TF-IDF over jieba words, jieba's IDF table), a facet.

Generic words of official prose (工作, 推进, 全市 …) are dropped via data/topic_stopwords.txt, and
so are place names (they are the place facets' job).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from kb import analysis
from kb.config import DATA_DIR, read_word_list

MAX_TOPICS = 8
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    import jieba.analyse

    path = Path(jieba.analyse.__file__).with_name("idf.txt")
    table = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            word, _, value = line.strip().partition(" ")
            if value:
                table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2]


@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    from kb.meta.places import Gazetteer

    gaz = Gazetteer.load()
    return frozenset(read_word_list(DATA_DIR / "topic_stopwords.txt")) | frozenset(gaz.full) | frozenset(gaz.short)


def topics_of(title: str, text: str, count: int = MAX_TOPICS) -> list[str]:
    """The document's key terms, most telling first."""
    stop = _stop()
    words = analysis.words(analysis.normalize(text, nfkc=False))  # the same words the index gets
    tf = Counter(w for w in words if len(w) >= 2 and w.isalpha() and w not in stop and _HAS_CJK.search(w))
    if not tf:
        return []
    idf, median = _idf()
    title_words = set(analysis.words(analysis.normalize(title or "", nfkc=False)))
    min_tf = 2 if sum(tf.values()) > 300 else 1
    scored = [(n * idf.get(w, median) * (1.5 if w in title_words else 1.0), w) for w, n in tf.items()
              if n >= min_tf or w in title_words]
    return [w for _, w in sorted(scored, reverse=True)[:count]]
