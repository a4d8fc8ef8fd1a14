"""The command line: ``kb SUBCOMMAND`` (also ``python -m kb``) and ``ingest.py``.

Each subcommand group is a module with ``register(subparsers)``; a subcommand sets ``run`` to a
function of the parsed arguments that returns the exit code (see ``kb.cli.common`` for the
contract). Subcommands that live outside ``kb`` (``kb serve``, in ``web``) come in through the
``kb.commands`` entry point group, so the library never imports the site.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib import metadata

import kb
from kb.cli import backup_cmd, ingest_cmd, manage_cmd, research_cmd, search_cmd, users_cmd
from kb.cli.common import EXIT_USAGE, PROG, Parser, run_guarded
from kb.cli.ingest_cmd import ingest_main

COMMANDS = [ingest_cmd, search_cmd, manage_cmd, users_cmd, backup_cmd, research_cmd, importlib.import_module("kb.cli.export_cmd")]
# Where the site's subcommands are when the package is used from a source folder without being
# installed (so without entry points): loaded by name only if present.
_UNINSTALLED_PLUGINS = ("web.cli",)

EPILOG = """examples:
  kb ingest ~/reports/            add documents (again and again: unchanged files are skipped)
  kb search 乡村振兴 --county 祁县  search, with facet filters
  kb show ID                      one document, with where each field came from
  kb serve                        the web site on http://127.0.0.1:5000/

Every subcommand has --help. Exit codes: 0 all went well, 1 something failed (the rest was done),
2 bad usage. Index folder: --index DIR, else $KB_INDEX, else index/."""


def _plugins():
    """``register`` functions of subcommands contributed by other packages."""
    found = {}
    try:
        for entry in metadata.entry_points(group="kb.commands"):
            found[entry.name] = entry
    except Exception:  # broken metadata must not break the command line
        pass
    registers = []
    for entry in found.values():
        try:
            registers.append(entry.load())
        except ImportError:
            continue
    if not registers:
        for name in _UNINSTALLED_PLUGINS:
            try:
                registers.append(importlib.import_module(name).register)
            except ImportError:
                continue
    return registers


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``kb`` parser; subcommands from other packages are added unless ``command`` is built in
    (scanning entry points and importing the web package, Flask, would cost a third of a built-in
    command's cold start)."""
    p = Parser(prog=PROG, description="A searchable knowledge base for Chinese documents.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"{PROG} {kb.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    if command not in sub.choices:
        for register in _plugins():
            register(sub)
    return p


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named (top-level options take no values, so it is the first non-option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser(_command_of(argv)).parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return EXIT_USAGE if exc.code not in (0, None) else 0
    return run_guarded(args.run, args)


kb_main = main

__all__ = ["main", "kb_main", "ingest_main", "parser"]
