"""A consistent copy of an index folder, taken while ingests run (``kb backup DIR``), and putting
one back (``kb restore DIR``).

Why a copy taken during an ingest is consistent:

* Whoosh commits by writing a new table of contents (``_kb_<generation>.toc``) atomically (a
  temporary name, then a rename). A TOC lists the generation's segments and, inside itself, the
  documents deleted from each; a segment's files (``kb_<segid>.*``: terms, postings, stored fields,
  columns, our ``.kbp`` term arrays) are complete before any TOC lists them and never change
  afterwards. So the newest TOC plus exactly the files of the segments it names is a whole index.
* What can happen during the copy is that a newer commit drops a segment (merged into another)
  and Whoosh deletes its files. So, once the files are copied, the newest TOC is read again: if
  it still lists every segment copied, none of their files can have been deleted (a segment that
  left the TOC never returns), and the copy stands; otherwise it starts again from the newer TOC,
  keeping the files already copied (segments are immutable, so a name is its content).
* Originals (``originals/``) are content-addressed and written (to a temporary name, renamed)
  before the commit that lists their document, so copying them after the index finds every one
  the copied generation needs (checked, document by document).
* The small stores beside the index (``users/``, ``corrections/``: JSON files replaced
  atomically; ``audit/``: appended lines, copied up to the last whole line; ``uploads/``) are
  copied as they are. Caches (``ocr-cache/``, ``versions.json``) are not: they are rebuilt.

The copy is built in a hidden folder beside the target and renamed into place once it has been
opened and counted, so a target folder that exists is a whole backup.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from kb.index import INDEX_NAME

TOC_RE = re.compile(rf"^_{INDEX_NAME}_([0-9]+)\.toc$")
STORES = ("users", "corrections", "audit", "uploads")  # copied when present
CACHES = ("ocr-cache", "versions.json")  # rebuilt when missing: not copied
ATTEMPTS = 50


class BackupError(Exception):
    """The backup or restore could not be made (the message says why)."""


@dataclass
class Report:
    target: Path
    generation: int = -1
    documents: int = 0
    segments: int = 0
    index_files: int = 0
    index_bytes: int = 0
    originals: int = 0
    originals_missing: list[str] = field(default_factory=list)  # documents whose original the index lacks too
    stores: list[str] = field(default_factory=list)
    attempts: int = 0
    seconds: float = 0.0
    outdated: bool = False  # an index of an older format: copied whole; this version reads it only after re-ingesting

    def line(self, verb: str = "backup") -> str:
        plural = "s" if self.segments != 1 else ""
        parts = [f"{verb}: generation {self.generation}, {self.documents} documents, {self.segments} segment{plural} "
                 f"({self.index_files} files, {self.index_bytes / 1e6:.1f} MB), {self.originals} originals"]
        if self.stores:
            parts.append(f"stores {', '.join(self.stores)}")
        if self.outdated:
            parts.append("an older index format (kept as it is; this version of kb needs it re-ingested)")
        if self.originals_missing:
            parts.append(f"{len(self.originals_missing)} documents without an original (missing in the index too)")
        parts.append(f"-> {self.target} ({self.attempts} attempt{'s' if self.attempts != 1 else ''}, "
                     f"{self.seconds:.1f} s)")
        return "; ".join(parts)


# --- reading tables of contents ------------------------------------------------------------------


def _generations(folder: Path) -> list[int]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for m in map(TOC_RE.match, names) if m)


def _parse_toc(data: bytes, generation: int):
    """A TOC from its bytes (so that what is parsed is exactly what is copied)."""
    import kb.index  # noqa: F401  (the pickled schema names classes there)
    from whoosh.filedb.filestore import RamStorage
    from whoosh.index import TOC

    storage = RamStorage()
    name = f"_{INDEX_NAME}_{generation}.toc"
    with storage.create_file(name) as f:
        f.write(data)
    return TOC.read(storage, INDEX_NAME, generation)


def _newest_toc(folder: Path, tries: int = 20):
    """(generation, bytes, TOC) of the newest committed generation; None when there is none."""
    for _ in range(tries):
        generations = _generations(folder)
        if not generations:
            return None
        generation = generations[-1]
        try:
            data = (folder / f"_{INDEX_NAME}_{generation}.toc").read_bytes()
        except FileNotFoundError:  # a newer commit cleaned it up between the listing and the read
            continue
        return generation, data, _parse_toc(data, generation)
    raise BackupError(f"{folder}: the index changes faster than its table of contents can be read")


def _segment_ids(toc) -> list[str]:
    return [segment.segment_id() for segment in toc.segments]


def _live_count(toc) -> int:
    return sum(segment.doc_count() for segment in toc.segments)


# --- copying -------------------------------------------------------------------------------------


def _copy_file(source: Path, target: Path) -> int:
    """Copy to a temporary name, then rename: a name in the copy is always a whole file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    shutil.copy2(source, tmp)
    os.replace(tmp, target)
    return target.stat().st_size


