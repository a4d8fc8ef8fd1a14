"""Sectors (policy domains) a reader would assign, from weighted keyword evidence read according to
the document's shape. Taxonomy, weights, shapes and thresholds live in kb/data/sectors.toml.

Evidence. A sector's score adds up, over its keywords (and, in headings, its naming phrases):

* ``body_weight × log2(1 + D)`` where D is the sector's weighted keyword occurrences per 10,000
  characters (texts shorter than ``density_floor_chars`` count as that long): density, so that a
  long report mentioning every area once does not collect them all, and one logarithm per sector,
  so that twenty weak keywords mentioned once do not outweigh a subject mentioned a hundred times;
* ``weight × title_weight`` for each keyword in the title;
* ``weight × heading_weight × log2(1 + headings holding it)`` for section headings (一、…, （三）…,
  markdown ``#`` in reports; 第二章 … in laws, whose （一） are list items), a heading's text running
  to its first full stop. In a heading, a sector's ``names`` and ``heading_words`` (broad words such
  as 农业, 文化 that name an area only in a heading) count with ``naming_weight``: a report's
  headings name the areas it covers.

A text span counts for one keyword only, the longest that matches there (民族宗教事务局 is not also
民族宗教 and 宗教事务).

Shapes (``[[shape]]``, chosen by doctype, else by structure) say how many sectors a kind of
document has and how evidence is read:

* single-subject (laws, regulations, rules, notices …): about one area, maybe a second; a sector
  named in the title ranks before any that only the body supports;
* comprehensive (work reports, summaries, resolutions …, or any long text with report headings): a
  sector whose ``names`` phrase appears in a heading is one of the areas the report covers.

Selection: sectors whose score reaches ``min_score`` and ``relative_min`` × the best score, at most
``max_sectors`` of them, strongest first. Counts are of the most specific sectors: a child (乡村振兴)
stands for its parent (农业林业水利), which follows it in the list so that filtering by the parent
finds the child's documents too; a parent supported only through its child is not a sector of its
own. ``explain`` says why, per sector: the title keywords, headings and body keywords behind it.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from kb import analysis
from kb.config import DATA_DIR

TAXONOMY = DATA_DIR / "sectors.toml"

# A section heading: 一、 （三） 第二章 第一部分 or markdown #, at the start of a line. Its text runs to
# the first full stop or semicolon (work reports often start a paragraph with its heading sentence).
_SECTION = re.compile(r"^\s*(?:#{1,6}\s*|[一二三四五六七八九十]{1,3}\s*[、．.]|[(（]\s*[一二三四五六七八九十]{1,3}\s*[)）])")
_REPORT_SECTION = re.compile(r"^\s*(?:[一二三四五六七八九十]{1,3}\s*[、．.]|[(（]\s*[一二三四五六七八九十]{1,3}\s*[)）])")
_CHAPTER = re.compile(r"^\s*#{0,6}\s*第[一二三四五六七八九十]{1,3}(?:章|编|部分)\s")
_HEADING_END = re.compile(r"[。；;！!？?]")
MAX_HEADING_CHARS = 60
# what a phrase found in a heading is to its sector, besides a keyword (which has a weight)
NAMES = "names"  # it names the sector outright: a comprehensive document covers that area
HEADING_WORD = "heading word"  # a broad word that names the area in a heading only


@dataclass(frozen=True)
class Shape:
    name: str
    doctypes: frozenset = frozenset()
    max_sectors: int = 4
    relative_min: float = 0.2
    title_led: bool = False  # a sector named in the title ranks before the body's
    headings: str = "sections"  # which headings are read: "sections" (一、 （三） #) or "chapters" (第二章)
    named_in_heading: bool = False  # a heading that names a sector makes it one
    min_report_headings: int = 0  # with no doctype, this many report headings select the shape
    min_chars: int = 0  # ... in a text at least this long
    min_body_keywords: int = 1  # distinct keywords a sector the body alone supports needs


DEFAULT_SHAPE = Shape("default")


@dataclass(frozen=True)
class Taxonomy:
    names: tuple[str, ...]
    parents: dict
    settings: dict
    keywords: "Phrases | None"  # keyword -> (keyword, ((sector, weight), ...))
    naming: dict  # sector -> the phrases that name it outright
    shapes: tuple[Shape, ...] = ()
    heading_phrases: "Phrases | None" = None  # keywords and naming phrases -> (phrase, ((sector, weight), ...), names)

    @classmethod
    def load(cls, path=TAXONOMY) -> "Taxonomy":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        settings = data.get("settings", {})
        keywords: dict[str, list[tuple[str, float]]] = defaultdict(list)
        in_headings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        names, parents, naming = [], {}, {}
        for sector in data.get("sector", []):
            name = sector["name"]
            names.append(name)
            if sector.get("parent"):
                parents[name] = sector["parent"]
            for word, weight in (sector.get("keywords") or {}).items():
                keywords[analysis.normalize(word)].append((name, float(weight)))
            naming[name] = tuple(analysis.normalize(n) for n in sector.get("names", ()))
            for phrase in naming[name]:
                in_headings[phrase].append((name, NAMES))
            for phrase in (analysis.normalize(n) for n in sector.get("heading_words", ())):
                if phrase not in naming[name]:
                    in_headings[phrase].append((name, HEADING_WORD))
        unknown = set(parents.values()) - set(names)
        if unknown:
            raise ValueError(f"{path}: parent sector(s) not defined: {', '.join(sorted(unknown))}")
        for word, targets in keywords.items():  # in a heading, a keyword counts unless it names its sector
            named = {s for s, _ in in_headings.get(word, [])}
            in_headings[word] = in_headings.get(word, []) + [(s, w) for s, w in targets if s not in named]
        shapes = tuple(
            Shape(**{**{k: v for k, v in s.items() if k != "doctypes"}, "doctypes": frozenset(s.get("doctypes", ()))})
            for s in data.get("shape", [])
        )
        return cls(tuple(names), parents, settings, _phrases(keywords, path), naming, shapes, _phrases(in_headings, path))

    def shape_of(self, doctype: str | None, text: str, report_headings: int) -> Shape:
        """The shape a doctype names; with none, the first whose structure the text has."""
        for shape in self.shapes:
            if doctype and doctype in shape.doctypes:
                return shape
        for shape in self.shapes:
            if shape.min_report_headings and report_headings >= shape.min_report_headings and len(text) >= shape.min_chars:
                return shape
        return next((s for s in self.shapes if s.name == self.settings.get("default_shape")), DEFAULT_SHAPE)


def _phrases(phrases: dict, path) -> "Phrases | None":
    if not phrases:
        return None
    short = sorted(p for p in phrases if len(p) < 2)
    if short:
        raise ValueError(f"{path}: a sector phrase needs two characters or more: {', '.join(short)}")
    return Phrases({phrase: (phrase, tuple(targets)) for phrase, targets in phrases.items()})


class Phrases:
    """Phrases of two characters or more, each with what it stands for, and their matches in a
    text: at each place the longest phrase that starts there, leftmost first, never overlapping
    (``历史文化名城`` counts once, as itself; ``历史文化`` without it counts ``文化``).

    A long text is not stepped through character by character (an Aho-Corasick automaton in C
    costs ~140 ns a character: 0.9 ms for a 6,000-character law): the places where some phrase's
    first two characters stand are found for the whole text at once, by one table lookup per
    character, and only those are tried, longest phrase first (0.35 ms). (pyahocorasick's
    ``iter_long`` misses a phrase inside a longer one that fails: 文化 in 历史文化.)"""

    ARRAY_MIN_CHARS = 300  # below this, a plain loop over the places is quicker than array set-up

    def __init__(self, phrases: dict[str, tuple]):
        self._values = phrases
        by_pair: dict[str, list[str]] = {}
        for phrase in sorted(phrases, key=lambda p: (-len(p), p)):
            by_pair.setdefault(phrase[:2], []).append(phrase)
        self._by_pair: dict[str, tuple[str, ...]] = {pair: tuple(group) for pair, group in by_pair.items()}
        self._pairs = np.array(sorted(map(self._pair_key, self._by_pair)), dtype=np.uint64)
        self._first = np.zeros(0x110000, dtype=bool)
        self._first[[ord(p[0]) for p in phrases]] = True
        self._second = np.zeros(0x110000, dtype=bool)
        self._second[[ord(p[1]) for p in phrases]] = True

    @staticmethod
    def _pair_key(pair: str) -> int:
        return (ord(pair[0]) << 21) | ord(pair[1])

    def __len__(self) -> int:
        return len(self._values)

    def keys(self):
        return self._values.keys()

    def get(self, phrase: str):
        """``(phrase, what it stands for)``, or None."""
        return self._values.get(phrase)

    def count(self, text: str) -> Counter:
        """Phrase -> occurrences in ``text``."""
        if _NATIVE_MATCHES is not None:
            return Counter(_NATIVE_MATCHES(text, list(self._places(text)), self._by_pair))
        found: Counter = Counter()
        end, by_pair, startswith = 0, self._by_pair, text.startswith
        for i in self._places(text):
            if i < end:
                continue
            for phrase in by_pair.get(text[i:i + 2], ()):
                if startswith(phrase, i):
                    found[phrase] += 1
                    end = i + len(phrase)
                    break
        return found

    def _places(self, text: str):
        """Where some phrase's first two characters stand (in order; more is harmless)."""
        if len(text) < self.ARRAY_MIN_CHARS:
            return range(len(text) - 1)
        cps = analysis.code_points(text)
        maybe = np.flatnonzero(self._first[cps[:-1]] & self._second[cps[1:]])
        pairs = (cps[maybe].astype(np.uint64) << np.uint64(21)) | cps[maybe + 1]
        at = np.minimum(np.searchsorted(self._pairs, pairs), len(self._pairs) - 1)
        return maybe[self._pairs[at] == pairs].tolist()


