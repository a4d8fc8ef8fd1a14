"""Errors that name the file and the cause, so a batch can report and go on."""

from __future__ import annotations


class KBError(Exception):
    """Base class for every error the library raises on purpose."""


class FileProblem(KBError):
    """Something about one file: names the file and the cause."""

    def __init__(self, path, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")

    def __reduce__(self):  # survive the trip back from a worker process
        return (self.__class__, (self.path, self.cause))


class ReadError(FileProblem):
    """A file could not be turned into text (corrupt, empty, undecodable, ...)."""


class UnsupportedFormat(FileProblem):
    """A file of a kind we do not read; it is skipped with a message, not an error."""


class ToolMissing(UnsupportedFormat):
    """A format whose reader needs a program or package this machine lacks: skipped, with the
    tool's name and the command that installs it (never a failure of the batch)."""

    def __init__(self, path, tool: str, install: str, what: str = ""):
        self.tool = tool
        self.install = install
        cause = f"{what or 'this kind of file'} needs {tool}, which is not installed; install it with: {install}"
        super().__init__(path, cause)

    def __reduce__(self):
        return (_tool_missing, (self.path, self.cause, self.tool, self.install))


def _tool_missing(path, cause, tool, install):
    error = ToolMissing.__new__(ToolMissing)
    FileProblem.__init__(error, path, cause)
    error.tool, error.install = tool, install
    return error


class IndexLocked(KBError):
    """Another writer holds the index lock and did not release it in time."""


class QueryError(KBError):
    """A query or a search parameter the user must fix (bad year range, ...)."""


class IndexDamaged(KBError):
    """A part of the index is missing or unreadable (say which, and that re-ingesting rebuilds it)."""


class WorkerDied(KBError):
    """An ingest worker process ended mid-batch (killed, out of memory): the batch stops and
    nothing of it is committed; what was committed before stays."""
