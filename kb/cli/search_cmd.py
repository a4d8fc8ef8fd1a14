"""``kb search``, ``kb docs``, ``kb show``, ``kb stats``: reading the knowledge base."""

from __future__ import annotations

import argparse
import html
import json
import sys

from kb.cli.common import (UsageError, add_facet_flags, add_index_option, facet_filters, open_kb, positive)

MAX_LIMIT = 10_000

SEARCH_EPILOG = """query syntax:
  words separated by spaces must all match; OR; -word or NOT word; "exact phrase"; title:词

examples:
  kb search '乡村振兴 民营经济' --years 2019-2022 --county 祁县
  kb search '"统一战线工作" -通知 title:总结' --sort newest --json
  kb search 乡村振兴 --all --jsonl > hits.jsonl      # every hit, one JSON object per line
  kb search --like "……一段文字……"                 # documents like this passage

Exit codes: 0 done (also with no hits), 1 the index is damaged, 2 bad usage (option, range, no index)."""


def _print_results(results) -> None:
    print(f"{results.total} documents ({results.took_ms:.0f} ms), page {results.page}/{results.pages}")
    for n, hit in enumerate(results.hits, (results.page - 1) * results.page_size + 1):
        _print_hit(n, hit)
    for name, counts in results.facets.items():
        if counts:
            top = ", ".join(f"{v} ({n})" for v, n in list(counts.items())[:8])
            print(f"\n{name}: {top}", end="")
    print()


def _print_hit(n: int, hit) -> None:
    facts = " · ".join(x for x in [str(hit.year or ""), "、".join(hit.facets.get("county", [])),
                                   "、".join(hit.facets.get("sector", []))] if x)
    print(f"\n{n}. {hit.title}  [{hit.id}]" + (f"  ({facts})" if facts else ""))
    print(f"   {hit.path}")
    if hit.snippet:
        print("   " + _terminal_snippet(hit.snippet))


def _terminal_snippet(snippet_html: str) -> str:
    """Snippet HTML as terminal text: matches in bold on a terminal, plain otherwise."""
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    return html.unescape(snippet_html.replace("<mark>", bold).replace("</mark>", plain))


def search(args: argparse.Namespace) -> int:
    kb = open_kb(args)
    filters = facet_filters(args)
    common = dict(filters=filters, years=args.years, sort=args.sort, like=args.like, synonyms=not args.no_synonyms,
                  collapse=args.collapse)
    if args.all or args.jsonl or args.limit > 100:
        return _search_many(kb, args, common)
    results = kb.search(args.query, page=args.page, page_size=args.limit, **common)
    if args.page > results.pages and results.total:
        print(f"kb: page {args.page} is past the end: {results.total} documents make {results.pages} "
              f"page(s) of {args.limit}", file=sys.stderr)
    if args.json:
        print(json.dumps(results.to_dict(), ensure_ascii=False))
    else:
        _print_results(results)
    return 0


