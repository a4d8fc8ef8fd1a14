"""Staff corrections of metadata: a small store kept with the index (``<index>/corrections/``).

A correction is user metadata that wins over extraction and over what a file's sidecar, manifest
or flags say; it survives ``reextract`` and re-ingesting the file (the pipeline applies it to
every new version of the document), until it is unset. One JSON file, rewritten atomically
(temporary file + rename) under an exclusive file lock, so two editors never lose each other's
changes; a backup of the index folder carries it along.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

FOLDER = "corrections"
FILE = "corrections.json"


class CorrectionStore:
    def __init__(self, index_dir: str | os.PathLike):
        self.folder = Path(index_dir) / FOLDER
        self.path = self.folder / FILE

    def all(self) -> dict[str, dict]:
        """``{doc_id: {field: value}}``; empty when nothing was ever corrected."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.path}: unreadable corrections store ({exc}); restore it from a backup") from None
        return data if isinstance(data, dict) else {}

    def get(self, doc_id: str) -> dict:
        return dict(self.all().get(doc_id) or {})

    @contextmanager
    def _locked(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, data: dict) -> None:
        tmp = self.path.with_name(f".{FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def update(self, doc_id: str, set_fields: dict | None = None, unset: list[str] | tuple = ()) -> dict:
        """Set and unset fields of one document's corrections; returns what it holds now."""
        with self._locked():
            data = self.all()
            fields = dict(data.get(doc_id) or {})
            fields.update(set_fields or {})
            for name in unset:
                fields.pop(name, None)
            if fields:
                data[doc_id] = fields
            else:
                data.pop(doc_id, None)
            self._write(data)
            return fields

    def forget(self, doc_ids: list[str]) -> None:
        """Drop the corrections of removed documents."""
        with self._locked():
            data = self.all()
            if any(d in data for d in doc_ids):
                for doc_id in doc_ids:
                    data.pop(doc_id, None)
                self._write(data)
