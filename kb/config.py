"""Where things live and the few limits the library enforces; everything else is in data files."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
PROJECT_DIR = PACKAGE_DIR.parent
# In a source checkout the default index is index/ beside kb/ (./run.sh puts the demo there); an
# installed package lives in site-packages, so there the default is ./index in the working folder.
_CHECKOUT = (PROJECT_DIR / "pyproject.toml").exists() and (PROJECT_DIR / "ingest.py").exists()
DEFAULT_INDEX_DIR = PROJECT_DIR / "index" if _CHECKOUT else Path("index").absolute()

# A file larger than this is refused before it is read (memory stays bounded).
MAX_FILE_BYTES = int(os.environ.get("KB_MAX_FILE_BYTES", 100 * 1024 * 1024))
# How long a second writer waits for the index lock before giving up with a clear message.
LOCK_TIMEOUT_SECONDS = float(os.environ.get("KB_LOCK_TIMEOUT", 60))


def index_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The index location: an explicit argument, else $KB_INDEX, else ``index/`` in the project."""
    if explicit:
        return Path(explicit)
    if os.environ.get("KB_INDEX"):
        return Path(os.environ["KB_INDEX"])
    return DEFAULT_INDEX_DIR


def read_word_list(path: Path) -> list[str]:
    """Lines of a UTF-8 data file, without blank lines and ``#`` comments."""
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """``FIRST<tab>SECOND`` lines of a data file (SECOND may be empty), as read_word_list reads."""
    pairs = []
    for line in read_word_list(path):
        first, _, second = line.partition("\t")
        pairs.append((first.strip(), second.strip()))
    return pairs


def jieba_file(name: str) -> Path:
    """A data file of the installed jieba (``dict.txt``, ``analyse/idf.txt``), found without
    importing it: importing jieba.analyse would load the whole table into a dict."""
    import importlib.util

    return Path(importlib.util.find_spec("jieba").origin).parent / name
