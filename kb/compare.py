"""Compare two documents: their paragraphs aligned side by side with the changes marked, and the
distinctive terms that are new in the second, dropped from the first, rising or falling (the
"新提法" a researcher looks for between two years' reports).

**Alignment** uses the standard library's ``difflib`` (it does the job, and needs nothing installed):

1. paragraphs (lines) are compared by their normalised characters (width, script, spaces and
   punctuation aside), and ``SequenceMatcher`` (``autojunk`` off: boilerplate paragraphs are not
   junk) finds the runs that are the same;
2. between two such runs, the paragraphs on each side are paired by an alignment that keeps their
   order and maximises their similarity (Jaccard of character bigrams; a pair below
   ``PAIR_SIMILARITY`` is not a pair): a paragraph may be rewritten, moved a little, split;
3. a pair's characters are compared with ``SequenceMatcher`` again, and equal runs too short to mean
   anything (``MIN_SAME_RUN``) between two changes are counted as changed, so a rewritten
   sentence reads as one deletion and one insertion, not as confetti (what diff-match-patch calls
   semantic clean-up).

**Distinctive terms**: candidates are the documents' jieba words that can be terms
(``kb.meta.topics.is_term``), runs of two or three adjacent words (新 发展 格局 -> 新发展格局) and
quoted names; each is counted as a string (non-overlapping, never across punctuation) in both
normalised texts, so "new" means the first text does not contain that string at all. Terms
common in official prose weigh less (``kb.meta.topics.generality``); a term inside a longer one
that accounts for its occurrences gives way to it.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from kb import analysis
from kb.config import DATA_DIR, jieba_file
from kb.meta import topics

PAIR_SIMILARITY = 0.15  # bigram Jaccard under which two paragraphs are not one rewritten
MIN_SAME_RUN = 3  # equal runs shorter than this between two changes are shown as changed
MAX_PAIRING_CELLS = 250_000  # paragraphs x paragraphs between two equal runs: above, no pairing
SETTINGS = DATA_DIR / "compare.toml"
_PUNCTUATION = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")


@dataclass
class Row:
    """One line of the side-by-side view: same, changed (a pair), added (only in b), removed."""

    kind: str
    a: list[tuple[str, str]] = field(default_factory=list)  # (same | del, text) segments
    b: list[tuple[str, str]] = field(default_factory=list)  # (same | ins, text) segments
    similarity: float = 1.0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "a": [list(s) for s in self.a], "b": [list(s) for s in self.b],
                "similarity": round(self.similarity, 3)}


@dataclass
class Term:
    term: str
    a: int  # occurrences in the first document
    b: int
    a_per10k: float
    b_per10k: float

    def to_dict(self) -> dict:
        return {"term": self.term, "a": self.a, "b": self.b, "a_per10k": round(self.a_per10k, 2),
                "b_per10k": round(self.b_per10k, 2)}


@dataclass
class Comparison:
    a: dict  # id, title, year, date of each document
    b: dict
    rows: list[Row]
    new: list[Term]  # in b, not in a
    dropped: list[Term]  # in a, not in b
    rising: list[Term]
    falling: list[Term]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.kind for r in self.rows)
        return {kind: found.get(kind, 0) for kind in ("same", "changed", "added", "removed")}

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "counts": self.counts,
                "terms": {name: [t.to_dict() for t in getattr(self, name)]
                          for name in ("new", "dropped", "rising", "falling")},
                "rows": [r.to_dict() for r in self.rows]}


def summary(stored: dict) -> dict:
    years = stored.get("year")
    return {"id": stored.get("id"), "title": stored.get("title") or "", "date": stored.get("date"),
            "year": years[0] if isinstance(years, list) and years else (years or None)}


def compare(first: dict, second: dict) -> Comparison:
    """Compare two documents' stored fields (``text``, ``title``, …)."""
    text_a, text_b = first.get("text") or "", second.get("text") or ""
    rows = align(paragraphs(text_a), paragraphs(text_b))
    new, dropped, rising, falling = distinctive_terms(text_a, text_b)
    return Comparison(summary(first), summary(second), rows, new, dropped, rising, falling)


# --- paragraphs -----------------------------------------------------------------------------------


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\f", "\n").split("\n") if line.strip()]


def _key(paragraph: str) -> str:
    return analysis.units(analysis.normalize(paragraph))


def _bigrams(key: str) -> frozenset[str]:
    return frozenset(key[i : i + 2] for i in range(len(key) - 1)) or frozenset([key])


def _jaccard(x: frozenset, y: frozenset) -> float:
    return len(x & y) / len(x | y) if x or y else 1.0


def align(a: list[str], b: list[str]) -> list[Row]:
    """The paragraphs of a and b side by side (see the module docstring)."""
    keys_a, keys_b = [_key(p) for p in a], [_key(p) for p in b]
    rows: list[Row] = []
    matcher = SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(Row("same", [("same", a[i])], [("same", b[j])]) for i, j in zip(range(i1, i2), range(j1, j2)))
        else:
            rows.extend(_pair_block(a[i1:i2], b[j1:j2], keys_a[i1:i2], keys_b[j1:j2]))
    return rows


