"""The query language, parsed into a small tree (no Whoosh here).

    乡村振兴 民营经济        both must match (AND)
    祁县 OR 平遥             either (OR binds tighter than AND: ``a OR b c`` = (a|b) & c)
    -宗教  /  NOT 宗教       must not match
    "统一战线工作"           exact string (also “…” and 「…」)
    title:综述  标题:综述     in the title

Every term is normalised (full-width, traditional, case) by the search layer, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.errors import QueryError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32

_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_FIELD_PREFIX = re.compile(r"^(title|标题|题目)[:：]", re.I)
_OR_WORDS = {"OR", "|", "或"}
_NOT_WORDS = {"NOT", "非"}
_AND_WORDS = {"AND", "&", "且"}


@dataclass(frozen=True)
class Term:
    text: str
    in_title: bool = False
    phrase: bool = False  # quoted: only the exact string counts, not its words scattered


@dataclass
class Clause:
    """One required (or, if ``negated``, forbidden) condition: any of its terms."""

    terms: list[Term]
    negated: bool = False


@dataclass
class ParsedQuery:
    clauses: list[Clause] = field(default_factory=list)

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negated]

    @property
    def negative(self) -> list[Clause]:
        return [c for c in self.clauses if c.negated]

    def is_empty(self) -> bool:
        return not self.clauses

    def terms(self) -> list[Term]:
        """Positive terms, for highlighting."""
        return [t for c in self.positive for t in c.terms]


def _lex(query: str) -> list[tuple[str, bool, bool]]:
    """Split into ``(text, quoted, minus)`` pieces; unbalanced quotes run to the end."""
    pieces = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        minus = False
        prefix = ""
        start = i
        if ch in "-－" and i + 1 < n and not query[i + 1].isspace():
            minus, i = True, i + 1
        match = _FIELD_PREFIX.match(query[i:])
        if match:
            prefix = "title:"
            i += match.end()
        if i < n and query[i] in _QUOTES:
            close = _QUOTES[query[i]]
            end = query.find(close, i + 1)
            end = n if end < 0 else end
            pieces.append((prefix + query[i + 1 : end], True, minus))
            i = end + 1
            continue
        j = i
        while j < n and not query[j].isspace() and not (query[j] in _QUOTES and j > start):
            j += 1
        pieces.append((prefix + query[i:j], False, minus))
        i = j
    return pieces


def parse(query: str) -> ParsedQuery:
    """Parse the user's query; raises QueryError only for queries too big to run."""
    query = query or ""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long ({len(query)} characters; the limit is {MAX_QUERY_CHARS})")
    parsed = ParsedQuery()
    join_next = False
    negate_next = False
    for text, quoted, minus in _lex(query):
        if not quoted and text.upper() in _OR_WORDS:
            join_next = bool(parsed.clauses) and not parsed.clauses[-1].negated
            continue
        if not quoted and text.upper() in _AND_WORDS:
            continue
        if not quoted and text.upper() in _NOT_WORDS:
            negate_next = True
            continue
        in_title = text.startswith("title:")
        if in_title:
            text = text[len("title:") :]
        if not text.strip():
            continue
        term = Term(text.strip(), in_title=in_title, phrase=quoted)
        negated = minus or negate_next
        negate_next = False
        if join_next and not negated:
            parsed.clauses[-1].terms.append(term)
        else:
            parsed.clauses.append(Clause([term], negated=negated))
        join_next = False
    if sum(len(c.terms) for c in parsed.clauses) > MAX_TERMS:
        raise QueryError(f"the query has too many terms (the limit is {MAX_TERMS})")
    return parsed