def _search_many(kb, args, common) -> int:
    """Many hits: streamed, with snippets (``--all``, ``--jsonl``, or a ``--limit`` over 100)."""
    limit = None if args.all else args.limit
    start = 0 if args.all else (args.page - 1) * args.limit
    hits = kb.iter_hits(args.query, snippets=True, start=start, limit=limit, **common)
    if args.jsonl:
        for hit in hits:
            print(json.dumps(hit.to_dict(), ensure_ascii=False))
        return 0
    collected = list(hits)
    if args.json:
        summary = kb.search(args.query, page_size=1, snippets=False, **common)
        data = summary.to_dict()
        data.update(hits=[h.to_dict() for h in collected], page=args.page if not args.all else 1,
                    page_size=len(collected) if args.all else args.limit)
        data["pages"] = 1 if args.all else max(1, -(-summary.total // args.limit))
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"{len(collected)} documents")
    for n, hit in enumerate(collected, start + 1):
        _print_hit(n, hit)
    return 0


def docs(args: argparse.Namespace) -> int:
    kb = open_kb(args)
    for doc in kb.documents():
        if args.json:
            print(json.dumps(doc, ensure_ascii=False, default=str))
        else:
            print(f"{doc['id']}  {doc.get('year') or '----'}  {doc.get('title', '')}  {doc.get('path', '')}")
    return 0


def show(args: argparse.Namespace) -> int:
    from kb.facets import FACETS

    kb = open_kb(args)
    stored = kb.find(args.document)
    if stored is None:
        raise UsageError(f"no document {args.document!r} (give an id from `kb search` or a source path)")
    if args.json:
        print(json.dumps(stored, ensure_ascii=False, default=str))
        return 0
    meta = stored.get("meta") or {}
    provenance = (meta.get("extracted") or {}).get("provenance") or {}
    print(f"{stored.get('title', '')}  [{stored['id']}]")
    print(f"path: {stored.get('path', '')}")
    for name, facet in FACETS.items():
        values = facet.values(stored)
        if values:
            source = provenance.get(facet.field) or provenance.get(name)
            if isinstance(source, dict):  # per value (sectors: why each one)
                source = "; ".join(f"{v}: {source[v]}" for v in values if v in source)
            print(f"{facet.label} ({name}): {'、'.join(map(str, values))}" + (f"   ← {source}" if source else ""))
    for key, label in (("date", "日期"), ("docno", "文号")):
        if stored.get(key):
            print(f"{label} ({key}): {stored[key]}")
    if meta.get("corrected"):
        print(f"corrected by staff: {', '.join(sorted(meta['corrected']))}")
    if not args.no_text:
        print()
        print(stored.get("text", ""))
    return 0


def stats(args: argparse.Namespace) -> int:
    from pathlib import Path

    kb = open_kb(args)
    facets = kb.facets()
    size = sum(f.stat().st_size for f in Path(kb.index_dir).rglob("*") if f.is_file())
    from kb.bitpack import kernel

    print(json.dumps({"documents": kb.count(), "bytes_on_disk": size, "search_kernel": kernel(), "facets": facets},
                     ensure_ascii=False, indent=1))
    return 0


def register(subparsers) -> None:
    s = subparsers.add_parser("search", help="search documents", description="Search the documents; with no "
                              "query, list them (newest first).", epilog=SEARCH_EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("query", nargs="?", default="", help='what to look for (see query syntax below)')
    add_index_option(s)
    s.add_argument("--years", metavar="A-B", help="year range: 2018-2021, 2018- or -2021 (a reversed range is an error)")
    add_facet_flags(s)
    s.add_argument("--sort", choices=("relevance", "newest", "oldest", "added"), default="relevance",
                   help="order of the hits (default relevance; added: most recently ingested first)")
    s.add_argument("--limit", type=positive(1, MAX_LIMIT, "--limit"), default=10, metavar="N",
                   help=f"hits per page, 1..{MAX_LIMIT} (default 10)")
    s.add_argument("--page", type=positive(1, 10**9, "--page"), default=1, metavar="N", help="which page of hits (default 1)")
    s.add_argument("--all", action="store_true", help="every hit, in one go (ignores --limit and --page)")
    s.add_argument("--like", action="store_true", help="treat the query as a passage: documents most like it")
    s.add_argument("--no-synonyms", action="store_true", help="only the words as typed (by default a word also finds "
                   "its synonyms and abbreviations, kb/data/synonyms.txt, ranked below it; a quoted word is always exact)")
    s.add_argument("--collapse", choices=("versions",), default=None,
                   help="versions: show each group of versions of one document once, by its newest member")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object: total, hits, facets")
    out.add_argument("--jsonl", action="store_true", help="one JSON object per hit and line, streamed")
    s.set_defaults(run=search)

    d = subparsers.add_parser("docs", help="list every stored document",
                              description="List every stored document (id, year, title, path).")
    add_index_option(d)
    d.add_argument("--json", action="store_true", help="one JSON object per line (all fields but the text)")
    d.set_defaults(run=docs)

    sh = subparsers.add_parser("show", help="one document: metadata (with where each field came from) and text",
                               description="Show one document: its metadata, where each field came from, and its text.")
    sh.add_argument("document", metavar="ID_OR_PATH", help="a document id (from kb search) or its source path")
    add_index_option(sh)
    sh.add_argument("--json", action="store_true", help="all stored fields as JSON")
    sh.add_argument("--no-text", action="store_true", help="metadata only")
    sh.set_defaults(run=show)

    st = subparsers.add_parser("stats", help="size and facet counts of the index",
                               description="Documents, bytes on disk and every facet's counts, as JSON.")
    add_index_option(st)
    st.set_defaults(run=stats)
