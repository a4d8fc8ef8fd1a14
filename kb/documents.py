"""The words every module shares: what a reader returns, what gets indexed, what a search returns."""

from __future__ import annotations

from dataclasses import dataclass, field

# Readers separate pages (PDF, OFD), slides and sheets with this character; cleaning turns the
# breaks into page offsets of the clean text (``kb.clean.Cleaned.pages``).
PAGE_BREAK = "\f"


@dataclass
class Extracted:
    """What a format reader gets out of a file: text plus what the format itself says."""

    text: str
    fmt: str  # "txt", "md", "html", "docx", "pdf", "doc", "ofd", "image", ...
    title: str | None = None  # a title the format marks as such (<title>, "# ...", docx Title style)
    encoding: str | None = None  # for text formats: the encoding that was detected
    warnings: list[str] = field(default_factory=list)
    # Paged formats: ``text`` holds PAGE_BREAK between pages; one label per page when the pages
    # have names of their own (sheet names, "第 2 张幻灯片"); empty: pages are numbered "第 N 页".
    page_labels: list[str] = field(default_factory=list)
    ocr_pages: int = 0  # pages (or images) whose text came from OCR
    tool: str | None = None  # the library or program that extracted the text, when it matters
