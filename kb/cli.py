"""Command line: ``python -m kb search|docs|remove|stats`` and ``ingest.py`` (see ``ingest_main``).

Exit codes: 0 all went well, 1 something failed (the rest was done), 2 bad usage.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

from kb.config import index_dir
from kb.errors import IndexDamaged, IndexLocked, QueryError


class UsageError(Exception):
    """Bad arguments: exit code 2."""


def _year(value: str) -> int:
    if not re.fullmatch(r"\d{4}", value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a four-digit year")
    return int(value)


# --- ingest -------------------------------------------------------------------------------------


def ingest_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ingest.py",
        description="Add documents (files or folders, recursively) to the knowledge base. "
        "Unchanged files are skipped; changed files replace their old version.",
        epilog="User metadata wins over what is extracted: sidecar NAME.meta.json > manifest > flags.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest")
    p.add_argument("--index", metavar="DIR", help="index folder (default: $KB_INDEX, else index/)")
    p.add_argument("--year", type=_year, help="year of every document in this batch")
    p.add_argument("--county", action="append", default=[], metavar="C", help="county of every document (repeatable)")
    p.add_argument("--sector", action="append", default=[], metavar="S", help="sector of every document (repeatable)")
    p.add_argument("--manifest", metavar="FILE", help="CSV or JSON-lines file: path + metadata fields per document")
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: CPU count)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only problems and the summary")
    p.add_argument("--json", action="store_true", help="print the per-file results and summary as JSON")
    p.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS",
                   help="how long to wait for another ingest to finish (default 60)")
    return p


def ingest_main(argv: list[str] | None = None) -> int:
    from kb import meta
    from kb.ingest import Ingest, load_manifest

    args = ingest_parser().parse_args(argv)
    batch = {"year": args.year, "counties": args.county, "sectors": args.sector}
    batch = meta.normalize_given({k: v for k, v in batch.items() if v}, "command line")
    manifest = {}
    if args.manifest:
        try:
            manifest = load_manifest(Path(args.manifest))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            print(f"ingest.py: error: cannot use manifest {args.manifest}: {exc}", file=sys.stderr)
            return 2
    run = Ingest(index_dir(args.index), batch_meta=batch, manifest=manifest, jobs=args.jobs,
                 progress=not args.quiet and sys.stderr.isatty(), lock_timeout=args.lock_timeout)
    try:
        summary = run.run(args.paths)
    except IndexLocked as exc:
        print(f"ingest.py: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"summary": summary.counts, "seconds": round(summary.seconds, 2),
                          "files": [r.__dict__ for r in summary.results]}, ensure_ascii=False, indent=1))
    print(f"ingest: {summary.line()} (index: {run.index_dir})", file=sys.stderr)
    return summary.exit_code


# --- search and friends -------------------------------------------------------------------------


def kb_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kb", description="Search and manage the knowledge base.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("search", help="search documents")
    s.add_argument("query", nargs="?", default="", help='words (AND), OR, -word, "phrase", title:word')
    s.add_argument("--index", metavar="DIR")
    s.add_argument("--years", metavar="A-B", help="year range, e.g. 2018-2021 (2018-, -2021)")
    add_facet_flags(s)
    s.add_argument("--sort", choices=("relevance", "newest", "oldest"), default="relevance")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--page", type=int, default=1)
    s.add_argument("--like", action="store_true", help="rank documents by similarity to the query passage")
    s.add_argument("--json", action="store_true")

    d = sub.add_parser("docs", help="list every stored document")
    d.add_argument("--index", metavar="DIR")
    d.add_argument("--json", action="store_true", help="one JSON object per line")

    r = sub.add_parser("remove", help="remove documents by id or source path")
    r.add_argument("items", nargs="+", metavar="ID_OR_PATH")
    r.add_argument("--index", metavar="DIR")

    st = sub.add_parser("stats", help="size and facet counts of the index")
    st.add_argument("--index", metavar="DIR")

    rx = sub.add_parser("reextract", help="re-derive metadata from the stored texts (after editing "
                        "the gazetteer, taxonomy or rules); source files are not needed")
    rx.add_argument("--index", metavar="DIR")
    return p


def add_facet_flags(parser: argparse.ArgumentParser) -> None:
    """One repeatable ``--NAME VALUE`` filter flag per facet (kb.facets)."""
    from kb.facets import FACETS

    for name, facet in FACETS.items():
        parser.add_argument(f"--{name}", action="append", default=[], metavar="N" if facet.numeric else "VALUE",
                            type=int if facet.numeric else str,
                            help=f"only documents with this {facet.label} ({facet.description}); repeat for any of several")


def facet_filters(args: argparse.Namespace) -> dict[str, list]:
    from kb.facets import FACETS

    return {name: getattr(args, name) for name in FACETS if getattr(args, name)}


def _open(index: str | None):
    from kb.search import KnowledgeBase
    from kb import index as kbindex

    where = index_dir(index)
    if not kbindex.exists(where):
        raise UsageError(f"no index in {where}; run ingest.py first (or pass --index / set KB_INDEX)")
    return KnowledgeBase(where)


def _print_results(results, as_json: bool):
    if as_json:
        print(json.dumps(results.to_dict(), ensure_ascii=False))
        return
    print(f"{results.total} documents ({results.took_ms:.0f} ms), page {results.page}/{results.pages}")
    for n, hit in enumerate(results.hits, (results.page - 1) * results.page_size + 1):
        facts = " · ".join(x for x in [str(hit.year or ""), "、".join(hit.facets["county"]), "、".join(hit.facets["sector"])] if x)
        print(f"\n{n}. {hit.title}  [{hit.id}]" + (f"  ({facts})" if facts else ""))
        print(f"   {hit.path}")
        print("   " + _terminal_snippet(hit.snippet))
    for name, counts in results.facets.items():
        if counts:
            top = ", ".join(f"{v} ({n})" for v, n in list(counts.items())[:8])
            print(f"\n{name}: {top}", end="")
    print()


def _terminal_snippet(snippet_html: str) -> str:
    """Snippet HTML as terminal text: matches in bold on a terminal, plain otherwise."""
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    return html.unescape(snippet_html.replace("<mark>", bold).replace("</mark>", plain))


def kb_main(argv: list[str] | None = None) -> int:
    args = kb_parser().parse_args(argv)
    try:
        if args.command == "search":
            kb = _open(args.index)
            filters = facet_filters(args)
            results = kb.search(args.query, filters=filters, years=args.years, sort=args.sort,
                                page=args.page, page_size=args.limit, like=args.like)
            _print_results(results, args.json)
        elif args.command == "docs":
            kb = _open(args.index)
            for doc in kb.documents():
                if args.json:
                    print(json.dumps(doc, ensure_ascii=False, default=str))
                else:
                    print(f"{doc['id']}  {doc.get('year') or '----'}  {doc.get('title', '')}  {doc.get('path', '')}")
        elif args.command == "remove":
            from kb.ingest import remove

            where = index_dir(args.index)
            _open(args.index)
            failed = False
            for item, found in remove(where, args.items):
                print(f"{'removed' if found else 'not found'}: {item}")
                failed |= not found
            return 1 if failed else 0
        elif args.command == "reextract":
            from kb.ingest import reextract

            _open(args.index)
            count = reextract(index_dir(args.index), report=lambda line: print(line, file=sys.stderr))
            print(f"reextract: {count} documents re-derived", file=sys.stderr)
        elif args.command == "stats":
            kb = _open(args.index)
            facets = kb.facets()
            size = sum(f.stat().st_size for f in Path(kb.index_dir).rglob("*") if f.is_file())
            print(json.dumps({"documents": kb.count(), "bytes_on_disk": size, "facets": facets},
                             ensure_ascii=False, indent=1))
    except (UsageError, QueryError) as exc:
        print(f"python -m kb: error: {exc}", file=sys.stderr)
        return 2
    except (IndexLocked, IndexDamaged) as exc:
        print(f"python -m kb: error: {exc}", file=sys.stderr)
        return 1
    return 0
