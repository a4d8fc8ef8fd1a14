"""The index schema: which fields a document has, and how its analysed fields are given to the writer.

Fields, by job:

* ``body``/``title``: jieba words with word positions (stop words left out), scored with BM25F
  (ranking);
* ``grams``/``title_grams``: character bigrams with unit positions (exact substring recall);
  ``title_grams`` also holds single characters, ``chars`` does so for the body (one-character
  queries);
* facet fields (``year``, ``counties``, ``sectors``, ...): declared in ``kb.facets``, one term per
  value, stored;
* ``text``: the clean text as written, stored (apart from the other stored fields, so that a hit
  without a snippet never decompresses it), shown and used for snippets;
* bookkeeping: ``id`` (stable per source path), ``path``, ``sha`` (of the original bytes: the key
  of the originals store and of de-duplication), ``added`` (ingest time), ``meta`` (the rest).

The analysed fields (``ArrayField``) live only in each segment's term arrays (``kb.termarrays``);
Whoosh indexes the small keyword fields (it needs ``id`` and ``path`` for updates and deletions)
and keeps the stored fields. Their values arrive as arrays (``Grams``, ``Words``), computed in the
worker process that read the document, so the writer does no work per term.

``SCHEMA_VERSION`` is the index format: 2 since the analysed fields left Whoosh (2026-12). An
index of an older format is refused with one message (``IndexOutdated``: re-ingest); the classes
below ``build_schema`` stay only so that such an index still opens far enough to say so.
"""

from __future__ import annotations

from array import array

import numpy as np
from whoosh import fields, formats

from kb import analysis, gramarrays
from kb.errors import IndexDamaged
from kb.facets import FACETS

SCHEMA_VERSION = 2
_COUNT_SIZE = 4  # a packed position count (format 1)


class IndexOutdated(IndexDamaged):
    """An index written in an older format: it must be re-ingested."""


def outdated_message(where) -> str:
    return (f"the index in {where} was made by an older version of kb (index format 1; this version "
            f"reads format {SCHEMA_VERSION}): rebuild it with `kb upgrade` (from its stored texts, no source files needed), or re-ingest: move the folder aside (its "
            "originals/ folder keeps a copy of every file) and run `kb ingest` again")


class ArrayField(fields.FieldType):
    """A field whose postings live only in the segments' term arrays (``kb.termarrays``), never in
    Whoosh's postings. ``kind``: ``grams`` (integer gram keys) or ``terms`` (strings);
    ``scored``: its lengths are kept for BM25."""

    def __init__(self, kind: str, frequencies: bool = True, positions: bool = False, stored: bool = False,
                 scored: bool = False):
        self.kind = kind
        self.frequencies = frequencies
        self.positions = positions
        self.scored = scored
        self.stored = stored
        self.indexed = False  # for Whoosh: nothing to index
        self.scorable = False
        self.unique = False
        self.column_type = None
        self.vector = None
        self.analyzer = None
        # what Whoosh's own queries see (kb.codec.ArrayTermsReader): phrases need positions
        self.format = formats.Positions() if positions else formats.Frequency() if frequencies else formats.Existence()
        self.multitoken_query = "default"
        self.sortable_typecode = None
        self.spelling = False

    def index(self, value, **kwargs):
        return iter(())


class Grams:
    """A gram field's postings in one document: distinct keys ascending, their counts and (if the
    field keeps them) their positions, grouped by key."""

    __slots__ = ("keys", "tfs", "positions")

    def __init__(self, keys: np.ndarray, tfs: np.ndarray, positions: np.ndarray | None = None):
        self.keys, self.tfs, self.positions = keys, tfs, positions

    def __len__(self) -> int:
        return int(self.tfs.sum())

    def __getstate__(self):
        return self.keys, self.tfs, self.positions

    def __setstate__(self, state):
        self.keys, self.tfs, self.positions = state


class Words:
    """A word field's terms in one document, in order (repeated words counted by the writer)."""

    __slots__ = ("words",)

    def __init__(self, words):
        self.words = words

    def __len__(self) -> int:
        return len(self.words)

    def __getstate__(self):
        return self.words

    def __setstate__(self, words):
        self.words = words


def build_schema() -> fields.Schema:
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.ID(stored=True),
        sha=fields.ID(stored=True),
        content=fields.ID(stored=True),  # a hash of the decoded text of plain-text kinds (kb.read.text.content_key)
        title=ArrayField("terms", positions=True, stored=True, scored=True),
        title_grams=ArrayField("grams", positions=True),
        body=ArrayField("terms", positions=True, scored=True),
        grams=ArrayField("grams", positions=True),
        chars=ArrayField("grams"),
        text=fields.STORED(),
        added=fields.NUMERIC(int, bits=64, stored=True, sortable=True, signed=False),  # ingest time, s
        date=fields.ID(stored=True),
        docno=fields.ID(stored=True),
        meta=fields.STORED(),  # everything else: format, encoding, size, user fields, provenance
    )
    for facet in FACETS.values():
        schema.add(facet.field, facet.schema_field())
    return schema


def is_current(schema) -> bool:
    """Was the index with this (unpickled) schema written in the current format?"""
    return "grams" in schema and isinstance(schema["grams"], ArrayField)


def analyzed_fields(title: str, text: str) -> dict:
    """All analysed fields of a document, ready for ``add_document``. ``text`` is clean text."""
    norm_title = analysis.normalize(title or "")
    norm_text = analysis.normalize(text)
    chars, char_counts = gramarrays.char_arrays(norm_text)
    return {
        "title": Words(analysis.words(norm_title)),
        "title_grams": Grams(*gramarrays.title_gram_arrays(norm_title)),
        "body": Words(analysis.words(norm_text)),
        "grams": Grams(*gramarrays.gram_arrays(norm_text)),
        "chars": Grams(chars, char_counts),
    }


# --- the field types of format 1 (kept so that an old index's schema unpickles) ------------------


class AnalyzedText(fields.TEXT):
    """Format 1: a TEXT field given pre-analysed postings."""


class ArrayPositions(formats.Positions):
    """Format 1: positions as a packed count and uint32 array."""

    def encode(self, poslist) -> bytes:
        from whoosh.system import pack_uint

        return pack_uint(len(poslist)) + array("I", poslist).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        values = array("I")
        values.frombytes(valuestring[_COUNT_SIZE:])
        return values.tolist()


class CountsHere(formats.Frequency):
    """Format 1: gram counts in Whoosh, positions in the term arrays."""

    positions_in_arrays = True


class GramText(AnalyzedText):
    """Format 1: a gram field."""


class PositionalText(AnalyzedText):
    """Format 1: a positional word field."""