def _pair_block(a: list[str], b: list[str], keys_a: list[str], keys_b: list[str]) -> list[Row]:
    """Paragraphs between two equal runs: paired in order where they are alike, the rest added or
    removed (a dynamic programme over the similarity matrix, like a global alignment)."""
    n, m = len(a), len(b)
    if not n or not m or n * m > MAX_PAIRING_CELLS:
        return [Row("removed", [("del", p)], []) for p in a] + [Row("added", [], [("ins", p)]) for p in b]
    grams_a, grams_b = [_bigrams(k) for k in keys_a], [_bigrams(k) for k in keys_b]
    sim = [[_jaccard(x, y) for y in grams_b] for x in grams_a]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            pair = sim[i][j] + below[j + 1] if sim[i][j] >= PAIR_SIMILARITY else -1.0
            row[j] = max(pair, below[j], row[j + 1])
    rows, i, j = [], 0, 0
    while i < n and j < m:
        if sim[i][j] >= PAIR_SIMILARITY and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            seg_a, seg_b = inline_diff(a[i], b[j])
            rows.append(Row("changed", seg_a, seg_b, sim[i][j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            rows.append(Row("removed", [("del", a[i])], []))
            i += 1
        else:
            rows.append(Row("added", [], [("ins", b[j])]))
            j += 1
    rows.extend(Row("removed", [("del", p)], []) for p in a[i:])
    rows.extend(Row("added", [], [("ins", p)]) for p in b[j:])
    return rows


def inline_diff(a: str, b: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Character-level changes between two paragraphs: (same|del segments of a, same|ins of b)."""
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    # an equal run too short to mean anything, between changes, is part of the change
    cleaned = []
    for k, (op, i1, i2, j1, j2) in enumerate(ops):
        if op == "equal" and i2 - i1 < MIN_SAME_RUN and 0 < k < len(ops) - 1:
            op = "replace"
        cleaned.append((op, i1, i2, j1, j2))
    seg_a: list[tuple[str, str]] = []
    seg_b: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in cleaned:
        if op == "equal":
            _append(seg_a, "same", a[i1:i2])
            _append(seg_b, "same", b[j1:j2])
        else:
            _append(seg_a, "del", a[i1:i2])
            _append(seg_b, "ins", b[j1:j2])
    return seg_a, seg_b


def _append(segments: list[tuple[str, str]], kind: str, text: str) -> None:
    if not text:
        return
    if segments and segments[-1][0] == kind:
        segments[-1] = (kind, segments[-1][1] + text)
    else:
        segments.append((kind, text))


# --- distinctive terms ----------------------------------------------------------------------------


def _searchable(text: str) -> str:
    """The normalised text without spaces, each punctuation run one "|": a term is counted where
    search would find it, never across punctuation."""
    return _PUNCTUATION.sub("|", _SPACES.sub("", analysis.normalize(text)))


@lru_cache(maxsize=1)
def settings() -> dict:
    return tomllib.loads(SETTINGS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _dictionary() -> topics.JiebaTables:
    """jieba's dictionary and IDF table (the SQLite file kb.meta.topics builds once)."""
    return topics.JiebaTables(jieba_file("analyse/idf.txt"), jieba_file("dict.txt"))


def _candidates(norm_text: str) -> tuple[Counter, set[str]]:
    """(Candidate terms with how often each occurs as jieba's words, those that are jieba's
    guesses): words that can be terms, quoted names, and runs of two or three adjacent words
    (a run may begin with one character: 跨 周期, 新 发展 格局). A word jieba's HMM guessed (in
    neither its dictionary nor ours: 留抵, but also 对受) is a term only if it repeats
    (``min_guessed_count`` in kb/data/compare.toml), and so is a run with such a word in it. Counting as words keeps a
    string that only occurs across words (要用 in 主要用于) from passing for a term."""
    words = analysis.cut(norm_text)
    stops = analysis.stop_words()
    shaped = {w for w in set(words) if w not in stops and len(w) >= 2 and w.isalnum() and topics.is_term(w)}
    known = _dictionary().lookup(shaped)
    ours = _our_words()
    guessed = {w for w in shaped if w not in ours and w not in known}
    counts = Counter(w for w in words if w in shaped)
    guesses = set(guessed)
    heads = settings()["term_heads"]
    for size in (2, 3):  # adjacent words that name one thing (留抵 退税, 三孩 生育 政策)
        for i in range(len(words) - size + 1):
            parts = words[i : i + size]
            head_ok = parts[0] in shaped or (len(parts[0]) == 1 and parts[0] in heads)
            if head_ok and all(w in shaped for w in parts[1:]) and 3 <= len(joined := "".join(parts)) <= 8:
                counts[joined] += 1
                if any(w in guessed for w in parts):
                    guesses.add(joined)
    for name in topics.quoted_names(norm_text):
        counts[name] = max(counts[name], norm_text.count(name))
        guesses.discard(name)
    return counts, guesses


@lru_cache(maxsize=1)
def _our_words() -> frozenset[str]:
    return frozenset(analysis.user_words())


def _counts(terms: list[str], text: str) -> list[int]:
    """Non-overlapping occurrences of each term in ``text``, in one pass (Aho-Corasick)."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for n, term in enumerate(terms):
        automaton.add_word(term, (n, len(term)))
    automaton.make_automaton()
    counts, ends = [0] * len(terms), [-1] * len(terms)
    for end, (n, length) in automaton.iter(text):
        if end - length + 1 > ends[n]:  # starts after the previous counted one ended
            counts[n] += 1
            ends[n] = end
    return counts


def distinctive_terms(text_a: str, text_b: str) -> tuple[list[Term], list[Term], list[Term], list[Term]]:
    """(new in b, dropped from a, rising, falling), most telling first."""
    norm_a, norm_b = analysis.normalize(text_a), analysis.normalize(text_b)
    length_a, length_b = max(1, len(analysis.units(norm_a))), max(1, len(analysis.units(norm_b)))
    shares = topics.generality()
    conf = settings()
    (words_a, guessed_a), (words_b, guessed_b) = _candidates(norm_a), _candidates(norm_b)
    guessed = guessed_a | guessed_b
    candidates = sorted(words_a.keys() | words_b.keys())
    if not candidates:
        return [], [], [], []
    terms = [Term(term, ca, cb, ca * 1e4 / length_a, cb * 1e4 / length_b)
             for term, ca, cb in zip(candidates, _counts(candidates, _searchable(text_a)),
                                     _counts(candidates, _searchable(text_b)))]
    tables = _dictionary()
    found = tables.lookup({w for t in candidates for w in (t, *analysis.cut(t))})

    def distinctiveness(word: str) -> float:  # as kb.meta.topics: rare in official prose and in Chinese
        idf = (found.get(word) or (None, None))[0] or tables.median
        return math.log(1 / max(shares.get(word, 0.0), 0.01)) * idf / tables.median

    def weight(t: Term) -> float:
        """A word's distinctiveness; a run of words: its most distinctive word's (so 继续 做好 is
        not a term and 留抵 退税 is); longer names a thing."""
        parts = analysis.cut(t.term)
        d = distinctiveness(t.term) if len(parts) == 1 else max((distinctiveness(w) for w in parts if len(w) > 1), default=0.0)
        return d * (1 + 0.1 * min(len(t.term) - 2, 4))

    def ratio(t: Term) -> float:  # smoothed rate of b over a
        return ((t.b + 0.5) / length_b) / ((t.a + 0.5) / length_a)

    def as_words(t: Term, side: str) -> int:
        return (words_a if side == "a" else words_b).get(t.term, 0)

    low, need, need_guessed, rising_ratio = (conf["min_distinctiveness"], conf["min_count"],
                                             conf["min_guessed_count"], conf["rising_ratio"])
    telling = [t for t in terms if weight(t) >= low
               and (t.term not in guessed or max(as_words(t, "a"), as_words(t, "b")) >= need_guessed)]
    new = [t for t in telling if t.a == 0 and as_words(t, "b") >= need]
    dropped = [t for t in telling if t.b == 0 and as_words(t, "a") >= need]
    rising = [t for t in telling if t.a and as_words(t, "b") >= 2 * need and ratio(t) >= rising_ratio]
    falling = [t for t in telling if t.b and as_words(t, "a") >= 2 * need and ratio(t) <= 1 / rising_ratio]
    return (_top(new, lambda t: math.sqrt(t.b) * weight(t), "b"),
            _top(dropped, lambda t: math.sqrt(t.a) * weight(t), "a"),
            _top(rising, lambda t: math.log(ratio(t)) * math.sqrt(t.b) * weight(t), "b"),
            _top(falling, lambda t: -math.log(ratio(t)) * math.sqrt(t.a) * weight(t), "a"))


def _top(terms: list[Term], score, side: str) -> list[Term]:
    """The best-scoring terms, a term dropped when a longer listed term holds all but one of its
    occurrences on ``side`` (留抵 in 留抵退税)."""
    count = (lambda t: t.b) if side == "b" else (lambda t: t.a)
    ranked = sorted(terms, key=lambda t: (-score(t), t.term))
    by_length = sorted(ranked, key=lambda t: -len(t.term))
    drop = set()
    for i, longer in enumerate(by_length):
        for shorter in by_length[i + 1 :]:
            if shorter.term in longer.term and len(shorter.term) < len(longer.term):
                if count(shorter) - count(longer) <= 1:
                    drop.add(shorter.term)
    return [t for t in ranked if t.term not in drop][: settings()["max_terms"]]
