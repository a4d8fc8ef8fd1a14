"""Versions and near-duplicates: documents that are versions of one another (a law and its
revisions, a report and its 摘登, a draft and its final text), found by a MinHash sketch and grouped.

Where each part lives, and why:

* **The sketch** (``sketch``) is computed in the per-document pipeline (``kb.pipeline``, in the
  ingest worker processes, where the text already is) and stored with the document
  (``meta["sketch"]``: the MinHash digest of its 5-character shingles and the shingle count). So
  it comes and goes with the document: re-ingesting a changed file or ``reextract`` writes a new
  one, removing a document removes it.
* **The groups** are a function of the live documents of one index generation (``groups``):
  candidates from LSH bands of the digests (near-duplicates, whatever their titles) and from
  documents with one title key (the title without version words: 草案, 摘登, (2020-06-27), 修正
  …), kept when the sketches say the texts overlap enough (``kb/data/versions.toml``), then joined
  (union–find). Nothing about a group is stored that could go stale.
* **The cache** beside the index (``versions.json``) keeps what grouping reads from each
  document's stored fields (digest, shingle count, title key, date; and the text's character count
  that trends divide by), keyed by the document's
  place in its segment (segment id, document number there). Whoosh never rewrites a document in
  place: an added, replaced or re-extracted document is a new document in a new segment, a merge
  writes new segments, a removed one disappears from the live set. So a cache entry is right as
  long as its key is live, and only new keys cost a stored-field read. Ingest refreshes the cache
  after it commits (``refresh``), so groups are found at ingest; any reader refreshes it for a
  generation nobody has seen yet (after ``remove`` or ``reextract``).

``rensa`` (MIT, a Rust MinHash with Python bindings, ~0.5 MB wheel, no dependencies) computes the
digests: on the laws corpus it gave datasketch's estimates ~7x faster and without datasketch's
scipy (143 MB installed); simhash (last release 2022) found a quarter of the version pairs
MinHash finds, since a revised law keeps only part of its text. See the commit that added this
module for the measurements.

Why this module is long: the sketch (pipeline side), the cache and the grouping (reader side) are one
contract — the cache's key and the sketch's kind decide when an entry is stale — and splitting them
would spread that contract over three files.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import tomllib
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb import analysis, gramarrays
from kb.config import DATA_DIR

CACHE_NAME = "versions.json"
_CACHE_FORMAT = 2


# --- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    num_perm: int
    shingle: int
    seed: int
    title_jaccard: float
    title_containment: float
    containment_min_jaccard: float
    near_duplicate_jaccard: float
    min_shingles: int
    bands: int
    rows: int
    bracket_words: tuple[str, ...]
    drop_words: tuple[str, ...]
    drop_suffixes: tuple[str, ...]

    @property
    def kind(self) -> str:
        """What made a digest: digests of another kind are not compared (``kb reextract`` renews them)."""
        return f"rensa-{_rensa_version()}-minhash{self.num_perm}-k{self.shingle}-s{self.seed}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    data = tomllib.loads((DATA_DIR / "versions.toml").read_text(encoding="utf-8"))
    sk, group, title = data["sketch"], data["group"], data["title"]
    found = Settings(int(sk["num_perm"]), int(sk["shingle"]), int(sk["seed"]), float(group["title_jaccard"]),
                     float(group["title_containment"]), float(group["containment_min_jaccard"]),
                     float(group["near_duplicate_jaccard"]),
                     int(group["min_shingles"]), int(group["bands"]), int(group["rows"]),
                     tuple(title["bracket_words"]), tuple(title["drop_words"]), tuple(title["drop_suffixes"]))
    if found.bands * found.rows != found.num_perm:
        raise ValueError("kb/data/versions.toml: bands x rows must equal num_perm")
    return found


@lru_cache(maxsize=1)
def _rensa_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("rensa")
    except metadata.PackageNotFoundError:
        return "missing"


# --- the sketch (in the pipeline) -----------------------------------------------------------------


def shingles(text: str, size: int) -> set[str]:
    """The text's ``size``-character shingles over its gram units (normalised: width, script and
    case folded; spaces and punctuation out), so layout and punctuation changes are not changes."""
    return set(_shingle_list(gramarrays.unit_string(analysis.normalize(text)), size))


def _shingle_list(units: str, size: int) -> list[str]:
    """Every shingle in text order, repeats included (in C where kb.shingles_c is built: making the
    strings was two thirds of the sketch)."""
    if len(units) <= size:
        return [units] if units else []
    if _NATIVE_SHINGLES is not None:
        return _NATIVE_SHINGLES(units, size)
    return [units[i : i + size] for i in range(len(units) - size + 1)]


def _distinct_shingles(units: str, size: int, found: list[str]) -> int:
    """How many distinct shingles ``found`` (the text's ``_shingle_list``) holds; counted in C where
    kb.shingles_c is built (a set of the strings cost as much as making them)."""
    if _NATIVE_DISTINCT is not None:
        return _NATIVE_DISTINCT(units, size)
    return len(set(found))


try:  # kb/shingles_c.c, built by setup.py where a C compiler is found
    from kb.shingles_c import distinct_count as _NATIVE_DISTINCT
    from kb.shingles_c import shingle_list as _NATIVE_SHINGLES
except ImportError:
    _NATIVE_SHINGLES = _NATIVE_DISTINCT = None


def sketch(text: str, units: str | None = None) -> dict | None:
    """The document's MinHash sketch as stored in ``meta["sketch"]``: kind, digest (base64 of
    ``num_perm`` little-endian uint32) and the number of distinct shingles; None without rensa
    (ingest goes on; the document is then in no group). ``units``: the text's gram units, when the
    caller has them (``gramarrays.unit_string`` of the normalised text)."""
    try:
        import rensa
    except ImportError:
        return None
    s = settings()
    if units is None:
        units = gramarrays.unit_string(analysis.normalize(text))
    found = _shingle_list(units, s.shingle)
    minhash = rensa.RMinHash(num_perm=s.num_perm, seed=s.seed)
    if found:
        # a minimum depends neither on order nor on repeats: the list as it comes, no set and no
        # sort (each would cost as much as the hashing)
        minhash.update(found)
    digest = np.asarray(minhash.digest(), dtype="<u4")
    return {"kind": s.kind, "digest": base64.b64encode(digest.tobytes()).decode("ascii"), "shingles": _distinct_shingles(units, s.shingle, found)}


def digest_of(stored_sketch) -> np.ndarray | None:
    """The digest array of a stored sketch of the current kind, else None."""
    if not isinstance(stored_sketch, dict) or stored_sketch.get("kind") != settings().kind:
        return None
    try:
        digest = np.frombuffer(base64.b64decode(stored_sketch["digest"]), dtype="<u4")
    except (KeyError, ValueError, TypeError):
        return None
    return digest if digest.size == settings().num_perm else None


# --- title keys -----------------------------------------------------------------------------------

_BRACKETS = re.compile(r"[(（\[〔【]([^()（）\[\]〔〕【】]*)[)）\]〕】]")
# A date with its month is a version stamp ((2017-06-27), （2020年5月修正）); a bare year is not:
# 宪法修正案（1993年） and 宪法修正案（1999年） are two amendments, not two versions of one.
_DATE_NOTE = re.compile(r"\d{4}\s*[-./年]\s*\d{1,2}|[一二三四五六七八九〇零○]{4}年[一二三四五六七八九十]{1,2}月")


def title_key(title: str) -> str:
    """The title with what differs between versions taken out (see kb/data/versions.toml)."""
    s = settings()
    norm = analysis.normalize(title or "")

    def bracket(match: re.Match) -> str:
        inside = match.group(1)
        return "" if _DATE_NOTE.search(inside) or any(w in inside for w in s.bracket_words) else match.group(0)

    norm = _BRACKETS.sub(bracket, norm)
    for word in s.drop_words:
        norm = norm.replace(word, "")
    key = "".join(ch for ch in norm if ch.isalnum())
    changed = True
    while changed:
        changed = False
        for suffix in s.drop_suffixes:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
    return key


# --- what grouping reads from each document (cached beside the index) ------------------------------


@dataclass
class Entry:
    """What grouping needs of one document, read once from its stored fields."""

    id: str
    title: str
    key: str  # title_key(title)
    digest: np.ndarray | None  # None: no sketch of the current kind (ingested before; kb reextract)
    shingles: int
    date: str | None
    units: int = 0  # matchable characters of the text (kb.trends counts per 10,000 of them)

    def to_json(self) -> list:
        digest = base64.b64encode(self.digest.tobytes()).decode("ascii") if self.digest is not None else None
        return [self.id, self.title, self.key, digest, self.shingles, self.date, self.units]

    @classmethod
    def from_json(cls, row: list) -> "Entry":
        doc_id, title, key, digest, shingles, date, units = row
        return cls(doc_id, title, key, np.frombuffer(base64.b64decode(digest), dtype="<u4") if digest else None,
                   int(shingles), date, int(units))

    @classmethod
    def from_stored(cls, stored: dict) -> "Entry":
        meta = stored.get("meta") or {}
        sketch_ = meta.get("sketch") or {}
        title = stored.get("title") or ""
        units = meta.get("units")
        if units is None:  # ingested before the pipeline counted them
            units = len(analysis.units(analysis.normalize(stored.get("text") or "")))
        return cls(stored.get("id", ""), title, title_key(title), digest_of(sketch_),
                   int(sketch_.get("shingles") or 0), stored.get("date"), int(units))


def _live_keys(snap) -> list[tuple[tuple[str, int], int]]:
    """((segment id, document number in the segment), docnum) of every live document. A document
    is never rewritten in place, so the pair names one version of one document for good."""
    out = []
    reader = snap.searcher.reader()
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    for leaf, offset in leaves:
        segment_id = leaf.segment().segment_id()
        out.extend(((segment_id, local), local + offset) for local in leaf.all_doc_ids())
    return out


class EntryCache:
    """The entries of an index's documents, in ``versions.json`` beside it (written atomically:
    an ingest and the site may both refresh it; each writes what is true of its generation)."""

    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / CACHE_NAME

    def load(self) -> dict[tuple[str, int], Entry]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if data.get("format") != _CACHE_FORMAT or data.get("kind") != settings().kind:
            return {}
        try:
            return {(seg, int(local)): Entry.from_json(row) for seg, local, *row in data.get("entries", [])}
        except (TypeError, ValueError):
            return {}

    def save(self, entries: dict[tuple[str, int], Entry]) -> None:
        data = {"format": _CACHE_FORMAT, "kind": settings().kind,
                "entries": [[seg, local, *entry.to_json()] for (seg, local), entry in entries.items()]}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:  # a read-only index folder: groups are still computed, only not kept
            tmp.unlink(missing_ok=True)


# --- groups of one generation ---------------------------------------------------------------------


@dataclass
class Groups:
    """The version groups of one index generation, by docnum."""

    group_of: np.ndarray  # docnum -> group number, -1: in no group
    members: list[np.ndarray]  # group number -> its docnums (ascending)
    entries: dict[int, Entry] = field(default_factory=dict)  # docnum -> entry, every live document
    read: int = 0  # documents whose stored fields were read to build this (not in the cache)

    def __len__(self) -> int:
        return len(self.members)

    def others(self, docnum: int) -> np.ndarray:
        """The other members of the document's group (none: empty)."""
        number = int(self.group_of[docnum]) if 0 <= docnum < len(self.group_of) else -1
        if number < 0:
            return np.zeros(0, dtype=np.int64)
        members = self.members[number]
        return members[members != docnum]

    def unit_counts(self) -> np.ndarray:
        """Every docnum's matchable characters (0 for deleted documents), from the entries."""
        cached = self.__dict__.get("_units")
        if cached is None:
            cached = np.zeros(len(self.group_of), dtype=np.int64)
            for docnum, entry in self.entries.items():
                cached[docnum] = entry.units
            self.__dict__["_units"] = cached
        return cached

    def recency(self, snap) -> np.ndarray:
        """Every docnum's rank from oldest to newest: year, then date, then when it was ingested
        (what "the newest member" of a group means when search collapses it)."""
        cached = self.__dict__.get("_recency")
        if cached is None:
            from kb.facets import YEAR

            dates = np.zeros(len(self.group_of), dtype=np.int64)
            for docnum, entry in self.entries.items():
                dates[docnum] = _date_number(entry.date)
            years = YEAR.column(snap)[: len(dates)]
            order = np.lexsort((snap.added[: len(dates)], dates, years))
            cached = np.empty(len(dates), dtype=np.int64)
            cached[order] = np.arange(len(dates))
            self.__dict__["_recency"] = cached
        return cached

    def similarity(self, a: int, b: int) -> tuple[float, float]:
        """Estimated (Jaccard, containment of the shorter in the longer) of two documents' texts."""
        ea, eb = self.entries.get(a), self.entries.get(b)
        if ea is None or eb is None or ea.digest is None or eb.digest is None:
            return 0.0, 0.0
        jaccard = float(np.mean(ea.digest == eb.digest))
        return jaccard, float(_containment(np.array([jaccard]), np.array([ea.shingles]), np.array([eb.shingles]))[0])


