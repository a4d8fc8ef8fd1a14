"""``kb trends``, ``kb versions``, ``kb compare``, ``kb synonyms``: for researchers (issue 14)."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from kb.cli.common import UsageError, add_facet_flags, add_index_option, facet_filters, open_kb

TRENDS_EPILOG = """counting:
  a term's documents per year are the documents whose stored text contains it, as grep would
  find it (width, traditional characters, case and spaces do not matter); mentions are
  non-overlapping occurrences; per10k = mentions per 10,000 letters, digits and CJK characters.

examples:
  kb trends 乡村振兴 脱贫攻坚 新乡贤
  kb trends 统战 --fold --years 2015-2024 --county 祁县       # 统战 and 统一战线 as one line
  kb trends 民营经济 --by county --json
  kb trends 乡村振兴,脱贫攻坚 --csv > trends.csv"""


def trends(args: argparse.Namespace) -> int:
    kb = open_kb(args)
    found = kb.trends(args.terms, filters=facet_filters(args), years=args.years, by=args.by, fold=args.fold)
    if args.json:
        print(json.dumps(found.to_dict(), ensure_ascii=False))
        return 0
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(("term", found.by, "docs", f"{found.by}_docs", "share", "mentions", f"{found.by}_chars", "per10k"))
        writer.writerows(found.rows())
        return 0
    terms = list(found.terms)
    label = "year" if found.by == "year" else found.by
    print(f"{found.documents} documents" + (f" ({found.unplaced} without a {label}, not counted)" if found.unplaced else ""))
    for term in terms:
        forms = found.forms[term]
        if len(forms) > 1:
            print(f"{term}: counts {' / '.join(forms)} together")
    width = max([len(label), *(len(b) for b in found.buckets)], default=4)
    header = f"{label:<{width}}  {'docs':>6}  " + "  ".join(f"{t}（篇 占比 次 每万字）" for t in terms)
    print(header)
    for bucket, totals in found.buckets.items():
        cells = []
        for term in terms:
            cell = found.terms[term][bucket]
            cells.append(f"{cell['docs']:>4} {cell['share'] * 100:5.1f}% {cell['mentions']:>5} {cell['per10k']:7.2f}")
        print(f"{bucket:<{width}}  {totals['docs']:>6}  " + "  ".join(cells))
    return 0


def versions(args: argparse.Namespace) -> int:
    kb = open_kb(args)
    if args.document:
        stored = kb.find(args.document)
        if stored is None:
            raise UsageError(f"no document {args.document!r} (give an id from `kb search` or a source path)")
        found = kb.versions(stored["id"])
        if args.json:
            print(json.dumps({"id": stored["id"], "versions": [v.to_dict() for v in found]}, ensure_ascii=False))
            return 0
        print(f"{stored.get('title', '')}  [{stored['id']}]")
        if not found:
            print("no other versions")
        for v in found:
            kind = "" if v.same_title else "  (near-duplicate under another title)"
            print(f"  {v.id}  {v.date or v.year or '----'}  similarity {v.jaccard:.0%}  {v.title}{kind}")
        return 0
    groups = kb.version_groups()
    if args.json:
        print(json.dumps({"groups": groups}, ensure_ascii=False))
        return 0
    print(f"{len(groups)} groups of versions ({sum(len(g) for g in groups)} documents)")
    for group in groups:
        print()
        for member in group:
            print(f"  {member['id']}  {member['date'] or member['year'] or '----'}  {member['title']}")
    return 0


def compare(args: argparse.Namespace) -> int:
    kb = open_kb(args)
    first, second = kb.find(args.a), kb.find(args.b)
    for given, stored in ((args.a, first), (args.b, second)):
        if stored is None:
            raise UsageError(f"no document {given!r} (give an id from `kb search` or a source path)")
    found = kb.compare(first["id"], second["id"])
    if args.json:
        data = found.to_dict()
        if args.terms_only:
            data.pop("rows")
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"A: {found.a['title']} [{found.a['id']}]\nB: {found.b['title']} [{found.b['id']}]")
    print("paragraphs: " + ", ".join(f"{n} {kind}" for kind, n in found.counts.items()))
    for name, label in (("new", "new in B"), ("dropped", "dropped from A"), ("rising", "rising"), ("falling", "falling")):
        terms = getattr(found, name)
        print(f"\n{label}: " + ("、".join(f"{t.term} ({t.a}→{t.b})" for t in terms) if terms else "none"))
    if not args.terms_only:
        print()
        for row in found.rows:
            if row.kind == "same":
                continue
            mark = {"changed": "~", "added": "+", "removed": "-"}[row.kind]
            for side, segments in (("A", row.a), ("B", row.b)):
                if segments:
                    print(f"{mark} {side}: " + "".join(f"[-{t}-]" if k == "del" else f"{{+{t}+}}" if k == "ins" else t
                                                      for k, t in segments))
    return 0


def synonyms(args: argparse.Namespace) -> int:
    from kb import synonyms as kbsynonyms

    found = kbsynonyms.load()
    if args.term:
        group = found.group(args.term)
        print(" / ".join(group) if group else f"{args.term}: in no group of {kbsynonyms.PATH}")
        return 0
    for group in found.groups:
        print(" / ".join(group))
    return 0


def register(subparsers) -> None:
    from kb import trends as kbtrends

    t = subparsers.add_parser("trends", help="how often terms occur, per year (or county, sector …)",
                              description="Documents mentioning each term, their share of the year's documents, "
                                          "mentions and mentions per 10,000 characters, per year (or facet value).",
                              epilog=TRENDS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("terms", nargs="+", metavar="TERM", help="terms (separate arguments, or comma-separated)")
    add_index_option(t)
    t.add_argument("--years", metavar="A-B", help="year range: 2018-2021, 2018- or -2021")
    add_facet_flags(t)
    t.add_argument("--by", choices=kbtrends.dimensions(), default="year", help="count per year (default) or per facet value")
    t.add_argument("--fold", action="store_true", help="count each term with its synonyms (kb/data/synonyms.txt)")
    out = t.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the same JSON as /api/trends")
    out.add_argument("--csv", action="store_true", help="one row per term and year")
    t.set_defaults(run=trends)

    v = subparsers.add_parser("versions", help="versions of a document, or every group of versions",
                              description="Documents that are versions of one another (found by MinHash sketches "
                                          "at ingest): of one document, or every group.")
    v.add_argument("document", nargs="?", metavar="ID_OR_PATH", help="a document (default: list every group)")
    add_index_option(v)
    v.add_argument("--json", action="store_true", help="as JSON")
    v.set_defaults(run=versions)

    c = subparsers.add_parser("compare", help="compare two documents: changed paragraphs, new and dropped terms",
                              description="Compare two documents: paragraphs aligned with their changes, and the "
                                          "terms new in B, dropped from A, rising and falling.")
    c.add_argument("a", metavar="A", help="the earlier document (id or source path)")
    c.add_argument("b", metavar="B", help="the later document (id or source path)")
    add_index_option(c)
    c.add_argument("--terms-only", action="store_true", help="only the distinctive terms, not the paragraphs")
    c.add_argument("--json", action="store_true", help="the same JSON as /api/compare")
    c.set_defaults(run=compare)

    s = subparsers.add_parser("synonyms", help="the synonym groups search uses (kb/data/synonyms.txt)",
                              description="Print every synonym group, or the group of one term.")
    s.add_argument("term", nargs="?", help="a term (default: every group)")
    s.set_defaults(run=synonyms)
