"""``kb ingest`` (and ``ingest.py``): add files and folders to the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.cli.common import PROG, Parser, UsageError, add_index_option, index_path, standalone

EPILOG = """examples:
  kb ingest ~/reports/2023/ --year 2023 --county 祁县
  kb ingest incoming/ --manifest incoming/manifest.csv --quiet
  kb ingest tables/ --tables            # also .csv/.tsv/.xlsx files as documents

User metadata wins over what is extracted: a sidecar NAME.meta.json beside a file, then the
manifest, then these flags. Unchanged files are skipped; a changed file replaces its old version.
Exit codes: 0 all stored, 1 some file failed (the others are stored) or the index is busy,
2 bad usage."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from kb.facets import FACETS

    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest (folders recursively)")
    add_index_option(p)
    for name, facet in FACETS.items():
        p.add_argument(f"--{name}", action="append", default=[], metavar="N" if facet.numeric else "VALUE",
                       help=f"{facet.label} ({facet.description}) of every document in this batch"
                            + ("" if facet.numeric else "; repeatable"))
    p.add_argument("--manifest", metavar="FILE", help="CSV or JSON-lines file: a path column (relative to the "
                   "manifest) and metadata fields per document; list fields separated by ;")
    p.add_argument("--tables", action="store_true", help="also ingest spreadsheets and .csv/.tsv files "
                   "(by default .csv/.tsv are data, e.g. manifests, and are not documents)")
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: the CPU count)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only problems and the summary")
    p.add_argument("--json", action="store_true", help="print the per-file results and the summary as JSON")
    p.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS",
                   help="how long to wait for another ingest to finish (default 60)")
    p.add_argument("--log-file", metavar="FILE", help="also write every message (per-file failures included) "
                   "to this file")


def batch_metadata(args: argparse.Namespace) -> dict:
    from kb import meta
    from kb.facets import FACETS

    given = {}
    for name, facet in FACETS.items():
        values = getattr(args, name, [])
        if values:
            given[facet.field] = values[-1] if facet.numeric else values
    try:
        return meta.normalize_given(given, "command line")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from kb.ingest import Ingest, load_manifest

    batch = batch_metadata(args)
    manifest = {}
    if args.manifest:
        try:
            manifest = load_manifest(Path(args.manifest))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot use manifest {args.manifest}: {exc}") from None
    log = open(args.log_file, "a", encoding="utf-8") if args.log_file else None
    try:
        def report(line: str) -> None:
            print(line, file=sys.stderr)
            if log:
                log.write(line + "\n")
                log.flush()

        ingest = Ingest(index_path(args), batch_meta=batch, manifest=manifest, jobs=args.jobs, report=report,
                        progress=not args.quiet and sys.stderr.isatty(), lock_timeout=args.lock_timeout,
                        tables=args.tables, manifest_files=(args.manifest,) if args.manifest else ())
        summary = ingest.run(args.paths)
        if args.json:
            print(json.dumps({"summary": summary.counts, "seconds": round(summary.seconds, 2),
                              "files": [r.__dict__ for r in summary.results]}, ensure_ascii=False, indent=1))
        report(f"ingest: {summary.line()} (index: {ingest.index_dir})")
        return summary.exit_code
    finally:
        if log:
            log.close()


def register(subparsers) -> None:
    p = subparsers.add_parser("ingest", help="add files and folders to the knowledge base",
                              description="Add documents (files or folders, recursively) to the knowledge base.",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(run=run)


def ingest_main(argv: list[str] | None = None) -> int:
    """``ingest.py PATH…``: the same as ``kb ingest``."""
    parser = Parser(prog="ingest.py", description="Add documents (files or folders, recursively) "
                                     "to the knowledge base (the same as `kb ingest`).", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return standalone(parser, run, argv)


__all__ = ["register", "ingest_main", "PROG"]
