"""The title of a document: the format's own title, else the title lines at the top of its text,
else, for a report with no title line, a catalogue title: place + year + 文种.

Why this module is long: scraped pages put many shapes around a title, and each needs its rule
(patterns and word lists are in kb/data/titles.toml):

* a site's crumb or category line (工作报告, 规划计划) above the real title; a column tag before
  it (【聚焦两会】…) or the site's name after it (… - XX县人民政府);
* a title split over two or three lines, a spaced-out heading (政 府 工 作 报 告), its subtitle
  (——2020年1月21日在…会议上, with or without the dash), a note line ((2022年度));
* a title glued to the body (…2021年晋中统战工作综述2021年,恰逢…): cut after its 文种;
* news stories: kicker lines, the headline (the one that names the place), deck lines
  (县长…作政府工作报告);
* no title at all (the text starts at 各位代表：or at a meeting line), or only a bare 文种
  (政府工作报告): ``compose_title`` builds place + year + 文种 from the meeting line, the speaker's
  line or 我代表…人民政府, and the document's year.

Rules read ``kb.textview.rule_view`` of the text (full-width folded, traditional simplified, same
offsets). A title is a sequence of pieces of that text, so ``Title.render`` cuts it out of the
text as written: full-width marks stay, traditional stays traditional.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache

from kb.config import DATA_DIR, read_pairs, read_word_list

MAX_TITLE = 80
HEAD_LINES = 40  # a title is in the first lines of the text ...
HEAD_ENTRIES = 14  # ... among its first non-blank ones
# Lines that come before a title in official documents and are not titles themselves.
_NOT_TITLE = re.compile(
    r"^(?:附件\s*\d*[::]?|\S{0,20}[〔\[(]\d{4}[〕\])]\s*\d+\s*号|密级.*|特急|加急|急件|"
    r"[(（]?[\d〇○零一二三四五六七八九]{4}\s*年(?:度|\s*[\d一二三四五六七八九十]{1,2}\s*月(?:\s*[\d一二三四五六七八九十]{1,3}\s*日)?)?[)）]?|"
    r"[(（]?[\d〇○零一二三四五六七八九]{4}\s*年\s*[\d一二三四五六七八九十]{1,2}\s*月\s*[\d一二三四五六七八九十]{1,3}\s*日\s.{0,30}|"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*|[-—_=*#]+|"
    # salutations and addressees (同志们: 各县委统战部:), standards' cover codes (ICS 27.120, NB/T XXXX)
    r".{1,40}[::]|备案号.*|ICS\s.*|[A-Z]{1,3}\s?\d{0,3}|[A-Z]{1,4}(?:/[A-Z])?\s+[\dXx.]+\s*[—–-]\s*[\dXxY]+|"
    r"[\dX]{2,4}\s*-\s*[\dX]{2}\s*-\s*[\dX]{2}\s*(?:发布|实施)|"
    r"中华人民共和国.{0,12}标准)$"
)
# A first title line that ends like this goes on in the next line (…——以 / 高阳毛巾集群为例).
_UNFINISHED = ("——以", "——", "以", "与", "和", "及", "的", "关于", "对", "基于", "、")
# 核电厂定期安全评价 / 第1部分: 通用要求; 中华人民共和国民法典 / 合同编
_PART = re.compile(r"^(?:第[\d一二三四五六七八九十]+(?:部分|分编|编)|[\u4e00-\u9fff]{2,4}编$)")
_HINT_SITE_SUFFIX = re.compile(r"\s*(?:[_|]|\s-\s|\s—\s).{2,40}$")
_SPACED = re.compile(r"^(?:\S\s+){2,}\S$")
_SENTENCE = re.compile(r"。|[!?;]$|^现在,?我代表")
_CODE_PREFIX = re.compile(r"^[A-Z]{1,4}(?:/[A-Z])?\s*[\dXx.]+\s*[—–-]\s*[\dXxY]+\s+(?=\S)")
_TRIM = " #*:-—―_"


# --- data -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def doctype_words() -> tuple[tuple[str, str], ...]:
    """(word, type) pairs from data/doctypes.txt, longest word first."""
    pairs = [(word, kind or word) for word, kind in read_pairs(DATA_DIR / "doctypes.txt")]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@lru_cache(maxsize=1)
def rules() -> dict:
    data = tomllib.loads((DATA_DIR / "titles.toml").read_text(encoding="utf-8"))
    compiled = {key: re.compile(data[key]) for key in ("column_tag", "catalogue_tag", "site_suffix", "site_name",
                                                        "edition_note", "meeting_line", "dash_line")}
    compiled["not_title"] = re.compile("|".join(f"(?:{p})" for p in data["not_title"]))
    compiled["sections"] = frozenset(data["sections"])
    compiled["tails"] = tuple(data.get("title_tails", ()))
    compiled["kinds"] = tuple((k["word"], re.compile(k["evidence"])) for k in data.get("kind", ()))
    return compiled


@lru_cache(maxsize=1)
def _glued_title_end() -> re.Pattern:
    words = "|".join(re.escape(w) for w, _ in doctype_words() if len(w) >= 2)
    # A title ends with a type word, directly followed by the body: a year, a date or a sentence.
    return re.compile(rf"^(.{{4,{MAX_TITLE}}}?(?:{words}))(?=\d{{4}}年|[\d一二三四五六七八九十]+月|[^\s,。]{{2,}}[,。:])")


@lru_cache(maxsize=1)
def issuer_line() -> re.Pattern:
    """A letterhead line: an organisation's name, maybe followed by 文件 (red-header documents)."""
    suffixes = "|".join(re.escape(w) for w in sorted(read_word_list(DATA_DIR / "issuer_suffixes.txt"), key=len, reverse=True))
    return re.compile(rf"^[^,。:;]{{2,40}}(?:{suffixes})(?:文件)?$")