def _copy_index(source: Path, staging: Path, report: Report) -> tuple[int, bytes, object]:
    """The newest generation's TOC and its segments' files, retried until no commit got in the way."""
    copied: set[str] = set()
    for attempt in range(1, ATTEMPTS + 1):
        report.attempts = attempt
        newest = _newest_toc(source)
        if newest is None:
            raise BackupError(f"no index in {source} (nothing committed yet)")
        generation, data, toc = newest
        segments = _segment_ids(toc)
        names = os.listdir(source)
        files = {seg: [n for n in names if n.startswith(seg + ".")] for seg in segments}
        if any(not found for found in files.values()):
            continue  # a segment already cleaned up: a newer generation exists
        try:
            for name in sorted(n for found in files.values() for n in found):
                if name not in copied:
                    _copy_file(source / name, staging / name)
                    copied.add(name)
        except FileNotFoundError:
            continue
        now = _newest_toc(source)
        if now is not None and now[0] != generation and not set(segments) <= set(_segment_ids(now[2])):
            continue  # some segment copied was merged away meanwhile: its files may be incomplete
        keep = {n for found in files.values() for n in found}
        for name in copied - keep:  # files of segments an earlier attempt copied and this one does not use
            (staging / name).unlink()
        report.index_files = len(keep) + 1
        report.index_bytes = sum((staging / n).stat().st_size for n in keep) + len(data)
        (staging / f"_{INDEX_NAME}_{generation}.toc").write_bytes(data)  # last: now it is an index
        return generation, data, toc
    raise BackupError(f"{source}: the index changed during each of {ATTEMPTS} attempts to copy it; "
                      "try again when the ingest has finished")


def _copy_tree(source: Path, target: Path, skip_hidden: bool = True) -> int:
    """Every file under source not yet in target (hidden files: locks and temporary files, left out)."""
    count = 0
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not (skip_hidden and d.startswith("."))]
        for name in files:
            if skip_hidden and name.startswith("."):
                continue
            src = Path(folder) / name
            dst = target / src.relative_to(source)
            if dst.exists():
                continue
            try:
                _copy_file(src, dst)
            except FileNotFoundError:  # removed meanwhile (a temporary upload, say)
                continue
            count += 1
    return count


def _copy_appended(source: Path, target: Path) -> None:
    """An append-only log up to its last whole line (a line being written is left for next time)."""
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        data = path.read_bytes()
        cut = data.rfind(b"\n") + 1
        dst = target / path.relative_to(source)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data[:cut])


def _documents(folder: Path) -> list[dict]:
    """Every live document's stored fields but the text; read by Whoosh alone for an index of an
    older format (which this version's knowledge base refuses, but which is still worth a backup)."""
    from kb.schema import IndexOutdated
    from kb.search import KnowledgeBase

    try:
        return list(KnowledgeBase(folder).documents())
    except IndexOutdated:
        from whoosh import index as whoosh_index

        ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME, readonly=True)
        with ix.searcher() as searcher:
            return [{k: v for k, v in fields.items() if k != "text"} for fields in searcher.all_stored_fields()]


def _copy_originals(source: Path, staging: Path, report: Report) -> None:
    from kb.index import OriginalsStore

    if (source / "originals").is_dir():
        report.originals = _copy_tree(source / "originals", staging / "originals")
    have, store, src_store = 0, OriginalsStore.beside(staging), OriginalsStore.beside(source)
    for stored in _documents(staging):
        sha, suffix = stored.get("sha"), Path(stored.get("path") or "").suffix
        if not sha:
            continue
        try:
            if store.get(sha, suffix):
                have += 1
                continue
        except ValueError:
            continue
        found = src_store.get(sha, suffix)
        if found:  # written after the walk passed its folder
            _copy_file(found, store.path_for(sha, suffix))
            report.originals += 1
        else:
            report.originals_missing.append(stored.get("id") or stored.get("path"))


