"""Word .docx: body paragraphs and tables in document order, one paragraph or table row per line.

Table cells are tab-separated; a merged cell's text appears once; text boxes follow the paragraph
they are anchored in. Headers, footers and comments are left out: they repeat on every page and
are noise for search.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from kb.documents import Extracted
from kb.errors import ReadError
from kb.read.base import brief

# A .docx is a zip: check what its entries declare before anything inflates them. zipfile never
# inflates an entry past its declared size, so these limits bound memory.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 10_000
# (and kb.read.archive's ratio check: real documents compress 10-20x, a large entry far beyond is a bomb)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TITLE_STYLES = frozenset(("Title", "Heading 1", "标题", "标题 1"))
_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_TEXT_BOX = qn("w:txbxContent")
# Drawings come twice: the modern one (mc:Choice) and a VML copy for old readers (mc:Fallback).
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def read(path: Path, data: bytes) -> Extracted:
    """Read a .docx; title from the first Title or Heading 1 paragraph of the body."""
    check_zip(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx, zipfile and lxml each have their own errors
        raise ReadError(path, f"corrupt .docx: {brief(exc)}") from exc
    lines: list[str] = []
    title = None
    for block in _blocks(document.element.body, document):
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if title is None and text and _style_name(block) in _TITLE_STYLES:
                title = text
            lines.append(text)
        else:
            lines.extend(_table_lines(block))
    return Extracted(text="\n".join(line for line in lines if line), fmt="docx", title=title)


def check_zip(path: Path, data: bytes) -> None:
    """Raise ReadError unless `data` is a zip whose declared sizes are safe to inflate."""
    if data.startswith(_OLE_MAGIC):
        raise ReadError(
            path,
            "not a .docx package but an OLE file: a password-protected document, "
            "or a legacy Word .doc renamed; save it as .docx",
        )
    from kb.read.archive import check_package

    check_package(path, data, ".docx", MAX_ENTRIES, MAX_UNCOMPRESSED_BYTES)


def _blocks(container, parent) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables of a body or cell in order, looking inside content controls."""
    for child in container.iterchildren():
        if child.tag == _P:
            yield Paragraph(child, parent)
            yield from _text_box_paragraphs(child, parent)
        elif child.tag == _TBL:
            yield Table(child, parent)
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _blocks(content, parent)


def _text_box_paragraphs(paragraph, parent) -> Iterator[Paragraph]:
    """Paragraphs in the text boxes anchored in a paragraph (cover titles, flowchart labels)."""
    for box in paragraph.iter(_TEXT_BOX):
        if any(a.tag in (_FALLBACK, _TEXT_BOX) for a in box.iterancestors()):
            continue  # the VML copy, or a box inside a box (its text is in the outer one)
        for inner in box.iter(_P):
            yield Paragraph(inner, parent)


def _table_lines(table: Table) -> Iterator[str]:
    """One line per row, cells joined by tabs.

    Cells come straight from the XML rather than python-docx's grid view, which repeats a merged
    cell once per grid column and row; continuation cells of a vertical merge are empty.
    """
    for row in table._tbl.tr_lst:
        cells = [_cell_text(_Cell(tc, table)) for tc in row.tc_lst]
        if any(cells):
            yield "\t".join(cells)


def _cell_text(cell: _Cell) -> str:
    parts = []
    for block in _blocks(cell._tc, cell):
        if isinstance(block, Paragraph):
            # Line breaks and tabs inside a cell would break the row apart.
            parts.append(block.text.replace("\n", " ").replace("\t", " ").strip())
        else:  # a table nested in the cell
            parts.extend(line.replace("\t", " ") for line in _table_lines(block))
    return " ".join(part for part in parts if part)


def _style_name(paragraph: Paragraph) -> str | None:
    try:
        return paragraph.style.name
    except Exception:  # a dangling style reference must not lose the document
        return None
