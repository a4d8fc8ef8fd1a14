"""Text analysis: one normalisation for documents and queries, and the three term streams we index.

* ``normalize``: NFKC (full-width -> half-width), lower-case, traditional -> simplified Chinese,
  character by character, so that a substring of a text always normalises to a substring of the
  normalised text (the property that makes recall exact).
* **words** (ranking): jieba words, stop words dropped, positions that count words.
* **grams** (recall): character bigrams over the "gram units" of the text. Whitespace is
  squeezed out (``政 府 工 作`` still matches ``政府工作``), punctuation leaves a gap in positions
  so a phrase cannot match across it, and every remaining character is a unit. A query string
  occurs in a document exactly when its bigrams occur at the right relative positions.
* **chars** (recall for one-character queries): the set of units with their counts.

Two ways in, same terms: Whoosh analyzers built the Whoosh way (``tokenizer | filter``), used by
the schema and for any Whoosh tooling, and fast functions (``word_positions``, ``gram_positions``,
``char_counts``) that ingest uses to skip per-token Python objects. Tests hold them equal.

Why this module is long: the normalisation and the three streams are one definition of what
matches, and each fast (array) version sits beside the definition it is held equal to.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np
from whoosh.analysis import Composable, Filter, StopFilter, Token, Tokenizer

from kb import tablecache
from kb.config import DATA_DIR, read_word_list

# --- normalisation ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Traditional -> simplified, character to character, from OpenCC's own character table.

    Converting each character on its own (not OpenCC's phrase mode) keeps the mapping a
    homomorphism over concatenation: normalise(a + b) == normalise(a) + normalise(b).
    """
    arrays = tablecache.cached_arrays("t2s", f"opencc-{opencc_version()}", _build_t2s)
    return dict(zip(arrays["from"].tolist(), map(chr, arrays["to"].tolist())))


def opencc_version() -> str:
    """The installed OpenCC (its table is what traditional characters become)."""
    from importlib import metadata

    try:
        return metadata.version("OpenCC")
    except metadata.PackageNotFoundError:
        return "unknown"


def _build_t2s() -> dict[str, np.ndarray]:
    import opencc

    ranges = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2A6E0)]
    chars = [chr(cp) for start, end in ranges for cp in range(start, end)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # never seen; fall back to no conversion rather than misalign
        converted = chars
    pairs = [(ord(a), ord(b)) for a, b in zip(chars, converted) if a != b and len(b) == 1]
    return {"from": np.array([a for a, _ in pairs], dtype=np.uint32), "to": np.array([b for _, b in pairs], dtype=np.uint32)}


def normalize(text: str) -> str:
    """The one normalisation applied to documents and queries alike, for matching only (stored
    and shown text keeps its own characters). Long texts are cached: metadata and indexing
    normalise the same text."""
    if len(text) > 2000:
        return _normalize_cached(text)
    if len(text) > _ARRAY_NORMALIZE_MIN:
        return _normalize_arrays(text)
    return unicodedata.normalize("NFKC", text).lower().translate(_t2s_table())


def normalize_lines(lines: list[str]) -> list[str]:
    """``[normalize(line) for line in lines]`` in one pass (a character's normal form never spans
    a line break): metadata reads the first and last ~50 lines, ~10 µs a call one by one."""
    if not lines:
        return []
    joined = "\n".join(lines)
    if len(joined) > _ARRAY_NORMALIZE_MIN:  # not through the cache: it holds the document's texts
        return _normalize_arrays(joined).split("\n")
    return normalize(joined).split("\n")


@lru_cache(maxsize=4)
def _normalize_cached(text: str) -> str:
    return _normalize_arrays(text)


def normalize_reference(text: str) -> str:
    """``normalize`` as defined: what the array version (``_normalize_arrays``) is held equal to."""
    return unicodedata.normalize("NFKC", text).lower().translate(_t2s_table())


# The same normalisation as whole-array work, for long texts (a 6,000-character law: 1.9 ms -> 0.1
# ms; NFKC alone costs ~260 ns a character in CPython, and the character table ~70 ns). NFKC of a
# text is the concatenation of each character's NFKC as long as no character can interact with its
# neighbours (a combining mark, a character that composes with the one before it, a Hangul jamo):
# such texts (nearly every Chinese one) go through a per-character table; the others, whole, through
# unicodedata. Characters whose NFKC is several characters (… -> ...) are expanded after the table.
_ARRAY_NORMALIZE_MIN = 300
_INERT, _EXPANDS, _CONTEXT = 0, 1, 2
# astral CJK ideographs: NFKC leaves them alone and they never combine (held by tests/test_analysis)
_ASTRAL_IDEOGRAPHS = ((0x20000, 0x2A6E0), (0x2A700, 0x2EBF0), (0x30000, 0x31350))


@lru_cache(maxsize=1)
def _nfkc_tables():
    """(per-code-point NFKC when it is one character, kind of each code point, expansions)."""
    arrays = tablecache.cached_arrays("nfkc", f"unicode-{unicodedata.unidata_version}", _build_nfkc)
    expansions = dict(zip(arrays["expanding"].tolist(), tablecache.arrays_to_strings(arrays["chars"], arrays["ends"])))
    pattern = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(expansions)) + "]") if expansions else None
    return arrays["single"], arrays["kind"], expansions, pattern


