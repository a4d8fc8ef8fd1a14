"""Files -> text: one module per format, chosen by suffix, imported on first use.

What every reader returns (`Extracted.text`):
- .txt: the text as written (byte-order mark dropped, "\\n" line endings);
- .md, .html, .docx, .doc/.wps, .rtf: markup removed, one paragraph, block or table row per line
  (cells tab-separated);
- .pdf: the text layer, a blank line between pages;
- paged formats (.ofd, spreadsheets, slides): PAGE_BREAK ("\\f") between pages, sheets or slides,
  with `page_labels` naming sheets ("Sheet1") and slides ("第 2 张幻灯片");
- images: OCR text.
CSV, TSV and JSON are data: read as tables only when the caller asks (`tables=True`).
Archives (.zip, .7z, .rar) are not one document: `kb.read.archive.members` yields their files.
Whitespace cleaning, NFKC and noise removal come later, in the cleaning step.

Errors: ReadError(path, cause) for a file of a supported kind that yields no text (empty, binary,
undecodable, corrupt, encrypted, scanned, zip bomb); UnsupportedFormat for other kinds, and its
subclass ToolMissing when the reader needs a program or package this machine lacks. No other
exception leaves `read_bytes`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from kb.documents import Extracted
from kb.errors import ReadError, ToolMissing, UnsupportedFormat
from kb.read.base import brief
from kb.read.walk import iter_files

__all__ = [
    "ARCHIVE_SUFFIXES", "SUPPORTED_SUFFIXES", "TABLE_SUFFIXES", "is_supported", "iter_files",
    "read_bytes", "unsupported_reason",
]

Reader = Callable[[Path, bytes], Extracted]

# suffix -> reader: "module:function" strings are imported on first use (the web server imports
# kb.read only on the first upload, and a spreadsheet library should cost nothing until a
# spreadsheet comes); a callable is used as it is.
_READERS: dict[str, str | Reader] = {
    ".txt": "kb.read.text:read",
    ".text": "kb.read.text:read",
    ".md": "kb.read.markdown:read",
    ".markdown": "kb.read.markdown:read",
    ".html": "kb.read.html:read",
    ".htm": "kb.read.html:read",
    ".xhtml": "kb.read.html:read",
    ".xml": "kb.read.html:read",
    ".docx": "kb.read.docx:read",
    ".pdf": "kb.read.pdf:read",
    # Word 97-2003 and WPS Writer (same binary format); templates too
    ".doc": "kb.read.word97:read",
    ".dot": "kb.read.word97:read",
    ".wps": "kb.read.word97:read",
    ".wpt": "kb.read.word97:read",
    ".rtf": "kb.read.rtf:read",
    ".xlsx": "kb.read.sheets:read_xlsx",
    ".xlsm": "kb.read.sheets:read_xlsx",
    ".xls": "kb.read.sheets:read_xls",
    ".pptx": "kb.read.slides:read_pptx",
    ".pptm": "kb.read.slides:read_pptx",
    ".ppsx": "kb.read.slides:read_pptx",
    ".ppt": "kb.read.slides:read_ppt",
    ".pps": "kb.read.slides:read_ppt",
    ".ofd": "kb.read.ofd:read",
    **{f".{suffix}": "kb.read.image:read" for suffix in "png jpg jpeg tif tiff bmp webp gif".split()},
}
SUPPORTED_SUFFIXES = frozenset(_READERS)

# Data rather than documents: read only when tables are asked for (ingest --tables).
_TABLE_READERS: dict[str, str | Reader] = {
    ".csv": "kb.read.sheets:read_csv",
    ".tsv": "kb.read.sheets:read_csv",
    ".json": "kb.read.sheets:read_json",
}
TABLE_SUFFIXES = frozenset(_TABLE_READERS)
ARCHIVE_SUFFIXES = frozenset((".zip", ".7z", ".rar"))  # kb.read.archive.members reads these

# import name -> pip package, for the install hint when a reader's package is missing
_PIP_NAMES = {"pptx": "python-pptx", "docx": "python-docx", "fitz": "pymupdf"}

_SAVE_AS_DOCX = "save it as .docx"
_EXPORT_PDF = "export it as PDF"
_UNSUPPORTED = {
    ".docm": f"macro-enabled Word .docm is not supported; {_SAVE_AS_DOCX}",
    ".dotx": f"Word template .dotx is not supported; {_SAVE_AS_DOCX}",
    ".odt": f"OpenDocument .odt is not supported; {_SAVE_AS_DOCX}",
    ".pages": f"Apple Pages is not supported; {_SAVE_AS_DOCX}",
    ".caj": f"CNKI .caj is not supported; {_EXPORT_PDF}",
    ".kdh": f"CNKI .kdh is not supported; {_EXPORT_PDF}",
    ".nh": f"CNKI .nh is not supported; {_EXPORT_PDF}",
    ".ceb": f"Apabi .ceb is not supported; {_EXPORT_PDF}",
    ".xps": f"XPS is not supported; {_EXPORT_PDF}",
    ".djvu": f"DjVu is not supported; {_EXPORT_PDF}",
    ".epub": f"e-books (.epub) are not supported; {_EXPORT_PDF}",
    ".mobi": f"e-books (.mobi) are not supported; {_EXPORT_PDF}",
    ".json": "JSON data is not a document (read as a table only when tables are asked for)",
    ".csv": "CSV data is not a document (read as a table only when tables are asked for)",
    ".tsv": "TSV data is not a document (read as a table only when tables are asked for)",
}
# message -> the suffixes it is for
_KINDS = {
    "images of this kind are not read; save it as PNG or JPEG": "heic heif svg ico psd",
    "an archive: ingest reads the files in it (kb ingest walks it like a folder)": "zip rar 7z",
    "archives other than .zip, .7z and .rar are not read; unpack it first": "tar gz tgz bz2 xz zst lz cab iso",
    "spreadsheets of this kind are not read; save it as .xlsx": "et ods numbers",
    "presentations of this kind are not read; save it as .pptx": "dps odp key",
    "audio and video hold no text": "mp3 wav flac aac m4a ogg mp4 m4v mov avi mkv wmv flv webm",
    "programs and libraries are not documents": "exe dll so dylib bin msi apk dmg class jar pyc o a",
    "databases are not supported": "db sqlite sqlite3 mdb accdb",
    "fonts are not documents": "ttf otf woff woff2",
}
_UNSUPPORTED.update(
    (f".{suffix}", message) for message, suffixes in _KINDS.items() for suffix in suffixes.split()
)


def is_supported(suffix: str, tables: bool = False) -> bool:
    """Whether `read_bytes` reads files with `suffix` (lower case, with the dot)."""
    return suffix in _READERS or (tables and suffix in _TABLE_READERS)


def read_bytes(path: Path, data: bytes, tables: bool = False) -> Extracted:
    """Extract the text of `data`, the content of `path`, by the format its suffix names.

    The caller reads the bytes (to hash them) and enforces the size limit. With `tables`, CSV,
    TSV and JSON are read as tables too.
    Raises UnsupportedFormat (or ToolMissing) for kinds we do not read, ReadError for files we cannot read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix) or (_TABLE_READERS.get(suffix) if tables else None)
    if reader is None:
        raise UnsupportedFormat(path, unsupported_reason(suffix))
    if not data:
        raise ReadError(path, "empty file")
    try:
        extracted = _resolve(path, reader)(path, data)
    except (ReadError, UnsupportedFormat):
        raise
    except ModuleNotFoundError as exc:  # a package this reader imports on first use is not installed
        raise _missing(path, suffix, exc) from None
    except RecursionError:
        raise ReadError(path, "structure nested too deeply to read") from None
    except MemoryError:
        raise ReadError(path, "not enough memory to read it") from None
    except Exception as exc:  # a library bug or a file nobody foresaw: report it, go on
        raise ReadError(path, f"could not read {suffix} ({brief(exc)})") from exc
    if not extracted.text.strip():
        raise ReadError(path, f"no text found in this {suffix} file")
    return extracted


def _resolve(path: Path, reader: str | Reader) -> Reader:
    """The reader function, importing its module the first time; a module not there is unsupported."""
    if callable(reader):
        return reader
    module_name, _, function = reader.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:  # our own reader module is not in this installation
            raise UnsupportedFormat(
                path, f"{path.suffix.lower()} files cannot be read by this installation ({module_name} is missing)"
            ) from None
        raise
    return getattr(module, function)


def _missing(path: Path, suffix: str, exc: ModuleNotFoundError) -> ToolMissing:
    package = (exc.name or "").split(".")[0] or "a Python package"
    package = _PIP_NAMES.get(package, package)
    return ToolMissing(path, package, f"pip install {package}  (or: pip install -r requirements.txt)", f"a {suffix} file")


def unsupported_reason(suffix: str, tables: bool = False) -> str:
    """Why files with `suffix` (lower case, with the dot) are not read."""
    if not suffix:
        return "no file suffix, so the format is unknown"
    if tables and suffix in _TABLE_READERS:
        return f"{suffix} is read as a table"
    return _UNSUPPORTED.get(suffix, f"unsupported file type {suffix}")
