"""Raw text -> clean text: scrape noise removed, entities and line breaks repaired.

The clean text is what is stored and shown, so it keeps the document's own characters
(full-width punctuation, traditional characters): normalisation (NFKC, case, traditional ->
simplified) belongs to matching only (``kb.analysis.normalize``). Noise patterns
(``data/noise.txt``) are matched against each line's NFKC form, so one pattern covers both widths.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb.config import DATA_DIR, read_word_list

CJK = "\u3400-\u9fff\uf900-\ufaff"
# A line ending with one of these closes its sentence; a wrapped line usually does not.
SENTENCE_END = "。！？!?；;：:…”’」』）)】》"
# Lines that start a new item even when the previous line looks unfinished.
_ITEM_START = re.compile(
    rf"^(?:[一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．]\D|第[一二三四五六七八九十百千\d]+[条章节款项]|[#*>-])"
)
_LITERAL_BREAK = re.compile(rf"\\r\\n|\\r|(?<=[{CJK}。，、：；！？”,:;!?])\\n|\\n(?=[{CJK}“])")
# HTML entities left in text copied from web pages (&nbsp; &ldquo; &#12290;): decoded; a bare "&"
# stays as written.
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,9}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
# No-break and other odd spaces from web pages become plain spaces (U+3000, the ideographic
# space, is the document's own layout and stays).
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f]")
_TRAILING_SPACE = re.compile(r"[ \t\u3000]+$", re.M)
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class NoisePatterns:
    lines: tuple[re.Pattern, ...]
    inline: tuple[re.Pattern, ...]

    @classmethod
    def load(cls, path: Path) -> "NoisePatterns":
        lines, inline = [], []
        for entry in read_word_list(path):
            kind, pattern = re.split(r"\s+", entry, maxsplit=1)
            if kind == "line":
                lines.append(re.compile(pattern))
            elif kind == "inline":
                inline.append(re.compile(pattern))
            else:
                raise ValueError(f"{path}: unknown pattern kind {kind!r} in line {entry!r}")
        return cls(tuple(lines), tuple(inline))

    @property
    def _line_pattern(self) -> re.Pattern | None:
        """All line patterns as one alternation: one match attempt per line instead of one each."""
        combined = self.__dict__.get("_combined")
        if combined is None and self.lines:
            combined = re.compile("|".join(f"(?:{p.pattern})" for p in self.lines))
            object.__setattr__(self, "_combined", combined)
        return combined

    def is_noise_line(self, line: str) -> bool:
        pattern = self._line_pattern
        return bool(pattern and pattern.fullmatch(line))


@lru_cache(maxsize=1)
def default_noise() -> NoisePatterns:
    return NoisePatterns.load(DATA_DIR / "noise.txt")


def clean(raw: str, noise: NoisePatterns | None = None) -> str:
    """The whole cleaning step, in order."""
    noise = noise or default_noise()
    text = _ENTITY.sub(_decode_entity, raw) if "&" in raw else raw
    text = _ODD_SPACE.sub(" ", text)
    text = _LITERAL_BREAK.sub("\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc") if _has_controls(text) else text
    for pattern in noise.inline:
        text = pattern.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    lines = [line.strip() for line in text.split("\n")]
    lines = ["" if line and noise.is_noise_line(unicodedata.normalize("NFKC", line).strip()) else line
             for line in lines]
    lines = join_wrapped_lines(lines)
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _decode_entity(match: re.Match) -> str:
    decoded = html.unescape(match.group())
    if decoded == match.group() or decoded == "\ufffd" or (len(decoded) == 1 and unicodedata.category(decoded) == "Cc"):
        return match.group()  # not an entity, or one that would put a control character in the text
    return decoded


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_controls(text: str) -> bool:
    return _CONTROL.search(text) is not None


def wrap_width(lines: list[str]) -> int | None:
    """The width text was hard-wrapped at (as when copied from a PDF), or None if it was not.

    Wrapped text has many lines of (nearly) the same, maximal length.
    """
    lengths = [len(line) for line in lines if len(line) >= 8]
    if len(lengths) < 4:
        return None
    width, _ = Counter(lengths).most_common(1)[0]
    # Wrapping counts display columns, we count characters: digits and Latin letters are half
    # as wide, so wrapped rows holding them come out a little longer.
    slack = max(2, round(width * 0.12))
    near_full = sum(1 for n in lengths if width - slack <= n <= width + slack)
    longer = sum(1 for n in lengths if n > width + slack)
    if near_full >= max(3, 0.3 * len(lengths)) and longer <= 0.1 * len(lengths):
        return width
    return None


def join_wrapped_lines(lines: list[str]) -> list[str]:
    """Join lines that a hard wrap broke mid-sentence; leave headings, items and short lines alone."""
    width = wrap_width(lines)
    if width is None:
        return lines
    joined: list[str] = []
    last_row = ""  # the previous non-blank input line: the last wrapped row of joined[-1]
    blank_run = 0
    for line in lines:
        if not line:
            blank_run += 1
            continue
        # A blank line (a page break) inside a sentence does not end its paragraph.
        if joined and _continues(last_row, line, width):
            prev = joined[-1]
            sep = " " if prev[-1].isascii() and prev[-1].isalnum() and line[0].isascii() else ""
            joined[-1] = prev + sep + line
        else:
            joined.extend([""] * blank_run)
            joined.append(line)
        blank_run = 0
        last_row = line
    joined.extend([""] * blank_run)
    return joined


def _continues(row: str, line: str, width: int) -> bool:
    """Does ``line`` continue the sentence that the full-width ``row`` broke off?"""
    return (
        bool(row and line)
        and len(row) >= width - max(2, round(width * 0.12))
        and row[-1] not in SENTENCE_END
        and not _ITEM_START.match(line)
    )
