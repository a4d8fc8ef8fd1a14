"""PDF: the text layer, PAGE_BREAK between pages; pages without one are OCR'd.

pypdf reads; pdfminer.six is tried when pypdf cannot parse a file. On the Chinese PDFs in
../shared both give the same CJK text (same characters, no U+FFFD) at about the same speed;
pypdf keeps lines tighter (pdfminer puts a blank line after most lines) and opens encrypted files
itself.

Scanned pages: a page whose text layer is negligible (under MIN_TEXT_CHARS characters) and
that holds an image is rendered by pypdfium2 (PDFium, in its wheel) at OCR_DPI and read by
kb.read.ocr, one page at a time (a 200-page scan holds one page image in memory), at most
MAX_OCR_PAGES per file. Only those pages: a mixed PDF keeps its text layer elsewhere.
`ocr_pages` counts them. Without the OCR engine a PDF with no text at all is ToolMissing
(skipped, naming the package); one with some text is read, with a warning naming what was left.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from pdfminer.high_level import extract_text as pdfminer_extract_text
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from kb.documents import PAGE_BREAK, Extracted
from kb.errors import ReadError, ToolMissing
from kb.read.base import brief

_NO_TEXT_LAYER = "no text layer (scanned PDF?); OCR it first"
# A page with fewer characters than this in its text layer (a stamped page number, a scanner's
# header) and an image on it is a scan: it is OCR'd.
MIN_TEXT_CHARS = 20
OCR_DPI = 200  # the engine works on at most 2000 px anyway (A4 at 200 dpi: 1654 x 2339)
MAX_OCR_PAGES = 300
PDFIUM_INSTALL = "pip install pypdfium2==5.15.2"
_PASSWORD = "password-protected PDF"
# Fonts without a Unicode map: pypdf yields their raw codes as control characters,
# pdfminer yields "(cid:123)". Neither is text.
_GARBAGE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\(cid:\d+\)")
_FILE_NAME_TITLE = re.compile(
    r"\.(?:docx?|wps|rtf|odt|pdf|txt|md|tex|html?|xlsx?|pptx?)$|^Microsoft Word - ", re.IGNORECASE
)


def read(path: Path, data: bytes) -> Extracted:
    """Read the text layer, OCR pages that are scans; ReadError for encrypted, corrupt or blank PDFs,
    ToolMissing for a scanned PDF when the OCR engine is not installed."""
    if b"%PDF-" not in data[:1024]:
        raise ReadError(path, "not a PDF (no %PDF- header)")
    warnings: list[str] = []
    reader = "pypdf"
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
        reader = "pdfminer.six"
    unreadable = pages.count(None)
    texts = [_clean_page(page or "") for page in pages]
    candidates = [index for index, text in enumerate(texts) if _negligible(text) and pages[index] is not None]
    ocr_pages, missing = 0, None
    if candidates:
        ocr_pages, missing = _ocr_pages(path, data, texts, candidates, warnings)
    if not any(texts):
        if missing is not None:
            raise missing
        raise ReadError(path, _NO_TEXT_LAYER if not ocr_pages else
                        f"no text layer, and OCR found no text on its {ocr_pages} scanned page(s)")
    if unreadable:
        warnings.append(f"{unreadable} of {len(pages)} pages could not be read")
    scanned = texts.count("") - unreadable
    if scanned and missing is None:  # else the OCR warning already said which pages and why
        warnings.append(f"{scanned} of {len(pages)} pages have no text layer (scanned?)")
    text = PAGE_BREAK.join(texts)
    tool = None
    if ocr_pages:
        from kb.read import ocr

        tool = f"{reader} + {ocr.tool_name()}"
    return Extracted(text=text, fmt="pdf", title=title, warnings=warnings, ocr_pages=ocr_pages, tool=tool)


def _negligible(text: str) -> bool:
    return len("".join(text.split())) < MIN_TEXT_CHARS


def _ocr_pages(path, data, texts, candidates, warnings) -> tuple[int, ToolMissing | None]:
    """OCR the candidate pages that hold an image, in place in `texts`.

    Returns (pages OCR'd, the ToolMissing to raise when the file has no other text). A page at
    a time: render, recognize, free."""
    from kb.read import ocr

    try:
        import pypdfium2
        import pypdfium2.raw as pdfium_c
    except ImportError:
        warnings.append(f"{len(candidates)} of {len(texts)} pages have no text layer and were not OCR'd: "
                        f"pypdfium2 is not installed ({PDFIUM_INSTALL})")
        return 0, ToolMissing(path, "pypdfium2", PDFIUM_INSTALL, "scanned PDF pages")
    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as exc:  # PDFium cannot open what pypdf could: say so, keep the text layer
        warnings.append(f"{len(candidates)} pages without a text layer could not be rendered for OCR ({brief(exc)})")
        return 0, None
    done = 0
    try:
        scans = [index for index in candidates if index < len(document) and _has_image(document, index, pdfium_c)]
        missing = ocr.missing_tool() if scans else None
        if missing is not None:
            tool, install = missing
            warnings.append(f"{len(scans)} of {len(texts)} pages are scans and were not OCR'd: "
                            f"{tool} is not installed ({install})")
            return 0, ToolMissing(path, tool, install, "scanned PDF pages")
        if len(scans) > MAX_OCR_PAGES:
            warnings.append(f"only the first {MAX_OCR_PAGES} of {len(scans)} scanned pages were OCR'd")
        todo = scans[:MAX_OCR_PAGES]
        for index in todo:
            page = document[index]
            try:
                width, height = page.get_size()
                bitmap = page.render(scale=min(OCR_DPI / 72, ocr.MAX_SIDE / max(width, height, 1)), grayscale=True)
                image = bitmap.to_pil()
                recognised = ocr.recognize(image, path=path)
                image.close()
                bitmap.close()
            except ReadError as exc:
                warnings.append(f"page {index + 1}: OCR failed ({exc.cause})")
                continue
            finally:
                page.close()
            done += 1
            ocr.page_done(path, done, len(todo))
            texts[index] = _merge(texts[index], _clean_page(recognised))
    finally:
        document.close()
    return done, None


def _has_image(document, index: int, pdfium_c) -> bool:
    """Whether page `index` draws an image (directly or in a form): blank pages are not OCR'd."""
    page = document[index]
    try:
        return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4))
    finally:
        page.close()


def _merge(layer: str, recognised: str) -> str:
    """OCR text, after the few text-layer lines it does not already contain."""
    if not layer:
        return recognised
    squeezed = "".join(recognised.split())
    kept = [line for line in layer.split("\n") if "".join(line.split()) not in squeezed]
    return "\n".join([*kept, recognised] if recognised else kept)


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
    pages = pdfminer_extract_text(io.BytesIO(data)).split("\f")
    return pages[:-1] if len(pages) > 1 and not pages[-1].strip() else pages  # pdfminer ends each page with \f


def _title(reader: PdfReader) -> str | None:
    """The document-info title, unless it is a file name ("README.md", "Microsoft Word - a.doc")."""
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken info dictionary is no reason to lose the text
        return None
    title = " ".join(str(title or "").split())
    return title if title and not _FILE_NAME_TITLE.search(title) else None


def _clean_page(text: str) -> str:
    """Drop garbage characters (form feeds included: they would be page breaks) and empty lines."""
    lines = (line.rstrip() for line in _GARBAGE.sub("", text).split("\n"))
    return "\n".join(line for line in lines if line.strip())
