"""Files -> text: one module per format, chosen by suffix.

What every reader returns (`Extracted.text`):
- .txt: the text as written (byte-order mark dropped, "\\n" line endings);
- .md, .html, .docx: markup removed, one paragraph, block or table row per line (cells tab-separated);
- .pdf: the text layer, a blank line between pages.
Whitespace cleaning, NFKC and noise removal come later, in the cleaning step.

Errors: ReadError(path, cause) for a file of a supported kind that yields no text (empty, binary,
undecodable, corrupt, encrypted, scanned, zip bomb); UnsupportedFormat for other kinds. No other
exception leaves `read_bytes`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.documents import Extracted
from kb.errors import ReadError, UnsupportedFormat
from kb.read import docx, html, markdown, pdf, text
from kb.read.base import brief
from kb.read.walk import iter_files

__all__ = ["SUPPORTED_SUFFIXES", "iter_files", "read_bytes", "unsupported_reason"]

_READERS: dict[str, Callable[[Path, bytes], Extracted]] = {
    ".txt": text.read,
    ".text": text.read,
    ".md": markdown.read,
    ".markdown": markdown.read,
    ".html": html.read,
    ".htm": html.read,
    ".xhtml": html.read,
    ".xml": html.read,
    ".docx": docx.read,
    ".pdf": pdf.read,
}
SUPPORTED_SUFFIXES = frozenset(_READERS)

_SAVE_AS_DOCX = "save it as .docx"
_EXPORT_PDF = "export it as PDF"
_UNSUPPORTED = {
    ".doc": f"legacy Word .doc is not supported; {_SAVE_AS_DOCX}",
    ".dot": f"legacy Word template .dot is not supported; {_SAVE_AS_DOCX}",
    ".docm": f"macro-enabled Word .docm is not supported; {_SAVE_AS_DOCX}",
    ".dotx": f"Word template .dotx is not supported; {_SAVE_AS_DOCX}",
    ".rtf": f"RTF is not supported; {_SAVE_AS_DOCX}",
    ".odt": f"OpenDocument .odt is not supported; {_SAVE_AS_DOCX}",
    ".wps": f"WPS .wps is not supported; {_SAVE_AS_DOCX}",
    ".pages": f"Apple Pages is not supported; {_SAVE_AS_DOCX}",
    ".caj": f"CNKI .caj is not supported; {_EXPORT_PDF}",
    ".kdh": f"CNKI .kdh is not supported; {_EXPORT_PDF}",
    ".nh": f"CNKI .nh is not supported; {_EXPORT_PDF}",
    ".ofd": f"OFD is not supported; {_EXPORT_PDF}",
    ".ceb": f"Apabi .ceb is not supported; {_EXPORT_PDF}",
    ".xps": f"XPS is not supported; {_EXPORT_PDF}",
    ".djvu": f"DjVu is not supported; {_EXPORT_PDF}",
    ".epub": f"e-books (.epub) are not supported; {_EXPORT_PDF}",
    ".mobi": f"e-books (.mobi) are not supported; {_EXPORT_PDF}",
    ".json": "JSON data is not a document",
    ".csv": "CSV data is not a document",
    ".tsv": "TSV data is not a document",
}
# message -> the suffixes it is for
_KINDS = {
    "images have no text layer; OCR it first": "png jpg jpeg gif bmp tif tiff webp heic heif svg ico psd",
    "archives are not read; unpack it first": "zip rar 7z tar gz tgz bz2 xz zst lz cab iso",
    "spreadsheets are not supported; save the sheets as .txt or PDF": "xls xlsx xlsm et ods numbers",
    "presentations are not supported; export it as PDF": "ppt pptx pps ppsx dps odp key",
    "audio and video hold no text": "mp3 wav flac aac m4a ogg mp4 m4v mov avi mkv wmv flv webm",
    "programs and libraries are not documents": "exe dll so dylib bin msi apk dmg class jar pyc o a",
    "databases are not supported": "db sqlite sqlite3 mdb accdb",
    "fonts are not documents": "ttf otf woff woff2",
}
_UNSUPPORTED.update(
    (f".{suffix}", message) for message, suffixes in _KINDS.items() for suffix in suffixes.split()
)


def read_bytes(path: Path, data: bytes) -> Extracted:
    """Extract the text of `data`, the content of `path`, by the format its suffix names.

    The caller reads the bytes (to hash them) and enforces the size limit.
    Raises UnsupportedFormat for kinds we do not read, ReadError for files we cannot read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise UnsupportedFormat(path, unsupported_reason(suffix))
    if not data:
        raise ReadError(path, "empty file")
    try:
        extracted = reader(path, data)
    except (ReadError, UnsupportedFormat):
        raise
    except RecursionError:
        raise ReadError(path, "structure nested too deeply to read") from None
    except MemoryError:
        raise ReadError(path, "not enough memory to read it") from None
    except Exception as exc:  # a library bug or a file nobody foresaw: report it, go on
        raise ReadError(path, f"could not read {suffix} ({brief(exc)})") from exc
    if not extracted.text.strip():
        raise ReadError(path, f"no text found in this {suffix} file")
    return extracted


def unsupported_reason(suffix: str) -> str:
    """Why files with `suffix` (lower case, with the dot) are not read."""
    if not suffix:
        return "no file suffix, so the format is unknown"
    return _UNSUPPORTED.get(suffix, f"unsupported file type {suffix}")