try:  # kb/phrases_c.c, built by setup.py where a C compiler is found: the same loop in C
    from kb.phrases_c import longest_matches as _NATIVE_MATCHES
except ImportError:
    _NATIVE_MATCHES = None


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@dataclass
class Evidence:
    """What speaks for one sector in one document."""

    score: float = 0.0
    title: list = field(default_factory=list)  # keywords in the title
    headings: list = field(default_factory=list)  # headings that name it or hold its keywords
    body: Counter = field(default_factory=Counter)  # keyword -> occurrences
    named_in_heading: bool = False

    def reason(self, limit: int = 3) -> str:
        parts = []
        if self.title:
            parts.append("title: " + ", ".join(self.title[:limit]))
        if self.headings:
            parts.append("headings: " + " | ".join(h[:30] for h in self.headings[:2]))
        if self.body:
            parts.append("body: " + ", ".join(f"{w}×{n}" for w, n in self.body.most_common(limit)))
        return "; ".join(parts)


def headings_of(text: str, kind: str = "sections") -> list[str]:
    """Section heading texts, in order: "sections" are a report's 一、 （三） and markdown #,
    "chapters" a law's 第二章 (its （一） are list items)."""
    pattern = _CHAPTER if kind == "chapters" else _SECTION
    out = []
    for line in text.split("\n"):
        if len(line) > 2 and pattern.match(line):
            head = _HEADING_END.split(line.strip(), 1)[0]
            if len(head) <= MAX_HEADING_CHARS:
                out.append(head)
    return out


