"""Presentations: .pptx (python-pptx) and legacy .ppt (catppt, from Debian's catdoc package).

Slide by slide, PAGE_BREAK between slides, each labelled "第 N 张幻灯片" (its number in the deck:
slides without text are left out, the others keep their numbers). On a slide: the title first,
then every shape in the slide's order (text boxes, placeholders, tables one row per line with
tab-separated cells, groups), then the speaker notes. The first slide's title is the title.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kb.documents import PAGE_BREAK, Extracted
from kb.errors import ReadError, ToolMissing
from kb.read.archive import check_package
from kb.read.base import brief
from kb.read.word97 import OLE_MAGIC, ole_streams

CATPPT_INSTALL = "apt-get install catdoc"
CATPPT_TIMEOUT_SECONDS = 60
_TITLE_TYPES = frozenset(("TITLE", "CENTER_TITLE", "VERTICAL_TITLE"))


def label(number: int) -> str:
    return f"第 {number} 张幻灯片"


def read_pptx(path: Path, data: bytes) -> Extracted:
    """Read a PowerPoint 2007+ presentation (.pptx, .ppsx, .pptm)."""
    if data.startswith(OLE_MAGIC):
        streams = ole_streams(path, data)
        if "EncryptedPackage" in streams:
            raise ReadError(path, "password-protected presentation")
        if "PowerPoint Document" in streams:
            extracted = read_ppt(path, data)
            extracted.warnings.insert(0, "this file is really a PowerPoint 97-2003 .ppt; read as such")
            return extracted
        raise ReadError(path, "not a PowerPoint presentation: an OLE file of another kind (renamed?)")
    check_package(path, data, "presentation")
    import pptx  # imported when a presentation is read: keeps `import kb.read` cheap

    try:
        deck = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx, zipfile and lxml each have their own errors
        raise ReadError(path, f"corrupt presentation: {brief(exc)}") from exc
    pages, labels, title = [], [], None
    for number, slide in enumerate(deck.slides, start=1):
        slide_title, lines = _slide_lines(slide)
        if number == 1 and slide_title:
            title = slide_title
        if lines:
            pages.append("\n".join(lines))
            labels.append(label(number))
    return Extracted(text=PAGE_BREAK.join(pages), fmt="pptx", title=title, page_labels=labels)


def read_ppt(path: Path, data: bytes) -> Extracted:
    """Read a PowerPoint 97-2003 .ppt with catppt (slides come separated by form feeds)."""
    if not data.startswith(OLE_MAGIC):
        if data.startswith(b"PK\x03\x04"):
            extracted = read_pptx(path, data)
            extracted.warnings.insert(0, "this file is really a .pptx; read as such")
            return extracted
        raise ReadError(path, "not a PowerPoint .ppt file (no OLE header): corrupt, or another format renamed")
    streams = ole_streams(path, data)
    if "PowerPoint Document" not in streams:
        raise ReadError(path, "not a PowerPoint presentation: an OLE file of another kind (renamed?)")
    catppt = shutil.which("catppt")
    if catppt is None:
        raise ToolMissing(path, "catppt", CATPPT_INSTALL, "a PowerPoint 97-2003 .ppt")
    with tempfile.NamedTemporaryFile(suffix=".ppt") as copy:
        copy.write(data)
        copy.flush()
        try:
            done = subprocess.run(
                [catppt, "-d", "utf-8", copy.name], capture_output=True, timeout=CATPPT_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired:
            raise ReadError(path, f"catppt took over {CATPPT_TIMEOUT_SECONDS} s on this .ppt") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReadError(path, f"catppt could not read this .ppt ({message[-1] if message else done.returncode})")
    slides = done.stdout.decode("utf-8", "replace").split("\f")
    pages, labels = [], []
    for number, text in enumerate(slides, start=1):
        lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
        if lines:
            pages.append("\n".join(lines))
            labels.append(label(number))
    return Extracted(text=PAGE_BREAK.join(pages), fmt="ppt", page_labels=labels, tool="catppt")


def _slide_lines(slide) -> tuple[str | None, list[str]]:
    shapes = list(slide.shapes)
    titles = [shape for shape in shapes if _is_title(shape)]
    lines: list[str] = []
    for shape in titles + [shape for shape in shapes if shape not in titles]:
        lines.extend(_shape_lines(shape))
    title = next((" ".join(_text_lines(t.text_frame)) for t in titles if t.has_text_frame), None) or None
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None:
            lines.extend(_text_lines(notes))
    return title, lines


def _is_title(shape) -> bool:
    if not getattr(shape, "is_placeholder", False):
        return False
    try:
        return shape.placeholder_format.type is not None and shape.placeholder_format.type.name in _TITLE_TYPES
    except (ValueError, AttributeError):
        return False


def _shape_lines(shape) -> Iterator[str]:
    if getattr(shape, "shape_type", None) is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
        for inner in shape.shapes:
            yield from _shape_lines(inner)
        return
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        yield from _text_lines(shape.text_frame)
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [" ".join(_text_lines(cell.text_frame)) for cell in row.cells if not cell.is_spanned]
            if any(cells):
                yield "\t".join(cells)


def _text_lines(frame) -> Iterator[str]:
    for paragraph in frame.paragraphs:
        for line in paragraph.text.replace("\v", "\n").split("\n"):
            line = line.replace("\t", " ").strip()
            if line:
                yield line
