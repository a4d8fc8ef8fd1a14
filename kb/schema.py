"""The index schema: which fields a document has, and how its analysed fields reach Whoosh.

Fields, by job:

* ``body``/``title``: jieba words with word positions, scored with BM25F (ranking);
* ``grams``/``title_grams``: character bigrams with unit positions (exact substring recall;
  the positions live in the segment's term arrays, ``CountsHere``);
  ``title_grams`` also holds single characters, ``chars`` does so for the body (one-character
  queries);
* facet fields (``year``, ``counties``, ``sectors``, ...): declared in ``kb.facets``, one term per
  value, stored;
* ``text``: the clean text as written, stored, shown and used for snippets;
* bookkeeping: ``id`` (stable per source path), ``path``, ``sha`` (of the original bytes: the key
  of the originals store and of de-duplication), ``added`` (ingest time), ``meta`` (the rest).

Analysed fields arrive ``Preanalyzed``: postings computed in the worker process that read the
document, so that the writer does no per-token work.
"""

from __future__ import annotations

from array import array

from whoosh import fields, formats
from whoosh.system import pack_uint

from kb import analysis
from kb.facets import FACETS

SCHEMA_VERSION = 1
_COUNT_SIZE = 4  # a packed position count (pack_uint)


class Preanalyzed:
    """Postings computed ahead of time (in a worker process): ``(term, freq, weight, value)``."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[bytes, int, float, bytes]]):
        self.items = items

    def __getstate__(self):
        return self.items

    def __setstate__(self, items):
        self.items = items


class AnalyzedText(fields.TEXT):
    """A TEXT field that also takes ``Preanalyzed`` postings, skipping per-token objects."""

    def index(self, value, **kwargs):
        if isinstance(value, Preanalyzed):
            return iter(value.items)
        return super().index(value, **kwargs)


class ArrayPositions(formats.Positions):
    """Positions as a packed count and an array of unsigned 32-bit integers (native byte order),
    encoded and decoded in C: the gram fields hold most of an index's positions, and Whoosh's
    pickled delta lists cost a Python loop per position both ways."""

    def encode(self, poslist) -> bytes:
        return pack_uint(len(poslist)) + array("I", poslist).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        values = array("I")
        values.frombytes(valuestring[_COUNT_SIZE:])
        return values.tolist()

    def decode_position_boosts(self, valuestring: bytes):
        return [(pos, 1) for pos in self.decode_positions(valuestring)]


class CountsHere(formats.Frequency):
    """Whoosh's postings hold each posting's count only; its positions (``ArrayPositions``
    values) go to the segment's term arrays (``kb.termarrays``), where search reads them as
    arrays. For the gram fields: they hold most of an index's positions, search reads them
    only for candidate documents, and unpickling them from Whoosh's blocks was most of a query."""

    positions_in_arrays = True


class GramText(AnalyzedText):
    """A gram field: counts in Whoosh's postings, positions in the term arrays (``CountsHere``)."""

    def __init__(self, analyzer, **kwargs):
        super().__init__(analyzer=analyzer, phrase=False, **kwargs)
        self.format = CountsHere(field_boost=1.0)


class PositionalText(AnalyzedText):
    """A positional field whose positions are ``ArrayPositions`` (words and grams alike; Whoosh's
    own phrase queries work on it through ``decode_positions``)."""

    def __init__(self, analyzer, **kwargs):
        super().__init__(analyzer=analyzer, phrase=True, **kwargs)
        self.format = ArrayPositions(field_boost=1.0)


def build_schema() -> fields.Schema:
    words = analysis.word_analyzer()
    grams = analysis.gram_analyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.ID(stored=True),
        sha=fields.ID(stored=True),
        content=fields.ID(stored=True),  # a hash of the decoded text of plain-text kinds (kb.ingest.content_key)
        title=PositionalText(words, stored=True),
        title_grams=GramText(grams),
        body=PositionalText(words),
        grams=GramText(grams),
        chars=AnalyzedText(analyzer=analysis.char_analyzer(), phrase=False),
        text=fields.STORED(),
        added=fields.NUMERIC(int, bits=64, stored=True, sortable=True, signed=False),  # ingest time, s
        date=fields.ID(stored=True),
        docno=fields.ID(stored=True),
        meta=fields.STORED(),  # everything else: format, encoding, size, user fields, provenance
    )
    for facet in FACETS.values():
        schema.add(facet.field, facet.schema_field())
    return schema


# --- postings, computed where the text is (a worker process) ------------------------------------


def gram_postings(positions: dict[str, list[int]]) -> Preanalyzed:
    """Postings of a positional field (``ArrayPositions``): term -> positions."""
    return Preanalyzed([(term.encode("utf-8"), len(p), float(len(p)), pack_uint(len(p)) + array("I", p).tobytes())
                        for term, p in positions.items()])


def frequency_postings(counts: dict[str, int]) -> Preanalyzed:
    return Preanalyzed([(term.encode("utf-8"), n, float(n), pack_uint(n)) for term, n in counts.items()])


def analyzed_fields(title: str, text: str) -> dict[str, Preanalyzed]:
    """All analysed fields of a document, ready for ``add_document``. ``text`` is clean text."""
    norm_title = analysis.normalize(title or "")
    norm_text = analysis.normalize(text)
    title_grams = analysis.gram_positions(norm_title)
    for pos_char in _title_chars(norm_title):
        title_grams.setdefault(pos_char[1], []).append(pos_char[0])
    for positions in title_grams.values():
        positions.sort()
    return {
        "title": gram_postings(analysis.word_positions(norm_title)),
        "title_grams": gram_postings(title_grams),
        "body": gram_postings(analysis.word_positions(norm_text)),
        "grams": gram_postings(analysis.gram_positions(norm_text)),
        "chars": frequency_postings(analysis.char_counts(norm_text)),
    }


def _title_chars(norm_title: str):
    for start, run in analysis.unit_runs(norm_title):
        for i, ch in enumerate(run):
            yield start + i, ch
