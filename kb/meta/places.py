"""Places: the gazetteer of provinces, cities and counties (data in kb/data/places/)."""

from __future__ import annotations

import csv
from functools import lru_cache

from kb.config import DATA_DIR

PLACES_DIR = DATA_DIR / "places"


def _rows(name: str) -> list[dict[str, str]]:
    path = PLACES_DIR / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    """Full names of every province, city and county (for the segmenter's dictionary)."""
    names = set()
    for table in ("provinces.tsv", "cities.tsv", "counties.tsv"):
        for row in _rows(table):
            names.add(row["name"])
    return tuple(sorted(names))
