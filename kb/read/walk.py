"""Walk the paths a user gives: files to read, and problems to report instead of crashing."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

SIDECAR_SUFFIX = ".meta.json"  # our own metadata files, next to the documents
HIDDEN = "hidden"  # the problem reported for a hidden entry (".name") inside a walked folder


def iter_files(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> Iterator[tuple[Path, str | None]]:
    """Yield (path, None) for each file under `paths`, and (path, problem) for what cannot be walked.

    Folders are walked depth-first in sorted name order, so runs are reproducible. Inside folders,
    sidecars ("*.meta.json") are skipped and hidden entries (".name") are yielded with the problem
    ``HIDDEN`` (not read; callers count them); paths given explicitly are
    always yielded. Symbolic links are followed, but a folder already walked (a symlink loop, or a
    second link to it) is reported, not walked again, and a file reached twice is yielded once.
    Problems are short English reasons: missing path, broken link, unreadable folder, special file.
    Every file is yielded whatever its suffix: `read_bytes` says which kinds it does not read.
    """
    if isinstance(paths, (str, os.PathLike)):  # one path, not an iterable of its characters
        paths = [paths]
    seen: set[tuple[int, int]] = set()  # (device, inode) of folders and files already yielded
    for top in paths:
        yield from _walk(Path(top), seen)


def _walk(top: Path, seen: set[tuple[int, int]]) -> Iterator[tuple[Path, str | None]]:
    stack = [top]  # a stack, not recursion: deep trees cannot hit the recursion limit
    while stack:
        path = stack.pop()
        try:
            info = path.stat()
        except OSError as exc:
            yield path, _stat_problem(path, exc)
            continue
        identity = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if identity in seen:
                yield path, "folder already walked (symlink loop or a second link to it); skipped"
                continue
            seen.add(identity)
            try:
                children, hidden = _children(path)
            except OSError as exc:
                yield path, f"cannot read folder: {exc.strerror or exc}"
                continue
            for entry in hidden:
                yield entry, HIDDEN
            stack.extend(reversed(children))
        elif stat.S_ISREG(info.st_mode):
            if identity not in seen:
                seen.add(identity)
                yield path, None
        else:  # a FIFO would block a reader forever; devices and sockets hold no documents
            yield path, "not a regular file (device, pipe or socket); skipped"


def _children(folder: Path) -> tuple[list[Path], list[Path]]:
    """The entries to walk, and the hidden ones (reported as HIDDEN, not read)."""
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries if not entry.name.endswith(SIDECAR_SUFFIX))
    return ([folder / n for n in names if not n.startswith(".")], [folder / n for n in names if n.startswith(".")])


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "broken symbolic link" if path.is_symlink() else "no such file or folder"
    return f"cannot open: {exc.strerror or exc}"