_issuer_line = issuer_line  # the name kb.meta.issuer imports


_TRAILING_NOTE = re.compile(r"\s*[(（][^()（）]{1,12}[)）]$")  # (试行), (2022年度), (草案)


def clean_title(title: str) -> str:
    """Tidy a title: join spaced-out characters, trim."""
    title = " ".join(title.split())
    if _SPACED.match(title):
        title = title.replace(" ", "")
    return title.strip(_TRIM)


def _core(title: str) -> str:
    """A title without its notes: (试行), （摘要）, 全文, a catalogue tag."""
    core = rules()["catalogue_tag"].sub("", title.strip())
    for _ in range(2):
        core = rules()["edition_note"].sub("", core)
        core = _TRAILING_NOTE.sub("", core)
    return core.rstrip("。.:;,")


def ends_with_doctype(title: str) -> bool:
    return _core(title).endswith(tuple(w for w, _ in doctype_words()))


def is_generic(title: str) -> bool:
    """A title that is only a 文种 (政府工作报告, 工作总结, 工作报告（摘要）): it names nothing."""
    core = _core(re.sub(r"\s+", "", title))
    return core in {w for w, _ in doctype_words()}


# --- titles as pieces of the text -----------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    start: int = 0
    end: int = 0
    squeeze: bool = False  # a spaced-out heading: its spaces go
    literal: str | None = None  # composed text, not cut from the text
    hint: bool = False  # cut from the format's own title


@dataclass(frozen=True)
class Title:
    pieces: tuple[Piece, ...] = ()
    source: str | None = None  # "text", "format" or "composed"
    where: str = ""  # where it came from, for people: "line 2", "format", "composed: …"
    line: int | None = None  # index of its first line in the text
    generic: bool = False  # only a 文种: a catalogue title may complete it

    def __bool__(self) -> bool:
        return bool(self.pieces)

    def render(self, text: str, hint: str | None = None) -> str:
        out = []
        for p in self.pieces:
            if p.literal is not None:
                out.append(p.literal)
                continue
            part = (hint or "")[p.start:p.end] if p.hint else text[p.start:p.end]
            out.append(re.sub(r"\s+", "", part) if p.squeeze else part)
        return "".join(out)


