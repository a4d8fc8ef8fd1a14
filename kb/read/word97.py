"""Legacy Word .doc/.dot and WPS .wps (the Word 97-2003 binary format), in pure Python.

olefile opens the OLE container; the rest is read here from the format's specification
([MS-DOC]): the File Information Block gives the story lengths and where the piece table is; each
piece of text is UTF-16LE or "compressed" 8-bit (cp1252); paragraph properties tell table cell ends
from row ends. Chosen by measurement over antiword (fails on WPS-written files) and catdoc (leaks
field codes such as HYPERLINK/PAGEREF into the text): this reads all the real Chinese .doc files in
../shared, and a user needs nothing but a pip package.

What is kept: the main text, one paragraph or table row per line (cells tab-separated, as in the
.docx reader), then the text boxes. Headers, footers, footnotes and comments are left out (noise for
search, as for .docx); of a field only its result is kept (the code, "HYPERLINK ..." or "PAGE", is not).

Files that carry a .doc name but another format inside (RTF, a .docx, a web page or plain text
saved as .doc: common in downloads from government sites) are read as what they are, with a warning.
Word 6/95 files (older than Word 97) are refused with a clear message.

Why this module is long: it is one binary format read from its specification (FIB, piece table,
paragraph-property tables, field marks, text boxes, disguised files); split, each part would only
make sense beside the others.
"""

from __future__ import annotations

import io
import re
import struct
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from kb.documents import Extracted
from kb.errors import ReadError
from kb.read.base import brief

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_IDENT = 0xA5EC
_NFIB_WORD97 = 0x00C1
_PAGE = 512  # FKP pages of the WordDocument stream

# Other programs' OLE files: the stream that names them.
_OTHER_OLE = {
    "Workbook": "an Excel .xls workbook",
    "Book": "an Excel 5/95 workbook",
    "PowerPoint Document": "a PowerPoint .ppt presentation",
    "EncryptedPackage": "a password-protected Office 2007+ file (.docx/.xlsx)",
    "VisioDocument": "a Visio drawing",
}

# sprms (paragraph property modifiers) that mark table paragraphs.
# (Nested tables end their rows and cells with paragraph marks, read as text inside the outer cell.)
_SPRM_IN_TABLE, _SPRM_TTP, _SPRM_ITAP = 0x2416, 0x2417, 0x6649
_SPRM_TDEF_TABLE, _SPRM_TDEF_TABLE10, _SPRM_CHG_TABS = 0xD608, 0xD606, 0xC615
_SPRM_HUGE_PAPX = (0x6645, 0x6646)  # the properties are in the Data stream, at this offset
_OPERAND_SIZE = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}

IN_TABLE, ROW_END = 1, 2  # paragraph flags
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
_CELL_MARK, _PARAGRAPH_MARK = "\x07", "\r"
# Characters that end a line inside a paragraph (manual line, page, column and section breaks).
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\x0e": "\n", "\x1e": "-"})
# Other control characters are object anchors (pictures, drawings, footnote and comment marks).
_CONTROL = re.compile(r"[\x00-\x08\x0f-\x1d\x1f\x7f]")

# "Compressed" pieces are cp1252, except five bytes it leaves undefined (kept as Latin-1).
_CP1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))


def read(path: Path, data: bytes) -> Extracted:
    """Read a Word 97-2003 or WPS binary document; a file of another format is read as that."""
    other = _other_format(path, data)
    if other is not None:
        return other
    if not data.startswith(OLE_MAGIC):
        return _plain_text(path, data)
    import olefile  # only when a .doc is read: keeps `import kb.read` cheap

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError or its own errors for broken containers
        raise ReadError(path, f"corrupt .doc: the OLE container cannot be read ({brief(exc)})") from exc
    with ole:
        if not ole.exists("WordDocument"):
            raise ReadError(path, _not_word(ole))
        try:
            word = ole.openstream("WordDocument").read()
            fib = _Fib.parse(path, word)
            table_name = "1Table" if fib.which_table else "0Table"
            if not ole.exists(table_name):
                raise ReadError(path, f"corrupt .doc: the {table_name} stream is missing")
            table = ole.openstream(table_name).read()
            # Paragraph properties too large for their page live here (table rows, mostly).
            extra = ole.openstream("Data").read() if ole.exists("Data") else b""
        except ReadError:
            raise
        except Exception as exc:
            raise ReadError(path, f"corrupt .doc: {brief(exc)}") from exc
    try:
        return _extract(path, fib, word, table, extra)
    except ReadError:
        raise
    except (struct.error, IndexError, ValueError) as exc:
        raise ReadError(path, f"corrupt .doc: its text tables are damaged ({brief(exc)})") from exc


