"""Archives: the files inside a .zip, .7z or .rar, read safely, one at a time.

    problems: list[str] = []
    for name, data in members(path, data, problems):
        ...  # name: the member's path inside the archive, "/"-separated, e.g. "2023/总结.docx"
    # problems: one line per member left out, "NAME: why" (unsafe path, too big, encrypted, ...)

Members that are archives themselves are opened in turn, down to MAX_DEPTH levels, and their
members named "inner.zip!/path" (a caller storing "outer.zip!/" + name gets the full chain).
Folders, the __MACOSX/ resource forks, .DS_Store and Thumbs.db are skipped silently; symbolic links
are skipped with a problem. Guards, checked on what the
archive declares before anything is inflated (zipfile and py7zr never inflate past the declared
size): total uncompressed size (MAX_TOTAL_BYTES), member count (MAX_MEMBERS), size of one member
(MAX_MEMBER_BYTES, the ingest limit for a file), compression ratio of large members (MAX_RATIO),
nesting depth, and member paths that would escape a folder ("../", absolute, "C:").

Raises ReadError when the archive as a whole cannot be read (corrupt, encrypted headers, a bomb by
its member count), ToolMissing for .rar when no program to unpack it is installed, and
UnsupportedFormat for other suffixes. Member names from Windows zips (GBK without the UTF-8 flag)
are decoded as GBK.
"""

from __future__ import annotations

import io
import shutil
import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kb.config import MAX_FILE_BYTES
from kb.errors import ReadError, ToolMissing, UnsupportedFormat
from kb.read.base import brief

ARCHIVE_SUFFIXES = frozenset((".zip", ".7z", ".rar"))
MAX_TOTAL_BYTES = 2 * 1024**3  # everything inflated from one archive, nested ones included
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = MAX_FILE_BYTES
MAX_DEPTH = 3  # an archive inside an archive inside an archive, no deeper
# Real documents compress 10-20x; a large member far beyond that is a bomb.
MAX_RATIO = 100
RATIO_CHECK_FROM_BYTES = 10 * 1024 * 1024
_BATCH_BYTES = 64 * 1024 * 1024  # 7z: members inflated together (solid blocks are read once per batch)

_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = frozenset((".DS_Store", "Thumbs.db", "desktop.ini"))
# rarfile runs the first of these it finds; bsdtar (libarchive 3.6) cannot unpack solid RAR archives.
_RAR_TOOLS = ("unrar", "unar", "7z", "7zz", "bsdtar")
_RAR_TOOL = "unar (or unrar)"
_RAR_INSTALL = "apt-get install unar"


