"""``kb export``: the index in another engine's format (OpenSearch bulk files, ``docs/scale-out.md``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kb.cli.common import Failed, UsageError, add_index_option, open_kb, positive

EPILOG = """examples:
  kb export --format opensearch-bulk out/
  curl -XPUT localhost:9200/kb -H 'Content-Type: application/json' --data-binary @out/mapping.json
  for f in out/bulk-*.ndjson; do curl -XPOST localhost:9200/_bulk -H 'Content-Type: application/x-ndjson' --data-binary @$f; done

Writes DIR/mapping.json (index settings and mappings: pre-analysed jieba words, bigrams with
positions, facets as keyword fields, the clean text for snippets) and DIR/bulk-00001.ndjson …
(bulk requests, --per-file documents each). Exit codes: 0 written, 1 cannot write, 2 bad usage."""


def export(args: argparse.Namespace) -> int:
    from kb.export import FORMATS, export_opensearch

    if args.format not in FORMATS:
        raise UsageError(f"unknown format {args.format!r}; use {', '.join(FORMATS)}")
    target = Path(args.folder)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is not a folder")
    kb = open_kb(args)
    try:
        count, files = export_opensearch(kb, target, index_name=args.index_name, per_file=args.per_file,
                                         report=lambda line: print(line, file=sys.stderr))
    except ValueError as exc:
        raise Failed(str(exc)) from None
    print(f"export: {count} documents in {files} bulk file(s) and mapping.json in {target}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="write the index in another engine's format (OpenSearch bulk)",
                              description="Write the index as an OpenSearch index mapping and NDJSON bulk "
                              "files, ready to load into a cluster with curl.", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", metavar="DIR", help="where to write mapping.json and the bulk files")
    p.add_argument("--format", default="opensearch-bulk", help="output format (only opensearch-bulk)")
    add_index_option(p)
    p.add_argument("--index-name", default="kb", metavar="NAME", help="the OpenSearch index the bulk lines name (default kb)")
    p.add_argument("--per-file", type=positive(1, 1_000_000, "--per-file"), default=500, metavar="N",
                   help="documents per bulk file (default 500: a few MB per request)")
    p.set_defaults(run=export)