@dataclass(frozen=True)
class _Line:
    index: int  # line number (0-based) in the text
    start: int  # offsets of the stripped line in the text
    end: int

    def of(self, view: str) -> str:
        return view[self.start:self.end]


def _lines(view: str, limit: int = HEAD_LINES) -> list[_Line]:
    out, pos = [], 0
    for index, raw in enumerate(view.split("\n")):
        if index >= limit:
            break
        stripped = raw.strip()
        if stripped:
            start = pos + (len(raw) - len(raw.lstrip()))
            out.append(_Line(index, start, start + len(stripped)))
        pos += len(raw) + 1
    return out


def _span(view: str, start: int, end: int) -> tuple[int, int]:
    """A title line's span without its column tag, site suffix, catalogue tag and trim characters."""
    r = rules()
    line = view[start:end]
    if tag := r["column_tag"].match(line):
        start += tag.end()
    if code := _CODE_PREFIX.match(view[start:end]):
        start += code.end()
    for pattern in (r["site_suffix"], r["site_suffix"], r["catalogue_tag"]):  # … - 政务公开 - XX县人民政府
        if cut := pattern.search(view[start:end]):
            end = start + cut.start()
    if (cut := re.search(r"\s*(?:[_|]|\s-\s)\s*(\S{2,8})$", view[start:end])) and cut.group(1) in r["sections"]:
        end = start + cut.start()
    while start < end and view[start] in _TRIM:
        start += 1
    while end > start and view[end - 1] in _TRIM:
        end -= 1
    return start, end


def _piece(view: str, start: int, end: int) -> Piece:
    start, end = _span(view, start, end)
    return Piece(start, end, squeeze=bool(_SPACED.match(view[start:end])))


def _kind(view: str, line: _Line) -> str:
    """What a head line is: meeting (a subtitle naming the meeting), dash (a subtitle), body (the
    text has begun), skip (not a title), section (a site's category), generic, or candidate."""
    r = rules()
    text = line.of(view)
    if r["meeting_line"].match(text):
        return "meeting"
    if r["dash_line"].match(text):
        return "dash"
    if r["not_title"].fullmatch(text):
        return "body" if re.match(r"(?:各位代表|各位委员|同志们|女士们|朋友们)", text) else "skip"
    if _NOT_TITLE.match(text):
        return "skip"
    if _SENTENCE.search(text) or len(text) > MAX_TITLE:
        return "body"
    start, end = _span(view, line.start, line.end)
    core = re.sub(r"\s+", "", view[start:end])
    if not core:
        return "skip"
    if core in r["sections"] and not is_generic(core):
        return "section"
    return "generic" if is_generic(core) else "candidate"


def find_title(text: str, hint: str | None = None) -> tuple[Title, str]:
    """The title of ``text`` (its rule view) or of the format's title ``hint`` (its rule view);
    returns ``(title, text)``: when the title was glued to the body, the text gets a line break
    after it. An empty ``Title`` when there is none (``compose_title`` may make one)."""
    if hint and (found := _hint_title(hint)):
        in_text, changed = _text_title(text)
        # the text's own title goes on where the format's stops (中华人民共和国民法典 / 合同编)
        own = re.sub(r"\s+", "", in_text.render(changed)) if in_text else ""
        given = re.sub(r"\s+", "", found.render("", hint))
        if own.startswith(given) and len(own) > len(given):
            return in_text, changed
        return found, text
    return _text_title(text)


