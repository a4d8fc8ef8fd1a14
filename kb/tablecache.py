"""Tables derived from libraries' data (Unicode's normal forms, OpenCC's characters, jieba's
dictionary), built once a machine and kept as arrays in the user's cache folder.

Every process that reads or searches text needs them: each ingest worker, the server, a CLI
search. Built in each, they cost ~0.25 s of its start (measured: NFKC 87 ms, the gazetteer's
common words 100 ms, traditional -> simplified 45 ms); read from the cache, a few milliseconds.

A table's file is named by what it is derived from: the caller's stamp (library versions, data
files' sizes and times) and the code of the function that builds it, so a change to either builds
it again. Files are written whole and renamed into place; a cache that cannot be written or read
is no error (the table is built in memory), and ``KB_TABLE_CACHE=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import Callable

import numpy as np

Arrays = dict[str, np.ndarray]


def cache_dir() -> Path:
    """Where derived tables are kept: ``$XDG_CACHE_HOME/kb``, else ``~/.cache/kb``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kb"


def file_stamp(*paths: Path) -> str:
    """Size and modification time of each file (a missing file stamps as missing)."""
    parts = []
    for path in paths:
        try:
            st = Path(path).stat()
            parts.append(f"{st.st_size}-{st.st_mtime_ns}")
        except OSError:
            parts.append("missing")
    return ";".join(parts)


def _code_stamp(build: Callable) -> bytes:
    code = build.__code__
    # the code without its place in the file: moving a function is not changing it
    return marshal.dumps((code.co_code, code.co_consts, code.co_names, code.co_varnames))


def cached_arrays(name: str, stamp: str, build: Callable[[], Arrays], code: tuple = ()) -> Arrays:
    """``build()``'s arrays, from the cache when a file for this name, stamp and code is there
    (``code``: other functions ``build`` calls whose code makes the table)."""
    if os.environ.get("KB_TABLE_CACHE", "").lower() in ("off", "0", "no"):
        return build()
    digest = hashlib.sha256(stamp.encode("utf-8") + b"".join(map(_code_stamp, (build, *code)))).hexdigest()[:16]
    folder = cache_dir()
    path = folder / f"{name}-{digest}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except Exception:  # absent, unreadable or cut short (a zip error, a short read): build it
        pass
    arrays = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
        for old in folder.glob(f"{name}-*.npz"):  # what older stamps or code built
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home: built in memory each time, as before
    return arrays


def strings_to_arrays(strings) -> Arrays:
    """A list of strings as two arrays (their code points joined, and where each ends)."""
    strings = list(strings)
    joined = "".join(strings)
    return {"chars": np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32),
            "ends": np.cumsum([len(s) for s in strings], dtype=np.int64)}


def arrays_to_strings(chars: np.ndarray, ends: np.ndarray) -> list[str]:
    """The inverse of ``strings_to_arrays``."""
    joined = chars.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")
    bounds = [0, *ends.tolist()]
    return [joined[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