def ole_streams(path: Path, data: bytes) -> set[str]:
    """Names of the top-level streams of an OLE file (what kind of Office file it is)."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return {entry[0] for entry in ole.listdir(streams=True, storages=True)}
    except Exception as exc:
        raise ReadError(path, f"corrupt OLE file: {brief(exc)}") from exc


def _other_format(path: Path, data: bytes) -> Extracted | None:
    """Files named .doc that hold RTF, a .docx or HTML: read by those readers, with a warning."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head[:1024].lower()
    if head.startswith(b"{\\rtf"):
        from kb.read import rtf as reader

        kind = "an RTF file"
    elif head.startswith(b"PK\x03\x04"):
        from kb.read import docx as reader

        kind = "a .docx package"
    elif lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"mime-version:")) or b"<html" in lowered:
        from kb.read import html as reader

        kind = "a web page (HTML)"
    else:
        return None
    extracted = reader.read(path, data)
    extracted.warnings.insert(0, f"this {path.suffix or 'file'} is really {kind}; read as such")
    return extracted


def _plain_text(path: Path, data: bytes) -> Extracted:
    """Text saved under a .doc name (some systems export that way); anything else is an error."""
    from kb.read import text

    try:
        extracted = text.read(path, data)
    except ReadError:
        raise ReadError(path, "not a Word .doc file (no OLE header): corrupt, or another format renamed") from None
    extracted.warnings.insert(0, f"this {path.suffix or 'file'} is really plain text; read as such")
    return extracted


def _not_word(ole) -> str:
    for stream, kind in _OTHER_OLE.items():
        if ole.exists(stream):
            return f"not a Word document: this OLE file is {kind} (renamed?)"
    return "not a Word document: an OLE file without a WordDocument stream (an older WPS format, or renamed?)"


@dataclass
class _Fib:
    """What the File Information Block says: story lengths and where the tables are."""

    which_table: int
    story_lengths: list[int]  # main, footnotes, headers, macros, comments, endnotes, text boxes, header boxes
    clx: tuple[int, int]  # (offset, length) of the piece table in the table stream
    papx_bins: tuple[int, int]  # (offset, length) of the paragraph property bin table

    @classmethod
    def parse(cls, path: Path, word: bytes) -> _Fib:
        if len(word) < 0x20:
            raise ReadError(path, "corrupt .doc: the WordDocument stream is truncated")
        ident, nfib = struct.unpack_from("<HH", word, 0)
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if ident != _WORD_IDENT:
            raise ReadError(path, f"not a Word 97-2003 document (signature {ident:#06x})")
        if nfib < _NFIB_WORD97 - 1:  # Word 6 and Word 95 are 101-105; 0xC0 was a Word 97 beta
            raise ReadError(
                path,
                "a Word 6/95 document (older than Word 97) is not read; open it in Word or WPS and "
                "save it as .docx",
            )
        if flags & 0x0100:
            raise ReadError(path, "password-protected .doc")
        pos = 0x20
        (csw,) = struct.unpack_from("<H", word, pos)
        pos += 2 + 2 * csw
        (cslw,) = struct.unpack_from("<H", word, pos)
        longs = struct.unpack_from(f"<{cslw}i", word, pos + 2)
        pos += 2 + 4 * cslw
        (pairs,) = struct.unpack_from("<H", word, pos)
        pairs_at = pos + 2
        if cslw < 11 or pairs < 34:
            raise ReadError(path, "corrupt .doc: its File Information Block is too short")

        def pair(index: int) -> tuple[int, int]:
            return struct.unpack_from("<II", word, pairs_at + 8 * index)

        return cls(
            which_table=(flags >> 9) & 1,
            story_lengths=[max(n, 0) for n in longs[3:11]],
            clx=pair(33),
            papx_bins=pair(13),
        )


@dataclass
class _Piece:
    cp: int  # first character position
    end: int
    fc: int  # byte offset of its first character in the WordDocument stream
    width: int  # bytes per character: 2 (UTF-16LE) or 1 (compressed cp1252)


