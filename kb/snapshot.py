"""One generation of the index, and the per-document arrays search needs over it.

What tantivy calls fast fields: every document's value of a facet, its path rank, its ingest time,
as arrays indexed by docnum (``postings.max_docnum`` long), built once per generation and cached,
so that filtering, counting and ordering a result set is array arithmetic, not a loop per match.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from kb.postings import Postings

WORDS_CONTAINING = 12  # words that contain a query string, used to skip position checks


class Snapshot:
    """A searcher over one generation of the index, with the per-document caches search needs.

    Per-document values are arrays indexed by docnum (``postings.max_docnum`` long), so that
    filtering, counting and ordering a result set is array arithmetic, not a loop per match."""

    def __init__(self, ix):
        self.searcher = ix.searcher()
        self.postings = Postings(self.searcher)
        self.size = self.postings.max_docnum

    def close(self):
        self.searcher.close()

    @cached_property
    def live_mask(self) -> np.ndarray:
        return self.mask(self.postings.live_docs())

    def mask(self, docnums) -> np.ndarray:
        """A set of docnums as a boolean array over all docnums."""
        mask = np.zeros(self.size, dtype=bool)
        mask[np.asarray(docnums, dtype=np.int64)] = True
        return mask

    def numbers(self, fieldname: str, low: int, high: int) -> np.ndarray:
        """Every document's value of a numeric field, cached (0 for none: deleted, or the value
        outside ``low..high``, as a document without the field reads). Read segment by segment:
        Whoosh's multi-segment column reader misplaces documents when some segments lack the column."""
        cache = self.__dict__.setdefault("_numbers", {})
        key = (fieldname, low, high)
        if key not in cache:
            values = np.zeros(self.size, dtype=np.int64)
            for seg in self.postings.segments:
                reader, offset, deleted = seg.reader, seg.offset, seg.deleted
                if fieldname not in reader.schema or not reader.has_column(fieldname):
                    continue
                column = reader.column_reader(fieldname, translate=True)
                for d in range(reader.doc_count_all()):
                    if not (deleted and d in deleted) and low <= (v := column[d]) <= high:
                        values[d + offset] = v
            cache[key] = values
        return cache[key]

    @cached_property
    def paths(self) -> dict[int, str]:
        """docnum -> source path, from the path field's terms (no stored fields loaded)."""
        return {docnum: text for text, docnums in self.postings.field_docs("path") for docnum in docnums}

    @cached_property
    def path_order(self) -> np.ndarray:
        """Each document's rank in path order (ties in relevance go by path: the same order however
        the index is segmented); documents without a path come first."""
        ranks = np.full(self.size, -1, dtype=np.int64)
        for rank, (docnum, _) in enumerate(sorted(self.paths.items(), key=lambda item: item[1])):
            ranks[docnum] = rank
        return ranks

    @cached_property
    def added(self) -> np.ndarray:
        """docnum -> when it was ingested (seconds; 0: unknown)."""
        return self.numbers("added", 1, 2**40)

    def facet_entries(self, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """A list field's values, each value's rank in sorted order, and every (document, value)
        pair as two parallel arrays of docnums and value numbers; read from the postings once."""
        cache = self.__dict__.setdefault("_facet_entries", {})
        if fieldname not in cache:
            names: dict[str, int] = {}
            docs: list[np.ndarray] = []
            numbers: list[np.ndarray] = []
            for text, docnums in self.postings.field_docs(fieldname):
                number = names.setdefault(text, len(names))
                docs.append(np.asarray(docnums, dtype=np.int64))
                numbers.append(np.full(len(docnums), number, dtype=np.int64))
            names_list = list(names)
            name_order = np.zeros(len(names_list), dtype=np.int64)
            name_order[sorted(range(len(names_list)), key=names_list.__getitem__)] = np.arange(len(names_list))
            cache[fieldname] = (names_list, name_order,
                                np.concatenate(docs) if docs else np.zeros(0, np.int64),
                                np.concatenate(numbers) if numbers else np.zeros(0, np.int64))
        return cache[fieldname]

    @cached_property
    def _vocabulary(self) -> str:
        """Every body word, one per line, in one string (searched with str.find: one C-level scan)."""
        words = self.postings.lexicon("body")
        return "\n" + "\n".join(sorted(w.decode("utf-8") for w in words)) + "\n"

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
