"""The Whoosh index: schema, opening/creating, a writer that waits for the lock, pre-analysed fields.

Fields, by job:

* ``body``/``title``: jieba words with word positions, scored with BM25F (ranking);
* ``grams``/``title_grams``: character bigrams with unit positions (exact substring recall;
  the positions live in the segment's term arrays, ``CountsHere``);
  ``title_grams`` also holds single characters, ``chars`` does so for the body (one-character
  queries);
* facet fields (``year``, ``counties``, ``sectors``, ...): one term per value, stored;
* ``text``: the cleaned text, stored, shown and used for snippets;
* bookkeeping: ``id`` (stable per source path), ``path``, ``sha`` (of the original bytes: the key
  of the originals store and of de-duplication).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from array import array

from whoosh import fields, formats, index
from whoosh.system import _INT_SIZE, pack_uint

from kb import analysis
from kb.config import LOCK_TIMEOUT_SECONDS
from kb.errors import IndexLocked
from kb.writer import FastWriter

INDEX_NAME = "kb"
SCHEMA_VERSION = 1

# Facet name (as the API and the CLI say it) -> index field. Multi-valued fields are lists.
FACETS: dict[str, str] = {
    "year": "year",
    "county": "counties",
    "sector": "sectors",
    "city": "cities",
    "province": "provinces",
    "doctype": "doctype",
    "issuer": "issuer",
    "topic": "topics",
}
LIST_FIELDS = ("counties", "sectors", "cities", "provinces", "doctype", "issuer", "topics")
TITLE_BOOST = 2.5


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
        values.frombytes(valuestring[_INT_SIZE:])
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


class ListField(fields.KEYWORD):
    """Facet values: a list of strings, each one term, stored as the list."""

    def __init__(self):
        super().__init__(stored=True, scorable=False, commas=True, lowercase=False)


def build_schema() -> fields.Schema:
    words = analysis.word_analyzer()
    grams = analysis.gram_analyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.ID(stored=True),
        sha=fields.ID(stored=True),
        title=PositionalText(words, stored=True),
        title_grams=GramText(grams),
        body=PositionalText(words),
        grams=GramText(grams),
        chars=AnalyzedText(analyzer=analysis.char_analyzer(), phrase=False),
        text=fields.STORED(),
        year=fields.NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        added=fields.NUMERIC(int, bits=64, stored=True, sortable=True, signed=False),  # ingest time, s
        date=fields.ID(stored=True),
        docno=fields.ID(stored=True),
        meta=fields.STORED(),  # everything else: format, encoding, size, user fields, provenance
    )
    for name in LIST_FIELDS:
        schema.add(name, ListField())
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


# --- opening and writing ------------------------------------------------------------------------


def doc_id_for(source: str) -> str:
    """The stable id of a document: derived from where it came from (its resolved source path)."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def exists(index_dir: Path) -> bool:
    """True if ``index_dir`` holds a committed generation (by its table of contents; cheap, and
    unlike whoosh's exists_in it does not open the index, which races with commits)."""
    try:
        return any(Path(index_dir).glob(f"_{INDEX_NAME}_*.toc"))
    except OSError:
        return False


def open_index(index_dir: Path, create: bool = False):
    """Open the index in ``index_dir``; create it (and the folder) when asked and absent."""
    index_dir = Path(index_dir)
    if exists(index_dir):
        ix = _open_newest(index_dir)
        if create:  # a writer is coming: bring an index made by an older version up to date
            _add_missing_fields(ix)
        return ix
    if not create:
        raise FileNotFoundError(f"no index in {index_dir} (run ingest.py first)")
    index_dir.mkdir(parents=True, exist_ok=True)
    return index.create_in(str(index_dir), build_schema(), indexname=INDEX_NAME)


def _open_newest(index_dir: Path, attempts: int = 5):
    """Open the newest generation. Whoosh lists the tables of contents, then reads the newest; a
    commit in between deletes it, so a missing file means "try the next newest"."""
    for attempt in range(attempts):
        try:
            return index.open_dir(str(index_dir), indexname=INDEX_NAME)
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.01 * attempt)


def _add_missing_fields(ix) -> None:
    """Fields added to the schema since this index was made (documents simply lack them)."""
    missing = {name: field for name, field in build_schema().items() if name not in ix.schema}
    if missing:
        w = writer(ix)
        for name, field in missing.items():
            w.add_field(name, field)
        w.commit()


def writer(ix, timeout: float | None = None, **kwargs):
    """A writer, waiting for another process's lock up to ``timeout`` seconds, then a clear error."""
    timeout = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        try:
            return FastWriter(ix, **kwargs)
        except index.LockError:
            if time.monotonic() >= deadline:
                raise IndexLocked(
                    f"the index in {ix.storage.folder} is locked by another writer "
                    f"(waited {timeout:.0f} s); try again when the other ingest has finished"
                ) from None
            time.sleep(0.2)


@dataclass
class OriginalsStore:
    """Content-addressed copies of every ingested file, beside the index: ``originals/ab/<sha><suffix>``.

    Files are written to a temporary name and renamed, so a crash never leaves a half-written file
    under a name the index refers to (the rename is atomic; a power cut may still lose the page
    cache, as it may lose Whoosh's own uncommitted writes).
    """

    root: Path

    @classmethod
    def beside(cls, index_dir: Path) -> "OriginalsStore":
        return cls(Path(index_dir) / "originals")

    def path_for(self, sha: str, suffix: str) -> Path:
        if not (len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
            raise ValueError("not a content hash")
        suffix = suffix.lower() if suffix and suffix[1:].isalnum() else ""
        return self.root / sha[:2] / f"{sha}{suffix}"

    def put(self, sha: str, suffix: str, data: bytes) -> Path:
        target = self.path_for(sha, suffix)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:  # no fsync: a killed process is the risk here, not a power cut
            f.write(data)
        os.replace(tmp, target)
        return target

    def get(self, sha: str, suffix: str) -> Path | None:
        target = self.path_for(sha, suffix)
        return target if target.exists() else None