_DATE = re.compile(r"(\d{4})\D{0,3}(\d{1,2})?\D{0,3}(\d{1,2})?")


def _date_number(date: str | None) -> int:
    """20210304 for "2021-03-04" (missing month or day: 0), 0 for no date."""
    found = _DATE.match(str(date or "").strip())
    if not found:
        return 0
    year, month, day = (int(x) if x else 0 for x in found.groups())
    return year * 10000 + month * 100 + day


@dataclass
class Version:
    """Another version of a document, as its page lists it."""

    id: str
    title: str
    year: int | None
    date: str | None
    jaccard: float  # estimated share of shingles the two texts have in common
    containment: float  # estimated share of the shorter text inside the longer
    same_title: bool  # titles agree (a version); else a near-duplicate under another title

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "year": self.year, "date": self.date,
                "similarity": round(self.jaccard, 3), "containment": round(self.containment, 3),
                "relation": "version" if self.same_title else "near-duplicate"}


def versions_of(snap, index_dir: Path, doc_id: str, visible: np.ndarray | None = None) -> list[Version]:
    """The other versions of a document, newest first (only those ``visible`` allows)."""
    from kb.facets import YEAR

    docnums = snap.docs_with("id", doc_id)
    if not docnums.size:
        return []
    found = groups(snap, index_dir)
    docnum = int(docnums[0])
    others = [int(d) for d in found.others(docnum) if visible is None or visible[d]]
    years = YEAR.column(snap)
    recency = found.recency(snap)
    me = found.entries.get(docnum)
    out = []
    for other in sorted(others, key=lambda d: -recency[d]):
        entry = found.entries[other]
        jaccard, containment = found.similarity(docnum, other)
        out.append(Version(entry.id, entry.title, int(years[other]) or None, entry.date, jaccard, containment,
                           bool(me and entry.key and me.key == entry.key)))
    return out


