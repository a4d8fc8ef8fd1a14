"""Where the benchmark corpora are (../shared), and a clear message when they are not."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = {
    "laws": SHARED / "corpus" / "laws" / "docs",
    "national-reports": SHARED / "corpus" / "national-reports" / "docs",
    "samples": ROOT / "samples",
}


def corpus_files(name: str) -> list[Path]:
    """Every document file of a corpus, sorted; exits with a message if the corpus is absent."""
    root = CORPORA[name]
    if not root.exists():
        sys.exit(f"bench: corpus {name!r} not found at {root} (../shared is only on the team's machines)")
    suffixes = {".md", ".txt", ".html", ".docx", ".pdf"}
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))


BATCH = 800  # the daily case: a batch of this many documents (bench section batch, bench.timeline)


def batch_sample(files: list[Path], n: int = BATCH) -> list[Path]:
    """The bench's batch: ``n`` of ``files``, a fixed random sample, in path order."""
    import random

    return sorted(random.Random(15).sample(list(files), min(n, len(files))))


def _prepare_one(path: str):
    """read -> clean -> metadata, as our ingest does; the result peers index."""
    from bench.engines import Doc
    from kb import meta
    from kb.clean import clean
    from kb.read import read_bytes

    p = Path(path)
    try:
        extracted = read_bytes(p, p.read_bytes())
    except Exception:
        return None
    found, text = meta.extract(clean(extracted.text), extracted.title, path)
    return Doc(key=path, title=found.get("title") or p.stem, text=text, year=found.get("year"),
               counties=found.get("counties") or [], sectors=found.get("sectors") or [])


def prepare_docs(files: list[Path], jobs: int = 2, cache: Path | None = None) -> list:
    """The ``Doc`` of every readable file (cached on disk when ``cache`` is given)."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    keys = [str(p.resolve()) for p in files]
    if cache and cache.exists():
        docs = pickle.loads(cache.read_bytes())
        if [d.key for d in docs] == [k for k in keys if k in {d.key for d in docs}] and len(docs) > 0.9 * len(keys):
            return docs
    with ProcessPoolExecutor(jobs) as pool:
        docs = [d for d in pool.map(_prepare_one, keys, chunksize=16) if d is not None]
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(docs))
    return docs
