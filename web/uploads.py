"""Uploads go through the same ingest path as files on disk, into a folder beside the index.

Every upload gets a folder of its own (``<index>/uploads/<time>-<random>/``), so two files of one
name — in one request or in two — are two documents, never one replacing the other (identical
content is reported as a duplicate, as on disk). The request tries the index lock without
waiting: when another ingest holds it, the batch is queued for a background worker and the
answer is ``202 Accepted`` with a status URL, so no server thread waits on the lock. Files that
were skipped, failed or duplicated are removed again.
"""

from __future__ import annotations

import queue
import re
import secrets
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flask import abort, current_app

from kb.errors import IndexLocked

if TYPE_CHECKING:  # the module itself is imported on the first upload (see ingest_uploads)
    from kb.ingest import FileResult

_UNSAFE = re.compile(r"[^\w.\-()（）\u3000-\u303f\u4e00-\u9fff]+")
KEPT = ("added", "updated", "unchanged")
QUEUED_LOCK_TIMEOUT = 3600.0  # a queued batch waits this long for the other ingest
MAX_JOBS_KEPT = 200


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder: no separators, no dot-dot, no control characters;
    Chinese characters kept (werkzeug's secure_filename would drop them)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", name).strip("._ ")
    return name[:120] or "upload"


@dataclass
class Outcome:
    results: list[FileResult] = field(default_factory=list)
    error: str | None = None
    job: str | None = None  # queued: the job to ask about

    @property
    def ok(self) -> bool:
        return not self.error and all(r.status not in ("failed",) for r in self.results)

    def to_dict(self) -> dict:
        data = {"ok": self.ok, "error": self.error,
                "files": [{"file": Path(r.path).name, "status": r.status, "message": r.message, "id": r.doc_id}
                          for r in self.results]}
        if self.job:
            data.update(status="queued", job=self.job)
        return data


@dataclass
class Job:
    id: str
    files: list[Path]
    given: dict
    user: str | None
    status: str = "queued"  # queued | running | done | failed
    created: float = field(default_factory=time.time)
    results: list = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return {"job": self.id, "status": self.status, "error": self.error, "created": self.created,
                "files": [{"file": Path(r.path).name, "status": r.status, "message": r.message, "id": r.doc_id}
                          for r in self.results]}


class UploadQueue:
    """Batches that found the index busy, ingested one after another by one background thread."""

    def __init__(self, index_dir: Path, on_done=None):
        self.index_dir = index_dir
        self.on_done = on_done
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, files: list[Path], given: dict, user: str | None) -> Job:
        job = Job(secrets.token_hex(8), files, given, user)
        with self._lock:
            self.jobs[job.id] = job
            while len(self.jobs) > MAX_JOBS_KEPT:
                oldest = next(iter(self.jobs))
                if self.jobs[oldest].status in ("queued", "running"):
                    break
                self.jobs.pop(oldest)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="kb-upload-queue", daemon=True)
                self._thread.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def _work(self):
        while True:
            job = self._queue.get()
            job.status = "running"
            try:
                job.results = _ingest(self.index_dir, job.files, job.given, QUEUED_LOCK_TIMEOUT)
                job.status = "done"
            except Exception as exc:  # the queue must go on; the job says what happened
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            if self.on_done:
                self.on_done(job)


def _ingest(index_dir: Path, files: list[Path], given: dict, lock_timeout: float) -> list:
    from kb.ingest import Ingest  # here, not at import: the readers cost start-up time

    summary = Ingest(index_dir, batch_meta=given, jobs=1, report=lambda line: None, lock_timeout=lock_timeout).run(files)
    _remove_rejected(summary.results)
    return summary.results


def _remove_rejected(results) -> None:
    """Uploaded files that were not stored (skipped, failed, duplicate) leave no trace on disk."""
    for result in results:
        if result.status not in KEPT:
            path = Path(result.path.partition("!/")[0])
            try:
                path.unlink()
            except OSError:
                continue
            try:
                path.parent.rmdir()  # the upload's own folder, when it is now empty
            except OSError:
                pass


def upload_queue(app) -> UploadQueue:
    queue_ = app.extensions.get("upload_queue")
    if queue_ is None:
        from web import audit

        def done(job: Job):
            with app.app_context():
                audit.record("upload", user=job.user, job=job.id, queued=True,
                             files={Path(r.path).name: r.status for r in job.results}, error=job.error)

        queue_ = app.extensions["upload_queue"] = UploadQueue(Path(app.extensions["kb"].index_dir), done)
    return queue_


def ingest_uploads(files, form, user: str | None = None) -> Outcome:
    """Save the uploaded files, each in a folder of its own under <index>/uploads/, and ingest them
    (one batch, its own lock); a busy index queues the batch."""
    from kb import meta  # here, not at import: its patterns cost ~70 ms of every server start

    files = [f for f in files if f and f.filename]
    if not files:
        return Outcome(error="没有选择文件。(no file)")
    limit = current_app.config["UPLOAD_MAX_FILES"]
    if len(files) > limit:
        abort(413, description=f"一次最多上传 {limit} 个文件，这次有 {len(files)} 个。(too many files: the limit is {limit})")
    try:
        given = meta.normalize_given({k: form.get(k) for k in ("year", "counties", "sectors", "access")
                                      if form.get(k)}, "upload form")
    except ValueError as exc:
        return Outcome(error=str(exc))
    index_dir = Path(current_app.extensions["kb"].index_dir)
    root = index_dir / "uploads"
    saved = []
    for storage in files:
        folder = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe_name(storage.filename)
        if target.resolve().parent != folder.resolve():  # paths from users never leave their root
            shutil.rmtree(folder, ignore_errors=True)
            abort(400, description="文件名不合法。(bad file name)")
        storage.save(target)
        saved.append(target)
    try:
        return Outcome(results=_ingest(index_dir, saved, given, lock_timeout=0))
    except IndexLocked:
        job = upload_queue(current_app._get_current_object()).submit(saved, given, user)
        return Outcome(job=job.id)
