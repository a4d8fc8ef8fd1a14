"""Query evaluation: which documents a parsed query matches, how often each holds the query's
strings exactly, and their BM25F scores (the knobs are in ``kb.scoring``).

Matching is exact where it matters: a term matches a document when the document contains the
term's string (checked on character bigrams with positions, whitespace-insensitive) or, for an
unquoted term, all of the term's jieba words. Everything is array arithmetic over whole result
sets (``kb.postings``), never a loop per matching document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb import analysis, scoring
from kb.query import ParsedQuery, Term, parse
from kb.postings import key_docs
from kb.snapshot import Snapshot
from kb.termarrays import intersect_sorted, union_sorted


@dataclass
class TermMatch:
    """What one term matches, over all docnums: ``matched`` (bool), ``exact`` occurrences of its
    string (int), ``scores`` (BM25, 0 where not matched)."""

    matched: np.ndarray
    exact: np.ndarray
    scores: np.ndarray


@dataclass
class Ranked:
    """Matching documents (ascending docnums) with how many of the query's strings each contains
    exactly and its score; parallel arrays."""

    docs: np.ndarray
    exact: np.ndarray
    scores: np.ndarray
    # clauses matched only by another form of a typed term (kb.synonyms), a tier below ``exact``
    alt: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.docs)

    def where(self, keep: np.ndarray) -> "Ranked":
        return Ranked(self.docs[keep], self.exact[keep], self.scores[keep],
                      None if self.alt is None else self.alt[keep])

    @classmethod
    def from_dense(cls, matched: np.ndarray, exact: np.ndarray, scores: np.ndarray,
                   alt: np.ndarray | None = None) -> "Ranked":
        docs = np.flatnonzero(matched)
        return cls(docs, exact[docs], scores[docs], None if alt is None else alt[docs])


class Evaluator:
    def __init__(self, snapshot: Snapshot):
        self.snap = snapshot
        self.p = snapshot.postings
        self.size = snapshot.size
        self._word_matches: dict = {}  # (words, in_title) -> words_match(); narrowing asks first

    # exact strings

    def exact(self, norm: str, in_title: bool = False, within: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """Occurrences of the normalised string in every document (body and title, or title
        only), and how many documents contain it (for ranking). With ``within``, occurrences are
        only looked for in the documents it allows, and the count is estimated: the documents
        holding all the string's bigrams, times the share of those checked that hold the string."""
        counts = np.zeros(self.size, dtype=np.int64)
        candidates = []
        for gram_field, char_field in _string_fields(in_title):
            docs, found, these = self._exact_in(norm, gram_field, char_field, within)
            counts[docs] += found
            candidates.append(these)
        if within is None:
            return counts, np.count_nonzero(counts)
        candidates = union_sorted(*candidates) if len(candidates) > 1 else candidates[0]
        checked = candidates[within[candidates]]
        found_in = np.count_nonzero(counts[checked])
        estimate = round(len(candidates) * found_in / len(checked)) if len(checked) else 0
        return counts, max(estimate, np.count_nonzero(counts))

    def _exact_in(self, norm: str, gram_field: str, char_field: str, within: np.ndarray | None = None):
        """(docnums, occurrences, candidates) of the string in one field: candidates hold all the
        string's bigrams; the occurrences are counted in those ``within`` allows."""
        unit_string = analysis.units(norm)
        if not unit_string:
            return _NONE, _NONE, _NONE
        if len(unit_string) == 1:
            term = self.p.read(char_field, unit_string)
            return term.ids, np.maximum(term.weights.astype(np.int64), 1), term.ids
        grams = analysis.query_grams(norm)
        if not grams:  # only one-unit runs between punctuation: fall back to the units present
            docs = self._all_units(unit_string, char_field)
            return docs, np.ones(len(docs), dtype=np.int64), docs
        if len(grams) == 1 and len(unit_string) == 2:  # the bigram itself is the string
            term = self.p.read(gram_field, grams[0][0])
            return term.ids, term.weights.astype(np.int64), term.ids
        candidates = self._string_candidates(norm, gram_field, char_field)
        if not candidates.size:
            return _NONE, _NONE, _NONE
        todo = candidates if within is None else candidates[within[candidates]]
        known_docs, known_counts = self._known_exact(unit_string, norm, gram_field, todo)
        todo = np.setdiff1d(todo, known_docs, assume_unique=True)
        if not todo.size:
            return known_docs, known_counts, candidates
        starts = None
        for gram, off in self._rarest_first(grams, gram_field):  # the key sets shrink fastest
            keys = self.p.start_keys(gram_field, gram, todo, off)
            starts = keys if starts is None else intersect_sorted(starts, keys)
            if not starts.size:
                break
        docs, counts = key_docs(starts)
        if known_docs.size:
            docs, counts = np.concatenate((known_docs, docs)), np.concatenate((known_counts, counts))
        return docs, counts, candidates

    def _known_exact(self, unit_string: str, norm: str, gram_field: str, candidates: np.ndarray):
        """Documents with a jieba word that contains the string (人民政 in 人民政府): a word is
        contiguous text, so these contain it exactly, no positions needed."""
        if gram_field != "grams" or unit_string != norm.strip() or not unit_string.isalnum():
            return _NONE, _NONE
        counts = np.zeros(self.size, dtype=np.int64)
        for word in self.snap.words_containing(unit_string):
            term = self.p.read("body", word)
            counts[term.ids] += term.weights.astype(np.int64)
        docs = candidates[counts[candidates] > 0]
        return docs, counts[docs]

    def _all_units(self, unit_string: str, char_field: str) -> np.ndarray:
        docs = None
        for ch in set(unit_string):
            these = self.p.docs(char_field, ch)
            docs = these if docs is None else intersect_sorted(docs, these)
        return docs if docs is not None else _NONE

    def candidates(self, term: Term) -> np.ndarray | None:
        """A superset of what a term matches, from document lists alone (no positions): the
        documents holding all the bigrams of its string, or (unquoted) all its words."""
        norm = analysis.normalize(term.text).strip()
        if not analysis.units(norm):
            return None
        found = np.zeros(self.size, dtype=bool)
        for gram_field, char_field in _string_fields(term.in_title):
            found[self._string_candidates(norm, gram_field, char_field)] = True
        if not term.phrase:
            found |= self.words_match(analysis.words(norm) or [norm], term.in_title)[0]
        return found

    def _rarest_first(self, grams: list[tuple[str, int]], gram_field: str) -> list[tuple[str, int]]:
        return sorted(grams, key=lambda g: len(self.p.docs(gram_field, g[0])))

    def _string_candidates(self, norm: str, gram_field: str, char_field: str) -> np.ndarray:
        """The documents holding every bigram (or unit) of a string in one field."""
        unit_string = analysis.units(norm)
        if len(unit_string) == 1:
            return self.p.docs(char_field, unit_string)
        grams = analysis.query_grams(norm)
        if not grams:
            return self._all_units(unit_string, char_field)
        docs = None
        for gram, _ in self._rarest_first(grams, gram_field):
            these = self.p.docs(gram_field, gram)
            docs = these if docs is None else intersect_sorted(docs, these)
            if not docs.size:
                break
        return docs

    # ranking

    def bm25(self, fieldname: str, word: str, boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, BM25 scores) of one word in one field."""
        term = self.p.read(fieldname, word)
        if not len(term):
            return _NONE, _NO_SCORES
        return term.ids, self._saturate(term.ids, term.weights, fieldname, self.p.idf(len(term)) * boost)

    def _saturate(self, docs: np.ndarray, tf: np.ndarray, fieldname: str, weight: float) -> np.ndarray:
        lengths, mean = self.p.lengths(fieldname)
        return scoring.saturate(tf, lengths[docs], mean, weight)

    def words_match(self, words: list[str], in_title: bool) -> tuple[np.ndarray, np.ndarray]:
        """Documents with every word (in the title, or anywhere), scored BM25F: (matched, scores)."""
        key = (tuple(words), in_title)
        if key not in self._word_matches:
            self._word_matches[key] = self._words_match(words, in_title)
        return self._word_matches[key]

    def _words_match(self, words: list[str], in_title: bool) -> tuple[np.ndarray, np.ndarray]:
        matched = np.ones(self.size, dtype=bool)
        total = np.zeros(self.size)
        for word in words:
            these = np.zeros(self.size, dtype=bool)
            for fieldname, boost in scoring.word_fields(in_title):
                docs, scores = self.bm25(fieldname, word, boost)
                total[docs] += scores
                these[docs] = True
            matched &= these
            if not matched.any():
                break
        if not words:
            matched[:] = False
        total[~matched] = 0.0
        return matched, total

    def term(self, term: Term, within: np.ndarray | None = None) -> TermMatch | None:
        """What one term matches (exactly, among the documents ``within`` allows, when given), or
        None for a term with nothing searchable in it (``,`` or ``-``)."""
        norm = analysis.normalize(term.text).strip()
        if not analysis.units(norm):
            return None
        exact, exact_df = self.exact(norm, term.in_title, within)
        words = analysis.words(norm) or ([norm] if norm else [])
        word_matched, word_scores = self.words_match(words, term.in_title)
        scores = np.zeros(self.size)
        exact_docs = np.flatnonzero(exact)
        if exact_docs.size:
            idf = self.p.idf(exact_df)
            scores[exact_docs] = self._saturate(exact_docs, exact[exact_docs].astype(np.float64), "body", idf)
        if term.phrase:
            matched = exact > 0
            scores[matched] += word_scores[matched]
        else:
            matched = (exact > 0) | word_matched
            scores += word_scores
        return TermMatch(matched, exact, scores)


_NONE = np.zeros(0, dtype=np.int64)
_NO_SCORES = np.zeros(0)


def _string_fields(in_title: bool) -> list[tuple[str, str]]:
    """(gram field, one-character field) pairs a string is looked for in."""
    return [("title_grams", "title_grams")] + ([] if in_title else [("grams", "chars")])


def match(ev: Evaluator, parsed: ParsedQuery, alternatives: dict | None = None):
        """The documents matching every clause, with exact-string counts and scores.

        ``alternatives``: term -> other forms of it as exact-string terms (``kb.synonyms``); a term
        matches where any of them does, and a clause matched only by another form counts in
        ``Ranked.alt``, a tier below the typed form's exact matches."""
        snap = ev.snap
        alternatives = alternatives or {}

        def alts(clause):
            return [a for t in clause.terms for a in alternatives.get(t, ())]

        # Verifying exact strings (positions) is the costly part: with more than one clause, first
        # narrow to the documents that can match every clause, from document lists alone.
        within = None
        if len(parsed.positive) > 1:
            within = snap.live_mask.copy()
            for clause in parsed.positive:
                supersets = [c for c in map(ev.candidates, clause.terms + alts(clause)) if c is not None]
                if supersets:
                    within &= np.logical_or.reduce(supersets)
        positive = [([m for m in (ev.term(t, within) for t in c.terms) if m is not None],
                     [m for m in (ev.term(a, within) for a in alts(c)) if m is not None]) for c in parsed.positive]
        positive = [(matches, alt_matches) for matches, alt_matches in positive if matches or alt_matches]
        alt = np.zeros(snap.size, dtype=np.int64) if alternatives else None
        if not positive:
            matched = snap.live_mask.copy() if not parsed.positive else np.zeros(snap.size, dtype=bool)
            exact, scores = np.zeros(snap.size, dtype=np.int64), np.zeros(snap.size)
        else:
            matched = np.ones(snap.size, dtype=bool)
            exact, scores = np.zeros(snap.size, dtype=np.int64), np.zeros(snap.size)
            for matches, alt_matches in positive:  # a clause: any of its terms (OR); clauses: all (AND)
                in_clause = np.zeros(snap.size, dtype=bool)
                exact_in_clause = np.zeros(snap.size, dtype=bool)
                for match in matches:
                    in_clause |= match.matched
                    exact_in_clause |= match.matched & (match.exact > 0)
                    scores += match.scores
                alt_in_clause = np.zeros(snap.size, dtype=bool)
                for match in alt_matches:
                    in_clause |= match.matched
                    alt_in_clause |= match.matched
                    scores += match.scores
                matched &= in_clause
                exact += exact_in_clause
                if alt is not None:
                    alt += alt_in_clause & ~exact_in_clause
                if not matched.any():
                    break
        for clause in parsed.negative:
            for match in filter(None, (ev.term(t, matched) for t in clause.terms)):
                matched &= ~match.matched
        return (Ranked.from_dense(matched, exact, scores, alt), *highlight_terms(parsed))


def highlight_terms(parsed: ParsedQuery | str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The query's exact strings and its words (normalised), as highlighting looks for them."""
    if isinstance(parsed, str):
        parsed = parse(parsed)
    strings, words = [], []
    for term in parsed.terms():
        norm = analysis.normalize(term.text).strip()
        if norm:
            strings.append(norm)
            if not term.phrase:
                words.extend(analysis.words(norm))
    return tuple(strings), tuple(words)
