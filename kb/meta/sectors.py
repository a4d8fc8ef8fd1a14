"""Sectors (policy domains) from weighted keyword evidence; taxonomy and thresholds in
kb/data/sectors.toml (see its header for the scoring)."""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from kb import analysis
from kb.config import DATA_DIR

TAXONOMY = DATA_DIR / "sectors.toml"


@dataclass(frozen=True)
class Taxonomy:
    names: tuple[str, ...]
    parents: dict
    settings: dict
    automaton: object  # keyword -> [(sector, weight)]
    naming: dict  # sector -> the phrases that name it outright

    @classmethod
    def load(cls, path=TAXONOMY) -> "Taxonomy":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        keywords: dict[str, list[tuple[str, float]]] = defaultdict(list)
        names, parents, naming = [], {}, {}
        for sector in data.get("sector", []):
            name = sector["name"]
            names.append(name)
            if sector.get("names"):
                naming[name] = tuple(analysis.normalize(n) for n in sector["names"])
            if sector.get("parent"):
                parents[name] = sector["parent"]
            for word, weight in (sector.get("keywords") or {}).items():
                keywords[analysis.normalize(word)].append((name, float(weight)))
        unknown = set(parents.values()) - set(names)
        if unknown:
            raise ValueError(f"{path}: parent sector(s) not defined: {', '.join(sorted(unknown))}")
        automaton = ahocorasick.Automaton()
        for word, targets in keywords.items():
            automaton.add_word(word, targets)
        if keywords:
            automaton.make_automaton()
        return cls(tuple(names), parents, data.get("settings", {}), automaton if keywords else None, naming)


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


def scores(title: str, text: str, tax: Taxonomy | None = None) -> dict[str, float]:
    """Each sector's evidence score for a document."""
    tax = tax or taxonomy()
    if tax.automaton is None:
        return {}
    title_weight = tax.settings.get("title_weight", 3.0)
    in_body: dict[int, tuple[list, int]] = {}
    for _, targets in tax.automaton.iter(analysis.normalize(text)):
        entry = in_body.get(id(targets))
        in_body[id(targets)] = (targets, (entry[1] if entry else 0) + 1)
    in_title = {id(t): t for _, t in tax.automaton.iter(analysis.normalize(title or ""))} if title else {}
    total: dict[str, float] = defaultdict(float)
    for key in set(in_body) | set(in_title):
        targets = in_body[key][0] if key in in_body else in_title[key]
        count = in_body[key][1] if key in in_body else 0
        evidence = math.log2(1 + count) + (title_weight if key in in_title else 0.0)
        for sector, weight in targets:
            total[sector] += weight * evidence
    return dict(total)


def classify(title: str, text: str, tax: Taxonomy | None = None, doctype: str | None = None) -> list[str]:
    """The document's sectors, strongest first; a sector brings its parent along (after it).

    ``doctype``: comprehensive reports (settings.summary_doctypes) cover every area they name."""
    tax = tax or taxonomy()
    found = scores(title, text, tax)
    if not found:
        return []
    settings = tax.settings
    best = max(found.values())
    norm = analysis.normalize(f"{title}\n{text}")
    summary = doctype in settings.get("summary_doctypes", [])
    named = {s for s, phrases in tax.naming.items() if summary and any(p in norm for p in phrases)}

    def qualifies(sector: str, score: float) -> bool:
        if sector in named and score >= settings.get("named_min_score", settings.get("min_score", 3.0)):
            return True
        return score >= settings.get("min_score", 3.0) and score >= settings.get("relative_min", 0.0) * best

    chosen = [s for s, v in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])) if qualifies(s, v)]
    chosen = chosen[: settings.get("max_sectors", 5) + (len(named) if summary else 0)]
    result: list[str] = []
    for sector in chosen:
        for name in (sector, tax.parents.get(sector)):
            if name and name not in result:
                result.append(name)
    return result
