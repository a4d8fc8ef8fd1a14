"""The index folder: opening or creating the Whoosh index, a writer that waits for the lock,
stable document ids, and the store of original files beside the index.

What a document's fields are is ``kb.schema``; how segments are written, ``kb.whoosh_adapter``.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from whoosh import index

from kb.config import LOCK_TIMEOUT_SECONDS
from kb.errors import IndexLocked
from kb.facets import ListField
from kb.schema import AnalyzedText, ArrayPositions, CountsHere, GramText, PositionalText, build_schema
from kb.whoosh_adapter import FastWriter

# An index pickles its schema's classes by module and name: indexes made before kb.schema and
# kb.facets existed name these here, so they stay importable from this module.
PICKLED_NAMES = (AnalyzedText, ArrayPositions, CountsHere, GramText, PositionalText, ListField)

INDEX_NAME = "kb"


# --- opening and writing ------------------------------------------------------------------------


def doc_id_for(source: str) -> str:
    """The stable id of a document: derived from where it came from (its resolved source path)."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def exists(index_dir: Path) -> bool:
    """True if ``index_dir`` holds a committed generation (by its table of contents; cheap, and
    unlike whoosh's exists_in it does not open the index, which races with commits)."""
    prefix = f"_{INDEX_NAME}_"
    try:  # a listing, not Path.glob: every request asks (half the cost)
        return any(name.startswith(prefix) and name.endswith(".toc") for name in os.listdir(index_dir))
    except OSError:
        return False


def begun(index_dir: Path) -> bool:
    """True if ``index_dir`` holds an index, or what an ingest killed before its first commit left
    (its lock, segment files, originals): an index with no documents yet, not "no index"."""
    index_dir = Path(index_dir)
    if exists(index_dir):
        return True
    try:
        return any(p.name == "originals" or p.name.startswith((f"_{INDEX_NAME}_", f"{INDEX_NAME}_WRITELOCK",
                                                                 f"{INDEX_NAME}.tmp")) for p in index_dir.iterdir())
    except OSError:
        return False


def empty_index():
    """An index with no documents, in memory (for a folder whose first ingest never committed)."""
    from whoosh.filedb.filestore import RamStorage

    ix = RamStorage().create_index(build_schema(), indexname=INDEX_NAME)
    ix.kb_empty = True  # kb.search.KnowledgeBase re-opens the folder once a commit exists
    return ix


def open_index(index_dir: Path, create: bool = False, lock_timeout: float | None = None):
    """Open the index in ``index_dir``; create it (and the folder) when asked and absent."""
    index_dir = Path(index_dir)
    if exists(index_dir):
        ix = _open_newest(index_dir)
        if create:  # a writer is coming: bring an index made by an older version up to date
            _add_missing_fields(ix, lock_timeout)
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


def _add_missing_fields(ix, lock_timeout: float | None = None) -> None:
    """Fields added to the schema since this index was made (documents simply lack them)."""
    missing = {name: field for name, field in build_schema().items() if name not in ix.schema}
    if missing:
        w = writer(ix, timeout=lock_timeout)
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
