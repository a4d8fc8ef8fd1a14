"""The ingest pipeline: paths -> documents -> index, incremental, de-duplicated, crash-safe.

Per file: read bytes, hash them, skip if unchanged (same content and same user metadata) or a
duplicate of another stored file; otherwise read -> clean -> metadata -> analysis in a worker
process, then add to the index in this process and keep a copy of the original. Commits come in
batches: a crash loses at most the batch in flight, never what was committed before it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kb import index as kbindex
from kb import versions
from kb import meta as kbmeta
from kb.config import MAX_FILE_BYTES
from kb.errors import FileProblem, KBError, UnsupportedFormat
from kb.pipeline import prepare, prepare_or_error
from kb.corrections import CorrectionStore
from kb.maintain import reextract, remove  # noqa: F401  (part of this module's interface)
from kb.read import ARCHIVE_SUFFIXES, is_supported, iter_files, unsupported_reason
from kb.read.text import content_key
from kb.read.walk import HIDDEN
from kb.segments import SegmentWorkers, progress_bar
from kb.usermeta import SIDECAR_SUFFIX, load_manifest, load_sidecar, sidecar_for  # noqa: F401

STATUSES = ("added", "updated", "unchanged", "duplicate", "skipped", "failed")
COMMIT_EVERY_DOCS = int(os.environ.get("KB_COMMIT_EVERY_DOCS", 5000))  # a commit at least this often
COMMIT_EVERY_SECONDS = float(os.environ.get("KB_COMMIT_EVERY_SECONDS", 120))  # ... and this often
# Postings and positions held in memory before a segment is written (~10 bytes each, as arrays):
# bounds ingest memory (kb.writer.ArrayPool).
COMMIT_EVERY_POSTINGS = 12_000_000
_USER_OCR_CACHE = os.environ.get("KB_OCR_CACHE")  # set by the user: wins over <index>/ocr-cache
# Below this many files, worker start-up costs more than it saves.
PARALLEL_MIN_FILES = 24


@dataclass
class FileResult:
    path: str
    status: str
    message: str = ""
    doc_id: str | None = None


@dataclass
class Summary:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    bytes_indexed: int = 0
    hidden: int = 0  # hidden files and folders (.name) inside the given folders, not read
    # where the run's time went: (what was done by then, seconds since the start), in order
    phases: list[tuple[str, float]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in STATUSES}

    @property
    def exit_code(self) -> int:
        return 1 if self.count("failed") else 0

    def line(self) -> str:
        parts = ", ".join(f"{n} {status}" for status, n in self.counts.items())
        hidden = f", {self.hidden} hidden entries not read" if self.hidden else ""
        return f"{parts}{hidden} in {self.seconds:.1f} s"


# --- the batch ----------------------------------------------------------------------------------


class Ingest:
    """One ingest run into one index. ``run`` returns a Summary; it never raises for a bad file."""

    def __init__(self, index_dir: Path, batch_meta: dict | None = None, manifest: dict | None = None,
                 jobs: int | None = None, report=None, progress: bool = False, lock_timeout: float | None = None,
                 tables: bool = False, manifest_files: tuple = ()):
        self.index_dir = Path(index_dir)
        self.batch_meta = batch_meta or {}
        self.manifest = manifest or {}
        self.jobs = jobs or os.cpu_count() or 1
        self.report = report or (lambda line: print(line, file=sys.stderr))
        self.progress = progress
        self.lock_timeout = lock_timeout
        self.tables = tables  # spreadsheets and .csv/.tsv files are documents too
        self.manifest_files = tuple(manifest_files)  # metadata for this run, not documents
        self.summary = Summary()
        self.store = kbindex.OriginalsStore.beside(self.index_dir)
        self.corrections = CorrectionStore(self.index_dir).all()
        self._tops: list[Path] = []
        self._top_order: dict[Path, int] = {}  # each top's first place in _tops (shown_path)

    def _phase(self, done: str) -> None:
        self.summary.phases.append((done, time.monotonic() - self._started))

    def _note(self, path, status: str, message: str = "", doc_id: str | None = None):
        self.summary.results.append(FileResult(str(path), status, message, doc_id))
        if status in ("failed", "skipped", "duplicate"):
            self.report(f"{status}: {path}: {message}" if message else f"{status}: {path}")

    def _given(self, path: Path) -> dict:
        return kbmeta.merge(self.batch_meta, self.manifest.get(str(path), {}), load_sidecar(path))

    def run(self, paths: list[str | os.PathLike]) -> Summary:
        self._started = time.monotonic()
        files = []
        self._tops = [Path(p).absolute() for p in paths]
        for path, problem in iter_files([Path(p) for p in paths]):
            if problem == HIDDEN:
                self.summary.hidden += 1
            elif problem:
                self._note(path, "failed", problem)
            elif not self._is_metadata_file(path):
                files.append(path)
        self._phase("files listed")
        ix = kbindex.open_index(self.index_dir, create=True, lock_timeout=self.lock_timeout)
        bar = progress_bar(total=len(files), unit="file", disable=not self.progress, file=sys.stderr, leave=False)
        report = self.report
        if self.progress:  # messages go above the bar, not through it
            self.report = lambda line: bar.write(line, file=sys.stderr)
        try:
            self._index(ix, files, bar)
        finally:
            bar.close()
            self.report = report
        if self.summary.count("added") or self.summary.count("updated"):  # their versions, found now (kb.versions)
            versions.refresh_after_ingest(self.index_dir, self.report)
            self._phase("versions found")
        self.summary.seconds = time.monotonic() - self._started
        return self.summary

    def _is_metadata_file(self, path: Path) -> bool:
        """The manifest of this run is metadata, not a document (sidecars never reach here)."""
        return any(path.absolute() == Path(m).absolute() for m in self.manifest_files)

    def shown_path(self, path: Path) -> str:
        """The path as users see it: from the folder that was ingested (``samples/报告/a.txt``), or
        the file's name when it was given on its own; never the server's full path."""
        archive, sep, member = str(path).partition("!/")
        if sep:
            return f"{self.shown_path(Path(archive))}!/{member}"
        absolute = path.absolute()
        if self._top_order.get(None) is not self._tops:  # the first given top that is, or holds, the file
            self._top_order = {None: self._tops}
            for i, top in enumerate(self._tops):
                self._top_order.setdefault(top, i)
        found = [(self._top_order[p], p) for p in (absolute, *absolute.parents) if p in self._top_order]
        if not found:
            return path.name
        top = min(found, key=lambda pair: pair[0])[1]
        return path.name if top == absolute else str(Path(top.name) / absolute.relative_to(top))

    def _units(self, files, bar):
        """What there is to index: ``(shown name, source, data, (size, mtime), given)`` for each
        readable file, and for each member of an archive (``archive.zip!/dir/a.docx``); files that
        cannot be read are noted here."""
        for path in files:
            suffix = path.suffix.lower()
            if not is_supported(suffix, self.tables) and suffix not in ARCHIVE_SUFFIXES:
                self._note(path, "skipped", unsupported_reason(suffix, self.tables))  # never read what we cannot index
                bar.update(1)
                continue
            try:
                st = path.stat()
                if st.st_size > MAX_FILE_BYTES:
                    raise ValueError(f"file too large ({st.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
                if st.st_size == 0:
                    raise ValueError("empty file")
                given = self._given(path)
                data = path.read_bytes()
            except ValueError as exc:
                self._note(path, "failed", str(exc))
                bar.update(1)
                continue
            except OSError as exc:
                self._note(path, "failed", f"cannot read ({exc.strerror or exc})")
                bar.update(1)
                continue
            source = str(path.resolve())
            if suffix not in ARCHIVE_SUFFIXES:
                yield path, source, data, (st.st_size, st.st_mtime), given
                continue
            yield from self._members(path, source, data, st.st_mtime, given, bar)

    def _members(self, path: Path, source: str, data: bytes, mtime: float, given: dict, bar):
        """An archive's members, walked like a folder (its sidecar's metadata applies to all)."""
        from kb.read.archive import members

        problems: list[str] = []
        count = 0
        try:
            for name, member in members(path, data, problems):
                member_path = Path(f"{path}!/{name}")
                count += 1
                bar.total += 1
                if not is_supported(member_path.suffix.lower(), self.tables):
                    self._note(member_path, "skipped", unsupported_reason(member_path.suffix.lower(), self.tables))
                    bar.update(1)
                elif not member:
                    self._note(member_path, "failed", "empty file")
                    bar.update(1)
                else:
                    yield member_path, f"{source}!/{name}", member, (len(member), mtime), given
        except FileProblem as exc:
            status = "skipped" if isinstance(exc, UnsupportedFormat) else "failed"
            self._note(path, status, exc.cause)
        else:
            for problem in problems:
                self._note(f"{path}!/{problem}", "skipped", "left out of the archive")
            if not count and not problems:
                self._note(path, "skipped", "an archive with no files in it")
        bar.update(1)

    def _candidates(self, searcher, files, bar):
        """Yield work for the files that need it; note unchanged, duplicates and unreadable files."""
        seen_sha: dict[str, str] = {}
        seen_text: dict[str, str] = {}
        for path, source, data, stat, given in self._units(files, bar):
            sha = hashlib.sha256(data).hexdigest()
            doc_id = kbindex.doc_id_for(source)
            stored = searcher.document(id=doc_id)
            if stored and stored.get("sha") == sha and stored.get("meta", {}).get("given") == given:
                self._note(path, "unchanged", doc_id=doc_id)
                bar.update(1)
                continue
            twin = seen_sha.get(sha) or _path_of(searcher.document(sha=sha))
            if twin and twin != source:
                self._note(path, "duplicate", f"same content as {twin}")
                bar.update(1)
                continue
            seen_sha[sha] = source
            text_key = content_key(path, data)
            twin = text_key and (seen_text.get(text_key) or _path_of(searcher.document(content=text_key)))
            if twin and twin != source:
                self._note(path, "duplicate", f"same text as {twin} (saved in another encoding)")
                bar.update(1)
                continue
            if text_key:
                seen_text[text_key] = source
            options = {"shown_path": self.shown_path(path), "tables": self.tables, "content": text_key,
                       "corrected": self.corrections.get(doc_id) or {}}
            yield (source, data, given, stat, options), bool(stored)

    def _ocr_settings(self, bar) -> None:
        """OCR results cached beside the index (re-ingest costs a hash), one OCR thread per worker
        process (two workers on two cores), and OCR'd pages shown on the progress bar. Worker
        processes inherit the environment."""
        cache = _USER_OCR_CACHE or str(self.index_dir / "ocr-cache")
        os.environ["KB_OCR_CACHE"] = cache
        if self.jobs > 1:
            os.environ.setdefault("KB_OCR_THREADS", "1")
        from kb.read import ocr

        ocr.set_cache_dir(cache)
        ocr.set_progress(lambda path, done, total: bar.set_postfix_str(f"OCR {Path(str(path)).name} {done}/{total} 页",
                                                                        refresh=True))

    def _index(self, ix, files, bar):
        self._ocr_settings(bar)
        with ix.searcher() as searcher:
            work = self._candidates(searcher, files, bar)
            first = list(itertools.islice(work, PARALLEL_MIN_FILES))
            if not first:
                return  # nothing new or changed: do not even take the lock
            work = itertools.chain(first, work)
            if self.jobs > 1 and len(first) >= PARALLEL_MIN_FILES:
                self._index_parallel(ix, work, bar)
            else:
                self._index_serial(ix, work, bar)

    def _done(self, args, existed: bool, doc_id: str | None, error, warnings=()) -> bool:
        """Note one file's outcome (and what its reader warned about, naming the file); True if it
        was indexed."""
        source = args[0]
        if error is not None:
            status = "skipped" if isinstance(error, UnsupportedFormat) else "failed"
            self._note(source, status, error.cause)
            return False
        for warning in warnings:
            self.report(f"warning: {source}: {warning}")
        self._note(source, "updated" if existed else "added", doc_id=doc_id)
        self.summary.bytes_indexed += len(args[1])
        return True

    def _index_serial(self, ix, work, bar):
        """Small batches: everything in this process."""
        writer = kbindex.writer(ix, timeout=self.lock_timeout)
        with _without_cyclic_gc():
            self._serial(ix, writer, work, bar)

    def _serial(self, ix, writer, work, bar):
        try:
            pending = 0
            for args, existed in work:
                fields, error = prepare_or_error(args)
                bar.update(1)
                if error is None:
                    self.store.put(fields["sha"], Path(args[0]).suffix, args[1])
                    writer.update_document(**fields)
                warnings = fields["meta"].get("warnings") or [] if fields else []
                if self._done(args, existed, fields and fields["id"], error, warnings):
                    pending += 1
                if pending >= COMMIT_EVERY_DOCS or writer.items >= COMMIT_EVERY_POSTINGS:
                    writer.commit()
                    writer = kbindex.writer(ix, timeout=self.lock_timeout)
                    pending = 0
            self._phase("documents analysed")
            if pending:
                writer.commit()
                self._phase("committed (segment written, merges done)")
            else:
                writer.cancel()  # nothing changed: leave the index exactly as it was
        except BaseException:
            writer.cancel()
            raise

    def _index_parallel(self, ix, work, bar):
        """Big batches: worker processes analyse and write segments; this process commits them."""
        jobs: dict[int, tuple] = {}

        def finish_one():
            seq, doc_id, error, warnings = team.next_result()
            if self.summary.phases[-1][0] == "workers started":
                self._phase("first document back")
            args, existed = jobs.pop(seq)
            bar.update(1)
            if self._done(args, existed, doc_id, error, warnings) and existed:
                writer.delete_by_term("id", doc_id)  # the old version goes only once the new one is in

        # the workers start before the lock is taken: a forked worker must not hold it
        with SegmentWorkers(self.index_dir, self.jobs, COMMIT_EVERY_POSTINGS) as team:
            self._phase("workers started")
            writer = kbindex.writer(ix, timeout=self.lock_timeout)  # holds the lock; deletes old versions
            try:
                since_commit = 0
                last_commit = time.monotonic()
                for seq, (args, existed) in enumerate(work):
                    while not team.has_room():
                        finish_one()
                    team.submit(seq, args)
                    jobs[seq] = (args, existed)
                    since_commit += 1
                    if since_commit >= COMMIT_EVERY_DOCS or time.monotonic() - last_commit > COMMIT_EVERY_SECONDS:
                        while team.pending():
                            finish_one()
                        # no merging mid-run: the workers wait for this commit
                        writer.commit_segments(team.collect_segments(), merge=False)
                        last_commit = time.monotonic()
                        writer = kbindex.writer(ix, timeout=self.lock_timeout)
                        since_commit = 0
                while team.pending():
                    finish_one()
                self._phase("documents analysed")
                segments = team.collect_segments()
                self._phase("segments written")
                if segments:  # no new segment means nothing was indexed, so nothing was deleted
                    writer.commit_segments(segments)
                    self._phase("committed (segments merged)")
                else:
                    writer.cancel()
            except BaseException:
                if not writer.is_closed:
                    writer.cancel()
                raise


@contextlib.contextmanager
def _without_cyclic_gc():
    """The cyclic collector would walk the growing posting pool again and again; what ingest
    builds is acyclic, so collect once at the end instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def _path_of(stored: dict | None) -> str | None:
    return stored.get("path") if stored else None


__all__ = ["Ingest", "Summary", "FileResult", "load_manifest", "load_sidecar", "remove", "reextract", "prepare",
           "KBError"]