def members(path: Path, data: bytes, problems: list[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """Yield (name inside the archive, content) for each file member; see the module docstring."""
    budget = _Budget(MAX_TOTAL_BYTES)
    yield from _members(Path(path), data, problems if problems is not None else [], budget, depth=1)


def check_package(path: Path, data: bytes, kind: str, max_entries: int = MAX_MEMBERS,
                  max_bytes: int = 200 * 1024 * 1024) -> list[zipfile.ZipInfo]:
    """Raise ReadError unless `data` is a zip package (.docx, .xlsx, .pptx, .ofd, ...) that is safe
    to inflate: its declared entry count (read before zipfile builds an object per entry), total
    size and each large entry's compression ratio. Returns the entries."""
    count = declared_entries(data)
    if count is not None and count > max_entries:
        raise ReadError(path, f"suspicious {kind}: {count} zip entries (zip bomb?)")
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:  # truncated, or no zip at all
        raise ReadError(path, f"corrupt {kind}: not a readable zip package ({brief(exc)})") from exc
    problem = _bomb(entries, limit=max_bytes, max_entries=max_entries)
    if problem:
        raise ReadError(path, f"suspicious {kind}: {problem}")
    return entries


@dataclass
class _Budget:
    left: int


@dataclass
class _Entry:
    name: str  # decoded, "/"-separated, as stored (checked later)
    size: int
    packed: int
    kind: str  # "file", "dir", "link"
    encrypted: bool
    handle: object  # what the format's reader needs to inflate it


def _members(path: Path, data: bytes, problems: list[str], budget: _Budget, depth: int):
    suffix = _archive_kind(path.name)
    if suffix == ".zip":
        opened = _Zip(path, data)
    elif suffix == ".7z":
        opened = _SevenZip(path, data)
    elif suffix == ".rar":
        opened = _Rar(path, data)
    else:
        raise UnsupportedFormat(path, f"not an archive we read ({path.suffix or 'no suffix'})")
    entries = opened.entries()
    files = [entry for entry in entries if entry.kind != "dir"]
    if len(entries) > MAX_MEMBERS:
        raise ReadError(path, f"suspicious archive: {len(entries)} members, over the limit of {MAX_MEMBERS} (zip bomb?)")
    accepted = []
    for entry in files:
        name = _safe_name(entry.name)
        if name is None:
            problems.append(f"{entry.name}: unsafe path (absolute, drive letter or '..'); skipped")
        elif name.startswith(_JUNK_PREFIXES) or PurePosixPath(name).name in _JUNK_NAMES:
            continue
        elif entry.kind == "link":
            problems.append(f"{name}: a symbolic link, not a file; skipped")
        elif entry.encrypted:
            problems.append(f"{name}: password-protected; skipped")
        elif entry.size > MAX_MEMBER_BYTES:
            problems.append(f"{name}: {entry.size // 2**20} MB, over the {MAX_MEMBER_BYTES // 2**20} MB limit for a file; skipped")
        elif entry.size >= RATIO_CHECK_FROM_BYTES and entry.size / max(entry.packed, 1) > MAX_RATIO:
            problems.append(f"{name}: inflates {entry.size / max(entry.packed, 1):.0f}x to {entry.size // 2**20} MB (zip bomb?); skipped")
        elif entry.size > budget.left:
            problems.append(f"{name}: the archive inflates past {MAX_TOTAL_BYTES // 2**20} MB in all (zip bomb?); skipped")
        else:
            budget.left -= entry.size
            entry.name = name
            accepted.append(entry)
    for entry, content in opened.read(accepted, problems):
        if _archive_kind(entry.name) is None:
            yield entry.name, content
        elif depth >= MAX_DEPTH:
            problems.append(f"{entry.name}: an archive nested more than {MAX_DEPTH} deep; skipped")
        else:
            inner: list[str] = []
            try:
                for name, inner_content in _members(Path(entry.name), content, inner, budget, depth + 1):
                    yield f"{entry.name}!/{name}", inner_content
            except (ReadError, UnsupportedFormat) as exc:
                problems.append(f"{entry.name}: {exc.cause}")
            problems.extend(f"{entry.name}!/{problem}" for problem in inner)


def _archive_kind(name: str) -> str | None:
    """.zip/.7z/.rar when the name says so (a .docx is a zip too, but a document)."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if suffix in ARCHIVE_SUFFIXES else None


def _safe_name(name: str) -> str | None:
    """The member's path, "/"-separated, or None when it would leave the folder it is unpacked in."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) >= 2 and name[1] == ":") or "\x00" in name:
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _bomb(entries: list[zipfile.ZipInfo], limit: int, max_entries: int = MAX_MEMBERS) -> str | None:
    if len(entries) > max_entries:
        return f"{len(entries)} zip entries (zip bomb?)"
    total = sum(entry.file_size for entry in entries)
    if total > limit:
        return f"would inflate to {total // 2**20} MB, over the {limit // 2**20} MB limit (zip bomb?)"
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size >= RATIO_CHECK_FROM_BYTES and ratio > MAX_RATIO:
            return f"{entry.filename} inflates {ratio:.0f}x to {entry.file_size // 2**20} MB (zip bomb?)"
    return None


def declared_entries(data: bytes) -> int | None:
    """The entry count a zip's end record declares, read before zipfile builds an object per entry
    (a crafted 100 MB zip can declare two million entries)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, at + 10)
    if count == 0xFFFF:  # ZIP64: the count is in the ZIP64 end record the locator points to
        locator = data.rfind(b"PK\x06\x07", max(0, at - 20), at)
        if locator >= 0:
            (end_at,) = struct.unpack_from("<Q", data, locator + 8)
            if data[end_at : end_at + 4] == b"PK\x06\x06":
                (count,) = struct.unpack_from("<Q", data, end_at + 32)
    return count


class _Zip:
    def __init__(self, path: Path, data: bytes):
        self.path = path
        count = declared_entries(data)
        if count is not None and count > MAX_MEMBERS:
            raise ReadError(path, f"suspicious archive: {count} members, over the limit of {MAX_MEMBERS} (zip bomb?)")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ReadError(path, f"corrupt .zip: {brief(exc)}") from exc

    def entries(self) -> list[_Entry]:
        entries = []
        for info in self.zip.infolist():
            mode = info.external_attr >> 16
            if info.is_dir():
                kind = "dir"
            elif stat.S_ISLNK(mode):
                kind = "link"
            else:
                kind = "file"
            entries.append(
                _Entry(_zip_name(info), info.file_size, info.compress_size, kind, bool(info.flag_bits & 0x1), info)
            )
        return entries

    def read(self, entries: list[_Entry], problems: list[str]) -> Iterator[tuple[_Entry, bytes]]:
        for entry in entries:
            try:
                content = self.zip.read(entry.handle)
            except NotImplementedError as exc:  # a compression method zipfile lacks (deflate64, ...)
                problems.append(f"{entry.name}: cannot unpack ({exc}); skipped")
                continue
            except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
                problems.append(f"{entry.name}: corrupt in the archive ({brief(exc)}); skipped")
                continue
            yield entry, content


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name decoded as its maker meant it.

    Without the UTF-8 flag zipfile decodes names as CP437; Windows' own zip tools (and WinRAR,
    360压缩 and others on Chinese Windows) write the ANSI code page, GBK. An Info-ZIP Unicode Path
    extra field wins; then UTF-8 written without the flag (macOS, some Linux tools); then GB18030.
    """
    if info.flag_bits & 0x800:
        return info.filename
    unicode_path = _unicode_path_extra(info.extra)
    if unicode_path:
        return unicode_path
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    if raw.isascii():
        return info.filename
    as_utf8, as_gbk = _decoded(raw, "utf-8"), _decoded(raw, "gb18030")
    if as_utf8 is not None and (as_gbk is None or not _two_byte_utf8(as_utf8)):
        return as_utf8
    return as_gbk if as_gbk is not None else info.filename


def _decoded(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _two_byte_utf8(text: str) -> bool:
    """Short GBK names can be valid UTF-8 too ("通知" is CD A8 D6 AA): they then decode to letters of
    U+0080-U+07FF (Latin, Greek, Cyrillic, Hebrew...), while Chinese in UTF-8 is three bytes a
    character. A name that also decodes as GBK is taken as GBK when it has such letters."""
    return any("\u0080" <= char <= "\u07ff" for char in text)


def _unicode_path_extra(extra: bytes) -> str | None:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        pos += 4 + size
    return None


class _SevenZip:
    def __init__(self, path: Path, data: bytes):
        try:
            import py7zr
        except ImportError:
            raise ToolMissing(path, "py7zr", "pip install py7zr", "a .7z archive") from None
        self.path, self.data, self.py7zr = path, data, py7zr
        try:
            self.archive = py7zr.SevenZipFile(io.BytesIO(data))
        except py7zr.PasswordRequired:
            raise ReadError(path, "password-protected .7z (its file list is encrypted)") from None
        except Exception as exc:  # py7zr raises Bad7zFile and a few others for broken archives
            raise ReadError(path, f"corrupt .7z: {brief(exc)}") from exc
        self.encrypted = self._needs_password()

    def _needs_password(self) -> bool:
        try:
            return bool(self.archive.needs_password())
        except Exception:
            return False

    def entries(self) -> list[_Entry]:
        entries = []
        for info in self.archive.list():
            kind = "dir" if info.is_directory else "link" if getattr(info, "is_symlink", False) else "file"
            size = info.uncompressed or 0
            entries.append(_Entry(info.filename, size, info.compressed or size, kind, self.encrypted, info.filename))
        return entries

    def read(self, entries: list[_Entry], problems: list[str]) -> Iterator[tuple[_Entry, bytes]]:
        from py7zr.io import BytesIOFactory

        batches: list[list[_Entry]] = []
        size = _BATCH_BYTES
        for entry in entries:
            if size + entry.size > _BATCH_BYTES:
                batches.append([])
                size = 0
            batches[-1].append(entry)
            size += entry.size
        for batch in batches:
            factory = BytesIOFactory(MAX_MEMBER_BYTES + 1)
            try:
                self.archive.reset()
                self.archive.extract(targets=[entry.handle for entry in batch], factory=factory)
            except Exception as exc:  # corrupt data, an unsupported filter (BCJ2, ...)
                problems.extend(f"{entry.name}: cannot unpack ({brief(exc)}); skipped" for entry in batch)
                continue
            for entry in batch:
                try:
                    product = factory.get(entry.handle)
                except KeyError:
                    problems.append(f"{entry.name}: missing from the unpacked data; skipped")
                    continue
                product.seek(0)
                yield entry, product.read()


class _Rar:
    """RAR: rarfile reads the file list; unpacking needs unar or unrar (bsdtar reads non-solid ones)."""

    def __init__(self, path: Path, data: bytes):
        try:
            import rarfile
        except ImportError:
            raise ToolMissing(path, "rarfile", "pip install rarfile", "a .rar archive") from None
        self.path, self.rarfile = path, rarfile
        if not any(shutil.which(tool) for tool in _RAR_TOOLS):
            raise ToolMissing(path, _RAR_TOOL, _RAR_INSTALL, "a .rar archive")
        try:
            rarfile.tool_setup()
            self.rar = rarfile.RarFile(io.BytesIO(data))
        except rarfile.RarCannotExec:
            raise ToolMissing(path, _RAR_TOOL, _RAR_INSTALL, "a .rar archive") from None
        except rarfile.NeedFirstVolume:
            raise ReadError(path, "a later part of a multi-part .rar: read the first part") from None
        except rarfile.PasswordRequired:
            raise ReadError(path, "password-protected .rar (its file list is encrypted)") from None
        except Exception as exc:
            raise ReadError(path, f"corrupt .rar: {brief(exc)}") from exc
        if self.rar.needs_password() and not self.rar.infolist():
            raise ReadError(path, "password-protected .rar (its file list is encrypted)")

    def entries(self) -> list[_Entry]:
        entries = []
        for info in self.rar.infolist():
            kind = "dir" if info.is_dir() else "link" if info.is_symlink() else "file"
            entries.append(
                _Entry(info.filename, info.file_size, info.compress_size, kind, info.needs_password(), info)
            )
        return entries

    def read(self, entries: list[_Entry], problems: list[str]) -> Iterator[tuple[_Entry, bytes]]:
        for entry in entries:
            try:
                content = self.rar.read(entry.handle)
            except Exception as exc:  # a damaged member, or the unpacking program failed
                problems.append(f"{entry.name}: cannot unpack ({brief(exc)}); skipped")
                continue
            yield entry, content
