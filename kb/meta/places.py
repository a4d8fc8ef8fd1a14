"""Places: which counties, cities and provinces a document is about (gazetteer in kb/data/places/).

Mentions are found on jieba tokens of the normalised text (so 和顺 is never read inside 和顺利),
with the gazetteer's full names, former names (满城县 -> 满城区) and short names (灵石, 平遥):

* a full or former name counts; a short name followed by its unit's word (灵石 + 县委, 榆次 + 区委)
  counts as a full one;
* a bare short name counts only with an anchor: the same place's full name elsewhere in the
  document, its city or province mentioned, or a place in the title; short names that are also
  common words (保定, 长子, 振兴) need the full name;
* a name shared by several places is resolved by the city or province the document mentions.

The place named in the title, then in the letterhead or signature, comes first; then by mentions.
Rules and thresholds are in kb/data/places/rules.toml.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain, compress

from kb import analysis
from kb.gazetteer import LEVELS, Gazetteer, Place, rules

__all__ = ["Gazetteer", "Place", "find_places", "is_national", "LEVELS"]

# --- finding the places of a document -------------------------------------------------------------


@dataclass
class Mention:
    name: str  # as written (normalised)
    candidates: list[Place]
    full: bool  # a full/former name, or a short name followed by its unit word
    where: str  # title | head | body
    previous: str = ""  # the token before (a city or province name resolves ambiguity)


@dataclass
class PlaceResult:
    counties: list[str]
    cities: list[str]
    provinces: list[str]


# A place's full name glued to its own organ in one dictionary word (河北省政府, 保定市委): jieba keeps
# some of these whole, and the place inside them is a full mention.
_ORGANS = ("人民政府", "政府", "市委", "县委", "区委", "省委", "委员会", "人大", "政协")


def _organ_places(token: str, gaz: Gazetteer) -> str | None:
    if not token.endswith(_ORGANS):
        return None
    for organ in _ORGANS:
        if token.endswith(organ) and len(token) > len(organ):
            head = token[: -len(organ)]
            if head in gaz.full:
                return head
            if organ in ("市委", "县委", "区委", "省委") and head + organ[0] in gaz.full:  # 保定市委 = 保定市 + 委
                return head + organ[0]
    return None


# a word that is a place glued to its organ (保定市委) -> the place, judged once a process
_GLUED = analysis.JudgedOnce(lambda token: token.endswith(_ORGANS) and token not in Gazetteer.load().names
                             and _organ_places(token, Gazetteer.load()))


def _glued_places(distinct: set[str]) -> dict[str, str]:
    return {token: place for token in _GLUED.kept(distinct) if (place := _GLUED.answers.get(token))}


def _indices(tokens, wanted) -> list[int]:
    """Where the tokens in ``wanted`` are, in order (C-speed: no Python test per token)."""
    return list(compress(range(len(tokens)), map(wanted.__contains__, tokens)))


def _mentions(tokens, where: str, gaz: Gazetteer) -> list[Mention]:
    found = []
    names = gaz.names
    distinct = analysis.distinct(tokens)
    # a place glued to its organ (保定市委): each distinct word judged once, then found by a scan
    glued = _glued_places(distinct)
    for i in _indices(tokens, glued) if glued else ():
        place = glued[tokens[i]]
        found.append(Mention(place, gaz.full[place], True, where, tokens[i - 1] if i else ""))
    present = names.intersection(distinct)
    for i in _indices(tokens, present) if present else ():
        token = tokens[i]
        previous = tokens[i - 1] if i else ""
        if token in gaz.full:
            found.append(Mention(token, gaz.full[token], True, where, previous))
        elif token in gaz.short:
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            candidates = gaz.short[token]
            # 灵石 + 县委, 榆次 + 区委, 晋中 + 市委: the unit's own word (合作市 is not 合作 + 区)
            unit_word = bool(following) and any(following[0] in p.unit_words for p in candidates)
            found.append(Mention(token, candidates, unit_word, where, previous))
    return found


def find_places(title: str, text: str, head_lines: list[str] | None = None, national: bool = False) -> PlaceResult:
    """Counties, cities and provinces the document is about, principal first.

    ``national``: a national document (a State Council report, a national law) is about the whole
    country; the places it names in passing are not its subject, only those in its title or head.
    """
    gaz = Gazetteer.load()
    settings = rules().get("weights", {})
    cut = analysis.cut
    norm_title = analysis.normalize(title or "")
    mentions = _mentions(cut(norm_title), "title", gaz)
    head = analysis.cut_lines(analysis.normalize_lines(head_lines or []))
    if head:  # the lines' tokens in one run, each line ended by "" (no token before or after a line)
        mentions += _mentions(tuple(chain.from_iterable(tokens + ("",) for tokens in head)), "head", gaz)
    mentions += _mentions(cut(analysis.normalize(text)), "body", gaz)
    if not mentions:
        return PlaceResult([], [], [])

    # What the document names in full (by any candidate) anchors short names and resolves ambiguity.
    named = Counter()
    for m in mentions:
        if m.full or m.name not in gaz.common_words:
            for p in m.candidates:
                named[p.name] += 1
    # ... and a place named in full (河北省 17 times) is what its short name (河北) means there
    in_full = Counter(m.candidates[0].name for m in mentions if m.full and len(m.candidates) == 1)
    resolved: list[tuple[Mention, Place]] = []
    for m in mentions:
        place = _resolve(m, named, gaz, in_full)
        if place is not None:
            resolved.append((m, place))

    fully_named = {p.name for m, p in resolved if m.full}
    scores: dict[str, float] = defaultdict(float)
    places: dict[str, Place] = {}
    for m, place in resolved:
        if not m.full:
            anchored = place.name in fully_named or any(parent in named for parent in place.parents)
            if m.name in gaz.common_words and place.name not in fully_named:
                continue
            # a bare short name in the title is enough for a city or province (宁波…条例), not a county
            if not anchored and (m.where != "title" or place.level == "county"):
                continue
        weight = settings.get(m.where, 1.0) * (1.0 if m.full else settings.get("short", 0.5))
        scores[place.name] += weight
        places[place.name] = place

    # Places in the title or letterhead stay; others need enough mentions, absolutely and relative
    # to the best-supported place of their level (a city-wide report names counties in passing).
    # a short text names a place once; a long one that names it only a few times is passing it by
    min_score = min(settings.get("min_score", 3.0), max(1.0, len(text) / settings.get("chars_per_mention", 1000)))
    share = settings.get("min_share", 0.0)
    top = defaultdict(float)
    for name, s in scores.items():
        top[places[name].level] = max(top[places[name].level], s)
    headline = {p.name for m, p in resolved if m.where in ("title", "head")}
    keep = {name for name, s in scores.items()
            if name in headline or (not national and s >= min_score and s >= share * top[places[name].level])}
    by_level: dict[str, list[str]] = {level: [] for level in LEVELS}
    title_order = {}
    for m, p in resolved:
        if m.where == "title":
            title_order.setdefault(p.name, len(title_order))
    # named in the title first, in the title's order; then by evidence
    for name in sorted(keep, key=lambda n: (title_order.get(n, len(title_order)), -scores[n], n)):
        by_level[places[name].level].append(name)

    # Cities and provinces also come from the places below them (after those named directly).
    city_of: dict[str, float] = defaultdict(float)
    province_of: dict[str, float] = defaultdict(float)
    for name in by_level["county"]:
        place = places[name]
        city_of[place.city] += scores[name]
        province_of[place.province] += scores[name]
    for name in by_level["city"]:
        province_of[places[name].province] += scores[name]
    for name in by_level["province"]:
        if places[name].municipality:  # 上海市 is its districts' city too
            city_of[name] += scores[name]
    cities = _ordered(by_level["city"], scores, city_of, "city", title_order)
    provinces = _ordered(by_level["province"], scores, province_of, "province", title_order)
    return PlaceResult(by_level["county"][: settings.get("max_counties", 8)], cities[:5], provinces[:4])


_PLACEHOLDERS = ("省直辖县级行政区划", "自治区直辖县级行政区划")


def _ordered(direct: list[str], scores, inherited, level: str, title_order: dict) -> list[str]:
    """Places of one level: named in the title first, then direct and inherited evidence together.

    Inherited names come from the gazetteer's city/province columns, so they are of this level
    (北京市 is the city of its districts, though listed as a province).
    """
    total = defaultdict(float)
    for name in direct:
        total[name] += scores[name]
    for name, s in inherited.items():
        if name and name not in _PLACEHOLDERS:
            total[name] += s
    return sorted(total, key=lambda n: (title_order.get(n, len(title_order)), -total[n], n))


def _resolve(m: Mention, named: Counter, gaz: Gazetteer, in_full: Counter | None = None) -> Place | None:
    """The one place a mention means, or None when it cannot be told."""
    candidates = m.candidates
    if len(candidates) == 1:
        only = candidates[0]
        if m.name == only.name and m.name in gaz.common_words and only.level == "county":
            # a generic name (城区, 郊区) needs its city or province right before it
            return only if m.previous in (only.city, only.province) else None
        return only
    # several places share this name: the one whose city/province is named wins
    in_full = in_full or Counter()

    def support(p: Place) -> tuple[int, int, int]:
        return (int(m.previous in p.parents), in_full[p.name], sum(named[parent] for parent in p.parents))

    ranked = sorted(candidates, key=support, reverse=True)
    best = support(ranked[0])
    if best == (0, 0, 0) or best == support(ranked[1]):
        # provinces/cities named as themselves beat counties of the same short name (吉林, 海南)
        tops = [p for p in candidates if p.level != "county"]
        return tops[0] if len(tops) == 1 and m.full else None
    return ranked[0]


def is_national(title: str, issuers: list[str]) -> bool:
    """Is this a national document (by its title or issuer)? Markers in rules.toml."""
    markers = rules().get("national", {}).get("markers", [])
    gaz = Gazetteer.load()
    named_place = any(token in gaz.full or token in gaz.short for token in analysis.cut(title))
    return not named_place and any(m in title or any(m in i for i in issuers) for m in markers)