def _extract(path: Path, fib: _Fib, word: bytes, table: bytes, extra: bytes) -> Extracted:
    pieces = _pieces(path, fib, table)
    lengths = fib.story_lengths
    main_length = lengths[0]
    boxes_at, boxes_length = sum(lengths[:6]), lengths[6]
    text = _characters(word, pieces, 0, main_length + (boxes_at + boxes_length if boxes_length else 0))
    warnings = []
    try:
        paragraphs = _ParagraphProperties(word, table, extra, fib.papx_bins, pieces)
    except (struct.error, IndexError, ValueError):
        paragraphs = None
        warnings.append("table layout unreadable: table cells may run together")
    lines = _lines(text[:main_length], 0, paragraphs)
    if boxes_length:
        lines += _lines(text[boxes_at : boxes_at + boxes_length], boxes_at, paragraphs)
    if len(text) < main_length:
        warnings.append(f"text cut short: {main_length - len(text)} characters missing from the file")
    return Extracted(text="\n".join(lines), fmt=path.suffix.lower().lstrip(".") or "doc", warnings=warnings)


def _pieces(path: Path, fib: _Fib, table: bytes) -> list[_Piece]:
    """The piece table (Clx): where each run of characters is stored, and how."""
    offset, length = fib.clx
    clx = table[offset : offset + length]
    if not length or len(clx) < length:
        raise ReadError(path, "corrupt .doc: the piece table is missing")
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # property modifiers before the piece table
        (size,) = struct.unpack_from("<h", clx, pos + 1)
        pos += 3 + max(size, 0)
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ReadError(path, "corrupt .doc: the piece table is damaged")
    (size,) = struct.unpack_from("<I", clx, pos + 1)
    plc = clx[pos + 5 : pos + 5 + size]
    count = (len(plc) - 4) // 12
    if count <= 0:
        raise ReadError(path, "corrupt .doc: the piece table is empty")
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for i in range(count):
        (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)
        compressed = fc & 0x40000000
        fc &= 0x3FFFFFFF
        if cps[i + 1] > cps[i]:
            pieces.append(_Piece(cps[i], cps[i + 1], fc // 2 if compressed else fc, 1 if compressed else 2))
    return pieces


def _characters(word: bytes, pieces: list[_Piece], start: int, end: int) -> str:
    """Characters [start, end) of the document, decoded piece by piece."""
    parts = []
    for piece in pieces:
        if piece.end <= start or piece.cp >= end:
            continue
        first, last = max(piece.cp, start), min(piece.end, end)
        at = piece.fc + (first - piece.cp) * piece.width
        raw = word[at : at + (last - first) * piece.width]
        if piece.width == 2:
            parts.append(raw.decode("utf-16-le", errors="replace"))
        else:
            parts.append("".join(_CP1252[b] for b in raw))
    return "".join(parts)


class _ParagraphProperties:
    """Which paragraph marks are in a table, and which end a table row (from the PAPX pages)."""

    def __init__(self, word: bytes, table: bytes, extra: bytes, bins: tuple[int, int], pieces: list[_Piece]):
        offset, length = bins
        count = (length - 4) // 8 if length >= 12 else 0
        runs: list[tuple[int, int, int]] = []  # (first fc, end fc, flags)
        if count:
            pages = struct.unpack_from(f"<{count}I", table, offset + 4 * (count + 1))
            for page_number in pages:
                runs.extend(_papx_runs(word, extra, (page_number & 0x3FFFFF) * _PAGE))
        runs.sort()
        self._starts = [run[0] for run in runs]
        self._runs = runs
        self._pieces = pieces
        self._piece_starts = [piece.cp for piece in pieces]

    def flags(self, cp: int) -> int:
        """IN_TABLE and ROW_END bits of the paragraph whose mark is at character position `cp`."""
        i = bisect_right(self._piece_starts, cp) - 1
        if i < 0:
            return 0
        piece = self._pieces[i]
        fc = piece.fc + (cp - piece.cp) * piece.width
        j = bisect_right(self._starts, fc) - 1
        if j < 0 or fc >= self._runs[j][1]:
            return 0
        return self._runs[j][2]


def _papx_runs(word: bytes, extra: bytes, at: int) -> list[tuple[int, int, int]]:
    page = word[at : at + _PAGE]
    if len(page) < _PAGE:
        raise ValueError("paragraph property page outside the file")
    crun = page[511]
    fcs = struct.unpack_from(f"<{crun + 1}I", page, 0)
    base = 4 * (crun + 1)
    runs = []
    for i in range(crun):
        offset = page[base + 13 * i] * 2
        flags = 0
        if offset:
            size = page[offset]
            if size:
                grpprl = page[offset + 1 : offset + 2 * size]
            else:
                grpprl = page[offset + 2 : offset + 2 + 2 * page[offset + 1]]
            flags = _table_flags(grpprl[2:], extra)  # after the style index
        runs.append((fcs[i], fcs[i + 1], flags))
    return runs


def _table_flags(grpprl: bytes, extra: bytes = b"") -> int:
    """IN_TABLE/ROW_END bits of a paragraph's property modifiers."""
    flags, pos = 0, 0
    while pos + 2 <= len(grpprl):
        (sprm,) = struct.unpack_from("<H", grpprl, pos)
        pos += 2
        spra = sprm >> 13
        if spra != 6:
            size = _OPERAND_SIZE[spra]
        elif sprm in (_SPRM_TDEF_TABLE, _SPRM_TDEF_TABLE10):
            size = 2 + max(struct.unpack_from("<H", grpprl, pos)[0] - 1, 0)
        elif sprm == _SPRM_CHG_TABS and pos < len(grpprl) and grpprl[pos] == 255:
            deleted = grpprl[pos + 1]
            added_at = pos + 2 + 4 * deleted
            size = 2 + 4 * deleted + 1 + 3 * grpprl[added_at]
        else:
            size = 1 + (grpprl[pos] if pos < len(grpprl) else 0)
        operand = grpprl[pos : pos + size]
        pos += size
        if sprm in _SPRM_HUGE_PAPX and extra and len(operand) == 4:
            (at,) = struct.unpack("<I", operand)
            (length,) = struct.unpack_from("<H", extra, at)
            flags |= _table_flags(extra[at + 2 : at + 2 + length])
        elif sprm == _SPRM_IN_TABLE and operand[:1] == b"\x01" or sprm == _SPRM_ITAP and len(operand) == 4 and struct.unpack("<i", operand)[0] > 0:
            flags |= IN_TABLE
        elif sprm == _SPRM_TTP and operand[:1] == b"\x01":
            flags |= ROW_END
    return flags


def _lines(text: str, first_cp: int, paragraphs: _ParagraphProperties | None) -> list[str]:
    """Paragraphs and table rows of one story as lines; field codes and object anchors dropped."""
    lines: list[str] = []
    parts: list[str] = []  # the current paragraph (or cell) so far
    cells: list[str] = []  # the cells of the current table row so far
    in_code = []  # one entry per open field: True while in its code, False in its result
    previous_was_cell_end = False
    for offset, char in enumerate(text):
        if char == _FIELD_BEGIN:
            in_code.append(True)
            continue
        if char == _FIELD_SEPARATOR:
            if in_code:
                in_code[-1] = False
            continue
        if char == _FIELD_END:
            if in_code:
                in_code.pop()
            continue
        if any(in_code) and char not in (_PARAGRAPH_MARK, _CELL_MARK):
            continue
        if char == _PARAGRAPH_MARK:
            flags = paragraphs.flags(first_cp + offset) if paragraphs else 0
            if flags & IN_TABLE:
                parts.append("\n")  # a paragraph inside a cell: joined by a space at the cell's end
            else:
                _flush(lines, parts)
            previous_was_cell_end = False
        elif char == _CELL_MARK:
            if paragraphs:
                row_end = paragraphs.flags(first_cp + offset) & ROW_END
            else:  # without the layout: a row end is the mark right after a cell's
                row_end = previous_was_cell_end and not "".join(parts).strip()
            if row_end:
                if any(cells):
                    lines.append("\t".join(cells))
                cells, parts = [], []
                previous_was_cell_end = False
            else:
                cells.append(_cell_text("".join(parts)))
                parts = []
                previous_was_cell_end = True
        else:
            parts.append(char)
    _flush(lines, parts)
    if any(cells):
        lines.append("\t".join(cells))
    return lines


def _flush(lines: list[str], parts: list[str]) -> None:
    text = _CONTROL.sub("", "".join(parts).translate(_LINE_BREAKS))
    lines.extend(line.strip() for line in text.split("\n") if line.strip())
    parts.clear()


def _cell_text(text: str) -> str:
    text = _CONTROL.sub("", text.translate(_LINE_BREAKS))
    return " ".join(part.strip() for part in re.split(r"[\t\n]", text) if part.strip())