def _build_nfkc() -> dict[str, np.ndarray]:
    single = np.arange(0x110000, dtype=np.uint32)
    kind = np.full(0x110000, _CONTEXT, dtype=np.uint8)
    expansions: dict[int, str] = {}
    seconds: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T jamo
    for cp in range(0x20000):  # what composes with the character before it (second of a canonical pair)
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    for cp in list(range(0x10000)) + list(range(0x2F800, 0x2FA20)):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000 or cp in seconds or unicodedata.combining(ch):
            continue
        norm = unicodedata.normalize("NFKC", ch)
        decomposed = unicodedata.normalize("NFKD", ch)
        if any(ord(c) in seconds or unicodedata.combining(c) for c in norm + decomposed[:1]):
            continue
        if len(norm) == 1:
            single[cp] = ord(norm)
            kind[cp] = _INERT
        elif norm:
            expansions[cp] = norm
            kind[cp] = _EXPANDS
    for start, end in _ASTRAL_IDEOGRAPHS:
        kind[start:end] = _INERT
    return {"single": single, "kind": kind, "expanding": np.array(sorted(expansions), dtype=np.int64),
            **tablecache.strings_to_arrays(expansions[cp] for cp in sorted(expansions))}


def code_point_table(mapping: dict[int, str]) -> np.ndarray:
    """A one-character-for-one ``str.translate`` table as an array over every code point, for
    translating a whole text by one lookup per code point (``table[code_points(text)]``)."""
    table = np.arange(0x110000, dtype=np.uint32)
    for cp, replacement in mapping.items():
        table[cp] = ord(replacement)
    return table


@lru_cache(maxsize=1)
def _t2s_array() -> np.ndarray:
    return code_point_table(_t2s_table())


def code_points(text: str) -> np.ndarray:
    """The text's code points as a uint32 array (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_code_points(cps: np.ndarray) -> str:
    """The text of a code point array (the inverse of ``code_points``)."""
    return cps.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


def _normalize_arrays(text: str) -> str:
    return from_code_points(_t2s_array()[code_points(_nfkc_arrays(text).lower())])


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, by the per-character table for long texts (the
    cleaning and metadata stages fold whole documents: ~19x faster on a Chinese text)."""
    if len(text) < _ARRAY_NORMALIZE_MIN:
        return unicodedata.normalize("NFKC", text)
    return _nfkc_arrays(text)


def nfkc_lines(lines: list[str]) -> list[str]:
    """``nfkc`` of each line, computed over the lines joined (one array pass, not one call a line):
    NFKC never makes or takes line breaks; were that ever not so, line by line."""
    folded = nfkc("\n".join(lines)).split("\n")
    return folded if len(folded) == len(lines) else [unicodedata.normalize("NFKC", line) for line in lines]