def _copy_stores(source: Path, staging: Path, report: Report) -> None:
    for name in STORES:
        if not (source / name).is_dir():
            continue
        if name == "audit":
            _copy_appended(source / name, staging / name)
        else:
            _copy_tree(source / name, staging / name)
        report.stores.append(name)


# --- checking ------------------------------------------------------------------------------------


def verify(folder: Path, expected_documents: int | None = None) -> tuple[int, int, bool]:
    """(generation, documents, outdated) of the index in ``folder``, opened by Whoosh and by the
    knowledge base (by Whoosh alone when it is of an older format: ``outdated``); BackupError when
    it does not open or the counts disagree."""
    from whoosh import index as whoosh_index

    from kb.schema import IndexOutdated
    from kb.search import KnowledgeBase

    folder = Path(folder)
    outdated = False
    try:
        ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME, readonly=True)
        with ix.searcher() as searcher:
            whoosh_count = searcher.doc_count()
        generation = ix.latest_generation()
        try:
            kb_count = KnowledgeBase(folder).count()
        except IndexOutdated:
            kb_count, outdated = whoosh_count, True
    except BackupError:
        raise
    except Exception as exc:  # noqa: BLE001 (any failure to open is the answer)
        raise BackupError(f"{folder}: the copy does not open as an index ({type(exc).__name__}: {exc})") from None
    if whoosh_count != kb_count:
        raise BackupError(f"{folder}: Whoosh counts {whoosh_count} documents, the knowledge base {kb_count}")
    if expected_documents is not None and kb_count != expected_documents:
        raise BackupError(f"{folder}: {kb_count} documents in the copy, {expected_documents} in the source's "
                          f"generation {generation}")
    return generation, kb_count, outdated


# --- the two commands ----------------------------------------------------------------------------


def _staging_for(target: Path) -> Path:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not empty; name a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)  # user accounts and audit trails inside: the owner only
    return staging


def _put_in_place(staging: Path, target: Path) -> None:
    if target.is_dir():
        target.rmdir()  # empty, checked before
    os.replace(staging, target)


def backup(index_dir: str | os.PathLike, target: str | os.PathLike) -> Report:
    """Copy the index in ``index_dir`` (its newest generation), its originals and stores to
    ``target`` (a new or empty folder), consistently even while an ingest commits."""
    source, target = Path(index_dir), Path(target)
    started = time.monotonic()
    if not _generations(source):
        raise BackupError(f"no index in {source} (nothing committed yet)")
    if target.resolve().is_relative_to(source.resolve()):
        raise BackupError(f"{target} is inside the index folder {source}; back up to another folder")
    report = Report(target)
    staging = _staging_for(target)
    try:
        generation, _, toc = _copy_index(source, staging, report)
        report.generation, report.segments = generation, len(toc.segments)
        _copy_originals(source, staging, report)
        _copy_stores(source, staging, report)
        _, report.documents, report.outdated = verify(staging, _live_count(toc))
        _put_in_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.seconds = time.monotonic() - started
    return report


def restore(backup_dir: str | os.PathLike, index_dir: str | os.PathLike) -> Report:
    """Put a backup made by :func:`backup` in place as the index folder ``index_dir`` (which must not
    hold an index: move the old one away first)."""
    from kb import index as kbindex

    source, target = Path(backup_dir), Path(index_dir)
    started = time.monotonic()
    generation, documents, outdated = verify(source)
    if kbindex.begun(target):
        raise BackupError(f"{target} holds an index already; move it away first (or restore into a new folder)")
    report = Report(target, generation=generation, documents=documents, attempts=1, outdated=outdated)
    staging = _staging_for(target)
    try:
        newest = _newest_toc(source)
        report.segments = len(newest[2].segments) if newest else 0
        for path in sorted(source.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                _copy_file(path, staging / path.name)
                report.index_files += 1
                report.index_bytes += path.stat().st_size
        if (source / "originals").is_dir():
            report.originals = _copy_tree(source / "originals", staging / "originals")
        for name in STORES:
            if (source / name).is_dir():
                _copy_tree(source / name, staging / name)
                report.stores.append(name)
        verify(staging, documents)
        _put_in_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.seconds = time.monotonic() - started
    return report
