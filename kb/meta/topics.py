"""Topics: a document's key terms (TF-IDF over jieba words, jieba's IDF table), a facet.

Generic words of official prose (工作, 推进, 全市 …) are dropped via data/topic_stopwords.txt, and
so are place names (they are the place facets' job).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import Counter
from functools import lru_cache
from pathlib import Path

from kb import analysis
from kb.config import DATA_DIR, read_word_list

MAX_TOPICS = 8
MAX_CANDIDATES = 300  # idf rarely lifts a word from below the 300 most frequent into the top 8
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


class IdfTable:
    """jieba's IDF table (349k words) as a small SQLite file built once in the user's cache folder:
    as a Python dict it would cost ~130 MB in every ingest worker; lookups from SQLite cost a few
    microseconds and next to no memory. Built streaming (constant memory), renamed into place."""

    def __init__(self, source: Path):
        self.path = self._built(source)
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self.median = self.db.execute("SELECT value FROM meta WHERE key = 'median'").fetchone()[0]

    @staticmethod
    def _built(source: Path) -> Path:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kb"
        stat = source.stat()
        target = cache / f"jieba-idf-{stat.st_size}-{int(stat.st_mtime)}.sqlite"
        if target.exists():
            return target
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE idf (word TEXT PRIMARY KEY, value REAL) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value REAL)")
        with source.open(encoding="utf-8") as f:
            rows = (parts for line in f if len(parts := line.split()) == 2)
            db.executemany("INSERT OR REPLACE INTO idf VALUES (?, ?)", rows)
        count = db.execute("SELECT count(*) FROM idf").fetchone()[0]
        median = db.execute("SELECT value FROM idf ORDER BY value LIMIT 1 OFFSET ?", (count // 2,)).fetchone()
        db.execute("INSERT INTO meta VALUES ('median', ?)", (median[0] if median else 1.0,))
        db.commit()
        db.close()
        os.replace(tmp, target)
        return target

    def get_many(self, words) -> dict[str, float]:
        words = list(words)
        found: dict[str, float] = {}
        for start in range(0, len(words), 500):
            chunk = words[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT word, value FROM idf WHERE word IN ({marks})", chunk))
        return {w: found.get(w, self.median) for w in words}


@lru_cache(maxsize=1)
def _idf() -> IdfTable:
    # the file's path only: importing jieba.analyse would load the whole table into a dict
    import importlib.util

    return IdfTable(Path(importlib.util.find_spec("jieba").origin).parent / "analyse" / "idf.txt")


@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    from kb.meta.places import Gazetteer

    gaz = Gazetteer.load()
    return frozenset(read_word_list(DATA_DIR / "topic_stopwords.txt")) | frozenset(gaz.full) | frozenset(gaz.short)


def topics_of(title: str, text: str, count: int = MAX_TOPICS) -> list[str]:
    """The document's key terms, most telling first."""
    stop = _stop()
    words = analysis.words(analysis.normalize(text))  # the same words the index gets
    counts = Counter(words)  # counting first (C speed), then judging each distinct word once
    tf = {w: n for w, n in counts.items() if len(w) >= 2 and w.isalpha() and w not in stop and _HAS_CJK.search(w)}
    if not tf:
        return []
    title_words = set(analysis.words(analysis.normalize(title or "")))
    min_tf = 2 if len(words) > 300 else 1
    candidates = {w: n for w, n in tf.items() if n >= min_tf or w in title_words}
    # the IDF lookup only for the words that can make the list: the most frequent ones
    if len(candidates) > MAX_CANDIDATES:
        kept = sorted(candidates, key=candidates.__getitem__, reverse=True)[:MAX_CANDIDATES]
        candidates = {w: candidates[w] for w in set(kept) | (title_words & candidates.keys())}
    idf = _idf().get_many(candidates)
    scored = [(n * idf[w] * (1.5 if w in title_words else 1.0), w) for w, n in candidates.items()]
    return [w for _, w in sorted(scored, reverse=True)[:count]]
