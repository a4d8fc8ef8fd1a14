"""Where one ingest's time goes: ``python -m bench.timeline [--files N] [--corpus laws]``.

Ingests ``N`` files of the corpus (a fixed random sample; default 800, the bench's batch size) into
a new index in a temporary folder and prints the run's phases (``kb.ingest.Summary.phases``: start-up,
documents, segment writing, the final commit and its merges, versions) with the CPU seconds of this
process and of the worker processes. Runs in this process, as ``python -m kb ingest`` does.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.corpora import BATCH, CORPORA, batch_sample, corpus_files


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=BATCH, help=f"how many files (default {BATCH}; 0: all)")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="laws")
    args = parser.parse_args(argv)
    if not CORPORA[args.corpus].exists():
        print(f"bench.timeline: corpus {args.corpus} not present ({CORPORA[args.corpus]}); using the demo samples",
              file=sys.stderr)
        args.corpus = "samples"
    files = corpus_files(args.corpus)
    if args.files:
        files = batch_sample(files, args.files)
    size = sum(p.stat().st_size for p in files)
    started = time.perf_counter()
    from kb.ingest import Ingest  # imports count: a user's ingest pays them too

    with tempfile.TemporaryDirectory(prefix="kb-timeline-") as folder:
        summary = Ingest(Path(folder) / "index", report=lambda line: None).run(files)
    total = time.perf_counter() - started
    print(f"{summary.line()}; {size / 1e6:.1f} MB, {size / 1e6 / total:.2f} MB/s, {total:.2f} s from the import")
    before = 0.0
    imports = total - summary.seconds
    print(f"{imports:7.2f} s  {imports:6.2f} s  imports")
    for done, at in summary.phases:
        print(f"{imports + at:7.2f} s  {at - before:6.2f} s  {done}")
        before = at
    print(f"CPU: this process {_cpu(resource.RUSAGE_SELF):.2f} s, worker processes {_cpu(resource.RUSAGE_CHILDREN):.2f} s")
    return 1 if summary.count("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