def _nfkc_arrays(text: str) -> str:
    single, kind, expansions, pattern = _nfkc_tables()
    cps = code_points(text)
    kinds = kind[cps]
    if (kinds == _CONTEXT).any():
        return unicodedata.normalize("NFKC", text)
    nfkc_text = from_code_points(single[cps])
    if pattern is not None and (kinds == _EXPANDS).any():
        nfkc_text = pattern.sub(lambda m: expansions[ord(m.group())], nfkc_text)
    return nfkc_text


# Full-width ASCII forms and the ideographic space, mapped one character to one character: text
# folded this way keeps every offset, so a pattern written for ASCII punctuation finds its match
# in the folded text and the original characters are cut out at the same place.
_WIDTH_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """``text`` with full-width ASCII as ASCII (，→, （→( ２→2 Ａ→A), same length, same offsets."""
    if len(text) < _ARRAY_NORMALIZE_MIN:
        return text.translate(_WIDTH_FOLD)
    cps = code_points(text).copy()  # the same table as whole-array work: ~10x faster on a long text
    wide = (cps >= 0xFF01) & (cps < 0xFF5F)
    cps[wide] -= 0xFEE0
    cps[cps == 0x3000] = 0x20
    return from_code_points(cps)


_FOLDING_RANGES = ((0x20, 0x3400), (0xA000, 0xAC00), (0xF900, 0x10000), (0x1D400, 0x1D800), (0x2F800, 0x2FA20))


def character_variants() -> dict[str, str]:
    """normalised char -> every character (itself included) that normalises to it alone:
    traditional forms, full-width forms, compatibility ideographs, upper case; for highlighting
    matches in the stored (unnormalised) text."""
    variants: dict[str, set] = defaultdict(set)
    table = _t2s_table()
    for trad, simp in table.items():
        variants[simp].add(chr(trad))
    # where NFKC or case change single characters (the CJK blocks change only by the t2s table)
    for start, end in _FOLDING_RANGES:
        for cp in range(start, end):
            ch = chr(cp)
            norm = unicodedata.normalize("NFKC", ch).lower().translate(table)
            if len(norm) == 1 and norm != ch:
                variants[norm].add(ch)
    return {norm: norm + "".join(sorted(chars)) for norm, chars in variants.items()}


# --- gram units ---------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
# A run of units (letters, digits, CJK), or a run of anything else (punctuation, symbols).
_UNIT_RUN = re.compile(r"[^\W_]+|(?:[\W_])+")


@lru_cache(maxsize=4)
def unit_runs(norm_text: str) -> list[tuple[int, str]]:
    """Split normalised text into runs of gram units, each with the position of its first unit.

    Whitespace is removed first; every punctuation run in between advances the position by one
    (a gap), so bigrams never join across punctuation.
    """
    squeezed = _SPACE.sub("", norm_text)
    runs = []
    pos = 0
    for match in _UNIT_RUN.finditer(squeezed):
        run = match.group()
        if run[0].isalnum():
            runs.append((pos, run))
            pos += len(run)
        else:
            pos += 1
    return runs


def gram_positions(norm_text: str) -> dict[str, list[int]]:
    """Character bigrams with their positions (the recall field)."""
    positions: dict[str, list[int]] = {}
    setdefault = positions.setdefault
    for start, run in unit_runs(norm_text):
        for i in range(len(run) - 1):
            setdefault(run[i : i + 2], []).append(start + i)
    return positions


def char_counts(norm_text: str) -> dict[str, int]:
    """Every unit with its count (recall for one-character queries)."""
    return dict(Counter(units(norm_text)))


def query_grams(norm_query: str) -> list[tuple[str, int]]:
    """The bigrams (with offsets relative to the first unit) that pin down a query string.

    A minimal cover is enough: bigrams at offsets 0, 2, 4, ... plus the last one; one-unit runs
    between punctuation are dropped (they only narrow, never widen, what can match).
    """
    grams: list[tuple[str, int]] = []
    runs = unit_runs(norm_query)
    if not runs:
        return grams
    base = runs[0][0]
    for start, run in runs:
        if len(run) < 2:
            continue
        offsets = list(range(0, len(run) - 1, 2))
        if offsets[-1] != len(run) - 2:
            offsets.append(len(run) - 2)
        grams.extend((run[i : i + 2], start - base + i) for i in offsets)
    return grams


