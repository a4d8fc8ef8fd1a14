"""``kb backup DIR``, ``kb restore DIR``: a consistent copy of the index, even while an ingest runs
(how: ``kb.backup``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kb.cli.common import Failed, UsageError, add_index_option, index_path

BACKUP_EPILOG = """examples:
  kb backup /srv/backup/kb-$(date +%F)         the default index, while ingests and the site run
  kb backup --index /srv/kb/index /mnt/nas/kb   another index

What is copied: the newest committed generation of the index (its table of contents and exactly
the files it names), originals/, and users/, corrections/, audit/, uploads/ when present. Caches
(ocr-cache/, versions.json) are rebuilt, not copied; kb.toml (beside the index folder) is yours to
copy. DIR must be new or empty; it appears only once the copy has been opened and its documents
counted. Exit codes: 0 done, 1 it could not be made, 2 bad usage."""

RESTORE_EPILOG = """examples:
  kb restore /srv/backup/kb-2026-12-01 --index /srv/kb/index    stop the site first

The backup is opened and counted first; the index folder must not hold an index (move the old
one away). Exit codes: 0 done, 1 it could not be restored, 2 bad usage."""


def run_backup(args: argparse.Namespace) -> int:
    from kb import backup as kbbackup
    from kb import index as kbindex

    source = index_path(args)
    if not kbindex.exists(source):
        raise UsageError(f"no index in {source}; pass --index DIR (or set KB_INDEX)")
    try:
        report = kbbackup.backup(source, Path(args.target))
    except kbbackup.BackupError as exc:
        raise Failed(str(exc)) from None
    print(report.line("backup"))
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from kb import backup as kbbackup

    if not Path(args.backup).is_dir():
        raise UsageError(f"{args.backup} is not a folder")
    try:
        report = kbbackup.restore(Path(args.backup), index_path(args))
    except kbbackup.BackupError as exc:
        raise Failed(str(exc)) from None
    print(report.line("restore"))
    return 0


def register(subparsers) -> None:
    b = subparsers.add_parser("backup", help="copy the index, originals and stores consistently (even during an ingest)",
                              description="Make a consistent copy of the index folder in DIR: the newest committed "
                                          "generation, its originals and the stores beside it; the copy is opened "
                                          "and its documents counted before it is put in place.",
                              epilog=BACKUP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("target", metavar="DIR", help="a new (or empty) folder for the copy")
    add_index_option(b)
    b.set_defaults(run=run_backup)

    r = subparsers.add_parser("restore", help="put a backup in place as the index folder",
                              description="Check a backup made by `kb backup` and copy it to the index folder, "
                                          "which must not hold an index.",
                              epilog=RESTORE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("backup", metavar="DIR", help="a folder made by kb backup")
    add_index_option(r)
    r.set_defaults(run=run_restore)
