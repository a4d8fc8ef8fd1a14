"""``kb remove``, ``kb reextract``: changing what is stored."""

from __future__ import annotations

import argparse
import sys

from kb.cli.common import EXIT_FAILED, add_index_option, index_path, open_kb


def remove(args: argparse.Namespace) -> int:
    from kb.ingest import remove as remove_documents

    open_kb(args)
    failed = False
    for item, found in remove_documents(index_path(args), args.items):
        print(f"{'removed' if found else 'not found'}: {item}")
        failed |= not found
    return EXIT_FAILED if failed else 0


def reextract(args: argparse.Namespace) -> int:
    from kb.ingest import reextract as reextract_all

    open_kb(args)
    count = reextract_all(index_path(args), report=lambda line: print(line, file=sys.stderr))
    print(f"reextract: {count} documents re-derived", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    r = subparsers.add_parser("remove", help="remove documents by id or source path",
                              description="Take documents out of the index (their originals stay in the store).",
                              epilog="example:\n  kb remove 3f2a9c0d1e2b4a56 ~/reports/2019/old.docx\n\n"
                                     "Exit codes: 0 all removed, 1 some were not found, 2 bad usage.",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("items", nargs="+", metavar="ID_OR_PATH", help="document ids (from kb search) or source paths")
    add_index_option(r)
    r.set_defaults(run=remove)

    rx = subparsers.add_parser("reextract", help="re-derive metadata from the stored texts",
                               description="Re-derive every document's metadata from its stored text, after "
                               "editing the gazetteer, taxonomy or rules in kb/data/; source files are not needed. "
                               "Corrections made by staff (kb set) are kept.")
    add_index_option(rx)
    rx.set_defaults(run=reextract)