def units(norm_text: str) -> str:
    """All gram units of a text, concatenated (whitespace and punctuation removed)."""
    return "".join(run for _, run in unit_runs(norm_text))


# --- words --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(read_word_list(DATA_DIR / "stopwords.txt"))


def user_words() -> list[str]:
    """Words jieba must keep whole: the user dictionary plus every place name we know."""
    words = [line.split()[0] for line in read_word_list(DATA_DIR / "userdict.txt")]
    from kb.gazetteer import place_names

    words.extend(place_names())
    return words


class Segmenter:
    """jieba word segmentation, with our user dictionary loaded once per process.

    The hot path uses ``rjieba`` (jieba's Rust port: same dictionary and algorithm, ~30x faster);
    ``KB_SEGMENTER=jieba`` selects the Python original. A test holds the two equal on our texts.
    """

    def __init__(self, engine: str | None = None):
        self.engine = engine or os.environ.get("KB_SEGMENTER", "rjieba")
        words = user_words()
        if self.engine == "jieba":
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._jieba = jieba.Tokenizer()
            for word in words:
                self._jieba.add_word(word)
            self.cut = lambda text: list(self._jieba.cut(text, HMM=True))
        else:
            self._jieba = _fresh_rjieba()
            for word in words:
                self._jieba.add_word(word, None, None)
            self.cut = lambda text: self._jieba.cut(text, True)


_RJIEBA_DEFAULT_TAKEN = False


def _fresh_rjieba():
    """A jieba-rs instance holding jieba's dictionary only. rjieba builds one when it is imported
    (the instance of its module-level functions, ~80 ms a process: every ingest worker, the server,
    a CLI search); the first segmenter of a process takes that one instead of building a second.
    Nothing here calls rjieba's module-level functions, so nothing else sees our words in it."""
    global _RJIEBA_DEFAULT_TAKEN
    import rjieba

    default = getattr(rjieba, "_DEFAULT_JIEBA", None)
    if default is not None and not _RJIEBA_DEFAULT_TAKEN:
        _RJIEBA_DEFAULT_TAKEN = True
        return default
    return rjieba.Jieba()


@lru_cache(maxsize=2)
def segmenter(engine: str | None = None) -> Segmenter:
    return Segmenter(engine)


# Whitespace between two CJK characters is layout (spaced titles, broken lines), not a word break.
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])")


@lru_cache(maxsize=8)
def cut(norm_text: str) -> tuple[str, ...]:
    """jieba words of a normalised text, layout whitespace between CJK characters removed first.

    Cached: metadata extraction and indexing of one document segment the same text.
    """
    return tuple(segmenter().cut(_CJK_SPACE.sub("", norm_text)))


# Between lines cut together (``cut_lines``): a control character, which cleaning removes from
# every text, and which jieba (both engines) gives back as a token of its own, as it does any
# character outside its word classes, so no word spans two lines.
_LINE_MARK = "\x1f"


def cut_lines(norm_lines: list[str]) -> list[tuple[str, ...]]:
    """``[cut(line) for line in norm_lines]``, segmented in one call (a letterhead's ten short
    lines cost ten calls' overhead for little text)."""
    if len(norm_lines) < 2 or any(_LINE_MARK in line for line in norm_lines):
        return [cut(line) for line in norm_lines]
    tokens = segmenter().cut(_LINE_MARK.join(_CJK_SPACE.sub("", line) for line in norm_lines))
    out, start = [], 0
    for i, token in enumerate(tokens):
        if token == _LINE_MARK:
            out.append(tuple(tokens[start:i]))
            start = i + 1
    out.append(tuple(tokens[start:]))
    if len(out) != len(norm_lines):  # the engine kept a mark inside a token: line by line after all
        return [cut(line) for line in norm_lines]
    return out


def _is_word(token: str) -> bool:
    return token.isalnum() or any(ch.isalnum() for ch in token)


