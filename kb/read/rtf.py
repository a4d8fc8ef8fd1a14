"""RTF: the text of the document body, one paragraph or table row per line (cells tab-separated).

A small decoder of our own rather than striprtf: striprtf decodes a \\'xx byte by the charset of the
current \\f font only, so Chinese bytes in a run whose font says \\fcharset0 (common: Word names the
Chinese font with \\dbch\\afN, WPS often writes \\fcharset0 throughout) come out as cp1252 mojibake,
and it adds hyperlink addresses to the text. Here bytes are decoded by the font's charset when it
names a multi-byte code page (GBK, Big5, Shift-JIS, ...), else by the document's \\ansicpg (936 in
Chinese files); consecutive \\'xx bytes are decoded together, so a GBK character's two bytes stay one
character; \\uN escapes are Unicode, their \\ucN fallback bytes skipped.

Left out, as for .docx: headers, footers, footnotes, comments, field codes (the field's result is
kept), pictures, objects, the font/style/colour tables and document info.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from kb.documents import Extracted
from kb.errors import ReadError

# Groups whose content is not document text.
_SKIPPED = frozenset(
    """
    fonttbl colortbl stylesheet info pict object objdata objclass objname themedata colorschememapping
    latentstyles listtable listoverridetable rsidtbl generator xmlnstbl datastore datafield
    header headerl headerr headerf footer footerl footerr footerf footnote annotation atnid atnauthor
    fldinst filetbl revtbl pgdsctbl mmathPr bkmkstart bkmkend protusertbl userprops docvar
    template nonshppict shpinst pntext pntxta pntxtb listtext ftnsep ftnsepc aftnsep aftnsepc
    fchars lchars wgrffmtfilter passwordhash xe tc txe rxe sp shprslt nesttableprops nonesttables
    """.split()
)
# Ignorable ("\\*") destinations that hold document text: text boxes of drawing shapes.
_STARRED_READ = frozenset(("shpinst", "shptxt"))
_CHARACTER_SETS = {"ansi": "cp1252", "mac": "mac_roman", "pc": "cp437", "pca": "cp850"}
_CHARACTERS = {
    "tab": "\t", "line": "\n", "emdash": "\u2014", "endash": "\u2013", "emspace": "\u2003",
    "enspace": "\u2002", "qmspace": "\u2005", "bullet": "\u2022", "lquote": "\u2018",
    "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d", "zwj": "\u200d",
    "zwnj": "\u200c", "sect": "\n", "page": "\n", "column": "\n",
}
_SYMBOLS = {b"~": "\u00a0", b"_": "-", b"-": "", b"{": "{", b"}": "}", b"\\": "\\", b"\n": "\n", b"\r": "\n"}
# \fcharsetN -> code page, for the charsets that are not the document's ANSI code page.
_CHARSETS = {
    77: "mac_roman", 128: "cp932", 129: "cp949", 130: "johab", 134: "gb18030", 136: "cp950",
    161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255", 178: "cp1256", 186: "cp1257",
    204: "cp1251", 222: "cp874", 238: "cp1250", 254: "cp437", 255: "cp850",
}
_CODE_PAGES = {"936": "gb18030", "950": "cp950", "54936": "gb18030", "10008": "gb18030"}
_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|[\r\n]+|([^\\{}\r\n]+)",
    re.DOTALL,
)


class _Group:
    """What a group inherits from its parent and may change: skipping, fallback length, fonts."""

    __slots__ = ("dbch_font", "font", "in_table", "skip", "uc")

    def __init__(self, skip=False, uc=1, font=None, dbch_font=None, in_table=False):
        self.skip, self.uc, self.font, self.dbch_font, self.in_table = skip, uc, font, dbch_font, in_table

    def copy(self) -> _Group:
        return _Group(self.skip, self.uc, self.font, self.dbch_font, self.in_table)


def read(path: Path, data: bytes) -> Extracted:
    """Read an RTF document; ReadError when the file does not start as RTF."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        raise ReadError(path, "not an RTF file (no {\\rtf header)")
    # RTF is 7-bit text: control bytes in it mean a damaged or binary file behind an RTF header
    controls = sum(data.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
    if controls > max(8, len(data) // 200):
        raise ReadError(path, f"damaged RTF: {controls} control bytes in the file (binary data behind an RTF header?)")
    decoder = _Decoder(data)
    decoder.run()
    warnings = []
    if decoder.replaced:
        warnings.append(f"{decoder.replaced} undecodable byte(s) in the text replaced with U+FFFD")
    return Extracted(text="\n".join(decoder.lines), fmt="rtf", encoding=decoder.ansi, warnings=warnings)


class _Decoder:
    def __init__(self, data: bytes):
        self.data = data
        self.ansi = "cp1252"  # the document's \ansicpg
        self.fonts: dict[str, str] = {}  # font number -> code page, from the font table
        self.lines: list[str] = []
        self.parts: list[str] = []  # the current paragraph or cell
        self.cells: list[str] = []  # the cells of the current table row
        self.pending = bytearray()  # \'xx and raw bytes not decoded yet
        self.pending_codec = self.ansi
        self.replaced = 0

    def run(self) -> None:
        state = _Group()
        stack: list[_Group] = []
        font_table_depth = None  # stack depth of the font table group while inside it
        table_font = None  # the font being defined in the font table
        skip_bytes = 0  # fallback bytes still to skip after a \uN
        starred = False  # after "\*": the group is skipped unless its destination is one we read
        data, pos, end = self.data, 0, len(self.data)
        while pos < end:
            match = _TOKEN.match(data, pos)
            if match is None:  # a lone backslash at the end
                break
            pos = match.end()
            word, argument, hex_byte, symbol, brace, text = match.groups()
            if starred and word is None and symbol != b"*" and match.group(0)[:1] not in (b"\r", b"\n"):
                state.skip, starred = True, False  # "\*" followed by text: an unknown destination
            if hex_byte is not None:
                if skip_bytes:
                    skip_bytes -= 1
                elif not state.skip:
                    self._byte(bytes.fromhex(hex_byte.decode()), state)
                continue
            if text is not None:
                if skip_bytes:
                    cut = min(skip_bytes, len(text))
                    skip_bytes -= cut
                    text = text[cut:]
                if text and not state.skip:
                    self._byte(text, state)
                continue
            if word is None and symbol is None and brace is None:
                continue  # line breaks in the source mean nothing
            self._flush_bytes()
            if brace == b"{":
                stack.append(state)
                state = state.copy()
                skip_bytes = 0
                continue
            if brace == b"}":
                if font_table_depth is not None and len(stack) <= font_table_depth:
                    font_table_depth = None
                if not stack:
                    break  # the document group is closed: anything after it is not part of it
                state = stack.pop()
                skip_bytes = 0
                continue
            if symbol is not None:
                if symbol == b"*":
                    starred = True
                elif skip_bytes:
                    skip_bytes -= 1
                elif not state.skip and symbol in _SYMBOLS:
                    self.parts.append(_SYMBOLS[symbol])
                continue
            name = word.decode("ascii")
            if starred:
                starred = False
                if name not in _STARRED_READ:
                    state.skip = True
                    continue
            if skip_bytes:  # a control word in a \uN fallback counts as one character
                skip_bytes -= 1
                continue
            if name in _SKIPPED:
                if name == "fonttbl":
                    font_table_depth = len(stack)
                state.skip = True
                continue
            if font_table_depth is not None:  # inside the font table: learn each font's code page
                if name == "f":
                    table_font = argument.decode() if argument else None
                elif name == "fcharset" and table_font is not None and argument:
                    codec = _CHARSETS.get(int(argument))
                    if codec:
                        self.fonts[table_font] = codec
                elif name == "cpg" and table_font is not None and argument:
                    codec = _code_page(argument.decode())
                    if codec:
                        self.fonts[table_font] = codec
                continue
            if name == "ansicpg" and argument:
                self.ansi = _code_page(argument.decode()) or self.ansi
            elif name in _CHARACTER_SETS:
                self.ansi = _CHARACTER_SETS[name]
            elif name == "bin":  # raw binary data follows: skip it whole
                pos += max(int(argument or 0), 0)
            elif name == "uc":
                state.uc = max(int(argument or 0), 0)
            elif name == "f":
                state.font = argument.decode() if argument else None
            elif name == "af":
                state.dbch_font = argument.decode() if argument else None
            elif name == "pard":
                state.in_table = False
            elif name == "plain":  # character properties back to the defaults
                state.dbch_font = None
            elif name == "intbl":
                state.in_table = True
            elif state.skip:
                continue
            elif name == "u" and argument:
                value = int(argument)
                self.parts.append(chr(value + 0x10000 if value < 0 else value))
                skip_bytes = state.uc
            elif name == "par":
                if state.in_table:
                    self.parts.append("\n")  # a paragraph inside a cell: joined by a space
                else:
                    self._end_paragraph()
            elif name == "cell":
                self.cells.append(_cell_text("".join(self.parts)))
                self.parts.clear()
            elif name == "nestcell":
                self.parts.append("\n")
            elif name == "row":
                self._end_paragraph()  # text after the last \cell, if any
                if any(self.cells):
                    self.lines.append("\t".join(self.cells))
                self.cells = []
            elif name in _CHARACTERS:
                self.parts.append(_CHARACTERS[name])
        self._flush_bytes()
        self._end_paragraph()
        if any(self.cells):
            self.lines.append("\t".join(self.cells))

    def _byte(self, raw: bytes, state: _Group) -> None:
        codec = self.fonts.get(state.font or "") or self.fonts.get(state.dbch_font or "") or self.ansi
        if self.pending and raw.isascii() and _wants_trail_byte(self.pending, self.pending_codec):
            self.pending += raw[:1]  # a double-byte character whose second byte was written as is
            raw = raw[1:]
        if raw.isascii():  # plain ASCII text: no code page question
            self._flush_bytes()
            self.parts.append(raw.decode("ascii"))
            return
        if self.pending and codec != self.pending_codec:
            self._flush_bytes()
        self.pending_codec = codec
        self.pending += raw

    def _flush_bytes(self) -> None:
        if not self.pending:
            return
        text = bytes(self.pending).decode(self.pending_codec, errors="replace")
        self.replaced += text.count("\ufffd")
        self.parts.append(text)
        self.pending.clear()

    def _end_paragraph(self) -> None:
        text = "".join(self.parts)
        self.parts.clear()
        # \uN escapes of characters beyond the BMP come as surrogate pairs
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        self.lines.extend(line.strip() for line in text.split("\n") if line.strip())


def _cell_text(text: str) -> str:
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return " ".join(part.strip() for part in re.split(r"[\t\n]", text) if part.strip())


_DOUBLE_BYTE = frozenset(("gb18030", "cp950", "cp949", "cp932", "johab"))


def _wants_trail_byte(pending: bytearray, codec: str) -> bool:
    """Whether `pending` ends with the first byte of a double-byte character."""
    if codec not in _DOUBLE_BYTE:
        return False
    i, size = 0, len(pending)
    while i < size:
        byte = pending[i]
        if byte < 0x80 or (codec == "cp932" and 0xA1 <= byte <= 0xDF):
            i += 1
        elif codec == "gb18030" and i + 1 < size and 0x30 <= pending[i + 1] <= 0x39:
            i += 4  # a four-byte GB18030 sequence
        else:
            i += 2
    return i == size + 1


def _code_page(number: str) -> str | None:
    codec = _CODE_PAGES.get(number, f"cp{number}")
    try:
        codecs.lookup(codec)
    except LookupError:
        return None
    return codec