def _containment(jaccard: np.ndarray, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """|A∩B| / min(|A|, |B|) from the Jaccard estimate and the set sizes: |A∩B| = J(|A|+|B|)/(1+J)."""
    inter = jaccard * (na + nb) / (1 + jaccard)
    return np.minimum(1.0, inter / np.maximum(1, np.minimum(na, nb)))


_memo: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_memo_lock = threading.Lock()


def groups(snap, index_dir: Path) -> Groups:
    """The version groups of the snapshot's generation (computed once per generation; the entries
    of documents seen before come from the cache beside the index)."""
    with _memo_lock:
        found = _memo.get(snap)
        if found is None:
            found = _memo[snap] = _compute(snap, Path(index_dir))
        return found


def refresh(index_dir: Path) -> Groups | None:
    """Bring the cache beside the index up to date with its newest generation (after an ingest)."""
    from kb import index as kbindex
    from kb.snapshot import Snapshot

    if not kbindex.exists(Path(index_dir)):
        return None
    snap = Snapshot(kbindex.open_index(Path(index_dir)))
    try:
        return _compute(snap, Path(index_dir))
    finally:
        snap.close()


def refresh_after_ingest(index_dir: Path, report) -> None:
    """``refresh`` after an ingest committed, so the site need not find the groups on its first
    search; a failure loses nothing (any reader finds them again), so it is only reported."""
    try:
        refresh(index_dir)
    except Exception as exc:  # noqa: BLE001 (the documents are committed; groups are derived data)
        report(f"warning: version groups not refreshed ({type(exc).__name__}: {exc}); they are found on the next search")


def _compute(snap, index_dir: Path) -> Groups:
    cache = EntryCache(index_dir)
    known = cache.load()
    live = _live_keys(snap)
    entries: dict[tuple[str, int], Entry] = {}
    by_docnum: dict[int, Entry] = {}
    read = 0
    for key, docnum in live:
        entry = known.get(key)
        if entry is None:
            entry = Entry.from_stored(snap.searcher.stored_fields(docnum))
            read += 1
        entries[key] = by_docnum[docnum] = entry
    if read or len(entries) != len(known):
        cache.save(entries)
    group_of, members = _group(by_docnum, snap.size)
    return Groups(group_of, members, by_docnum, read)


def _group(entries: dict[int, Entry], size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    s = settings()
    usable = [(d, e) for d, e in sorted(entries.items()) if e.digest is not None and e.shingles >= s.min_shingles]
    group_of = np.full(size, -1, dtype=np.int64)
    if len(usable) < 2:
        return group_of, []
    docnums = np.array([d for d, _ in usable], dtype=np.int64)
    digests = np.stack([e.digest for _, e in usable])
    sizes = np.array([e.shingles for _, e in usable], dtype=np.float64)
    keys = [e.key for _, e in usable]
    pairs = _candidate_pairs(digests, keys, s)
    if not pairs.size:
        return group_of, []
    a, b = pairs[:, 0], pairs[:, 1]
    jaccard = np.mean(digests[a] == digests[b], axis=1)
    containment = _containment(jaccard, sizes[a], sizes[b])
    same_key = np.array([keys[i] == keys[j] and bool(keys[i]) for i, j in pairs.tolist()], dtype=bool)
    contained = (containment >= s.title_containment) & (jaccard >= s.containment_min_jaccard)
    accept = (same_key & ((jaccard >= s.title_jaccard) | contained)) | (jaccard >= s.near_duplicate_jaccard)
    parent = list(range(len(usable)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs[accept].tolist():
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([root(i) for i in range(len(usable))])
    members = []
    for r in np.unique(roots):
        these = docnums[roots == r]
        if len(these) > 1:
            group_of[these] = len(members)
            members.append(np.sort(these))
    return group_of, members


_MAX_BUCKET = 200  # a bucket this big is boilerplate shared by many texts, not versions of one


def _candidate_pairs(digests: np.ndarray, keys: list[str], s: Settings) -> np.ndarray:
    """Pairs (row indices, i < j) to check: documents sharing a title key, and documents sharing
    an LSH band of their digests (near-duplicates whatever their titles)."""
    found: set[tuple[int, int]] = set()
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key:
            by_key.setdefault(key, []).append(i)
    for rows in by_key.values():
        if 1 < len(rows) <= _MAX_BUCKET:
            found.update((rows[x], rows[y]) for x in range(len(rows)) for y in range(x + 1, len(rows)))
    for band in range(s.bands):
        block = np.ascontiguousarray(digests[:, band * s.rows : (band + 1) * s.rows])
        _, inverse, counts = np.unique(block.view(np.dtype((np.void, block.dtype.itemsize * s.rows))).ravel(),
                                       return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)))
        for bucket in np.flatnonzero((counts > 1) & (counts <= _MAX_BUCKET)).tolist():
            rows = order[starts[bucket] : starts[bucket + 1]].tolist()
            found.update((rows[x], rows[y]) for x in range(len(rows)) for y in range(x + 1, len(rows)))
    return np.array(sorted(found), dtype=np.int64).reshape(-1, 2)
