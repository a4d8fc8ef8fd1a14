"""Uploads go through the same ingest path as files on disk, into a folder beside the index.

Every upload gets a folder of its own (``<index>/uploads/<time>-<random>/``), so two files of one
name — in one request or in two — are two documents, never one replacing the other (identical
content is reported as a duplicate, as on disk). The batch is ingested by a background thread,
never by the request's own: a scan can take minutes of OCR, and a server thread held that long
stops every connection its process serves (the server runs one thread per process by default).
The request waits up to ``UPLOAD_WAIT_SECONDS`` for the result and answers with it; a batch that
takes longer (or finds another ingest holding the index) is answered ``202 Accepted`` with a status
URL; that job's state is kept in ``<index>/uploads/jobs/<id>.json``, so whichever server process
is asked about it can answer. Files that were skipped, failed or duplicated are removed again.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from flask import abort, current_app

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


@dataclass(frozen=True)
class Stored:
    """What happened to one uploaded file (a ``kb.ingest.FileResult``, as kept in a job's file)."""

    path: str
    status: str
    message: str = ""
    doc_id: str | None = None

    def to_dict(self) -> dict:
        return {"file": Path(self.path).name, "status": self.status, "message": self.message, "id": self.doc_id}


@dataclass
class Outcome:
    results: list[Stored] = field(default_factory=list)
    error: str | None = None
    job: str | None = None  # still running (or waiting for the index): the job to ask about

    @property
    def ok(self) -> bool:
        return not self.error and all(r.status not in ("failed",) for r in self.results)

    def to_dict(self) -> dict:
        data = {"ok": self.ok, "error": self.error, "files": [r.to_dict() for r in self.results]}
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
    results: list[Stored] = field(default_factory=list)
    error: str | None = None
    detached: bool = False  # its request answered before it ended: the queue audits it when it does
    pid: int = field(default_factory=os.getpid)  # the server process that ingests it
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_dict(self) -> dict:
        return {"job": self.id, "status": self.status, "error": self.error, "created": self.created,
                "files": [r.to_dict() for r in self.results]}

    @classmethod
    def from_dict(cls, data: dict) -> "Job":
        job = cls(data["job"], [], {}, data.get("user"), data["status"], data.get("created", 0.0),
                  [Stored(f["path"], f["status"], f.get("message", ""), f.get("id")) for f in data.get("files", [])],
                  data.get("error"), pid=int(data.get("pid") or 0))
        if job.status in ("queued", "running") and not _alive(job.pid):
            # its server stopped before the batch ended: say so, or its page would wait forever
            job.status = "failed"
            job.error = "服务器在入库完成前停止了：文件已保存，请重新上传。(the server stopped before this upload was ingested; upload it again)"
        return job


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


_JOB_ID = re.compile(r"[0-9a-f]{16}")


class UploadQueue:
    """Upload batches, ingested one after another by one background thread. A job its request
    stopped waiting for is written to ``<index>/uploads/jobs/`` as it changes (another server
    process may be asked about it)."""

    def __init__(self, index_dir: Path, on_done=None):
        self.index_dir = index_dir
        self.jobs_dir = index_dir / "uploads" / "jobs"
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
        """A job of this process, or one another server process wrote down (None: no such job)."""
        if job_id in self.jobs:
            return self.jobs[job_id]
        if not _JOB_ID.fullmatch(job_id or ""):  # the id names a file: nothing else may reach the disk
            return None
        try:
            return Job.from_dict(json.loads((self.jobs_dir / f"{job_id}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def wait(self, job: Job, seconds: float) -> bool:
        """Wait up to ``seconds`` for the job; True when it ended and the caller reports it, False
        when it goes on (the queue then reports it when it ends)."""
        job.finished.wait(seconds)
        with job.lock:
            if job.status in ("done", "failed"):
                return True
            job.detached = True
            self._save(job)
            return False

    def _work(self):
        while True:
            job = self._queue.get()
            with job.lock:
                job.status = "running"
                self._save(job)
            try:
                results = [Stored(r.path, r.status, r.message, r.doc_id)
                           for r in _ingest(self.index_dir, job.files, job.given, QUEUED_LOCK_TIMEOUT)]
                status, error = "done", None
            except Exception as exc:  # the queue must go on; the job says what happened
                results, status, error = [], "failed", f"{type(exc).__name__}: {exc}"
            with job.lock:
                job.results, job.status, job.error = results, status, error
                detached = job.detached
                self._save(job)
            job.finished.set()
            if detached and self.on_done:
                self.on_done(job)

    def _save(self, job: Job) -> None:
        """A job its request did not wait for: its state in its file (under ``job.lock``), replaced
        whole (a reader never sees half of it); the oldest files beyond MAX_JOBS_KEPT are removed.
        A full disk loses only the other processes' view."""
        if not job.detached:
            return
        data = dict(job.to_dict(), user=job.user, pid=job.pid)
        data["files"] = [dict(r.to_dict(), path=r.path) for r in job.results]
        try:
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.jobs_dir / f".{job.id}.{threading.get_ident()}.tmp"
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.jobs_dir / f"{job.id}.json")
            if job.status in ("done", "failed"):
                kept = sorted(self.jobs_dir.glob("*.json"), key=lambda f: f.stat().st_mtime)
                for old in kept[:-MAX_JOBS_KEPT]:
                    old.unlink(missing_ok=True)
        except OSError:
            pass


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
    """Save the uploaded files, each in a folder of its own under <index>/uploads/, and queue them
    as one batch; the answer is the batch's results when they come within UPLOAD_WAIT_SECONDS,
    else the job to ask about."""
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
    jobs = upload_queue(current_app._get_current_object())
    job = jobs.submit(saved, given, user)
    if not jobs.wait(job, current_app.config["UPLOAD_WAIT_SECONDS"]):
        return Outcome(job=job.id)
    return Outcome(results=job.results, error=job.error)