def _text_title(text: str) -> tuple[Title, str]:
    head = _lines(text)[:HEAD_ENTRIES]
    if not head:
        return Title(), text
    kinds = [_kind(text, line) for line in head]
    first = head[0].of(text)
    if len(first) > MAX_TITLE and kinds[0] == "body" and not first.startswith(("各位", "同志")):
        glued = _glued_title_end().match(first)
        if glued:
            cut = head[0].start + len(glued.group(1))
            text = text[:cut] + "\n" + text[cut:]
            return Title((_piece(text, head[0].start, cut),), "text", f"line {head[0].index + 1} (glued to the body)",
                         head[0].index), text
    generic: Title | None = None
    plains: list[tuple[int, Title]] = []  # heading lines that do not end with a 文种
    for k, line in enumerate(head):
        kind = kinds[k]
        if kind == "body":
            break
        if kind in ("candidate", "generic"):
            if rules()["catalogue_tag"].search(line.of(text)):  # a catalogue's own title line: 论联合政府 (七大)
                return Title((_piece(text, line.start, line.end),), "text", f"line {line.index + 1}", line.index), text
            group = _group(text, head, kinds, k)
            last = k + len(group) - 1
            title, tailed = _title_from(text, head, kinds, group, k)
            joined = title.render(text)
            if tailed:
                return title, text
            if last + 1 < len(head) and kinds[last + 1] in ("meeting", "dash"):
                sub = head[last + 1]
                if _names_place_and_year(joined):  # 桐庐县2021年政府工作报告: the subtitle adds nothing
                    return Title(title.pieces, "text", f"{title.where} (subtitle line {sub.index + 1} left out)",
                                 title.line), text
                if len(joined) + (sub.end - sub.start) <= 2 * MAX_TITLE:
                    return _with_subtitle(text, title, sub), text
            if _slogan_pair(text, head, kinds, k, len(group)):  # 决胜全面建成小康社会 / 为夺取… / ——在…上的报告
                pair = Title(title.pieces + (Piece(literal=" "), _piece(text, head[k + 1].start, head[k + 1].end)), "text",
                             f"lines {line.index + 1}-{head[k + 1].index + 1}", line.index)
                return _with_subtitle(text, pair, head[k + 2]), text
            if kind == "generic" and is_generic(joined):
                generic = generic or Title(title.pieces, "text", title.where, line.index, generic=True)
                continue
            if ends_with_doctype(joined) or len(group) > 1:
                return title, text
            plains.append((k, title))
        elif kind in ("meeting", "dash"):
            stripped = text[line.start:line.end].lstrip("—―- ")
            if ends_with_doctype(stripped) and not generic and not plains:
                return Title((_piece(text, line.end - len(stripped), line.end),), "text", f"line {line.index + 1}",
                             line.index), text
            if kind == "meeting" and not plains:
                break  # the text starts at its meeting line: it has no title line
    if generic:
        return generic, text
    if plains:
        return _headline(text, head, plains), text
    return Title(), text


def _group(view: str, head: list[_Line], kinds: list[str], k: int) -> list[_Line]:
    """A title's lines: one, or two or three when the title was broken over them."""
    if k + 1 < len(head) and kinds[k + 1] in ("candidate", "generic", "section") \
            and _continues_title(clean_title(head[k].of(view)), clean_title(head[k + 1].of(view))):
        return head[k:k + 2]
    if _three_line_title(view, head, kinds, k):
        return head[k:k + 3]
    return head[k:k + 1]


def _slogan_pair(view: str, head: list[_Line], kinds: list[str], k: int, size: int) -> bool:
    """Two short lines naming no place, neither ending with a 文种, above a subtitle: one title in
    two phrases (a news story's kicker line names no place either, but its headline does)."""
    if size != 1 or k + 2 >= len(head) or kinds[k + 1] != "candidate" or kinds[k + 2] not in ("meeting", "dash"):
        return False
    lines = [clean_title(head[j].of(view)) for j in (k, k + 1)]
    return all(len(x) <= 24 and not ends_with_doctype(x) and not _place_level(x) for x in lines)


