"""Dates and the document's own year, with where each came from.

The year comes from, in order:

1. the title (``2021年晋中统战工作综述``; a date in its subtitle; of several years, the one the
   document's own date confirms, else the latest; a range's first year; never a target year:
   ``二〇三五年远景目标``, ``到2025年``);
2. the document's own date: a cue (完成日期: …), the date of the meeting it was delivered at
   (``——2020年1月21日在…会议上``, a bracketed date line under the speaker), the signature date at
   its end, the latest adoption or amendment line of a law's header, a later line naming the same
   meeting with a date;
3. the numbered meeting it names, where data/sessions.toml knows its years (全国人大, 全国政协, 党的
   全国代表大会, provincial congresses);
4. a work report's own structure: ``一、2019年工作回顾`` (the report is the next year's),
   ``二、2020年工作安排``, ``刚刚过去的2019年``, the outline ``报告分为…2023年目标任务``, the plan
   report of the meeting (``2023年…计划执行情况…与2024年…计划``): only in a document that is a
   work report, or where a review and a plan agree.

Never: a scrape header's dates (gone by now: ``kb.clean``; publication stamps before the title
and zero-padded CMS dates like ``2021年03月02日`` are passed over too), years in 《quoted titles》,
years merely cited (2019年以来, 十四五, 到2025年). A document whose year cannot be told gets none.
Chinese numerals count: 二〇二〇年一月二十一日. Rules read ``kb.textview.rule_view`` of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MIN_YEAR, MAX_YEAR = 1900, 2100

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "О": 0, "O": 0, "0": 0, "一": 1, "二": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_YEAR = r"(?P<y>(?:19|20)\d{2}|[一二][〇○零ОO0九一二三四五六七八][〇○零ОO0一二三四五六七八九]{2})"
_MONTH = r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?P<d>3[01]|[12]\d|0?[1-9]|三十[一]?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
FULL_DATE = re.compile(rf"{_YEAR}\s*年\s*{_MONTH}\s*月\s*{_DAY}\s*日")
ISO_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-./](?P<m>1[0-2]|0?[1-9])[-./](?P<d>3[01]|[12]\d|0?[1-9])(?!\d)")
YEAR_MONTH = re.compile(rf"{_YEAR}\s*年\s*{_MONTH}\s*月")
YEAR = re.compile(rf"{_YEAR}\s*年")
_QUOTED = re.compile(r"《[^》]{0,80}》")
# A CMS writes 01月08日; a document writes 1月8日.
_PADDED = re.compile(r"年\s*0\d\s*月|月\s*0\d\s*日")
# Years that are not the document's: targets and the ends of ranges.
_TARGET_BEFORE = re.compile(r"(?:到|至)\s*$")
_TARGET_AFTER = re.compile(r"^\s*年?\s*(?:远景|前后|以前|之前|目标)")
_RANGE = re.compile(rf"{_YEAR}\s*(?:年)?\s*[-—–~～至到]\s*(?:(?:19|20)\d{{2}}|[一二][〇○零ОO0九一二三四五六七八][〇○零ОO0一二三四五六七八九]{{2}})\s*年")


@dataclass(frozen=True)
class Date:
    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
            if self.day:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)


@dataclass(frozen=True)
class YearFound:
    year: int | None = None
    date: Date | None = None
    where: str | None = None  # for people: "title", "meeting date, line 1: ——2020年1月21日在…会议上"
    date_where: str | None = None  # where the date came from, when not from where the year did


def cn_number(s: str) -> int:
    """Arabic or Chinese numerals as written in dates: 2021, 二〇二一, 十二, 二十三, 三十一."""
    if s.isdigit() and s.isascii():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[ones] if ones else 0)
    return int("".join(str(_CN_DIGIT[ch]) for ch in s))


def _date(match: re.Match) -> Date | None:
    year = cn_number(match.group("y"))
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    month = cn_number(match.group("m")) if match.groupdict().get("m") else None
    day = cn_number(match.group("d")) if match.groupdict().get("d") else None
    return Date(year, month, day)


def years_in(text: str) -> list[int]:
    """Years mentioned in a text (with 年), outside 《quoted titles》."""
    text = _QUOTED.sub("", text)
    return [d.year for d in map(_date, YEAR.finditer(text)) if d]


def dates_in(text: str) -> list[Date]:
    text = _QUOTED.sub("", text)
    found = [d for d in map(_date, FULL_DATE.finditer(text)) if d]
    found += [d for d in map(_date, ISO_DATE.finditer(text)) if d]
    return found


def _first_date(line: str, partial: bool = False) -> Date | None:
    found = dates_in(line)
    if found:
        return found[0]
    if partial and (match := YEAR_MONTH.search(_QUOTED.sub("", line)) or YEAR.search(_QUOTED.sub("", line))):
        return _date(match)
    return None


def title_years(title: str) -> list[int]:
    """The years a title names as its own: not targets (到2025年, 二〇三五年远景目标), a range's first."""
    text = _QUOTED.sub("", title)
    years = []
    for match in _RANGE.finditer(text):
        years.append(cn_number(match.group("y")))
    text = _RANGE.sub(" ", text)
    for match in YEAR.finditer(text):
        if _TARGET_BEFORE.search(text[: match.start()]) or _TARGET_AFTER.match(text[match.end() - 1:]):
            continue
        if (date := _date(match)) is not None:
            years.append(date.year)
    return [y for y in years if MIN_YEAR <= y <= MAX_YEAR]


