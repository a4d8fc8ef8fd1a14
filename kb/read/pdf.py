"""PDF: the text layer, pages separated by a blank line.

pypdf reads; pdfminer.six is tried when pypdf cannot parse a file. On the Chinese PDFs in
../shared both give the same CJK text (same characters, no U+FFFD) at about the same speed;
pypdf keeps lines tighter (pdfminer puts a blank line after most lines) and opens encrypted files
itself. Scanned pages have no text layer: OCR is out of scope, so they are reported, not guessed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from pdfminer.high_level import extract_text as pdfminer_extract_text
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from kb.documents import Extracted
from kb.errors import ReadError
from kb.read.base import brief

_NO_TEXT_LAYER = "no text layer (scanned PDF?); OCR it first"
_PASSWORD = "password-protected PDF"
# Fonts without a Unicode map: pypdf yields their raw codes as control characters,
# pdfminer yields "(cid:123)". Neither is text.
_GARBAGE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\(cid:\d+\)")
_FILE_NAME_TITLE = re.compile(
    r"\.(?:docx?|wps|rtf|odt|pdf|txt|md|tex|html?|xlsx?|pptx?)$|^Microsoft Word - ", re.IGNORECASE
)


def read(path: Path, data: bytes) -> Extracted:
    """Read the text layer; ReadError for encrypted, corrupt or image-only PDFs."""
    if b"%PDF-" not in data[:1024]:
        raise ReadError(path, "not a PDF (no %PDF- header)")
    warnings: list[str] = []
    try:
        pages, title = _pypdf_pages(path, data)
    except ReadError:
        raise
    except Exception as pypdf_error:  # pypdf has no single error base for broken files
        try:
            pages, title = _pdfminer_pages(data), None
        except PDFPasswordIncorrect:
            raise ReadError(path, _PASSWORD) from None
        except Exception:
            raise ReadError(path, f"corrupt or truncated PDF ({brief(pypdf_error)})") from pypdf_error
        warnings.append(f"read by pdfminer.six: pypdf failed ({brief(pypdf_error)})")
    unreadable = pages.count(None)
    texts = [_clean_page(page or "") for page in pages]
    if not any(texts):
        raise ReadError(path, _NO_TEXT_LAYER)
    if unreadable:
        warnings.append(f"{unreadable} of {len(pages)} pages could not be read")
    scanned = texts.count("") - unreadable
    if scanned:
        warnings.append(f"{scanned} of {len(pages)} pages have no text layer (scanned?)")
    text = "\n\n".join(page for page in texts if page)
    return Extracted(text=text, fmt="pdf", title=title, warnings=warnings)


def _pypdf_pages(path: Path, data: bytes) -> tuple[list[str | None], str | None]:
    """The text of each page (None where pypdf failed on it), and the title."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            # Many PDFs are encrypted only to restrict printing or copying: the user password is empty.
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise ReadError(path, f"encrypted PDF needs the 'cryptography' package ({exc})") from exc
        if opened == PasswordType.NOT_DECRYPTED:
            raise ReadError(path, _PASSWORD)
    pages: list[str | None] = []
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except Exception:  # one broken content stream must not lose the other pages
            pages.append(None)
    if pages.count(None) == len(pages):  # also when no page was found at all: let pdfminer try
        raise ValueError("no page could be read")
    return pages, _title(reader)


def _pdfminer_pages(data: bytes) -> list[str]:
    return pdfminer_extract_text(io.BytesIO(data)).split("\f")


def _title(reader: PdfReader) -> str | None:
    """The document-info title, unless it is a file name ("README.md", "Microsoft Word - a.doc")."""
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken info dictionary is no reason to lose the text
        return None
    title = " ".join(str(title or "").split())
    return title if title and not _FILE_NAME_TITLE.search(title) else None


def _clean_page(text: str) -> str:
    """Drop garbage characters and empty lines, so that a blank line always means a new page."""
    lines = (line.rstrip() for line in _GARBAGE.sub("", text).split("\n"))
    return "\n".join(line for line in lines if line.strip())