def evidence(title: str, text: str, tax: Taxonomy | None = None, headings: list[str] = (),
             named_in_heading: bool = False) -> dict[str, Evidence]:
    """Each sector's evidence in a document (normalised title and text)."""
    tax = tax or taxonomy()
    if tax.keywords is None:
        return {}
    settings = tax.settings
    title_weight = settings.get("title_weight", 3.0)
    heading_weight = settings.get("heading_weight", 1.5)
    naming_weight = settings.get("naming_weight", 2.0)
    per = 10000 / max(len(text), settings.get("density_floor_chars", 3000))
    out: dict[str, Evidence] = defaultdict(Evidence)
    density: dict[str, float] = defaultdict(float)  # weighted occurrences per 10,000 characters
    for word, count in tax.keywords.count(text).items():
        for sector, weight in tax.keywords.get(word)[1]:
            density[sector] += weight * count * per
            out[sector].body[word] = count
    body_weight = settings.get("body_weight", 2.0)
    for sector, d in density.items():
        out[sector].score += body_weight * math.log2(1 + d)
    for word in tax.keywords.count(title) if title else ():
        for sector, weight in tax.keywords.get(word)[1]:
            out[sector].score += weight * title_weight
            out[sector].title.append(word)
    # (sector, phrase, weight) -> the share of each heading holding it: a heading naming k areas
    # (发展科技教育文化和卫生体育事业) is a k-th of a section for each
    in_headings: dict[tuple, list[float]] = defaultdict(list)
    heads_of: dict[str, list[str]] = defaultdict(list)
    for head in headings:
        hits = [(sector, phrase, weight) for phrase in tax.heading_phrases.count(head)
                for sector, weight in tax.heading_phrases.get(phrase)[1]]
        share = 1 / max(1, len({sector for sector, _, _ in hits}))
        for sector, phrase, weight in hits:
            in_headings[sector, phrase, weight].append(share)
            if head not in heads_of[sector]:
                heads_of[sector].append(head)
    for (sector, phrase, weight), shares in in_headings.items():
        ev = out[sector]
        ev.score += (naming_weight if weight in (NAMES, HEADING_WORD) else weight) * heading_weight * math.log2(1 + sum(shares))
        ev.headings = heads_of[sector]
        ev.named_in_heading |= named_in_heading and weight == NAMES
    return dict(out)


