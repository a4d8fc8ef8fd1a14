"""Metadata users give: manifests (CSV or JSON lines) and sidecars (``NAME.meta.json``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from kb import meta as kbmeta
from kb.read.walk import SIDECAR_SUFFIX

def load_manifest(path: Path) -> dict[str, dict]:
    """A manifest: CSV with a ``path`` column, or JSON lines with a ``path`` key; list fields in CSV
    are ``;``-separated. Paths are relative to the manifest's folder. Keyed by resolved path."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    rows: list[dict] = []
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    entries: dict[str, dict] = {}
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not row.get("path"):
            raise ValueError(f"{path}: entry {number} has no path")
        target = (path.parent / str(row["path"])).resolve()
        entries[str(target)] = kbmeta.normalize_given(row, f"{path} entry {number}")
    return entries


def sidecar_for(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def load_sidecar(path: Path) -> dict:
    sidecar = sidecar_for(path)
    if not sidecar.is_file():
        return {}
    try:
        fields = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{sidecar}: unreadable metadata ({exc})") from None
    if not isinstance(fields, dict):
        raise ValueError(f"{sidecar}: metadata must be a JSON object")
    return kbmeta.normalize_given(fields, str(sidecar))