# --- the document's own date ------------------------------------------------------------------------

# the document's own dates (a page's 发布日期 is the site's)
_DATE_CUE = re.compile(r"(?:完成|成文|印发|签发|通过)日期\s*[:：]?\s*")
_DATELINE = re.compile(rf"{FULL_DATE.pattern}\s*(?:电|讯)")
_MEETING = re.compile(r"^[—―\-]*\s*\(?(?P<date>[^\s,。]{0,24}?日?)\s*在[^\s,。]{0,24}?(?:第?[一二三四五六七八九十\d]{1,3}届|人大|政协).{0,40}?(?:会议|大会|全会)上")
_SESSION = re.compile(r"(?:第)?([一二三四五六七八九十]{1,3})届(?:.{0,16}?人民代表大会|人大)(?:常务委员会|常委会)?(?:第)?([一二三四五六七八九十]{1,3})次(?:全体)?会议")
# a date line: (2007年1月30日), (2011年1月12日 陈全国), 长 钮茂生(2002年1月24日), 2006年2月16日 季允石
_BRACKETED = re.compile(r"^(?P<prefix>.{0,12}?)\(\s*(?P<inner>[^()]{6,30}?)\s*\)$")
_NAME = re.compile(r"[\u4e00-\u9fff·](?:\s?[\u4e00-\u9fff·]){1,3}")
_ACT = re.compile(r"通过|修正|修订|修改|批准|公布|发布|颁布|施行|生效|会议")
HEAD_LINES, TAIL_LINES = 40, 8


def _numbered(view: str) -> list[tuple[int, str]]:
    """(1-based line number, trimmed line) of the non-blank lines."""
    return [(n + 1, line.strip()) for n, line in enumerate(view.split("\n")) if line.strip()]


