"""What each part of our index costs on disk: per field of the term arrays (its dictionary, its
documents, frequencies and positions), the stored fields, the text, Whoosh's own files."""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

import numpy as np

_STREAMS = {"docs": "documents", "tfs": "frequencies", "firsts": "positions", "gaps": "positions"}
_DICTIONARY = ("keys", "starts", "term_offsets", "term_bytes", "position_starts")


def _header(path: Path) -> dict:
    data = path.read_bytes()
    (length,) = struct.unpack("=I", data[-8:-4])
    return json.loads(data[-8 - length:-8])


def _bytes(spec) -> int:
    _, dtype, count = spec
    return np.dtype(dtype).itemsize * count


def breakdown(index_dir: Path, text_bytes: int) -> dict:
    """{part: {"mb": …, "x_text": …}} for the index in ``index_dir`` (the originals left out)."""
    parts: Counter = Counter()
    for path in Path(index_dir).iterdir():
        if not path.is_file():
            continue
        size = path.stat().st_size
        if path.suffix == ".kbp":
            header = _header(path)
            accounted = 0
            for name, entry in header["fields"].items():
                for key in _DICTIONARY:
                    if key in entry:
                        parts[f"{name}: dictionary"] += _bytes(entry[key])
                        accounted += _bytes(entry[key])
                for key, what in _STREAMS.items():
                    if key in entry:
                        n = sum(_bytes(entry[key][k]) for k in ("widths", "blocks", "data"))
                        parts[f"{name}: {what}"] += n
                        accounted += n
            docs = sum(_bytes(spec) for spec in header["docs"].values())
            parts["per-document arrays (lengths, numbers)"] += docs
            parts["term arrays: header and padding"] += size - accounted - docs
        elif path.name.endswith("._kbtext.col"):
            parts["stored text (zlib)"] += size
        elif path.name.endswith("._stored.col"):
            parts["other stored fields (zlib)"] += size
        elif path.suffix in (".trm", ".pst"):
            parts["Whoosh keyword postings (id, path, facets)"] += size
        else:
            parts["other files"] += size
    total = sum(parts.values())
    out = {part: {"mb": round(n / 1e6, 2), "x_text": round(n / text_bytes, 3)}
           for part, n in sorted(parts.items(), key=lambda item: -item[1])}
    out["total"] = {"mb": round(total / 1e6, 2), "x_text": round(total / text_bytes, 3)}
    return out
