"""Markdown (.md, .markdown): the text without its markup; each non-empty source line a line.

In the laws corpus each paragraph is one source line, so paragraphs come out as lines; wrapped
paragraphs stay wrapped (line repair is the cleaning step's job).

No Markdown library: the laws corpus uses a small subset (headings, comments, a few tables), and
regular expressions over lines keep the words exactly as written.
"""

from __future__ import annotations

import re
from pathlib import Path

from kb.documents import Extracted
from kb.read.text import decode

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_THEMATIC_BREAK = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_BLOCKQUOTE = re.compile(r"^\s*(?:>\s?)+")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$")

_BLOCK_MARKS = frozenset("`~#=-*_|:>+[")  # a line's first character if it can be block markup
_INLINE_MARKUP = re.compile(r"[\[<`*_~\\]")  # a line without these has no inline markup
_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"!\[[^\]]*\]\[[^\]]*\]"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),  # inline HTML tags
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"\*(?=\S)(.+?)(?<=\S)\*"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # not inside snake_case words
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),  # backslash escapes last
)


def read(path: Path, data: bytes) -> Extracted:
    """Read a Markdown file: front matter dropped, title from it or from the first level-1 heading."""
    decoded = decode(path, data)
    text, title = decoded.text, None
    front = _FRONT_MATTER.match(text)
    if front:
        found = _FRONT_TITLE.search(front.group(1))
        if found:
            title = found.group(1).strip("'\"").strip() or None
        text = text[front.end():]
    lines, first_heading = _plain_lines(_COMMENT.sub("", text))
    title = title or first_heading
    return Extracted("\n".join(lines), "md", title=title, encoding=decoded.encoding, warnings=decoded.warnings)


def _plain_lines(text: str) -> tuple[list[str], str | None]:
    """The non-empty lines without markup, and the first level-1 heading."""
    lines: list[str] = []
    first_heading = None
    in_fence = False
    for raw in text.split("\n"):
        stripped = raw.lstrip()
        if not in_fence and (not stripped or stripped[0] not in _BLOCK_MARKS):
            # most lines of prose: no block markup can start here (the checks below would all fail)
            line = _strip_inline(raw).strip() if stripped else ""
            if line:
                lines.append(line)
            continue
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        if in_fence:  # code stays as written
            if raw.strip():
                lines.append(raw.rstrip())
            continue
        heading = _ATX_HEADING.match(raw)
        if heading:
            line = _strip_inline(heading.group(2) or "")
            if len(heading.group(1)) == 1 and first_heading is None and line:
                first_heading = line
        elif _SETEXT_UNDERLINE.match(raw) and lines and raw.strip()[0] == "=":
            # "Title\n=====": the line before was a level-1 heading.
            if first_heading is None:
                first_heading = lines[-1]
            continue
        elif _THEMATIC_BREAK.match(raw) or _TABLE_DELIMITER.match(raw) and "-" in raw:
            continue  # also drops setext "-----" underlines: their text line stays
        elif _LINK_DEFINITION.match(raw):
            continue
        else:
            line = _BLOCKQUOTE.sub("", raw)
            line = _BULLET.sub(r"\1", line)
            if line.lstrip().startswith("|"):
                line = _table_row(line)
            line = _strip_inline(line)
        line = line.strip()
        if line:
            lines.append(line)
    return lines, first_heading


def _table_row(line: str) -> str:
    """'| a | b |' -> 'a<TAB>b' (escaped pipes stay in their cell)."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return "\t".join(cell.strip() for cell in cells)


def _strip_inline(line: str) -> str:
    if not _INLINE_MARKUP.search(line):  # most lines: skip the dozen substitutions
        return line
    for pattern, replacement in _INLINE:
        line = pattern.sub(replacement, line)
    return line