def _three_line_title(view: str, head: list[_Line], kinds: list[str], k: int) -> bool:
    """Three short fragments ending with a 文种 (关于河北省国民 / 经济和社会发 / 展第十个五年计划纲要的报告:
    a page's markup broke the title)."""
    if k + 2 >= len(head) or any(kinds[j] != "candidate" for j in (k + 1, k + 2)):
        return False
    parts = [clean_title(head[j].of(view)) for j in (k, k + 1, k + 2)]
    return (all(len(p) <= 16 for p in parts[:2]) and not ends_with_doctype(parts[0] + parts[1])
            and ends_with_doctype(parts[2]) and sum(map(len, parts)) <= MAX_TITLE)


def _title_from(view: str, head: list[_Line], kinds: list[str], group: list[_Line], k: int) -> tuple[Title, bool]:
    """The title of a group of lines, with a tail line (编制说明), a note line ((2022年度)) or its
    issuer's line above it; and whether a tail line was added (a title for sure)."""
    pieces = []
    for n, line in enumerate(group):
        if n and _PART.match(clean_title(line.of(view))):
            pieces.append(Piece(literal=" "))
        pieces.append(_piece(view, line.start, line.end))
    where = f"line {group[0].index + 1}" + (f"-{group[-1].index + 1}" if len(group) > 1 else "")
    title = Title(tuple(pieces), "text", where, group[0].index)
    text = title.render(view)
    last = k + len(group) - 1
    after = head[last + 1] if last + 1 < len(head) else None
    after_text = clean_title(after.of(view)) if after else ""
    if after and after_text in rules()["tails"]:  # 核电厂定期安全评价 第12部分: 设计 / 编制说明
        return Title(title.pieces + (Piece(literal=" "), _piece(view, after.start, after.end)), "text",
                     f"lines {group[0].index + 1}-{after.index + 1}", group[0].index), True
    if after and _TRAILING_NOTE.fullmatch(after.of(view)) and len(text) + len(after_text) <= MAX_TITLE:
        title = Title(title.pieces + (Piece(after.start, after.end),), "text", title.where + f" + note line {after.index + 1}",
                      group[0].index)  # 工作总结 / (2022年度)
    above = head[k - 1] if k > 0 else None
    if above and kinds[k - 1] == "candidate" and issuer_line().match(above.of(view)) and _needs_subject(text):
        title = Title((_piece(view, above.start, above.end),) + title.pieces, "text",
                      f"lines {above.index + 1}-{group[-1].index + 1} (issuer line above a title without a subject)",
                      above.index)
    return title, False


def _needs_subject(title: str) -> bool:
    """A title that names no one (工作总结, 2022年工作总结和2023年工作计划): its issuer's line above
    it belongs to it."""
    core = re.sub(r"^(?:[\d〇一二三四五六七八九]{4}\s*年度?|上半年|下半年|全年)+", "", _core(re.sub(r"\s+", "", title)))
    return len(_core(title)) <= 6 or core.startswith(("工作", "总结", "述职", "计划", "要点", "报告"))


def _names_place_and_year(title: str) -> bool:
    """A complete catalogue title: it names its place, its year and its 文种."""
    return bool(ends_with_doctype(title) and re.search(r"(?:19|20)\d{2}\s*年|[一二][〇○零0九][〇○零0一二三四五六七八九]{2}年", title)
                and named_places(title, min_length=2))


def _with_subtitle(view: str, title: Title, sub: _Line) -> Title:
    text = sub.of(view)
    lead = len(text) - len(text.lstrip("—―- "))
    joiner = Piece(literal="——") if not lead else Piece(sub.start, sub.start + lead)
    start, end = sub.start + lead, sub.end
    if view[start] == "(" and view[end - 1] == ")" and view.count("(", start, end) == 1:  # (2021年…会议上)
        start, end = start + 1, end - 1
    body = _piece(view, start, end)
    return Title(title.pieces + (joiner, body), "text", f"{title.where} + subtitle line {sub.index + 1}", title.line)


