"""Synonyms and abbreviations (``kb/data/synonyms.txt``): 统战 also finds 统一战线.

A group is a line of forms. An unquoted positive query term whose whole text is one of the forms
(compared as matching compares: normalised, spaces and punctuation aside) also matches the group's
other forms, each as an exact string (a quoted term: grep-like, never its words scattered, so 人民
代表大会 does not match 人民 … 代表 … 大会 strewn over a page). Ranking keeps the typed form first:
a clause matched only by another form puts the document in a tier of its own (``Ranked.alt``)
below every document holding the typed string exactly, and above documents that only hold the
typed term's words scattered. Quoted terms, ``title:`` terms keep their own kind (title: forms
are looked for in titles) and negated terms stay literal (``-统战`` does not exclude 统一战线).

The file is read again when it changes, so an edit takes effect on the next search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from kb import analysis
from kb.config import DATA_DIR, read_word_list
from kb.query import ParsedQuery, Term

PATH = DATA_DIR / "synonyms.txt"
SEPARATOR = "/"


def key(form: str) -> str:
    """How forms are compared: normalised gram units (width, script, case, spaces, punctuation aside)."""
    return analysis.units(analysis.normalize(form))


def _spelling(form: str) -> str:
    """A form as matching reads it: normalised, whitespace out, punctuation kept."""
    return "".join(analysis.normalize(form).split())


@dataclass(frozen=True)
class Synonyms:
    groups: tuple[tuple[str, ...], ...]  # forms as written, in the file's order

    @classmethod
    def parse(cls, lines: list[str]) -> "Synonyms":
        groups = []
        for line in lines:
            forms = tuple(dict.fromkeys(f.strip() for f in line.split(SEPARATOR) if key(f.strip())))
            if len(forms) > 1:
                groups.append(forms)
        return cls(tuple(groups))

    @property
    def _by_key(self) -> dict[str, tuple[str, ...]]:
        index = self.__dict__.get("_index")
        if index is None:
            index = {}
            for forms in self.groups:
                for form in forms:
                    index.setdefault(key(form), forms)  # a form in two groups: the first line wins
            object.__setattr__(self, "_index", index)
        return index

    def group(self, text: str) -> tuple[str, ...] | None:
        """The forms of the group ``text`` is a form of (``text``'s own spelling first), or None."""
        forms = self._by_key.get(key(text))
        if forms is None:
            return None
        # a form differing only in punctuation is another string to match (大众创业、万众创新 is
        # not 大众创业万众创新: punctuation matches punctuation), so only the same string is left out
        own = _spelling(text)
        return (text, *(f for f in forms if _spelling(f) != own))

    def others(self, text: str) -> list[str]:
        """The other forms of ``text``'s group (none: empty)."""
        forms = self.group(text)
        return list(forms[1:]) if forms else []

    def alternatives(self, parsed: ParsedQuery) -> dict[Term, list[Term]]:
        """For each unquoted positive term with a group: the other forms as exact-string terms."""
        out: dict[Term, list[Term]] = {}
        for clause in parsed.positive:
            for term in clause.terms:
                if term.phrase or term in out:
                    continue
                others = self.others(term.text)
                if others:
                    out[term] = [Term(form, in_title=term.in_title, phrase=True) for form in others]
        return out


_cache: dict[Path, tuple[float, Synonyms]] = {}
_lock = threading.Lock()


def load(path: Path = PATH) -> Synonyms:
    """The groups in ``path``, read again whenever the file changes (a missing file: no groups)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return Synonyms(())
    with _lock:
        cached = _cache.get(path)
        if cached is None or cached[0] != mtime:
            cached = _cache[path] = (mtime, Synonyms.parse(read_word_list(path)))
        return cached[1]


def expansions(alternatives: dict[Term, list[Term]]) -> dict[str, list[str]]:
    """What the results page says: typed term -> the other forms also searched."""
    return {term.text: [alt.text for alt in alts] for term, alts in alternatives.items()}
