"""Presentations: .pptx (python-pptx) and legacy .ppt (read here in pure Python, over olefile).

Slide by slide, PAGE_BREAK between slides, each labelled "第 N 张幻灯片" (its number in the deck:
slides without text are left out, the others keep their numbers). On a slide: the title first,
then every shape in the slide's order (text boxes, placeholders, tables one row per line with
tab-separated cells, groups), then the speaker notes. The first slide's title is the title.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path

from kb.documents import PAGE_BREAK, Extracted
from kb.errors import ReadError
from kb.read.archive import check_package
from kb.read.base import brief
from kb.read.word97 import OLE_MAGIC, ole_streams

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
    """Read a PowerPoint 97-2003 .ppt (or .pps) in pure Python.

    The current edit's persist directory ("Current User" -> UserEditAtom -> PersistDirectoryAtom,
    older edits chained behind it) gives where each slide's newest version is; a slide's text is
    the placeholder text PowerPoint keeps in the document's slide list, then every text atom of
    the slide's drawing (text boxes, tables, groups: where LibreOffice and WPS put all text), then
    its notes. Masters and layouts are left out ("Click to edit Master title style").
    catppt (Debian's catdoc) was measured and not taken: it reads only the slide-list text, so it
    printed nothing for a deck saved by LibreOffice.
    """
    if not data.startswith(OLE_MAGIC):
        if data.startswith(b"PK\x03\x04"):
            extracted = read_pptx(path, data)
            extracted.warnings.insert(0, "this file is really a .pptx; read as such")
            return extracted
        raise ReadError(path, "not a PowerPoint .ppt file (no OLE header): corrupt, or another format renamed")
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("PowerPoint Document"):
                raise ReadError(path, "not a PowerPoint presentation: an OLE file of another kind (renamed?)")
            stream = ole.openstream("PowerPoint Document").read()
            user = ole.openstream("Current User").read() if ole.exists("Current User") else b""
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(path, f"corrupt .ppt: the OLE container cannot be read ({brief(exc)})") from exc
    try:
        slides = _Ppt(path, stream, user).slides()
    except ReadError:
        raise
    except (struct.error, IndexError, ValueError, KeyError) as exc:
        raise ReadError(path, f"corrupt .ppt: {brief(exc)}") from exc
    pages, labels, title = [], [], None
    for number, (slide_title, lines) in enumerate(slides, start=1):
        if number == 1:
            title = slide_title
        if lines:
            pages.append("\n".join(lines))
            labels.append(label(number))
    return Extracted(text=PAGE_BREAK.join(pages), fmt="ppt", title=title, page_labels=labels)


# PowerPoint 97 record types ([MS-PPT])
_DOCUMENT, _SLIDE, _NOTES, _SLIDE_ATOM, _SLIDE_LIST = 0x03E8, 0x03EE, 0x03F0, 0x03EF, 0x0FF0
_SLIDE_PERSIST, _USER_EDIT, _PERSIST_DIRECTORY = 0x03F3, 0x0FF5, 0x1772
_TEXT_HEADER, _TEXT_CHARS, _TEXT_BYTES = 0x0F9F, 0x0FA0, 0x0FA8
_TITLE_TEXT = (0, 6)  # TextHeaderAtom types: title, centre title
_MAX_EDITS = 10_000  # a loop in the chain of edits must end


class _Ppt:
    def __init__(self, path: Path, stream: bytes, user: bytes):
        self.path, self.stream = path, stream
        self.offsets = self._persist_directory(user)

    def slides(self) -> list[tuple[str | None, list[str]]]:
        document = self._container_at(self.offsets.get(self.document_id), _DOCUMENT)
        if document is None:
            raise ReadError(self.path, "corrupt .ppt: the document record is missing")
        lists = {instance: body for kind, instance, body in self._children(*document) if kind == _SLIDE_LIST}
        notes_by_slide_id = {slide_id: persist for persist, slide_id, _ in self._slide_list(lists.get(2))}
        slides = []
        for persist, _, list_texts in self._slide_list(lists.get(0)):
            texts = list(list_texts)
            slide = self._container_at(self.offsets.get(persist), _SLIDE)
            notes_id = None
            if slide is not None:
                texts += self._texts(*slide)
                atom = next((body for kind, _, body in self._children(*slide) if kind == _SLIDE_ATOM), None)
                if atom is not None and atom[1] - atom[0] >= 20:
                    (notes_id,) = struct.unpack_from("<I", self.stream, atom[0] + 16)
            notes = self._container_at(self.offsets.get(notes_by_slide_id.get(notes_id)), _NOTES)
            if notes is not None:
                texts += self._texts(*notes)
            slides.append(_slide_text(texts))
        return slides

    def _persist_directory(self, user: bytes) -> dict[int, int]:
        """persist id -> stream offset, newest edit first; sets the document's persist id."""
        if len(user) >= 20:
            (edit_at,) = struct.unpack_from("<I", user, 16)
        else:  # no Current User stream: the last UserEditAtom in the stream
            edit_at = self.stream.rfind(struct.pack("<HH", 0, _USER_EDIT))
        offsets: dict[int, int] = {}
        self.document_id = None
        seen = set()
        while 0 <= edit_at < len(self.stream) and edit_at not in seen and len(seen) < _MAX_EDITS:
            seen.add(edit_at)
            _, kind, size = struct.unpack_from("<HHI", self.stream, edit_at)
            if kind != _USER_EDIT or size < 28:
                raise ReadError(self.path, "corrupt .ppt: its edit record is damaged")
            last_edit, directory_at, document_id = struct.unpack_from("<III", self.stream, edit_at + 16)
            if size > 28 and struct.unpack_from("<I", self.stream, edit_at + 36)[0]:
                raise ReadError(self.path, "password-protected .ppt")
            if self.document_id is None:
                self.document_id = document_id
            _, kind, size = struct.unpack_from("<HHI", self.stream, directory_at)
            if kind != _PERSIST_DIRECTORY:
                raise ReadError(self.path, "corrupt .ppt: its persist directory is damaged")
            pos, end = directory_at + 8, directory_at + 8 + size
            while pos + 4 <= end:
                (entry,) = struct.unpack_from("<I", self.stream, pos)
                first, count = entry & 0xFFFFF, entry >> 20
                for i in range(count):
                    offsets.setdefault(first + i, struct.unpack_from("<I", self.stream, pos + 4 + 4 * i)[0])
                pos += 4 + 4 * count
            edit_at = last_edit if last_edit else -1
        return offsets

    def _container_at(self, offset: int | None, kind: int) -> tuple[int, int] | None:
        if offset is None or not 0 <= offset <= len(self.stream) - 8:
            return None
        _, found, size = struct.unpack_from("<HHI", self.stream, offset)
        return (offset + 8, min(offset + 8 + size, len(self.stream))) if found == kind else None

    def _children(self, start: int, end: int):
        """(record type, instance, (body start, body end)) of the records directly inside."""
        pos = start
        while pos + 8 <= end:
            head, kind, size = struct.unpack_from("<HHI", self.stream, pos)
            body = (pos + 8, min(pos + 8 + size, end))
            yield kind, head >> 4, body
            pos = body[1]

    def _slide_list(self, body: tuple[int, int] | None):
        """(persist id, slide id, texts) for each SlidePersistAtom of a slide list."""
        if body is None:
            return []
        entries: list[tuple[int, int, list[tuple[int, str]]]] = []
        text_type = 1
        for kind, _, (start, end) in self._children(*body):
            if kind == _SLIDE_PERSIST and end - start >= 16:
                persist, _, _, slide_id = struct.unpack_from("<IIII", self.stream, start)
                entries.append((persist, slide_id, []))
            elif kind == _TEXT_HEADER and end - start >= 4:
                (text_type,) = struct.unpack_from("<I", self.stream, start)
            elif kind in (_TEXT_CHARS, _TEXT_BYTES) and entries:
                entries[-1][2].append((text_type, self._decode(kind, start, end)))
        return entries

    def _texts(self, start: int, end: int) -> list[tuple[int, str]]:
        """(text type, text) of every text atom inside a container, depth first, in order."""
        texts, stack, text_type = [], [(start, end)], 4
        while stack:
            pos, stop = stack.pop()
            while pos + 8 <= stop:
                head, kind, size = struct.unpack_from("<HHI", self.stream, pos)
                body_end = min(pos + 8 + size, stop)
                if head & 0xF == 0xF:  # a container: read it first, then go on after it
                    stack.append((body_end, stop))
                    stack.append((pos + 8, body_end))
                    break
                if kind == _TEXT_HEADER and size >= 4:
                    (text_type,) = struct.unpack_from("<I", self.stream, pos + 8)
                elif kind in (_TEXT_CHARS, _TEXT_BYTES):
                    texts.append((text_type, self._decode(kind, pos + 8, body_end)))
                pos = body_end
        return texts

    def _decode(self, kind: int, start: int, end: int) -> str:
        raw = self.stream[start:end]
        return raw.decode("utf-16-le", "replace") if kind == _TEXT_CHARS else raw.decode("latin-1")


def _slide_text(texts: list[tuple[int, str]]) -> tuple[str | None, list[str]]:
    """Title (the first title text) and lines; a line already there is not repeated, and the
    slide-number field's "*" is no text."""
    lines: list[str] = []
    seen: set[str] = set()
    title = None
    for text_type, text in texts:
        parts = [part.strip() for part in text.replace("\v", "\r").replace("\n", "\r").split("\r")]
        parts = [part for part in parts if part and part != "*"]
        if title is None and text_type in _TITLE_TEXT and parts:
            title = " ".join(parts)
        for part in parts:
            if part not in seen:
                seen.add(part)
                lines.append(part)
    return title, lines


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