def _headline(view: str, head: list[_Line], plains: list[tuple[int, Title]]) -> Title:
    """A heading that does not end with a 文种: the first, or, in a news story's block of headline
    lines (kicker, headline, deck), the one that names the most specific place."""
    not_issuer = [(k, t) for k, t in plains if not issuer_line().match(head[k].of(view))] or plains
    best = not_issuer[0]
    if len(not_issuer) > 1:
        ranked = max(not_issuer, key=lambda kt: _place_level(head[kt[0]].of(view)))
        if _place_level(head[ranked[0]].of(view)) > _place_level(head[best[0]].of(view)):
            best = ranked
    return best[1]


_LEVEL_RANK = {"county": 3, "city": 2, "province": 1}
_UNIT_CHARS = frozenset("县区市旗州盟省")
MAX_PLACE_NAME = 13


def named_places(text: str, min_length: int = 3) -> list[tuple[str, str, int]]:
    """(name, level, offset) of every place ``text`` names in full (its rule view: simplified),
    by the gazetteer's current and former names; the longest name ending at each unit word.
    Two-character names (易县, 城区) are also words or parts of words: only with ``min_length=2``."""
    from kb.meta.places import Gazetteer

    gaz = Gazetteer.load()
    found = []
    for end in range(1, len(text) + 1):
        if text[end - 1] not in _UNIT_CHARS:
            continue
        for length in range(min(MAX_PLACE_NAME, end), min_length - 1, -1):
            places = gaz.full.get(text[end - length:end])
            if places:
                place = max(places, key=lambda p: _LEVEL_RANK.get(p.level, 0))
                found.append((text[end - length:end], place.level, end - length))
                break
    return found


def _place_level(line: str) -> int:
    """How specific the most specific place named in full in ``line`` is (3 county … 0 none)."""
    return max((_LEVEL_RANK.get(level, 0) for _, level, _ in named_places(line)), default=0)


_UNIT_LEVELS = {"县": ("county",), "区": ("county",), "旗": ("county",), "省": ("province",), "州": ("city",),
                "盟": ("city",), "市": ("city", "county"), None: ("county", "city", "province")}
MIN_FULL_MENTIONS, MIN_SHORT_MENTIONS = 2, 3
_COUNTY_WORD_NEXT = frozenset("委城域级直长属")  # 县委, 县城, 县域: the 县 begins a word
_JOINING_CHARS = frozenset("和与及同或的")


def principal_place(view: str, unit: str | None = None) -> tuple[str, str] | None:
    """(name, how) of the place a text speaks of most, at the level its own words imply (县 in
    我代表县人民政府, 全县): by full names (2 mentions or more), else, with a unit word, by short
    names (保定 for a 全市 text, 3 or more). None when nothing stands out."""
    from kb.meta.places import Gazetteer

    levels = _UNIT_LEVELS.get(unit, _UNIT_LEVELS[None])
    counts: dict[str, int] = {}
    gaz = Gazetteer.load()
    for name, level, at in named_places(view[:60000], min_length=2):
        if len(name) == 2 and (unit not in ("县", "旗") or name[-1] != unit or name in gaz.common_words
                               or view[at + 2:at + 3] in _COUNTY_WORD_NEXT or view[at - 1:at] in _JOINING_CHARS):
            continue  # 城区, 郊区 are words, 市政府和县委 is no 和县; 易县, 唐县 are counties of a 县 text
        if level in levels and (unit != "市" or level == "city" or name.endswith("市")):
            counts[name] = counts.get(name, 0) + 1
    best = sorted(counts.items(), key=lambda kv: (-kv[1], -_LEVEL_RANK[_level_of(kv[0])]))
    if len(best) == 1:
        return best[0][0], f"the only place it names ({best[0][1]} times)"
    if best and best[0][1] >= MIN_FULL_MENTIONS and best[0][1] > best[1][1]:
        return best[0][0], f"the place it names most ({best[0][1]} times)"
    if unit is None:
        return None
    shorts = {}
    for short, places in gaz.short.items():
        if len(short) < 2 or short in gaz.common_words:
            continue
        for place in places:
            fits = place.level in levels and (unit != "市" or place.level == "city" or place.name.endswith("市"))
            if fits and (n := view.count(short, 0, 60000)) >= MIN_SHORT_MENTIONS:
                shorts[place.name] = max(shorts.get(place.name, 0), n)
    best = sorted(shorts.items(), key=lambda kv: -kv[1])
    if best and (len(best) == 1 or best[0][1] >= 2 * best[1][1]):
        return best[0][0], f"its short name ({best[0][1]} times) for a {unit} text"
    return None


