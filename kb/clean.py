"""Raw text -> clean text: scrape noise removed, entities and line breaks repaired.

Scrape noise is what a web page or a document-sharing site put around the document: header
blocks (the site's dates, author, counters), truncated excerpts, crumbs, menus and widgets (also
when the page's markup split them one item per line), newspaper page furniture.

The clean text is what is stored and shown, so it keeps the document's own characters
(full-width punctuation, traditional characters): normalisation (NFKC, case, traditional ->
simplified) belongs to matching only (``kb.analysis.normalize``). Noise patterns
(``data/noise.txt``) are matched against each line's NFKC form with traditional characters
simplified, so one pattern covers both widths and both scripts.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb.config import DATA_DIR, read_word_list
from kb.analysis import nfkc_lines
from kb.textview import simplified

CJK = "\u3400-\u9fff\uf900-\ufaff"
# A line ending with one of these closes its sentence; a wrapped line usually does not.
SENTENCE_END = "。！？!?；;：:…”’」』）)】》"
# Lines that start a new item even when the previous line looks unfinished.
_ITEM_START = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．]\D|第[一二三四五六七八九十百千\d]+[条章节款项]|[#*>-])"
)
_LITERAL_BREAK = re.compile(rf"\\r\\n|\\r|(?<=[{CJK}。，、：；！？”,:;!?])\\n|\\n(?=[{CJK}“])")
# HTML entities left in text copied from web pages (&nbsp; &ldquo; &#12290;): decoded; a bare "&"
# stays as written.
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,9}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
# No-break and other odd spaces from web pages become plain spaces (U+3000, the ideographic
# space, is the document's own layout and stays).
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f]")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class NoisePatterns:
    lines: tuple[re.Pattern, ...]
    inline: tuple[re.Pattern, ...]
    blocks: tuple[re.Pattern, ...] = ()
    menu_words: tuple[re.Pattern, ...] = ()

    @classmethod
    def load(cls, path: Path) -> "NoisePatterns":
        kinds: dict[str, list[re.Pattern]] = {"line": [], "inline": [], "block": [], "menu": []}
        for entry in read_word_list(path):
            kind, pattern = re.split(r"\s+", entry, maxsplit=1)
            if kind not in kinds:
                raise ValueError(f"{path}: unknown pattern kind {kind!r} in line {entry!r}")
            kinds[kind].append(re.compile(f"(?m)^(?:{pattern})$" if kind == "block" else pattern))
        return cls(tuple(kinds["line"]), tuple(kinds["inline"]), tuple(kinds["block"]), tuple(kinds["menu"]))

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

    def is_menu_word(self, line: str) -> bool:
        return any(p.fullmatch(line) for p in self.menu_words)


@lru_cache(maxsize=1)
def default_noise() -> NoisePatterns:
    return NoisePatterns.load(DATA_DIR / "noise.txt")


def clean(raw: str, noise: NoisePatterns | None = None) -> str:
    """The whole cleaning step, in order."""
    noise = noise or default_noise()
    text = _ENTITY.sub(_decode_entity, raw) if "&" in raw else raw
    text = _ODD_SPACE.sub(" ", text)
    text = _LITERAL_BREAK.sub("\n", text) if "\\" in text else text  # (every match starts with a backslash)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc") if _has_controls(text) else text
    for pattern in noise.inline:
        text = pattern.sub("", text)
    lines = [line.strip() for line in text.split("\n")]  # (strip takes trailing spaces, ideographic ones too)
    lines = drop_noise_lines(lines, noise)
    lines = join_wrapped_lines(lines)
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


# A menu item, a crumb step or a widget button: a short line that is no sentence.
MENU_ITEM_CHARS = 8
_SENTENCE_MARK = re.compile(r"[。，；！？、,;!?]")
MIN_MENU_WORDS = 2


def drop_noise_lines(lines: list[str], noise: NoisePatterns) -> list[str]:
    """Blank the lines that are noise: each alone (line patterns), together (block patterns over
    consecutive non-blank lines) or as a navigation menu split one item per line."""
    # one pattern for either width and either script: 阅读：175 and 首頁 > 政務公開 are noise too
    norm = [line.strip() for line in simplified("\n".join(nfkc_lines(lines))).split("\n")]  # one to one
    drop = [bool(n) and noise.is_noise_line(n) for n in norm]
    filled = [i for i, n in enumerate(norm) if n]
    if noise.blocks and filled:
        joined = "\n".join(norm[i] for i in filled)
        starts = [0]
        for i in filled[:-1]:
            starts.append(starts[-1] + len(norm[i]) + 1)
        for pattern in noise.blocks:
            for match in pattern.finditer(joined):
                if match.end() > match.start():
                    first = bisect_right(starts, match.start()) - 1
                    last = bisect_right(starts, match.end() - 1) - 1
                    for k in range(first, last + 1):
                        drop[filled[k]] = True
    if noise.menu_words:
        for run in _short_line_runs(norm, filled, noise.is_menu_word):
            if sum(noise.is_menu_word(norm[i]) for i in run) >= MIN_MENU_WORDS:
                for i in run:
                    drop[i] = True
    return ["" if flag else line for line, flag in zip(lines, drop)]


def _short_line_runs(norm: list[str], filled: list[int], noise_menu_word) -> list[list[int]]:
    """Runs of consecutive non-blank lines (blank lines between them do not end a run) that are
    each short and no sentence: how a page's menu reads when its markup puts an item per line."""
    runs, run = [], []
    for i in filled:
        line = norm[i]
        # a line ending with a colon (各位代表：) opens the text, unless it is a crumb's 当前位置：
        opens = line.endswith(":") and not noise_menu_word(line)
        if len(line) <= MENU_ITEM_CHARS and not _SENTENCE_MARK.search(line) and not opens:
            run.append(i)
        else:
            if len(run) >= 3:
                runs.append(run)
            run = []
    if len(run) >= 3:
        runs.append(run)
    return runs


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