def _short(line: str, limit: int = 40) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def own_date(view: str, title: str = "", title_line: int | None = None) -> YearFound:
    """The date of the document itself, and where it is written (see the module docstring, 2.)."""
    lines = _numbered(view)
    head, tail = lines[:HEAD_LINES], lines[-TAIL_LINES:]
    for n, line in head:  # (本稿完成日期: 2023年3月9日)
        cue = _DATE_CUE.search(line)
        if cue and (date := _first_date(line[cue.end():])):
            return YearFound(date.year, date, f"date cue, line {n}: {_short(line)}")
    for n, line in head:  # a news story's dateline: 马尼拉2005 年12 月12 日讯
        if (found := _DATELINE.search(line)) and (date := _date(found)):
            return YearFound(date.year, date, f"dateline, line {n}: {_short(line)}")
    first = head[:25]
    for n, line in first:  # ——2020年1月21日在…会议上
        if (meeting := _MEETING.match(line)) and (date := _first_date(meeting.group("date"), partial=True)):
            return YearFound(date.year, date if date.month else None, f"meeting date, line {n}: {_short(line)}")
    signed = _signature(tail)
    anchor = title_line if title_line is not None else next((n - 1 for n, line in first if _MEETING.match(line)), -1)
    # (2007年1月30日) under the speaker's line; 2006年2月16日 季允石 below the title or the meeting
    # line (above them a lone date is the page's)
    for bracketed_only in (True, False):
        for n, line in first:
            if (bracketed_only or n - 1 > anchor) and not _PADDED.search(line) \
                    and (date := _date_line(line, not bracketed_only)):
                if not date.day and signed.date and (signed.date.year, signed.date.month) == (date.year, date.month):
                    return signed  # (2020年9月) above, 2020年9月10日 signed below: the fuller one
                return YearFound(date.year, date, f"date line {n}: {_short(line)}")
    if signed.year:
        return signed
    # a law's header: adoption, amendment, publication lines (an effective date, 施行, only if alone);
    # a news story's lead that opens with the date (2021年10月2日至7日，灵石县遭遇…); not a sentence
    # further down that opens with a date it recounts (一九七四年七月十七日，毛主席在…)
    below = [(n, line) for n, line in head if line != title and (title_line is None or n - 1 > title_line)]
    lead = below[0][0] if below and title_line is not None else None
    dated = [(n, line) for n, line in below
             if (FULL_DATE.match(line.lstrip("(（ ")) or ISO_DATE.match(line.lstrip("(（ "))) and not _PADDED.search(line)
             and (n == lead or ((_ACT.search(line) or len(line) <= 40) and not re.search(r"[,。]", line[:40])))]
    acts = [(n, line) for n, line in dated if not re.search(r"(?:起)?(?:施行|生效)", line)] or dated
    found = [(d, n, line) for n, line in acts if (d := _first_date(line))]
    if found:
        date, n, line = max(found, key=lambda f: (f[0].year, f[0].month or 0, f[0].day or 0))
        what = "the lead's date" if n == lead and not _ACT.search(line) else "dated header line"
        return YearFound(date.year, date, f"{what}, line {n}: {_short(line)}")
    # a later line dates the meeting the document opens with (…第十五届…第三次会议 … 2016年1月12日)
    opening = next((m for _, line in head[:6] if _MEETING.match(line) and (m := _SESSION.search(line))), None)
    if opening:
        for n, line in lines[6:]:
            other = _SESSION.search(line)
            if other and other.groups() == opening.groups() and (date := _first_date(line)):
                return YearFound(date.year, date, f"the same meeting dated, line {n}: {_short(line)}")
    return YearFound()


def _signature(tail: list[tuple[int, str]]) -> YearFound:
    """The date a document is signed with: a line near its end that is only a date."""
    for n, line in reversed(tail):
        core = line.strip("()（） ")
        whole = FULL_DATE.fullmatch(core) or ISO_DATE.fullmatch(core) or YEAR_MONTH.fullmatch(core)
        if whole and (date := _date(whole)):
            return YearFound(date.year, date, f"signature date, line {n}: {line}")
    return YearFound()


def _date_line(line: str, unbracketed: bool) -> Date | None:
    """The date of a line that is only a date, maybe with a speaker's name: (2007年1月30日),
    (2011年1月12日 陈全国), 长 钮茂生(2002年1月24日); unbracketed (2006年2月16日 季允石) only when
    ``unbracketed`` (below the title: above it, a lone date is the page's)."""
    bracketed = _BRACKETED.match(line)
    if not bracketed and (not unbracketed or line.startswith("(")):
        return None
    text = bracketed.group("inner") if bracketed else line
    found = FULL_DATE.match(text) or ISO_DATE.match(text) or YEAR_MONTH.match(text)
    if not found:
        return None
    rest = text[found.end():].strip()
    if rest and not (_NAME.fullmatch(rest) and not _ACT.search(rest)):
        return None
    return _date(found)


def document_date(text: str, title: str = "", head_lines: int = 40, tail_lines: int = 8) -> Date | None:
    """The date of the document (see ``own_date``)."""
    return own_date(text, title).date


# --- numbered meetings ------------------------------------------------------------------------------