def _level_of(name: str) -> str:
    from kb.meta.places import Gazetteer

    places = Gazetteer.load().full.get(name) or []
    return max(places, key=lambda p: _LEVEL_RANK.get(p.level, 0)).level if places else "province"


def _hint_title(hint: str) -> Title | None:
    """The format's own title (HTML <title>, document properties), unless it names only a site's
    section or a 文种 (the text may have the real title)."""
    start, end = 0, len(hint)
    if len(hint) > 12 and (cut := _HINT_SITE_SUFFIX.search(hint)):
        end = cut.start()
    while start < end and hint[start] in _TRIM:
        start += 1
    while end > start and hint[end - 1] in _TRIM:
        end -= 1
    core = re.sub(r"\s+", "", hint[start:end])
    if not 2 <= len(core) <= 2 * MAX_TITLE or core in rules()["sections"] or is_generic(core) \
            or rules()["not_title"].fullmatch(hint[start:end]) or rules()["site_name"].match(core):
        return None
    return Title((Piece(start, end, squeeze=bool(_SPACED.match(hint[start:end])), hint=True),), "format",
                 "format: the file's own title")


def extract_title(text: str, hint: str | None = None) -> tuple[str, str]:
    """Return ``(title, text)``; when the title was glued to the body, the text gets a line break
    after it. ``text`` is read as it is (callers fold it: ``kb.textview.rule_view``)."""
    found, text = find_title(text, hint)
    return clean_title(found.render(text, hint)) if found else "", text


def _continues_title(title: str, following: str) -> bool:
    """A title broken over two lines: the first is unfinished (…——以) or does not end with a type
    word while the second does, or the second names a part (第1部分: …)."""
    if len(title) + len(following) > MAX_TITLE or following.endswith(("。", ":")):
        return False
    if title.endswith(_UNFINISHED) or _PART.match(following):
        return True
    if ends_with_doctype(title):
        return False
    return len(following) <= 30 and ends_with_doctype(following) and not issuer_line().match(title)


# --- catalogue titles for documents without one -----------------------------------------------------

_REVIEW_PLAN = re.compile(r"(?:19|20)\d{2}\s*年.{0,6}工作(?:的)?回顾")
_PLAN = re.compile(r"(?:19|20)\d{2}\s*年.{0,10}(?:工作安排|主要任务|目标任务|重点工作|总体要求|预期目标)")
_REPRESENT = re.compile(r"我代表(?P<place>[^\s,。,]{0,24}?)(?:人民政府|政府|人民代表大会|人大|人民法院|人民检察院)")
_SPEAKER = re.compile(r"^(?P<place>[^\s,。]{2,24}?)人民政府(?:代理?|副)?(?:省长|市长|县长|区长|州长|旗长|盟长|主席)")


def document_kind(view: str) -> tuple[str, str] | None:
    """(文种, where) of a text with no title line, from its own words (我代表…人民政府), or from a
    review heading and a plan heading together (一、2019年工作回顾 … 二、2020年工作安排)."""
    head = view[:6000]
    for word, evidence in rules()["kinds"]:
        if found := evidence.search(head):
            return word, f"line {view.count(chr(10), 0, found.start()) + 1}"
    review, plan = _REVIEW_PLAN.search(head), _PLAN.search(head)
    if review and plan:
        return "政府工作报告", f"lines {head.count(chr(10), 0, review.start()) + 1} and {head.count(chr(10), 0, plan.start()) + 1} (review and plan headings)"
    return None


