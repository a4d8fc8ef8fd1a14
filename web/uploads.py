"""Uploads go through the same ingest path as files on disk, into a folder beside the index."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flask import abort, current_app

from kb import meta

if TYPE_CHECKING:  # the module itself is imported on the first upload (see ingest_uploads)
    from kb.ingest import FileResult

_UNSAFE = re.compile(r"[^\w.\-()（）\u3000-\u303f\u4e00-\u9fff]+")


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

    @property
    def ok(self) -> bool:
        return not self.error and all(r.status not in ("failed",) for r in self.results)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "error": self.error,
                "files": [{"file": Path(r.path).name, "status": r.status, "message": r.message, "id": r.doc_id}
                          for r in self.results]}


def ingest_uploads(files, form) -> Outcome:
    """Save the uploaded files under <index>/uploads/ and ingest them (one batch, its own lock)."""
    files = [f for f in files if f and f.filename]
    if not files:
        return Outcome(error="没有选择文件。(no file)")
    if len(files) > current_app.config["UPLOAD_MAX_FILES"]:
        abort(413)
    try:
        given = meta.normalize_given({k: form.get(k) for k in ("year", "counties", "sectors") if form.get(k)}, "upload form")
    except ValueError as exc:
        return Outcome(error=str(exc))
    kb = current_app.extensions["kb"]
    folder = Path(kb.index_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for storage in files:
        target = folder / safe_name(storage.filename)
        if target.resolve().parent != folder.resolve():  # paths from users never leave their root
            abort(400, description="文件名不合法。(bad file name)")
        storage.save(target)
        saved.append(target)
    from kb.ingest import Ingest  # here, not at import: the readers (PDF, Word, HTML) cost 0.3 s of start-up

    summary = Ingest(Path(kb.index_dir), batch_meta=given, jobs=1, report=lambda line: None, lock_timeout=30).run(saved)
    return Outcome(results=summary.results)
