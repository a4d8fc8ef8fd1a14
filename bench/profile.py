"""What one document and one request cost, stage by stage: ``python -m bench.profile [--files N]
[--corpus laws] [--no-requests]``.

**One document** (one process, as an ingest worker runs: the cyclic collector off): each stage of
``kb.pipeline.prepare`` (reading, cleaning, every metadata rule, the index's analysis, the sketch),
then what a worker does with the result (the original's copy, adding it to the segment, writing the
segment), in milliseconds per document. Nested stages are shown under the stage that calls them
("of which"): the jieba cut runs inside the place rule, and the index reuses it (cached).

**One request** (``--no-requests`` leaves it out): the sample ingested into a temporary index, then
a result page and an API search of each bench query through the Flask test client (no HTTP
server: ``/health`` through waitress costs ~1 ms more): search (snippets included), snippets alone,
page rendering, and what is left (Flask, parameters, audit, JSON).

Wall time of wrapped functions, medians of ``--rounds`` passes; no cProfile (it inflates Python
calls several times). The figures are for reading, not for assertions: the same host varies by a
tenth between runs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.corpora import CORPORA, batch_sample, corpus_files

# (module, attribute, label, parent label or None): where each stage is looked up when it runs
DOCUMENT_STAGES = (
    ("kb.pipeline", "read_bytes", "read the file", None),
    ("kb.clean", "clean", "clean", None),
    ("kb.clean", "drop_noise_lines", "noise lines", "clean"),
    ("kb.meta", "extract", "metadata", None),
    ("kb.meta", "_title_as_written", "title", "metadata"),
    ("kb.meta", "find_year", "year and date", "metadata"),
    ("kb.meta", "issuers_of", "issuers", "metadata"),
    ("kb.meta", "find_places", "places", "metadata"),
    ("kb.analysis", "cut", "jieba cut (reused by the index)", "places"),
    ("kb.meta", "classify", "sectors", "metadata"),
    ("kb.meta", "topics_of", "topics", "metadata"),
    ("kb.pipeline", "analyzed_fields", "index analysis", None),
    ("kb.versions", "sketch", "version sketch", None),
)


class Stopwatch:
    """Wraps module attributes; seconds per label, only the outermost call of a label counted."""

    def __init__(self):
        self.seconds: Counter = Counter()
        self._active: Counter = Counter()
        self._restore: list = []

    def wrap(self, module, name: str, label: str) -> None:
        original = getattr(module, name)
        seconds, active = self.seconds, self._active

        def timed(*args, **kwargs):
            if active[label]:  # recursion or a nested call of the same stage
                return original(*args, **kwargs)
            active[label] += 1
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - started
                active[label] -= 1

        setattr(module, name, timed)
        self._restore.append((module, name, original))

    def unwrap(self) -> None:
        for module, name, original in reversed(self._restore):
            setattr(module, name, original)
        self._restore.clear()


def _median_rounds(rounds: int, run) -> tuple[float, Counter]:
    """(median total seconds, median seconds per label) of ``rounds`` calls of ``run(watch)``."""
    totals, per_label = [], []
    for _ in range(rounds):
        watch = Stopwatch()
        total = run(watch)
        totals.append(total)
        per_label.append(watch.seconds)
    labels = {label for seconds in per_label for label in seconds}
    return statistics.median(totals), Counter({label: statistics.median(s[label] for s in per_label) for label in labels})


def profile_documents(files: list[Path], rounds: int) -> list[tuple[str, float, int]]:
    """(label, ms per document, depth) rows: prepare's stages, then a worker's steps."""
    import importlib

    from kb import pipeline

    datas = [(str(p), p.read_bytes()) for p in files]
    pipeline.warm_worker()
    for source, data in datas[:20]:  # the first documents fill the per-process caches
        pipeline.prepare(source, data, {}, (len(data), 0.0))

    def run(watch: Stopwatch) -> float:
        for module, name, label, _ in DOCUMENT_STAGES:
            watch.wrap(importlib.import_module(module), name, label)
        started = time.perf_counter()
        try:
            for source, data in datas:
                pipeline.prepare(source, data, {}, (len(data), 0.0))
        finally:
            watch.unwrap()
        return time.perf_counter() - started

    gc.disable()
    try:
        total, seconds = _median_rounds(rounds, run)
        worker = _worker_steps(datas)
    finally:
        gc.enable()
    n = len(datas)
    depth_of: dict[str, int] = {}
    rows = [("prepare (one document, all stages)", total / n * 1000, 0)]
    for _, _, label, parent in DOCUMENT_STAGES:
        depth_of[label] = depth_of.get(parent, 0) + 1 if parent else 1
        rows.append((label, seconds[label] / n * 1000, depth_of[label]))
    rows.append(("rest of prepare (hashing, fields, small rules)", (total - sum(seconds[label] for _, _, label, parent in DOCUMENT_STAGES if parent is None)) / n * 1000, 1))
    rows.append(("a worker's whole document: prepare and the steps below", total / n * 1000 + sum(ms for _, ms in worker), 0))
    rows.append(("prepare", total / n * 1000, 1))
    rows += [(label, ms, 1) for label, ms in worker]
    return rows


def _worker_steps(datas: list[tuple[str, bytes]]) -> list[tuple[str, float]]:
    """What a segment worker does after prepare, per document: copy the original, add the fields
    to the segment, and (once per segment) write it; one segment of the whole sample."""
    from kb import index as kbindex
    from kb import pipeline
    from kb.whoosh_adapter import FastWriter, finalize_segment

    prepared = [pipeline.prepare(source, data, {}, (len(data), 0.0)) for source, data in datas]
    with tempfile.TemporaryDirectory(prefix="kb-profile-") as folder:
        index_dir = Path(folder) / "index"
        index_dir.mkdir()
        ix = kbindex.open_index(index_dir, create=True)
        store = kbindex.OriginalsStore.beside(index_dir)
        writer = FastWriter(ix, _lk=False)
        started = time.perf_counter()
        for (source, data), fields in zip(datas, prepared):
            store.put(fields["sha"], Path(source).suffix, data)
        stored = time.perf_counter() - started
        started = time.perf_counter()
        for fields in prepared:
            writer.add_document(**fields)
        added = time.perf_counter() - started
        started = time.perf_counter()
        finalize_segment(writer)
        written = time.perf_counter() - started
    n = len(datas)
    return [("copy the original", stored / n * 1000), ("add to the segment", added / n * 1000),
            ("write the segment (its share of one)", written / n * 1000)]


def profile_requests(files: list[Path], rounds: int) -> list[tuple[str, float, int]]:
    """(label, ms per request, depth) rows for result pages and API searches of the bench queries."""
    import logging
    import urllib.parse

    from bench.corpora import prepare_docs
    from bench.queries import sample_queries
    from kb import highlight
    from kb import search as kbsearch
    from kb.ingest import Ingest
    from web import create_app
    from web import pages as webpages

    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-profile-") as folder:
        index_dir = Path(folder) / "index"
        Ingest(index_dir, report=lambda line: None).run(files)
        queries = sample_queries(prepare_docs(files), 150)
        app = create_app({"KB_INDEX": str(index_dir)})
        logging.disable(logging.CRITICAL)  # the access log is not what is measured
        try:
            client = app.test_client()
            for route, path in (("result page", "/?q={}"), ("API search", "/api/search?q={}")):
                paths = [path.format(urllib.parse.quote(q)) for q in queries]
                for p in paths:  # a busy server's state: patterns compiled, snapshot open
                    client.get(p)

                def run(watch: Stopwatch) -> float:
                    watch.wrap(kbsearch.KnowledgeBase, "search", "search (snippets included)")
                    watch.wrap(highlight, "snippet", "snippets")
                    watch.wrap(webpages, "render_template", "page template")
                    started = time.perf_counter()
                    try:
                        for p in paths:
                            client.get(p)
                    finally:
                        watch.unwrap()
                    return time.perf_counter() - started

                total, seconds = _median_rounds(rounds, run)
                n = len(paths)
                rows.append((f"{route} (Flask test client)", total / n * 1000, 0))
                for label, depth in (("search (snippets included)", 1), ("snippets", 2), ("page template", 1)):
                    if seconds[label]:  # (an API answer renders no template)
                        rows.append((label, seconds[label] / n * 1000, depth))
                outside = total - seconds["search (snippets included)"] - seconds["page template"]
                rows.append(("the rest (Flask, parameters, facet links, audit, JSON)", outside / n * 1000, 1))
        finally:
            logging.disable(logging.NOTSET)
    return rows


def _print(title: str, rows: list[tuple[str, float, int]]) -> None:
    print(f"\n## {title}")
    top = 0.0
    for label, ms, depth in rows:
        top = ms if depth == 0 else top  # shares are of the row above at depth 0
        share = f"{ms / top * 100:5.1f}%" if top and depth else "      "
        lead = "  " * depth + ("of which " if depth > 1 else "")
        print(f"{ms:8.2f} ms  {share}  {lead}{label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=400, help="how many files of the corpus (default 400)")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="laws")
    parser.add_argument("--rounds", type=int, default=3, help="passes; medians are printed (default 3)")
    parser.add_argument("--no-requests", action="store_true", help="only the per-document profile")
    args = parser.parse_args(argv)
    if not CORPORA[args.corpus].exists():
        print(f"bench.profile: corpus {args.corpus} not present ({CORPORA[args.corpus]}); using the demo samples",
              file=sys.stderr)
        args.corpus = "samples"
    files = batch_sample(corpus_files(args.corpus), args.files)
    size = sum(p.stat().st_size for p in files)
    print(f"bench.profile: {len(files)} files of {args.corpus} ({size / 1e6:.1f} MB), {args.rounds} rounds, medians")
    _print("One document (ms per document)", profile_documents(files, args.rounds))
    if not args.no_requests:
        _print("One request (ms per request)", profile_requests(files, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