def place_in_text(view: str) -> tuple[int, int, str] | str | None:
    """Whom the text speaks for, in its own lines: ``(start, end, where)`` of the place name in the
    meeting line (在涞水县第十四届…), the speaker's line (保定市人民政府市长) or 我代表…人民政府; else the
    unit word those lines use without a name (县 in 我代表县人民政府), else None."""
    meeting = rules()["meeting_line"]
    unit = None
    for line in _lines(view, 60):
        text = line.of(view)
        found = meeting.match(text) or _SPEAKER.match(text) or _REPRESENT.search(text)
        if not found or not found.group("place"):
            continue
        place = found.group("place")
        if length := _longest_place_suffix(place):
            end = line.start + found.end("place")
            return end - length, end, f"line {line.index + 1}"
        if unit is None and re.fullmatch(r"(?:自治)?[县区市省州旗盟]", place):
            unit = place[-1]
    if unit is None:  # 全县, 全市: how the text speaks of its own territory
        counts = {u: view.count("全" + u, 0, 60000) for u in "县区市省州旗"}
        top = max(counts, key=counts.get)
        unit = top if counts[top] >= 2 else None
    return unit


def _longest_place_suffix(name: str) -> int:
    """The length of the longest end of ``name`` that is a place's full name (赣州市南康区 -> 3)."""
    from kb.meta.places import Gazetteer

    gaz = Gazetteer.load()
    from kb.textview import rule_view

    name = rule_view(name)
    for length in range(len(name), 1, -1):
        if gaz.full.get(name[-length:]):
            return length
    return 0


def _in_script(word: str, view: str, text: str | None) -> str:
    """``word`` (simplified) in the script of ``text``: traditional when most of the characters
    that have a simplified form are written in it."""
    if not text:
        return word
    differ = sum(1 for a, b in zip(text[:4000], view[:4000]) if a != b and "\u3400" <= a <= "\ufaff")
    cjk = sum(1 for a in view[:4000] if "\u4e00" <= a <= "\u9fff")
    if cjk and differ >= 0.08 * cjk:  # a simplified text has none; a traditional one, about one in four
        import opencc

        return opencc.OpenCC("s2t").convert(word)
    return word


def compose_title(view: str, found: Title, year: int | None, year_where: str | None,
                  text: str | None = None) -> Title | None:
    """A catalogue title for a text with no title line (or only a bare 文种): place + year + 文种;
    the place from the text's own lines (``place_in_text``), else the one it names most
    (``principal_place``); the 文种 as the text writes it, in its script (``text``: the text as
    written; 政府工作報告 in a traditional text). None when the kind of document, or both place
    and year, cannot be told."""
    generic_word = _core(re.sub(r"\s+", "", found.render(view))) if found and found.generic else None
    kind = (generic_word, found.where) if generic_word else document_kind(view)
    if not kind:
        return None
    word, kind_where = kind
    place = place_in_text(view)
    pieces: list[Piece] = []
    place_where = None
    if isinstance(place, tuple):
        pieces.append(Piece(place[0], place[1]))
        place_where = place[2]
    elif principal := principal_place(view, place):
        name, place_where = principal
        at = view.find(name)
        pieces.append(Piece(at, at + len(name)) if at >= 0 else Piece(literal=name))
    if not pieces and year is None:
        return None
    if year is not None:
        pieces.append(Piece(literal=f"{year}年"))
    at = view.find(word)
    pieces.append(Piece(at, at + len(word)) if at >= 0 else Piece(literal=_in_script(word, view, text)))
    parts = [p for p, ok in (("place", place_where), ("year", year is not None)) if ok] + ["文种"]
    detail = [f"place from {place_where}" if place_where else None, f"year from {year_where}" if year is not None else None,
              f"文种 from {kind_where}"]
    where = f"composed: {'+'.join(parts)} (" + "; ".join(d for d in detail if d) + ")"
    return Title(tuple(pieces), "composed", where, found.line if found else None)