def explain(title: str, text: str, tax: Taxonomy | None = None, doctype: str | None = None) -> dict[str, str]:
    """The document's sectors, strongest first, each with why: the title keywords, headings and
    body keywords behind it (a child's parent follows the child, "parent of …")."""
    tax = tax or taxonomy()
    settings = tax.settings
    norm_title, norm_text = analysis.normalize(title or ""), analysis.normalize(text)
    lines = norm_text.split("\n")
    shape = tax.shape_of(doctype, norm_text, sum(1 for line in lines if _REPORT_SECTION.match(line)))
    found = evidence(norm_title, norm_text, tax, headings_of(norm_text, shape.headings), shape.named_in_heading)
    if not found:
        return {}
    best = max(ev.score for ev in found.values())
    min_score = settings.get("min_score", 3.0)
    named_min = settings.get("named_min_score", min_score)

    def qualifies(ev: Evidence) -> bool:
        if (ev.named_in_heading or (shape.title_led and ev.title)) and ev.score >= named_min:
            return True  # what the title or a heading names needs no comparison with the rest
        if not (ev.title or ev.headings) and len(ev.body) < shape.min_body_keywords:
            return False  # one word, however often (台湾×7 in a diary), is a mention, not a domain
        return ev.score >= min_score and ev.score >= shape.relative_min * best

    def priority(item):  # named in a heading, then (single-subject) named in the title, then score
        name, ev = item
        return (not ev.named_in_heading, not (shape.title_led and ev.title), -ev.score, name)

    chosen: list[str] = []
    for name, ev in sorted(found.items(), key=priority):
        if len(chosen) >= shape.max_sectors:
            break
        if not qualifies(ev) or any(tax.parents.get(c) == name for c in chosen):
            continue  # a parent comes along with its child
        if tax.parents.get(name) in chosen:
            continue  # the parent, better supported, covers its child (科教兴国: 科技教育, not 教育)
        chosen.append(name)
    if not shape.title_led:
        chosen.sort(key=lambda name: -found[name].score)  # strongest first
    result: dict[str, str] = {}
    for name in chosen:
        result[name] = found[name].reason()
        parent = tax.parents.get(name)
        if parent and parent not in result:
            result[parent] = f"parent of {name}"
    return result


def classify(title: str, text: str, tax: Taxonomy | None = None, doctype: str | None = None,
             reasons: dict | None = None) -> list[str]:
    """The document's sectors, strongest first; a sector brings its parent along (after it).
    ``reasons``, if given, is filled with sector -> why (see ``explain``)."""
    found = explain(title, text, tax, doctype)
    if reasons is not None:
        reasons.update(found)
    return list(found)
