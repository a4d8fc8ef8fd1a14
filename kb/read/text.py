"""Plain text (.txt, .text) and the encoding detection every text format shares.

The text comes back as written: only a byte-order mark is dropped and line endings become "\\n".
Cleaning (NFKC, noise, line repair) is a later step.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from charset_normalizer import from_bytes

from kb.documents import Extracted
from kb.errors import KBError, ReadError

# UTF-32 first: its little-endian mark starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

# Whatever a detector calls these, decode with the superset: GB2312 and GBK text is valid GB18030,
# and real "GB2312" files routinely hold GBK-only characters. For Big5, cp950 round-trips the real
# pages in our corpus byte for byte (big5hkscs does not on two of them); big5hkscs then catches
# Hong Kong characters that cp950 lacks.
_SUPERSETS = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "cp950": ("cp950", "big5hkscs"),
    "big5hkscs": ("cp950", "big5hkscs"),
}
_CHINESE = {"gb18030", "cp950", "big5hkscs"}

# Two detector verdicts this close in "chaos" are a tie; a tie goes to a Chinese encoding, because
# short GBK text is often as plausible in Korean cp949 or Japanese.
_CHAOS_TIE = 0.01

# C0 controls other than the whitespace ones (and ESC, SUB, seen in old DOS text), plus DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x19\x1c-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x19\x1c-\x1f\x7f]")
_BINARY_SHARE = 0.05  # honest text has next to none; binary noise has ~10 %
# UTF-8 with a few broken sequences (a file cut mid-character, a bad paste) is still UTF-8:
# GB18030 accepts almost any bytes and would garble all of it. Allowed: one broken sequence once
# there are 10 valid non-ASCII characters, and one more per hundred beyond that.
_MIN_GOOD_UTF8 = 10
_GOOD_PER_BAD_UTF8 = 100
_PLAUSIBLE_SAMPLE = 65_536  # characters checked to tell BOM-less UTF-16 from binary


class Decoded(NamedTuple):
    """Text, the codec that decoded it, and what went wrong on the way."""

    text: str
    encoding: str
    warnings: list[str]


def read(path: Path, data: bytes) -> Extracted:
    """Read a plain text file."""
    decoded = decode(path, data)
    return Extracted(decoded.text, "txt", encoding=decoded.encoding, warnings=decoded.warnings)


def decode(path: Path, data: bytes, declared: str | None = None) -> Decoded:
    """Decode `data` to text with "\\n" line endings and no byte-order mark.

    Order: byte-order mark; UTF-16/32 without a mark (NUL bytes); UTF-8 (a few broken sequences
    become U+FFFD, with a warning); the encoding the file `declared` (HTML meta, XML declaration)
    if it decodes; charset-normalizer's guess.
    Raises ReadError for empty, whitespace-only, binary or undecodable data.
    """
    if not data:
        raise ReadError(path, "empty file")
    text, encoding, warnings = _decode(path, data, declared)
    if _looks_binary(text):
        raise ReadError(path, "binary content (control characters), not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError(path, "whitespace-only file" if text else "empty file (only a byte-order mark)")
    return Decoded(text, encoding, warnings)


def _decode(path: Path, data: bytes, declared: str | None) -> Decoded:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                decoded = _decode_utf8(body, name) if codec == "utf-8" else Decoded(body.decode(codec), name, [])
            except UnicodeDecodeError:
                decoded = None
            if decoded is None:
                raise ReadError(path, f"undecodable text: invalid {name} after its byte-order mark")
            return decoded
    if b"\x00" in data:
        wide = _decode_wide(data)
        if wide is None:
            raise ReadError(path, "binary content (NUL bytes), not text")
        return wide
    utf8 = _decode_utf8(data)
    if utf8 is None and declared and _codecs_for(declared, from_declaration=True) == ("utf-8",):
        utf8 = _decode_utf8(data, lenient=True)  # the page says UTF-8: believe it unless most of it is not
    if utf8 is not None:
        return utf8
    tried = set()
    for codec in _candidates(data, declared):
        if codec in tried:
            continue
        tried.add(codec)
        try:
            return Decoded(data.decode(codec), codec, [])
        except (UnicodeDecodeError, LookupError):
            continue
    if len(_CONTROL_BYTES.findall(data)) > _BINARY_SHARE * len(data):
        raise ReadError(path, "binary content (control bytes), not text")
    mixed = _decode_line_by_line(data)
    if mixed is not None:
        return mixed
    raise ReadError(path, "undecodable text: no known encoding fits")


def _decode_line_by_line(data: bytes) -> Decoded | None:
    """Files pasted together from UTF-8 and GB18030 sources: each line in whichever of the two fits."""
    lines, fitted = [], 0
    for line in data.split(b"\n"):
        for codec in ("utf-8", "gb18030"):
            try:
                lines.append(line.decode(codec))
                fitted += 1
                break
            except UnicodeDecodeError:
                continue
        else:
            lines.append(line.decode("utf-8", errors="replace"))
    if fitted < 0.9 * len(lines):
        return None
    return Decoded("\n".join(lines), "utf-8+gb18030", ["mixed encodings: each line decoded as UTF-8 or GB18030"])


def _decode_utf8(data: bytes, name: str = "utf-8", lenient: bool = False) -> Decoded | None:
    """UTF-8, if all of it or all but a tiny share of its non-ASCII characters is valid UTF-8.

    `lenient` (the file declared UTF-8): valid characters need only outnumber the broken bytes.
    """
    try:
        return Decoded(data.decode("utf-8"), name, [])
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad  # valid non-ASCII characters
    if lenient:
        if good == 0 or bad > good:
            return None
    elif good < _MIN_GOOD_UTF8 or bad > max(1, good // _GOOD_PER_BAD_UTF8):
        return None
    return Decoded(text, name, [f"{bad} invalid UTF-8 byte(s) replaced with U+FFFD"])


def _decode_wide(data: bytes) -> Decoded | None:
    """UTF-32/UTF-16 without a byte-order mark, told from binary data by what it decodes to."""
    # ASCII characters put their NUL bytes at odd offsets in little-endian, at even ones in big-endian.
    little_first = data[1::2].count(0) >= data[0::2].count(0)
    orders = ("le", "be") if little_first else ("be", "le")
    codecs_to_try = [f"utf-32-{o}" for o in orders if len(data) % 4 == 0]
    codecs_to_try += [f"utf-16-{o}" for o in orders if len(data) % 2 == 0]
    for codec in codecs_to_try:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _plausible(text[:_PLAUSIBLE_SAMPLE]):
            return Decoded(text, codec, [])
    return None


# Where the characters of real text written in UTF-16 live: ASCII and Latin-1, general and CJK
# punctuation, kana, CJK ideographs, Hangul, full-width forms. Random bytes read as UTF-16 land here
# only about 60 % of the time (the BMP is mostly ideographs and Hangul, but not only).
_TEXT_RANGES = re.compile(r"[\t\n\r\x20-\xff\u2000-\u206f\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")


def _plausible(text: str) -> bool:
    """True if the text is made of the characters real text is made of (not random code points)."""
    if not text or "\x00" in text:
        return False
    usual = sum(1 for c in text if c in "\t\n\r" or unicodedata.category(c)[0] in "LNPSZ")
    return usual >= 0.9 * len(text) and len(_TEXT_RANGES.findall(text)) >= 0.9 * len(text)


def _candidates(data: bytes, declared: str | None) -> Iterator[str]:
    """Codecs to try in order: the declared one, then the detector's verdicts, Chinese first on ties.

    Lazy, so that the detector runs only when the declared encoding does not fit.
    """
    if declared:
        yield from _codecs_for(declared, from_declaration=True)
    matches = list(from_bytes(data))
    if not matches:
        return
    best_chaos = min(match.chaos for match in matches)

    def rank(match) -> tuple[bool, bool]:
        tied = match.chaos <= best_chaos + _CHAOS_TIE
        chinese = bool(_CHINESE.intersection(_codecs_for(match.encoding)))
        return (not tied, not chinese)

    for match in sorted(matches, key=rank):  # stable: the detector's order within a rank
        yield from _codecs_for(match.encoding)


def _codecs_for(name: str, from_declaration: bool = False) -> tuple[str, ...]:
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return ()
    # A page that declares UTF-16 in ASCII bytes is not UTF-16 (browsers read it as UTF-8).
    if from_declaration and canonical.startswith(("utf-16", "utf-32")):
        return ()
    return _SUPERSETS.get(canonical, (canonical,))


def _looks_binary(text: str) -> bool:
    return len(_CONTROL.findall(text)) > _BINARY_SHARE * len(text)


_TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")


def content_key(path: Path, data: bytes) -> str | None:
    """For plain-text kinds, a hash of the decoded text: the same text saved as GBK, GB18030 or
    UTF-8 with a byte-order mark is one document (ingest finds such twins by it). None for other
    kinds (or undecodable bytes)."""
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return None
    try:
        text = decode(path, data).text
    except KBError:
        return None
    return hashlib.sha256(text.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()
