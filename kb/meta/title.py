"""The title of a document: the format's own title, else the first title-like line.

Scraped documents often have the title glued to the body (``…2021年晋中统战工作综述2021年,恰逢…``);
we cut it after the document-type word (综述, 报告, 通知, …) that ends it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.config import DATA_DIR, read_pairs, read_word_list

MAX_TITLE = 80
# Lines that come before a title in official documents and are not titles themselves.
_NOT_TITLE = re.compile(
    r"^(?:附件\s*\d*[::]?|\S{0,20}[〔\[(]\d{4}[〕\])]\s*\d+\s*号|密级.*|特急|加急|急件|"
    r"[(（]?[\d〇○零一二三四五六七八九]{4}\s*年(?:度|\s*[\d一二三四五六七八九十]{1,2}\s*月(?:\s*[\d一二三四五六七八九十]{1,3}\s*日)?)?[)）]?|"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*|[-—_=*#]+|"
    # salutations and addressees (同志们: 各县委统战部:), standards' cover codes (ICS 27.120, NB/T XXXX)
    r".{1,40}[::]|备案号.*|ICS\s.*|[A-Z]{1,3}\s?\d{0,3}|[A-Z]{1,4}(?:/[A-Z])?\s+[\dXx.]+\s*[—–-]\s*[\dXxY]+|"
    r"[\dX]{2,4}\s*-\s*[\dX]{2}\s*-\s*[\dX]{2}\s*(?:发布|实施)|"
    r"中华人民共和国.{0,12}标准)$"
)
# A first title line that ends like this goes on in the next line (…——以 / 高阳毛巾集群为例).
_UNFINISHED = ("——以", "——", "以", "与", "和", "及", "的", "关于", "对", "基于", "、")
_PART = re.compile(r"^第[\d一二三四五六七八九十]+部分")  # 核电厂定期安全评价 / 第1部分: 通用要求
_SITE_SUFFIX = re.compile(r"\s*(?:[_|]|\s-\s|\s—\s).{2,40}$")
_SPACED = re.compile(r"^(?:\S\s+){2,}\S$")


@lru_cache(maxsize=1)
def doctype_words() -> tuple[tuple[str, str], ...]:
    """(word, type) pairs from data/doctypes.txt, longest word first."""
    pairs = [(word, kind or word) for word, kind in read_pairs(DATA_DIR / "doctypes.txt")]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@lru_cache(maxsize=1)
def _glued_title_end() -> re.Pattern:
    words = "|".join(re.escape(w) for w, _ in doctype_words() if len(w) >= 2)
    # A title ends with a type word, directly followed by the body: a year, a date or a sentence.
    return re.compile(rf"^(.{{4,{MAX_TITLE}}}?(?:{words}))(?=\d{{4}}年|[\d一二三四五六七八九十]+月|[^\s,。]{{2,}}[,。:])")


def clean_title(title: str) -> str:
    """Tidy a title: drop a web page's site suffix, join spaced-out characters, trim."""
    title = " ".join(title.split())
    if _SPACED.match(title):
        title = title.replace(" ", "")
    return title.strip(" #*:-—_")


@lru_cache(maxsize=1)
def _issuer_line() -> re.Pattern:
    """A letterhead line: an organisation's name, maybe followed by 文件 (red-header documents)."""
    suffixes = "|".join(re.escape(w) for w in sorted(read_word_list(DATA_DIR / "issuer_suffixes.txt"), key=len, reverse=True))
    return re.compile(rf"^[^,。:;]{{2,40}}(?:{suffixes})(?:文件)?$")


_TRAILING_NOTE = re.compile(r"\s*[(（][^()（）]{1,12}[)）]$")  # (试行), (2022年度), (草案)


def ends_with_doctype(title: str) -> bool:
    core = _TRAILING_NOTE.sub("", title).rstrip("。.:;,")
    return core.endswith(tuple(w for w, _ in doctype_words()))


def extract_title(text: str, hint: str | None = None) -> tuple[str, str]:
    """Return ``(title, text)``; when the title was glued to the body, the text gets a line break after it."""
    if hint:
        hint = clean_title(_SITE_SUFFIX.sub("", hint) if len(hint) > 12 else hint)
        if 2 <= len(hint) <= 2 * MAX_TITLE:
            return hint, text
    lines = text.split("\n")
    head = [(i, line.strip()) for i, line in enumerate(lines[:25]) if line.strip()][:8]
    candidates = [(i, line) for i, line in head if not _NOT_TITLE.match(line)]
    if not candidates:
        return "", text
    first_i, first = candidates[0]
    if len(first) > MAX_TITLE:
        glued = _glued_title_end().match(first)
        if glued:
            title = glued.group(1)
            lines[first_i] = title + "\n" + first[len(title):]
            return clean_title(title), "\n".join(lines)
        return _first_phrase(first), text
    # The first line that ends like a title (…报告, …通知 (试行)) wins over letterheads above it.
    for k, (i, line) in enumerate(candidates):
        if len(line) > MAX_TITLE:
            break
        if line.endswith(("。", "!", "?", ";")):  # a sentence, not a title (…向大会作报告。)
            continue
        title = clean_title(line)
        following = candidates[k + 1][1] if k + 1 < len(candidates) else ""
        if following.startswith(("——", "--", "—")) and len(title) + len(following) <= 2 * MAX_TITLE:
            return clean_title(title + following), text  # title with its subtitle line
        if ends_with_doctype(title) or (following and _continues_title(title, following)):
            if following and _continues_title(title, following):
                title += (" " if _PART.match(following) else "") + following
            if len(_TRAILING_NOTE.sub("", title)) <= 6 and k > 0 and _issuer_line().match(candidates[k - 1][1]):
                title = candidates[k - 1][1] + title  # a bare 工作总结 under its issuer's name
            after = next((l for j, l in head if j > i), "")
            if _TRAILING_NOTE.fullmatch(after) and len(title) + len(after) <= MAX_TITLE:
                title += after  # 工作总结 / (2022年度)
            return title, text
    for _, line in candidates:
        if len(line) <= MAX_TITLE and not _issuer_line().match(line):
            return clean_title(line), text
    return clean_title(first) if len(first) <= MAX_TITLE else _first_phrase(first), text


def _continues_title(title: str, following: str) -> bool:
    """A title broken over two lines: the first is unfinished (…——以) or does not end with a type
    word while the second does, or the second names a part (第1部分: …)."""
    if len(title) + len(following) > MAX_TITLE or following.endswith(("。", ":")):
        return False
    if title.endswith(_UNFINISHED) or _PART.match(following):
        return True
    if ends_with_doctype(title):
        return False
    return len(following) <= 30 and ends_with_doctype(following) and not _issuer_line().match(title)


def _first_phrase(line: str) -> str:
    head = re.split(r"[。!?;]", line, maxsplit=1)[0]
    return head if len(head) <= MAX_TITLE else head[: MAX_TITLE - 1] + "…"
