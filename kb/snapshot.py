"""One generation of the index, and the per-document arrays search needs over it.

What tantivy calls fast fields: every document's value of a facet, its path rank, its ingest time,
as arrays indexed by docnum (``postings.max_docnum`` long), built once per generation and cached,
so that filtering, counting and ordering a result set is array arithmetic, not a loop per match.

A snapshot is shared by every request that started while its generation was the newest: its
caches are built once (two threads asking at once may both build one; either result is the same
and neither is ever changed), its files are mapped, and it is closed when the knowledge base has
moved on to a newer generation and the last request using it has let go (``acquire``/``release``).
"""

from __future__ import annotations

import pickle
import threading
from functools import cached_property

import numpy as np

from kb.postings import LRU, Postings
from kb.whoosh_adapter import stored_pickle, stored_text

WORDS_CONTAINING = 12  # words that contain a query string, used to skip position checks
_STORED_CACHE = 4096  # documents' stored fields kept decoded per generation
_TEXT_CACHE_BYTES = 32 << 20  # and texts, up to this many bytes


class Snapshot:
    """A searcher over one generation of the index, with the per-document caches search needs.

    Per-document values are arrays indexed by docnum (``postings.max_docnum`` long), so that
    filtering, counting and ordering a result set is array arithmetic, not a loop per match."""

    def __init__(self, ix):
        self.searcher = ix.searcher()
        try:
            self.postings = Postings(self.searcher)
        except BaseException:
            self.searcher.close()
            raise
        self.size = self.postings.max_docnum
        self._users = 0
        self._retired = False
        self._closed = False
        self._state = threading.Lock()
        self._stored = LRU(_STORED_CACHE, _TEXT_CACHE_BYTES)
        self._texts = LRU(_STORED_CACHE, _TEXT_CACHE_BYTES)

    # -- lifetime

    def acquire(self) -> "Snapshot":
        with self._state:
            self._users += 1
        return self

    def release(self) -> None:
        with self._state:
            self._users -= 1
            close = self._retired and self._users <= 0 and not self._closed
            self._closed = self._closed or close
        if close:
            self.searcher.close()

    def retire(self) -> None:
        """No new request will get this snapshot: close it once the last one has let go."""
        with self._state:
            self._retired = True
            close = self._users <= 0 and not self._closed
            self._closed = self._closed or close
        if close:
            self.searcher.close()

    def close(self):
        with self._state:
            self._closed = True
        self.searcher.close()

    # -- documents

    def stored(self, docnum: int, text: bool = False) -> dict:
        """A document's stored fields (and its text, if asked), read thread-safely; fresh objects
        each time (decompressed bytes are cached, for the hits that come back query after query)."""
        raw = self._stored.get(docnum)
        if raw is None:
            seg, local = self.postings.segment_of(docnum)
            raw = stored_pickle(seg.reader, local)
            self._stored.put(docnum, raw, len(raw))
        found = pickle.loads(raw) if raw else {}
        if text:
            found["text"] = self.text(docnum)
        return found

    def text(self, docnum: int) -> str:
        found = self._texts.get(docnum)
        if found is None:
            seg, local = self.postings.segment_of(docnum)
            found = stored_text(seg.reader, local)
            self._texts.put(docnum, found, 2 * len(found))
        return found

    def docnum_of(self, fieldname: str, value: str) -> int | None:
        """The live document with this value of an identifier field (``id``, ``path``), or None."""
        docs = self.postings.docs(fieldname, value)
        return int(docs[0]) if docs.size else None

    # -- per-document arrays

    @cached_property
    def live_mask(self) -> np.ndarray:
        return self.postings.live()

    def mask(self, docnums) -> np.ndarray:
        """A set of docnums as a boolean array over all docnums."""
        mask = np.zeros(self.size, dtype=bool)
        mask[np.asarray(docnums, dtype=np.int64)] = True
        return mask

    def numbers(self, fieldname: str, low: int, high: int) -> np.ndarray:
        """Every document's value of a numeric field, cached (0 for none: deleted, or the value
        outside ``low..high``, as a document without the field reads)."""
        cache = self.__dict__.setdefault("_numbers", {})
        key = (fieldname, low, high)
        found = cache.get(key)
        if found is None:
            values = self.postings.doc_values(f"number:{fieldname}", np.int64)
            values[~self.live_mask | (values < low) | (values > high)] = 0
            found = cache[key] = values
        return found

    @cached_property
    def paths(self) -> dict[int, str]:
        """docnum -> source path, from the path field's terms (no stored fields loaded)."""
        names, docs, numbers = self.postings.field_entries("path")
        return {d: names[n] for d, n in zip(docs.tolist(), numbers.tolist())}

    @cached_property
    def path_order(self) -> np.ndarray:
        """Each document's rank in path order (ties in relevance go by path: the same order however
        the index is segmented); documents without a path come first."""
        ranks = np.full(self.size, -1, dtype=np.int64)
        names, docs, numbers = self.postings.field_entries("path")
        if docs.size:
            name_rank = np.empty(len(names), dtype=np.int64)
            name_rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
            ranks[docs] = name_rank[numbers]
        return ranks

    @cached_property
    def added(self) -> np.ndarray:
        """docnum -> when it was ingested (seconds; 0: unknown)."""
        return self.numbers("added", 1, 2**40)

    def facet_entries(self, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """A list field's values, each value's rank in sorted order, and every (document, value)
        pair as two parallel arrays of docnums and value numbers; read from the postings once."""
        cache = self.__dict__.setdefault("_facet_entries", {})
        found = cache.get(fieldname)
        if found is None:
            names, docs, numbers = self.postings.field_entries(fieldname) if fieldname in self.postings.schema \
                else ([], np.zeros(0, np.int64), np.zeros(0, np.int64))
            name_order = np.zeros(len(names), dtype=np.int64)
            name_order[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
            found = cache[fieldname] = (names, name_order, docs, numbers)
        return found

    @cached_property
    def _vocabulary(self) -> str:
        """Every body word, one per line, in one string (searched with str.find: one C-level scan;
        a word in several segments is there several times, which the search does not mind)."""
        return "\n" + b"".join(seg.arrays.lines("body") for seg in self.postings.segments).decode("utf-8")

    def words_containing(self, string: str, limit: int = WORDS_CONTAINING) -> list[str]:
        """Up to ``limit`` body words that contain ``string``, shortest (usually commonest) first."""
        if len(string) < 2 or "\n" in string:
            return []
        vocabulary = self._vocabulary
        found, start = set(), 0
        while (i := vocabulary.find(string, start)) >= 0:
            begin = vocabulary.rfind("\n", 0, i) + 1
            end = vocabulary.find("\n", i)
            found.add(vocabulary[begin:end])
            start = end
        return sorted(found, key=lambda w: (len(w), w))[:limit]

    def docs_with(self, fieldname: str, value: str) -> np.ndarray:
        return self.postings.docs(fieldname, value)
