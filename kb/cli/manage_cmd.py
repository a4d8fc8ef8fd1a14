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


SETTABLE_HELP = "title, date, docno, or a facet (year, county, sector, city, province, doctype, issuer, topic, access, …)"


def set_fields(args: argparse.Namespace) -> int:
    """Correct a document's metadata: the correction wins over extraction and survives reextract
    and re-ingest (kb.corrections); --unset goes back to the extracted value."""
    from kb import meta
    from kb.cli.common import UsageError
    from kb.corrections import CorrectionStore
    from kb.facets import by_key
    from kb.maintain import reextract as reextract_documents

    kb = open_kb(args)
    stored = kb.find(args.document)
    if stored is None:
        raise UsageError(f"no document {args.document!r} (give an id from `kb search` or a source path)")
    given, unset = {}, []
    for assignment in args.fields:
        name, sep, value = assignment.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{assignment!r} is not FIELD=VALUE")
        given[name.strip()] = value.strip()
    for name in args.unset:
        facet = by_key(name)
        unset.append(facet.field if facet else meta.DOCUMENT_ALIASES.get(name.strip().lower(), name.strip().lower()))
    try:
        corrected = meta.normalize_given(given, "kb set")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    unknown = [k for k in list(corrected) + unset if k not in meta.known_keys()]
    if unknown:
        raise UsageError(f"unknown field(s) {', '.join(unknown)}; fields are {SETTABLE_HELP}")
    now = CorrectionStore(index_path(args)).update(stored["id"], corrected, unset)
    reextract_documents(index_path(args), ids={stored["id"]})
    print(f"{stored['id']}: " + (", ".join(f"{k}={v}" for k, v in sorted(now.items())) or "no corrections (extracted values)"))
    return 0


def upgrade(args: argparse.Namespace) -> int:
    from kb.maintain import upgrade as upgrade_index

    open_kb(args)
    count = upgrade_index(index_path(args), report=lambda line: print(line, file=sys.stderr))
    print(f"upgrade: {count} documents rebuilt in the current index format", file=sys.stderr)
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

    up = subparsers.add_parser("upgrade", help="rebuild an index made by an older version, from its stored texts",
                               description="Rebuild an index made by an older version of kb in the current format, "
                               "from the texts and metadata it stores: no source files needed, corrections and "
                               "users kept; the old folder is kept beside it until you remove it.")
    add_index_option(up)
    up.set_defaults(run=upgrade)

    st = subparsers.add_parser("set", help="correct a document's metadata (wins over extraction, kept on reextract)",
                               description="Correct a document's metadata. A correction wins over what is extracted "
                               "and over sidecars, manifests and flags, and survives reextract and re-ingest of the "
                               "file; --unset goes back to the extracted value.",
                               epilog="examples:\n  kb set 3f2a9c0d1e2b4a56 title=涞水县2011年政府工作报告 year=2011\n"
                                      "  kb set ~/reports/a.docx 'county=涞水县;涞源县' access=内部\n"
                                      "  kb set 3f2a9c0d1e2b4a56 --unset year\n\n"
                                      f"Fields: {SETTABLE_HELP}; lists are separated by ;.",
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("document", metavar="ID_OR_PATH", help="a document id (from kb search) or its source path")
    st.add_argument("fields", nargs="*", metavar="FIELD=VALUE", help="what to set (lists separated by ;)")
    st.add_argument("--unset", action="append", default=[], metavar="FIELD", help="drop a correction (repeatable)")
    add_index_option(st)
    st.set_defaults(run=set_fields)
