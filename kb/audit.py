"""The audit trail: one JSON line per login, failed login, search, document view, original
download, upload, metadata or access change and user change.

Daily files in ``<index>/audit/YYYY-MM-DD.jsonl``, or one file named by the ``audit_log``
setting (``KB_AUDIT_LOG``). Lines are appended whole (one ``write`` of a line under a lock, in
append mode), so concurrent writers never interleave. ``kb audit`` reads them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

ACTIONS = ("login", "login_failed", "logout", "search", "view", "download", "upload", "metadata", "access",
           "user")
FOLDER = "audit"
_LOCK = threading.Lock()


class AuditLog:
    def __init__(self, index_dir: str | os.PathLike, path: str | os.PathLike | None = None):
        self.folder = Path(index_dir) / FOLDER
        self.single = Path(path) if path else None

    def _file(self, when: datetime) -> Path:
        if self.single:
            return self.single
        return self.folder / f"{when:%Y-%m-%d}.jsonl"

    def write(self, action: str, user: str | None, **details) -> None:
        when = datetime.now(timezone.utc)
        entry = {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "action": action, "user": user or "-", **details}
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        target = self._file(when)
        with _LOCK:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a", encoding="utf-8") as f:
                f.write(line)

    def files(self) -> list[Path]:
        if self.single:
            return [self.single] if self.single.exists() else []
        return sorted(self.folder.glob("*.jsonl")) if self.folder.exists() else []

    def entries(self, user: str | None = None, since: date | None = None, action: str | None = None) -> Iterator[dict]:
        """Entries oldest first, filtered; unreadable lines are skipped (a crash mid-line)."""
        for path in self.files():
            if since and not self.single:
                try:
                    if date.fromisoformat(path.stem) < since:
                        continue
                except ValueError:
                    pass
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if user and entry.get("user") != user:
                        continue
                    if action and entry.get("action") != action:
                        continue
                    if since and entry.get("time", "")[:10] < since.isoformat():
                        continue
                    yield entry

    def last(self, count: int = 100) -> list[dict]:
        entries: list[dict] = []
        for path in reversed(self.files()):
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.readlines()
            for line in reversed(lines):
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
                if len(entries) >= count:
                    return entries
        return entries