_NPC = re.compile(r"第([一二三四五六七八九十]+)届全国人民代表大会第([一二三四五六七八九十]+)次会议")
_CPPCC = re.compile(r"(?:中国人民政治协商会议|全国政协)第([一二三四五六七八九十]+)届(?:全国委员会)?第([一二三四五六七八九十]+)次会议")
_CPC = re.compile(r"(?:第([一二三四五六七八九十]+)次全国代表大会|[(（]([一二三四五六七八九十]+)大[)）])")
_PROVINCIAL = re.compile(r"(?P<place>[\u4e00-\u9fff]{2,8}?(?:省|自治区|市))(?:第)?(?P<term>[一二三四五六七八九十]+)届人民代表大会第(?P<session>[一二三四五六七八九十]+)次会议")


@lru_cache(maxsize=1)
def _sessions() -> dict:
    import tomllib

    from kb.config import DATA_DIR

    return tomllib.loads((DATA_DIR / "sessions.toml").read_text(encoding="utf-8"))


def session_year(text: str) -> int | None:
    """The year of a numbered meeting the text is dated by (see data/sessions.toml)."""
    found = session_of(text)
    return found[0] if found else None


def session_of(text: str) -> tuple[int, str] | None:
    """(year, the meeting as written) of the numbered meeting ``text`` names, if its year is known."""
    data = _sessions()
    if found := _NPC.search(text):
        term, session = cn_number(found.group(1)), cn_number(found.group(2))
        if year := data["npc"].get("sessions", {}).get(f"{term}-{session}"):
            return year, found.group()
        first = data["npc"]["first_years"].get(str(term))
        return (first + session - 1, found.group()) if first else None
    if found := _CPPCC.search(text):
        first = data["cppcc"]["first_years"].get(str(cn_number(found.group(1))))
        return (first + cn_number(found.group(2)) - 1, found.group()) if first else None
    if found := _CPC.search(text):
        year = data["cpc"]["years"].get(str(cn_number(found.group(1) or found.group(2))))
        return (year, found.group()) if year else None
    for found in _PROVINCIAL.finditer(text):
        year = _provincial_year(found.group("place"), cn_number(found.group("term")), cn_number(found.group("session")))
        if year:
            return year, found.group()
    return None


def _provincial_year(place: str, term: int, session: int) -> int | None:
    data = _sessions().get("provinces", {})
    terms = data.get("term_in", {})
    base = next((terms[place[-n:]] for n in range(len(place), 1, -1) if place[-n:] in terms), None)
    if not base:
        return None
    first = data["base_year"] - data["term_years"] * (base - term)
    if first < data.get("since", 0) or not 1 <= session <= data["term_years"]:
        return None  # before the synchronised terms, or an extra session: not the annual rhythm
    return first + session - 1


# --- a work report's own structure --------------------------------------------------------------------

_Y = r"(?P<y>(?:19|20)\d{2})\s*年"
_REVIEW = re.compile(rf"^(?:[一二三四五六七八九十]{{1,3}}\s*[、.]\s*)?{_Y}(?:的)?(?:主要)?(?:政府)?工作(?:的)?回顾")
_PLAN = re.compile(rf"^(?:[一二三四五六七八九十]{{1,3}}\s*[、.]\s*)?{_Y}(?:的)?(?:政府工作|工作|经济社会发展|全[县市区省旗]工作)?(?:的)?"
                   r"(?:总体要求|主要目标|目标任务|主要任务|重点任务|工作任务|工作安排|重点工作|工作重点|发展目标|工作建议|总体思路|主要预期目标"
                   r"|(?P<after>主要工作))")  # 2026年主要工作 plans only after a review (一、2020年主要工作 reviews)
_JUST_PASSED = re.compile(rf"刚刚过去的{_Y}")
_OUTLINE = re.compile(r"报告(?:共)?分(?:为)?[^。]{0,4}部分")
_OUTLINE_REVIEW = re.compile(rf"{_Y}(?:的)?(?:主要)?工作(?:的)?回顾")
_OUTLINE_PLAN = re.compile(rf"{_Y}(?:的)?(?:主要目标任务|目标任务|重点工作|主要任务|工作安排|重点任务)")
# the plan and budget reports of the same meeting: 2023年…计划执行情况…与2024年…计划(草案)
_EXECUTION_AND_PLAN = re.compile(r"(?P<done>(?:19|20)\d{2})\s*年[^。;]{0,24}?执行情况[^。;]{0,12}?(?:与|和|及)\s*"
                                 r"(?P<y>(?:19|20)\d{2})\s*年[^。;]{0,24}?(?:计划|预算)")


