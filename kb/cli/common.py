"""What every subcommand shares: the index option, opening the knowledge base, facet flags, and
the error and exit-code contract.

Exit codes (documented in ``kb --help``): 0 all went well, 1 something failed (the rest was
done) or the index is busy or damaged, 2 bad usage (a wrong option or value, no index). Every
error is one line on stderr; a closed pipe (``kb search … | head -1``) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kb.config import index_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROG = "kb"


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (what was wrong, and where help is), exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UsageError(Exception):
    """Bad arguments or a missing index: exit code 2."""


class Failed(Exception):
    """Something the user asked for could not be done (the message says what): exit code 1."""


def add_index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", metavar="DIR", help="index folder (default: $KB_INDEX, else index/ in the project)")


def add_facet_flags(parser: argparse.ArgumentParser) -> None:
    """One repeatable ``--NAME VALUE`` filter flag per facet (kb.facets)."""
    from kb.facets import FACETS

    for name, facet in FACETS.items():
        parser.add_argument(f"--{name}", action="append", default=[], metavar="N" if facet.numeric else "VALUE",
                            type=int if facet.numeric else str,
                            help=f"only documents with this {facet.label} ({facet.description}); "
                                 "repeat for any of several")


def facet_filters(args: argparse.Namespace) -> dict[str, list]:
    from kb.facets import FACETS

    return {name: getattr(args, name) for name in FACETS if getattr(args, name, None)}


def index_path(args: argparse.Namespace) -> Path:
    return index_dir(getattr(args, "index", None))


def open_kb(args: argparse.Namespace):
    """The knowledge base of ``--index``; UsageError when there is none."""
    from kb import index as kbindex
    from kb.search import KnowledgeBase

    where = index_path(args)
    if not kbindex.begun(where):
        raise UsageError(f"no index in {where}; run `kb ingest FOLDER` first (or pass --index / set KB_INDEX)")
    return KnowledgeBase(where)


def positive(low: int, high: int, name: str):
    """An argparse type: an integer in low..high, the error naming the option."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low} and {high}, not {number}")
        return number

    return parse


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def run_guarded(function, args) -> int:
    """Run a subcommand under the exit-code contract: no traceback reaches the user."""
    from kb.errors import IndexDamaged, IndexLocked, KBError, QueryError

    try:
        return function(args) or EXIT_OK
    except (UsageError, QueryError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except (Failed, IndexLocked, IndexDamaged, KBError) as exc:
        error(str(exc))
        return EXIT_FAILED
    except BrokenPipeError:
        _quiet_pipe()
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        error(f"{exc.strerror or exc}{f': {exc.filename}' if getattr(exc, 'filename', None) else ''}")
        return EXIT_FAILED


def standalone(parser: argparse.ArgumentParser, function, argv: list[str] | None = None) -> int:
    """A command of its own (``ingest.py``, ``python -m web``): parse, then run under the contract."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return EXIT_USAGE if exc.code else 0
    return run_guarded(function, args)


def _quiet_pipe() -> None:
    """The reader went away: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
