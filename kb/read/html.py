"""HTML, XHTML and XML (.html, .htm, .xhtml, .xml): visible text, one block per line.

An RSS or Atom feed gives the titles and bodies of its items (bodies are often escaped HTML).
Other XML gives the text of each element on its own line.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from pathlib import Path

from bs4 import BeautifulSoup, CData, NavigableString, Tag, XMLParsedAsHTMLWarning

from kb.config import DATA_DIR, read_word_list
from kb.documents import Extracted
from kb.read.text import decode

_DECLARED_CHARSET = (
    re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']\s*([A-Za-z0-9._:-]+)", re.IGNORECASE),
    re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE),
)
_SNIFF_BYTES = 16_384  # where a page declares its charset (browsers look at the first 1024)

_INVISIBLE = ["script", "style", "noscript", "template", "head", "svg", "iframe", "object"]
_BLOCKS = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main nav ol p pre "
    "section summary table tbody tfoot thead tr ul".split()
)
_CELLS = frozenset(("td", "th"))
_HORIZONTAL_SPACE = re.compile(r"[ \t\f\v]+")

_FEED_ROOTS = frozenset(("rss", "feed", "rdf"))
_PROLOGUE = re.compile(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL | re.IGNORECASE)
_FIRST_TAG = re.compile(r"<(?:[\w.-]+:)?([A-Za-z][\w.-]*)")
_ITEM_BODIES = ("encoded", "content", "description", "summary")  # fullest first


def read(path: Path, data: bytes) -> Extracted:
    """Read an HTML page or an XML document (feeds get their items)."""
    decoded = decode(path, data, declared=_declared_charset(data))
    root = _root_name(decoded.text)
    if root in _FEED_ROOTS:
        body, title = _feed_text(decoded.text)
    elif path.suffix.lower() == ".xml" and root != "html":
        body, title = _block_text(BeautifulSoup(decoded.text, "xml"), xml=True), None
    else:
        body, title = _page_text(decoded.text)
    return Extracted(body, "html", title=title, encoding=decoded.encoding, warnings=decoded.warnings)


def _declared_charset(data: bytes) -> str | None:
    """The charset named by an XML declaration or a <meta> tag near the top, if any."""
    head = data[:_SNIFF_BYTES]
    for pattern in _DECLARED_CHARSET:
        found = pattern.search(head)
        if found:
            return found.group(1).decode("ascii")
    return None


def _root_name(text: str) -> str:
    start = _PROLOGUE.sub("", text[:_SNIFF_BYTES])
    found = _FIRST_TAG.search(start)
    return found.group(1).lower() if found else ""


def _page_text(markup: str) -> tuple[str, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML parsed as HTML is fine here
        soup = BeautifulSoup(markup, "lxml")
    title = _clean_title(soup.title) or _clean_title(soup.find("h1"))
    return _block_text(_article(soup)), title


@lru_cache(maxsize=1)
def _boilerplate() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(content selectors, drop selectors) from data/html_boilerplate.txt."""
    sections: dict[str, list[str]] = {"content": [], "drop": []}
    current = None
    for line in read_word_list(DATA_DIR / "html_boilerplate.txt"):
        if line.startswith("[") and line.endswith("]") and line[1:-1] in sections:
            current = line[1:-1]
        elif current:
            sections[current].append(line)
    return tuple(sections["content"]), tuple(sections["drop"])


_MIN_ARTICLE_CHARS = 100


def _article(soup: BeautifulSoup):
    """The page's article without menus, crumbs and footers (the whole page if none is marked)."""
    content, drop = _boilerplate()
    for selector in drop:
        for tag in soup.select(selector):
            if not tag.decomposed and tag.name not in ("html", "body"):
                tag.decompose()
    for selector in content:
        for tag in soup.select(selector):
            if len(tag.get_text(strip=True)) >= _MIN_ARTICLE_CHARS:
                heading = soup.find("h1")
                if heading is not None and heading not in tag.descendants:
                    tag.insert(0, heading.extract())
                return tag
    return soup


def _feed_text(markup: str) -> tuple[str, str | None]:
    """Item titles and bodies of an RSS (0.9x, 1.0, 2.0) or Atom feed; title from the channel."""
    soup = BeautifulSoup(markup, "xml")
    channel = soup.find(["channel", "feed"])
    title = _clean_title(channel.find("title", recursive=False)) if channel else None
    items = soup.find_all(["item", "entry"])
    if not items:
        return _block_text(soup), title
    lines = []
    for item in items:
        item_title = _clean_title(item.find("title", recursive=False))
        if item_title:
            lines.append(item_title)
        for name in _ITEM_BODIES:
            body = item.find(name, recursive=False)
            if body is not None and body.get_text().strip():
                lines.append(_item_body_text(body))
                break
    return "\n".join(line for line in lines if line), title


def _item_body_text(body: Tag) -> str:
    content = body.get_text()
    # Escaped HTML or CDATA holding HTML; inline XHTML (Atom type="xhtml") is already elements.
    if body.find(True) is None and "<" in content and ">" in content:
        return _page_text(content)[0]
    return _block_text(body)


def _block_text(root: Tag, xml: bool = False) -> str:
    """The text under `root`: blocks and <br> start new lines, table cells are tab-separated.

    With `xml`, every element is a block and nothing is invisible. Source line breaks are kept
    (pages often hold pre-wrapped text without <p>); runs of other whitespace become one space;
    empty lines go. Iterative, so deep nesting cannot overflow.
    """
    if not xml:
        for tag in root.find_all(_INVISIBLE):
            tag.decompose()

    def is_block(node) -> bool:
        return isinstance(node, Tag) and (xml or node.name in _BLOCKS)

    pieces: list[str] = []
    for node in root.descendants:
        # Text after the end of a block starts a line; end tags are not visited, so look back.
        if is_block(node.previous_sibling):
            pieces.append("\n")
        if isinstance(node, Tag):
            if is_block(node) or node.name == "br":
                pieces.append("\n")
            elif node.name in _CELLS:
                pieces.append("\t")
        elif type(node) in (NavigableString, CData):  # not comments, doctypes, processing instructions
            pieces.append(_HORIZONTAL_SPACE.sub(" ", node))
    lines = (_tidy_line(line) for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)


def _tidy_line(line: str) -> str:
    """Collapse the spaces that adjacent nodes leave; keep tabs between cells, empty ones too."""
    line = re.sub(r" *\t *", "\t", re.sub(r" {2,}", " ", line))
    return line.strip("\t ") if line.strip() else ""


def _clean_title(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    return " ".join(tag.get_text().split()) or None
