"""The gazetteer: every province, city and county-level division with its current, former and
short names (data in kb/data/places/, see SOURCE.md; rebuilt by tools/build_gazetteer.py).

Data only: analysis loads the names into the segmenter's dictionary, ``kb.meta.places`` finds a
document's places with them.
"""

from __future__ import annotations

import csv
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kb.config import DATA_DIR, jieba_file

PLACES_DIR = DATA_DIR / "places"
LEVELS = ("province", "city", "county")


@dataclass(frozen=True)
class Place:
    name: str
    short: str
    level: str  # province | city | county
    city: str = ""  # for counties
    province: str = ""  # for cities and counties
    unit_words: str = ""  # last characters of its current and former names: 县 区 市 旗 州 盟 省
    municipality: bool = False  # 北京市, 天津市, 上海市, 重庆市: a province that is also a city

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(p for p in (self.city, self.province) if p and p != self.name)


def _rows(name: str) -> list[dict[str, str]]:
    path = PLACES_DIR / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@lru_cache(maxsize=1)
def rules() -> dict:
    path = PLACES_DIR / "rules.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@dataclass
class Gazetteer:
    """Every place by its names: full (current and former) and short."""

    full: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    short: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    common_words: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # every full, former and short name

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "Gazetteer":
        gaz = cls()
        for row in _rows("provinces.tsv"):
            gaz._add(row.get("former_names", ""), name=row["name"], short=row["short_name"], level="province",
                     municipality=row.get("kind") == "直辖市")
        for row in _rows("cities.tsv"):
            gaz._add(row.get("former_names", ""), name=row["name"], short=row["short_name"], level="city",
                     province=row["province"])
        for row in _rows("counties.tsv"):
            gaz._add(row.get("former_names", ""), name=row["name"], short=row["short_name"], level="county",
                     city=row["city"], province=row["province"])
        gaz.common_words = _common_words(set(gaz.short) | set(gaz.full))
        gaz.names = frozenset(gaz.full) | frozenset(gaz.short)
        return gaz

    def _add(self, former: str, **place_fields):
        formers = [n.strip() for n in former.split(";") if n.strip()]
        place = Place(**place_fields, unit_words="".join(sorted({n[-1] for n in [place_fields["name"], *formers]})))
        self.full[place.name].append(place)
        for name in formers:
            if place not in self.full[name]:
                self.full[name].append(place)
        if place.short and place.short != place.name and len(place.short) >= 2:
            self.short[place.short].append(place)


def _common_words(names: set[str]) -> frozenset[str]:
    """Place names that are also ordinary words: frequent in jieba's dictionary, not tagged as places.

    Plus the words listed in rules.toml; minus the ones it exempts. Kept in the table cache
    (reading jieba's dictionary is most of loading the gazetteer).
    """
    from kb import tablecache

    dictionary = jieba_file("dict.txt")
    stamp = tablecache.file_stamp(dictionary, *sorted(PLACES_DIR.iterdir()))
    arrays = tablecache.cached_arrays("common-words", stamp, lambda: tablecache.strings_to_arrays(
        sorted(_find_common_words(names, dictionary))), code=(_find_common_words,))
    return frozenset(tablecache.arrays_to_strings(arrays["chars"], arrays["ends"]))


def _find_common_words(names: set[str], dictionary: Path) -> set[str]:
    settings = rules().get("common_words", {})
    min_freq = settings.get("min_jieba_frequency", 500)
    words = set(settings.get("always", []))
    with dictionary.open("rb") as f:
        for line in f:
            parts = line.decode("utf-8").split()
            if len(parts) == 3 and parts[0] in names and int(parts[1]) >= min_freq and parts[2] != "ns":
                words.add(parts[0])
    return words - set(settings.get("never", []))


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    """Full and former names of every province, city and county (for the segmenter's dictionary)."""
    names = set()
    for table in ("provinces.tsv", "cities.tsv", "counties.tsv"):
        for row in _rows(table):
            names.add(row["name"])
            names.update(n.strip() for n in row.get("former_names", "").split(";") if len(n.strip()) >= 2)
    return tuple(sorted(names))
