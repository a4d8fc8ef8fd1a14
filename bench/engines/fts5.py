"""Peers on SQLite FTS5 (Python's built-in ``sqlite3``): what a developer might pick instead of Whoosh.

Both index the prepared ``Doc`` text normalised with ``kb.analysis.normalize`` (NFKC, lower case,
traditional -> simplified) and normalise queries the same way. Tables, in one file ``index.sqlite``:

* ``docs``: the FTS5 table (one column ``text``, contents stored, so ``snippet()`` works);
* ``meta(id, key, title, year)``: ``id`` = the FTS5 rowid;
* ``facets(id, name, value)``: one row per county / sector of a document.

Query variants: ``top10`` is the ten best ids (``total`` None); ``facets`` adds the total and the
counts per year / county / sector over ALL matches (one SQL statement: the match set as a
materialised CTE, ``GROUP BY`` against ``meta`` and ``facets``); ``full`` adds a snippet with
``<mark>…</mark>`` for each of the ten (not HTML-escaped, as FTS5's ``snippet()`` returns it).

The build is one transaction with ``journal_mode=OFF`` and ``synchronous=OFF`` (no crash safety: fine
for a benchmark, not for a real index), ending with FTS5's ``optimize`` (merge into one b-tree).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from bench.engines import Answer, Engine

DB_NAME = "index.sqlite"
_TERM = re.compile(r'"([^"]*)"|(\S+)')


def fts5_string(term: str) -> str:
    """``term`` as an FTS5 string (a phrase of its tokens): double-quoted, inner quotes doubled."""
    return '"' + term.replace('"', '""') + '"'


def _unique(items) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


class _Plan:
    """How one query runs: a WHERE clause (over ``docs``), its parameters, an ORDER BY, and whether
    FTS5 MATCH is in it (so ``snippet()``/``rank`` can be used)."""

    def __init__(self, where: list[str], params: list, order: str, order_params: list, uses_match: bool,
                 marks: list[str]):
        self.where = " AND ".join(where)
        self.params = params
        self.order = order
        self.order_params = order_params
        self.uses_match = uses_match
        self.marks = marks  # strings to highlight when snippet() cannot be used


class _Fts5(Engine):
    reads_files = False
    tokenize = ""
    snippet_tokens = 32  # FTS5 snippet() size in tokens (at most 64)

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.db: sqlite3.Connection | None = None
        self.keys: dict[int, str] = {}

    # --- what differs between the two ---------------------------------------------------------------

    def index_text(self, norm_text: str) -> str:
        """What goes into the FTS5 column for a normalised document text."""
        raise NotImplementedError

    def plan(self, norm_query: str) -> _Plan | None:
        """The plan for a normalised query; None when nothing can match (no terms)."""
        raise NotImplementedError

    # --- build ------------------------------------------------------------------------------------

    def build(self, inputs) -> None:
        from kb.analysis import normalize

        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / DB_NAME
        path.unlink(missing_ok=True)
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("BEGIN")
            db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(text, tokenize={self.tokenize!r})")
            db.execute("CREATE TABLE meta(id INTEGER PRIMARY KEY, key TEXT NOT NULL, title TEXT, year INTEGER)")
            db.execute("CREATE TABLE facets(id INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
                       " PRIMARY KEY (id, name, value)) WITHOUT ROWID")
            for rowid, doc in enumerate(inputs, start=1):
                db.execute("INSERT INTO docs(rowid, text) VALUES (?, ?)",
                           (rowid, self.index_text(normalize(doc.text))))
                db.execute("INSERT INTO meta VALUES (?, ?, ?, ?)", (rowid, doc.key, doc.title, doc.year))
                db.executemany("INSERT OR IGNORE INTO facets VALUES (?, ?, ?)",
                               [(rowid, "county", v) for v in doc.counties]
                               + [(rowid, "sector", v) for v in doc.sectors])
            db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
            db.execute("COMMIT")
        finally:
            db.close()

    # --- queries ----------------------------------------------------------------------------------

    def open(self) -> None:
        self.db = sqlite3.connect(f"file:{self.folder / DB_NAME}?mode=ro", uri=True, isolation_level=None)
        self.keys = dict(self.db.execute("SELECT id, key FROM meta"))
        self.query("预热", "full")

    def _plan_for(self, text: str) -> _Plan | None:
        from kb.analysis import normalize

        return self.plan(normalize(text))

    def query(self, text: str, variant: str = "top10") -> Answer:
        plan = self._plan_for(text)
        if plan is None:
            return Answer([], 0, {"year": {}, "county": {}, "sector": {}} if variant != "top10" else None,
                          [] if variant == "full" else None)
        snippet = variant == "full" and plan.uses_match
        columns = "rowid" + (f", snippet(docs, 0, '<mark>', '</mark>', '…', {self.snippet_tokens})" if snippet else "")
        rows = self.db.execute(f"SELECT {columns} FROM docs WHERE {plan.where} ORDER BY {plan.order} LIMIT 10",
                               plan.params + plan.order_params).fetchall()
        keys = [self.keys[row[0]] for row in rows]
        if variant == "top10":
            return Answer(keys)
        total, facets = self._facets(plan)
        snippets = None
        if variant == "full":
            snippets = [row[1] for row in rows] if snippet else self._window_snippets([r[0] for r in rows], plan.marks)
        return Answer(keys, total, facets, snippets)

    def _facets(self, plan: _Plan) -> tuple[int, dict]:
        """Total and counts per year / county / sector over the whole match set, in one statement."""
        sql = f"""WITH m(id) AS MATERIALIZED (SELECT rowid FROM docs WHERE {plan.where})
            SELECT 'year', meta.year, count(*) FROM m JOIN meta ON meta.id = m.id
                WHERE meta.year IS NOT NULL GROUP BY meta.year
            UNION ALL
            SELECT facets.name, facets.value, count(*) FROM m JOIN facets ON facets.id = m.id
                GROUP BY facets.name, facets.value
            UNION ALL
            SELECT '', NULL, count(*) FROM m"""
        total = 0
        counts: dict[str, dict] = {"year": {}, "county": {}, "sector": {}}
        for name, value, n in self.db.execute(sql, plan.params):
            if name == "":
                total = n
            else:
                counts[name][str(value)] = n
        return total, sort_facets(counts)

    def _window_snippets(self, rowids: list[int], marks: list[str], width: int = 64) -> list[str]:
        """Snippets without FTS5 (no MATCH in the query): a window of ``width`` characters around
        the first occurrence of any of ``marks``, every occurrence inside it in ``<mark>``."""
        if not rowids:
            return []
        texts = dict(self.db.execute(f"SELECT rowid, text FROM docs WHERE rowid IN ({','.join('?' * len(rowids))})",
                                     rowids))
        pattern = re.compile("|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True)))
        out = []
        for rowid in rowids:
            text = texts[rowid]
            found = pattern.search(text)
            start = max(0, found.start() - width // 4) if found else 0
            end = min(len(text), start + width)
            window = pattern.sub(lambda m: f"<mark>{m.group()}</mark>", text[start:end])
            out.append(("…" if start > 0 else "") + window + ("…" if end < len(text) else ""))
        return out

    def matches(self, text: str) -> set[str]:
        plan = self._plan_for(text)
        if plan is None:
            return set()
        return {self.keys[rowid] for (rowid,) in self.db.execute(f"SELECT rowid FROM docs WHERE {plan.where}",
                                                                 plan.params)}

    def close(self) -> None:
        if self.db:
            self.db.close()
            self.db = None


def sort_facets(counts: dict[str, dict]) -> dict[str, dict]:
    """Facet counts in our engine's order: years newest first, other values by count then value."""
    return {name: dict(sorted(values.items(), reverse=True) if name == "year"
                       else sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, values in counts.items()}


class Fts5Trigram(_Fts5):
    """FTS5 ``tokenize='trigram'`` over the normalised text: exact substring search.

    A query is split on whitespace ("double-quoted" parts are one term, quotes removed; no other
    operators: ``-``, ``OR``, ``field:`` are plain text); every term is required and must occur in
    the normalised text as an exact substring (whitespace and punctuation included, not squeezed
    out as ours does). Terms of 3+ characters go through the trigram index (``MATCH`` with the term
    as an FTS5 string); terms of 1–2 characters cannot, and are tested with ``instr(text, term) > 0``
    on every candidate row: a full table scan when the query has no 3+ character term. (``LIKE``
    is not used: SQLite 3.40's trigram table wrongly returns nothing for ``LIKE '%政府%'``.)
    Ranking: ``bm25()`` when any term uses MATCH; otherwise the total number of occurrences of the
    terms in the document, descending, then rowid (document order). Snippets: FTS5 ``snippet()``
    (marks the 3+ character terms only) when MATCH is used, else a 64-character window around the
    first occurrence, built in Python.
    """

    name = "fts5-trigram"
    tokenize = "trigram"
    snippet_tokens = 64  # one trigram per character: about 64 characters

    def index_text(self, norm_text: str) -> str:
        return norm_text

    def plan(self, norm_query: str) -> _Plan | None:
        terms = _unique((m.group(1) if m.group(1) is not None else m.group(2).replace('"', ""))
                        for m in _TERM.finditer(norm_query))
        if not terms:
            return None
        long = [t for t in terms if len(t) >= 3]
        short = [t for t in terms if len(t) < 3]
        where, params = [], []
        if long:
            where.append("docs MATCH ?")
            params.append(" AND ".join(fts5_string(t) for t in long))
        for term in short:
            where.append("instr(text, ?) > 0")
            params.append(term)
        if long:
            return _Plan(where, params, "rank", [], True, terms)
        occurrences = " + ".join("(length(text) - length(replace(text, ?, ''))) / length(?)" for _ in short)
        order_params = [p for term in short for p in (term, term)]
        return _Plan(where, params, f"{occurrences} DESC, rowid", order_params, False, terms)


class Fts5Jieba(_Fts5):
    """FTS5 ``tokenize='unicode61'`` over the jieba words of the normalised text (``kb.analysis.words``:
    the words our engine ranks with, stop words and punctuation dropped), joined by spaces;
    unicode61 keeps each space-separated CJK word as one token, but splits a word at the
    punctuation inside it (``5.8`` is indexed as ``5`` ``8``, so the query ``8`` matches it).

    A query is normalised and cut into jieba words the same way (quotes, ``-``, ``OR``, ``field:`` are
    not operators: punctuation is dropped, the rest are words); every word is required (AND), each
    as an FTS5 string (a word unicode61 splits further, such as ``covid-19``, must match as a phrase).
    A document matches when it contains every query word as a whole jieba word of its own text; a
    substring that jieba cut differently in the document does not match. Ranking: ``bm25()``.
    Snippets show the indexed words (space-separated, stop words missing), not the original text.
    """

    name = "fts5-jieba"
    tokenize = "unicode61"
    snippet_tokens = 32

    def index_text(self, norm_text: str) -> str:
        from kb.analysis import words

        return " ".join(words(norm_text))

    def plan(self, norm_query: str) -> _Plan | None:
        from kb.analysis import words

        terms = _unique(words(norm_query))
        if not terms:
            return None
        return _Plan(["docs MATCH ?"], [" AND ".join(fts5_string(t) for t in terms)], "rank", [], True, terms)