class JudgedOnce:
    """A rule over words, applied to each distinct word once a process: the words of a document
    come back in every document, so after the first few its words are sorted by set algebra (C
    speed) and only new ones are judged. ``answers`` holds the truthy verdicts (a word -> what the
    rule said); bounded, as a long ingest meets ever new words."""

    def __init__(self, judge, limit: int = 300_000):
        self._judge = judge
        self._limit = limit
        self._judged: set[str] = set()
        self._kept: set[str] = set()  # answers' keys as a set: set & set walks the smaller one
        self.answers: dict[str, object] = {}

    def kept(self, distinct: set[str] | frozenset[str]) -> set[str]:
        """The words of ``distinct`` the rule says yes to."""
        unjudged = distinct - self._judged
        if unjudged:
            if len(self._judged) + len(unjudged) > self._limit:
                self._judged.clear()
                self._kept.clear()
                self.answers.clear()
                unjudged = distinct
            judge, answers = self._judge, self.answers
            for word in unjudged:
                if answer := judge(word):
                    answers[word] = answer
                    self._kept.add(word)
            self._judged.update(unjudged)
        return self._kept & distinct


_RANKING_WORDS = JudgedOnce(lambda token: token not in stop_words() and _is_word(token))


_LAST_DISTINCT: list = [None, frozenset()]  # (tokens, their set): the body's, asked for by words and places


def distinct(tokens: tuple[str, ...]) -> frozenset[str]:
    """The set of a token tuple, kept for the last tuple asked (the body's cut: the places and the
    ranking words both want it)."""
    last = _LAST_DISTINCT
    if last[0] is not tokens:
        last[0], last[1] = tokens, frozenset(tokens)
    return last[1]


@lru_cache(maxsize=8)
def words(norm_text: str) -> tuple[str, ...]:
    """The ranking words of a normalised text, in order (stop words and punctuation removed)."""
    tokens = cut(norm_text)
    present = distinct(tokens)
    dropped = present - _RANKING_WORDS.kept(present)
    return tuple(itertools.filterfalse(dropped.__contains__, tokens)) if dropped else tokens


def word_positions(norm_text: str) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    setdefault = positions.setdefault
    for pos, word in enumerate(words(norm_text)):
        setdefault(word, []).append(pos)
    return positions


# --- the same streams as Whoosh analyzers (tokenizer | filters) ---------------------------------


class NormalizingTokenizer(Tokenizer):
    """Base for our tokenizers: normalise the input, then cut it into terms."""

    def terms(self, norm_text: str):  # -> iterable of (text, pos)
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos in self.terms(normalize(value)):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            yield token


class JiebaTokenizer(NormalizingTokenizer):
    """jieba words of the normalised text; punctuation and whitespace are not tokens."""

    def terms(self, norm_text):
        return ((w, 0) for w in cut(norm_text) if _is_word(w))

    def __call__(self, value, positions=False, **kwargs):
        # Positions are assigned after stop words go (renumbered), by PositionFilter.
        return super().__call__(value, positions=positions, **kwargs)


class PositionFilter(Filter):
    """Number the surviving tokens 0, 1, 2, ...: positions count words."""

    def __call__(self, tokens):
        for pos, token in enumerate(tokens):
            token.pos = pos
            yield token


class BigramTokenizer(NormalizingTokenizer):
    """Character bigrams with unit positions (see ``unit_runs``)."""

    def terms(self, norm_text):
        for start, run in unit_runs(norm_text):
            for i in range(len(run) - 1):
                yield run[i : i + 2], start + i


class UnigramTokenizer(NormalizingTokenizer):
    def terms(self, norm_text):
        for start, run in unit_runs(norm_text):
            for i, ch in enumerate(run):
                yield ch, start + i


def word_analyzer() -> Composable:
    return JiebaTokenizer() | StopFilter(stoplist=stop_words(), minsize=1, renumber=False) | PositionFilter()


def gram_analyzer() -> Composable:
    return BigramTokenizer()


def char_analyzer() -> Composable:
    return UnigramTokenizer()
