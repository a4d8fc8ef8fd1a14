"""Topics: the terms that characterise a document against official Chinese prose, a facet.

The rule (settings in data/topics.toml):

* Candidates: the text's jieba words (the index's words) of two or more characters with a Chinese
  character in them, and quoted names (“千企帮千村”, “同心工程”: ``quoted_min_chars`` to
  ``quoted_max_chars`` Chinese characters between quotation marks, counted wherever they occur in
  the text), except stop words (data/topic_stopwords.txt) and place names (the place facets' job).
  In a text of more than ``min_words_for_repeat`` words a term must occur twice, unless the title
  holds it or it is a quoted name.
* Generality g: the largest share of documents holding the term in one kind of official prose
  (laws and regulations, national reports, local government work reports: data/topic_df.tsv, built
  by tools/build_topic_df.py from ../shared), at least ``share_floor``. A term with
  g >= ``max_generality`` is the vocabulary of some kind of official prose (政府, 改革, 经济, 发展,
  推进, 工作, 继续, 必须, 人民, 我国 …) and never a topic.
* Distinctiveness d = ln(1 / g) × IDF / median IDF, with jieba's IDF table (a general corpus:
  成员, 觉得, 今天 are common there): rare in official prose *and* in general Chinese. A term with
  d < ``min_distinctiveness`` is never a topic.
* Known words only: a word in neither jieba's IDF table nor data/userdict.txt is a cut jieba's
  HMM guessed (和量, 率控制), not a term, unless it is a quoted name. Numbering
  and amounts (第十四届, 五十万元, 一九八二年, 百分之九) are not terms.
* Things only: a dictionary word jieba tags as a verb, adjective, adverb, numeral … (``not_names``;
  verbal nouns ``vn`` stay) names nothing (释放出来, 紧抓, 亿公斤).
* Score = sqrt(tf) × d × length bonus (3- and 4+-character terms name programmes and bodies)
  × ``title_boost`` if the title holds it. A word that occurs only inside a quoted name (兴万村 of
  “万企兴万村”) is that name's piece, not a term of its own.

The top ``max_topics`` by score, most telling first.

Cost: the word list is the index's (segmented once per document, cached); the generality table is a
dict of ~15k words; jieba's 349k-word IDF table and part-of-speech tags are read from a small SQLite
file (as dicts they would cost ~130 MB in every ingest worker), only for the few hundred candidates
of a document.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb import analysis, tablecache
from kb.config import DATA_DIR, jieba_file, read_word_list

SETTINGS = DATA_DIR / "topics.toml"
DOCUMENT_FREQUENCIES = DATA_DIR / "topic_df.tsv"
MAX_CANDIDATES = 300  # the most frequent terms are judged; below them tf is 1-2 and the text is long
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


class JiebaTables:
    """jieba's IDF table (349k words) and its dictionary's part-of-speech tags, as a small SQLite
    file built once in the user's cache folder: as Python dicts they would cost ~130 MB in every
    ingest worker; lookups from SQLite cost a few microseconds and next to no memory. Built
    streaming (constant memory), renamed into place."""

    def __init__(self, idf_source: Path, dict_source: Path):
        self.path = self._built(idf_source, dict_source)
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self.median = self.db.execute("SELECT value FROM meta WHERE key = 'median'").fetchone()[0]
        self._seen: dict[str, tuple | None] = {}

    SEEN_MAX = 100_000  # words whose answer is kept (~15 MB)

    @staticmethod
    def _built(idf_source: Path, dict_source: Path) -> Path:
        cache = tablecache.cache_dir()
        stamp = "-".join(f"{st.st_size}-{int(st.st_mtime)}" for st in (idf_source.stat(), dict_source.stat()))
        target = cache / f"jieba-words-v1-{stamp}.sqlite"  # v1: words (word, idf, tag)
        if target.exists():
            return target
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, idf REAL, tag TEXT) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value REAL)")
        with idf_source.open(encoding="utf-8") as f:
            rows = (parts for line in f if len(parts := line.split()) == 2)
            db.executemany("INSERT OR REPLACE INTO words (word, idf) VALUES (?, ?)", rows)
        with dict_source.open(encoding="utf-8") as f:  # word frequency tag
            rows = ((parts[0], parts[2]) for line in f if len(parts := line.split()) == 3)
            db.executemany("INSERT INTO words (word, tag) VALUES (?, ?) ON CONFLICT (word) DO UPDATE SET tag = excluded.tag", rows)
        count = db.execute("SELECT count(*) FROM words WHERE idf IS NOT NULL").fetchone()[0]
        median = db.execute("SELECT idf FROM words WHERE idf IS NOT NULL ORDER BY idf LIMIT 1 OFFSET ?", (count // 2,)).fetchone()
        db.execute("INSERT INTO meta VALUES ('median', ?)", (median[0] if median else 1.0,))
        db.commit()
        db.close()
        os.replace(tmp, target)
        for old in cache.glob("jieba-words-v1-*.sqlite"):  # built from an earlier install's files
            if old != target:
                old.unlink(missing_ok=True)
        return target

    def lookup(self, words) -> dict[str, tuple[float | None, str | None]]:
        """Each word jieba's tables have -> (its IDF or None, its part-of-speech tag or None).
        Answers are kept (bounded): the same words come back in every document."""
        seen = self._seen
        words = list(words)
        asked = [w for w in words if w not in seen]
        if len(seen) + len(asked) > self.SEEN_MAX:
            seen.clear()
            asked = list(dict.fromkeys(words))
        for start in range(0, len(asked), 500):
            chunk = asked[start:start + 500]
            marks = ",".join("?" * len(chunk))
            answers = dict.fromkeys(chunk)  # None: not in the tables
            answers.update((w, (idf, tag)) for w, idf, tag in
                           self.db.execute(f"SELECT word, idf, tag FROM words WHERE word IN ({marks})", chunk))
            seen.update(answers)
        return {w: found for w in words if (found := seen.get(w)) is not None}


@lru_cache(maxsize=1)
def _jieba() -> JiebaTables:
    return JiebaTables(jieba_file("analyse/idf.txt"), jieba_file("dict.txt"))


@lru_cache(maxsize=1)
def settings() -> dict:
    return tomllib.loads(SETTINGS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def generality() -> dict[str, float]:
    """Term -> the largest share of documents holding it in one kind of official prose (parsed
    once a machine: kept in the table cache, ~50 ms of every ingest worker's start otherwise)."""
    arrays = tablecache.cached_arrays("topic-generality", tablecache.file_stamp(DOCUMENT_FREQUENCIES),
                                      _generality_arrays, code=(_read_generality,))
    return dict(zip(tablecache.arrays_to_strings(arrays["chars"], arrays["ends"]), arrays["shares"].tolist()))


def _generality_arrays() -> dict:
    shares = _read_generality()
    return {**tablecache.strings_to_arrays(shares), "shares": np.array(list(shares.values()), dtype=np.float64)}


def _read_generality() -> dict[str, float]:
    sizes: list[int] = []
    shares: dict[str, float] = {}
    with DOCUMENT_FREQUENCIES.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#documents"):
                sizes = [int(cell.split("=")[1]) for cell in line.rstrip("\n").split("\t")[1:]]
            elif line.strip() and not line.startswith("#"):
                word, *counts = line.rstrip("\n").split("\t")
                shares[word] = max(int(n) / size for n, size in zip(counts, sizes))
    return shares


@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    from kb.meta.places import Gazetteer

    gaz = Gazetteer.load()
    return frozenset(read_word_list(DATA_DIR / "topic_stopwords.txt")) | frozenset(gaz.full) | frozenset(gaz.short)


@lru_cache(maxsize=1)
def _quoted_pattern() -> re.Pattern:
    s = settings()
    return re.compile(rf"[“‘「『\"]([\u4e00-\u9fff]{{{s['quoted_min_chars']},{s['quoted_max_chars']}}})[”’」』\"]")


def quoted_names(norm_text: str) -> set[str]:
    """Short names the text puts in quotation marks (“千企帮千村”)."""
    return set(_quoted_pattern().findall(norm_text))


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Words we told jieba to keep whole (data/userdict.txt)."""
    return frozenset(line.split()[0] for line in read_word_list(DATA_DIR / "userdict.txt"))


# numbering and amounts, not topics: 第十四届, 第四次, 五十万元, 一九八二年, 百分之九, 二十三, 近八年
_NUMBERING = re.compile(
    r"^(?:第|近|百分之)?[\d零〇○一二三四五六七八九十百千万亿两]+"
    r"(?:年|月|日|号|届|次|个|项|条|款|章|节|倍|万元|元|亿元|周年|多|余|人|名|户|家|天)?$"
    r"|^第[\d零〇○一二三四五六七八九十百千]+"
)


@lru_cache(maxsize=1 << 16)  # the same words come back in every document: judged once
def is_term(word: str) -> bool:
    """A word that can be a topic: two or more characters, Chinese, not numbering (a word of our
    user dictionary always is: 十四五 is a plan's name)."""
    if word in _known_words():
        return True
    return len(word) >= 2 and _HAS_CJK.search(word) is not None and not _NUMBERING.match(word)


# words that can be topics (not stop or place words, terms, not the vocabulary of some kind of
# official prose), judged once a process
_CANDIDATE_WORDS = analysis.JudgedOnce(
    lambda w: w not in _stop() and is_term(w) and generality().get(w, 0.0) < settings()["max_generality"])


class _WordWeights:
    """A word's part of its score that depends on the word alone, ``(d, length bonus)``, or None
    when it is never a topic as a plain word (a cut jieba guessed, a verb, too little
    distinctiveness); judged once a process (bounded), jieba's tables asked in one query for the
    new words of a document. Quoted names are judged per document (``_weight``)."""

    LIMIT = 300_000

    def __init__(self):
        self._known: dict[str, tuple | None] = {}

    def of(self, words) -> dict[str, tuple | None]:
        known = self._known
        new = [w for w in words if w not in known]
        if new:
            if len(known) + len(new) > self.LIMIT:
                known.clear()
                new = list(words)
            found = _jieba().lookup(new)
            for w in new:
                known[w] = _weight(w, found.get(w), named=False)
        return known


_WORD_WEIGHTS = _WordWeights()


def _weight(word: str, found: tuple | None, named: bool) -> tuple[float, float] | None:
    """``(distinctiveness, length bonus)`` of a candidate, None if it cannot be a topic; ``found``:
    its (IDF, tag) in jieba's tables; ``named``: a quoted name of the document (no dictionary needed)."""
    s = settings()
    tables = _jieba()
    idf, tag = found or (None, None)
    if not named and word not in _known_words():
        if not idf:
            return None  # a cut jieba guessed (和量, 率控制): in no dictionary and not quoted
        if tag and tag.startswith(tuple(s["not_names"])) and not tag.startswith("vn"):
            return None  # it does not name a thing: a verb, adjective, adverb, numeral (释放出来, 亿公斤)
    d = math.log(1 / max(generality().get(word, 0.0), s["share_floor"])) * (idf or tables.median) / tables.median
    if d < s["min_distinctiveness"]:
        return None
    bonus = {int(k): v for k, v in s["length_bonus"].items()}
    return d, max((v for k, v in bonus.items() if len(word) >= k), default=1.0)


def topics_of(title: str, text: str, count: int | None = None) -> list[str]:
    """The document's key terms, most telling first (the rule: this module's docstring)."""
    s = settings()
    count = count or s["max_topics"]
    stop = _stop()
    norm = analysis.normalize(text)
    words = analysis.words(norm)  # the same words the index gets (cached)
    counts = Counter(words)  # counting first (C speed), then judging each distinct word once
    names = {q: norm.count(q) for q in quoted_names(norm) if q not in stop}
    title_words = set(analysis.words(analysis.normalize(title or ""))) | quoted_names(analysis.normalize(title or ""))
    min_tf = 2 if len(words) > s["min_words_for_repeat"] else 1
    # only words that can be candidates are judged: repeated enough, in the title, or quoted names
    # (a quoted name's count decides which of its pieces go)
    pool = {w for w, n in counts.items() if n >= min_tf} if min_tf > 1 else set(counts)
    if min_tf > 1:
        pool |= (title_words | names.keys()) & counts.keys()
    tf = {w: counts[w] for w in _CANDIDATE_WORDS.kept(pool)}
    for name, n in names.items():  # a word seen only inside a quoted name is a piece of it
        pieces = {name[i:j] for i in range(len(name)) for j in range(i + 2, len(name) + (i > 0))}
        for piece in [w for w in pieces if tf.get(w, n + 1) <= n]:
            del tf[piece]
        tf[name] = max(n, tf.get(name, 0))
    if not tf:
        return []
    shares, ceiling = generality(), s["max_generality"]
    candidates = {w: n for w, n in tf.items() if n >= min_tf or w in title_words or w in names}
    for name in names.keys() & candidates.keys():  # (plain words met the ceiling when judged)
        if shares.get(name, 0.0) >= ceiling:
            del candidates[name]
    if len(candidates) > MAX_CANDIDATES:  # the general-IDF lookup only for terms that can make the list
        kept = sorted(candidates, key=lambda w: (-candidates[w], w))[:MAX_CANDIDATES]
        candidates = {w: candidates[w] for w in set(kept) | (title_words & candidates.keys()) | (names.keys() & candidates.keys())}
    plain = _WORD_WEIGHTS.of([w for w in candidates if w not in names])
    named = _jieba().lookup(names.keys() & candidates.keys()) if names else {}
    boost = s["title_boost"]
    scored = []
    for w, n in candidates.items():
        weight = _weight(w, named.get(w), named=True) if w in names else plain[w]
        if weight is None:
            continue
        d, length = weight
        score = math.sqrt(n) * d * length * (boost if w in title_words else 1.0)
        scored.append((-score, w))
    return [w for _, w in sorted(scored)[:count]]
