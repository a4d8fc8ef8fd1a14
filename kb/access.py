"""Document access levels (kb/data/access.toml): an ordered list, a default, and path rules.

A level's rank is its place in the list (0 the lowest). A user's clearance is a rank: they see
documents whose rank is at or below it; anonymous visitors have rank 0. The ``access`` facet
(kb.facets) stores each document's level name; ``kb.search`` hides what a clearance may not see
from every answer (hits, totals, facet counts, documents, originals).
"""

from __future__ import annotations

import tomllib
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath

import numpy as np

from kb.config import DATA_DIR

ACCESS_FILE = DATA_DIR / "access.toml"


@dataclass(frozen=True)
class Levels:
    names: tuple[str, ...]
    default: str
    rules: tuple[tuple[str, str], ...]  # (folder name, level)

    @classmethod
    def load(cls, path: Path = ACCESS_FILE) -> "Levels":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        names = tuple(str(n).strip() for n in data.get("levels", []) if str(n).strip())
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{path}: levels must be a non-empty list of distinct names")
        default = data.get("default", names[0])
        rules = tuple((str(r["folder"]).strip("/"), r["level"]) for r in data.get("rule", []))
        for level in [default, *(level for _, level in rules)]:
            if level not in names:
                raise ValueError(f"{path}: unknown level {level!r}; levels are {', '.join(names)}")
        return cls(names, default, rules)

    @property
    def lowest(self) -> int:
        return 0

    @property
    def highest(self) -> int:
        return len(self.names) - 1

    def rank(self, name: str | None) -> int:
        """The rank of a level name; a document without one has the default's."""
        if not name:
            return self.names.index(self.default)
        try:
            return self.names.index(name)
        except ValueError:
            return self.highest  # a level no longer configured: hidden from all but the highest clearance

    def check(self, name: str, origin: str = "") -> str:
        name = str(name).strip()
        if name not in self.names:
            raise ValueError(f"{origin + ': ' if origin else ''}unknown access level {name!r}; "
                             f"levels are {', '.join(self.names)}")
        return name

    def for_path(self, source: str) -> str | None:
        """The level the path rules give a source path (None: no rule matches)."""
        folders = set(PurePath(source).parts[:-1])
        matched = [level for folder, level in self.rules if folder in folders]
        return max(matched, key=self.names.index) if matched else None


@lru_cache(maxsize=1)
def levels() -> Levels:
    return Levels.load()


# --- what a clearance may see -------------------------------------------------------------------

_VISIBLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # snapshot -> {clearance: mask}


def visible_mask(snap, clearance: int | None) -> np.ndarray | None:
    """The documents a clearance may see, as a mask over the snapshot's docnums (None: no limit)."""
    if clearance is None:
        return None
    cache = _VISIBLE.setdefault(snap, {})
    if clearance not in cache:
        lv = levels()
        names, _, entry_docs, entry_values = snap.facet_entries("access")
        ranks = np.full(snap.size, lv.rank(None), dtype=np.int64)
        if len(entry_docs):
            value_ranks = np.array([lv.rank(name) for name in names], dtype=np.int64)
            ranks[entry_docs] = -1
            np.maximum.at(ranks, entry_docs, value_ranks[entry_values])  # several levels: the highest
        cache[clearance] = ranks <= clearance
    return cache[clearance]


def may_see(stored: dict | None, clearance: int | None) -> bool:
    """Whether a clearance may see one document (its stored fields)."""
    if stored is None:
        return False
    if clearance is None:
        return True
    values = stored.get("access") or []
    lv = levels()
    return max((lv.rank(v) for v in values), default=lv.rank(None)) <= clearance