def structure_year(view: str, is_report: bool) -> YearFound:
    """The year of a work report from its headings: a review of year Y is delivered in Y+1, a plan
    for year Y in Y. Used when ``is_report`` (its title, kind or salutation say so), or when a
    review and a plan heading agree."""
    reviews, plans = [], []
    reviewed = False  # a review heading (…回顾) came before
    for n, line in _numbered(view)[:400]:
        heading = len(line) <= 40 and "。" not in line
        if heading and (m := _REVIEW.match(line)):
            reviews.append((int(m.group("y")) + 1, n, line, "review heading"))
        elif (m := _PLAN.match(line)) and (heading or line[m.end():].startswith("是")):
            if not m.group("after") or reviewed:
                plans.append((int(m.group("y")), n, line, "plan heading"))
        elif _OUTLINE.search(line):
            reviews += [(int(m.group("y")) + 1, n, line, "outline") for m in _OUTLINE_REVIEW.finditer(line)]
            plans += [(int(m.group("y")), n, line, "outline") for m in _OUTLINE_PLAN.finditer(line)]
        elif m := _JUST_PASSED.search(line):
            reviews.append((int(m.group("y")) + 1, n, line, "刚刚过去的…年"))
        elif (m := _EXECUTION_AND_PLAN.search(line)) and int(m.group("y")) == int(m.group("done")) + 1:
            reviews.append((int(m.group("y")), n, line, "execution and plan"))  # a review and a plan in one
            plans.append((int(m.group("y")), n, line, "execution and plan"))
        reviewed = reviewed or (heading and "回顾" in line)
    agreed = [p for p in plans if any(r[0] == p[0] for r in reviews)]
    pick = agreed[0] if agreed else (plans[0] if plans else reviews[0] if reviews else None) if is_report else None
    if pick is None:
        return YearFound()
    year, n, line, what = pick
    after = " (the year after)" if what in ("review heading", "刚刚过去的…年") else ""
    return YearFound(year, None, f"{what}, line {n}: {_short(line)}{after}")


# --- the year ---------------------------------------------------------------------------------------


def find_year(view: str, title: str = "", title_line: int | None = None, is_report: bool = False) -> YearFound:
    """The document's year with where it came from (the order is the module docstring's)."""
    own = own_date(view, title, title_line)
    years = title_years(title)
    if years:
        in_title = dates_in(title)
        if in_title and in_title[-1].year in years:
            return YearFound(in_title[-1].year, in_title[-1], f"title (its date, {in_title[-1].iso()})")
        if own.year in years:
            return YearFound(own.year, own.date, "title" + (f" (confirmed by the {own.where})" if len(years) > 1 else ""),
                             own.where)
        if len(years) > 1:
            return YearFound(max(years), None, f"title (the latest of its years {', '.join(map(str, years))})")
        return YearFound(years[0], None, "title")
    if own.year:
        return own
    head = "\n".join(line for _, line in _numbered(view)[:12])
    if found := session_of(title + "\n" + head):
        return YearFound(found[0], None, f"session: {found[1]} (data/sessions.toml)")
    return structure_year(view, is_report)


def document_year(text: str, title: str = "") -> tuple[int | None, Date | None]:
    """``(year, date)`` of a document (see ``find_year``)."""
    found = find_year(text, title)
    return found.year, found.date


_FILENAME_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?:[-_.](?P<m>1[0-2]|0?[1-9])[-_.](?P<d>3[01]|[12]\d|0?[1-9])(?!\d)|年)"
)


def filename_date(stem: str) -> Date | None:
    """A date or year in a file name (``条例(2022-06-01)``, ``2019年工作总结``): sources name files
    by the version they hold."""
    found = _FILENAME_DATE.search(stem)
    if not found:
        return None
    year = int(found.group("y"))
    month = int(found.group("m")) if found.group("m") else None
    day = int(found.group("d")) if found.group("d") else None
    return Date(year, month, day) if MIN_YEAR <= year <= MAX_YEAR else None
