"""Dates and the document's own year.

The year comes from the title first (``2021年晋中统战工作综述``), then from the date of the
document: the signature date at the end, else the latest dated line of the header (laws list their
adoption and amendment dates there). Years inside 《…》 are other documents' years (cited laws),
and scrape headers are gone by now (``kb.clean``). Chinese numerals count: 二〇二一年三月十二日.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_YEAR, MAX_YEAR = 1900, 2100

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "О": 0, "O": 0, "0": 0, "一": 1, "二": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_YEAR = r"(?P<y>(?:19|20)\d{2}|[一二][〇○零ОO九一二三四五六七八][〇○零ОO一二三四五六七八九]{2})"
_MONTH = r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?P<d>3[01]|[12]\d|0?[1-9]|三十[一]?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
FULL_DATE = re.compile(rf"{_YEAR}\s*年\s*{_MONTH}\s*月\s*{_DAY}\s*日")
ISO_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-./](?P<m>1[0-2]|0?[1-9])[-./](?P<d>3[01]|[12]\d|0?[1-9])(?!\d)")
YEAR = re.compile(rf"{_YEAR}\s*年")
_QUOTED = re.compile(r"《[^》]{0,80}》")


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


def cn_number(s: str) -> int:
    """Arabic or Chinese numerals as written in dates: 2021, 二〇二一, 十二, 二十三, 三十一."""
    if s.isdigit():
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


def _is_signature_date(line: str) -> bool:
    """A line that is just a date (in brackets or not): how official documents sign off."""
    core = line.strip("()（） ")
    return bool(FULL_DATE.fullmatch(core) or ISO_DATE.fullmatch(core))


def _starts_with_date(line: str) -> bool:
    """A header line such as ``2008年8月22日 …常务委员会第十一次会议通过``."""
    head = line.lstrip("(（ ")
    return bool(FULL_DATE.match(head) or ISO_DATE.match(head))


_DATE_CUE = re.compile(r"(?:完成|成文|印发|发布|签发|通过)日期\s*[:：]?\s*")


def document_date(text: str, title: str = "", head_lines: int = 40, tail_lines: int = 8) -> Date | None:
    """The date of the document: a signature date (a line that is just a date) near its end, else
    the latest of the dated lines of its header (adoption, amendment: the text in force)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for line in lines[:head_lines]:  # (本稿完成日期: 2023年3月9日)
        cue = _DATE_CUE.search(line)
        if cue and (date := _first_date(line[cue.end():])):
            return date
    for line in reversed(lines[-tail_lines:]):
        if _is_signature_date(line) and (date := _first_date(line)):
            return date
    # dated header lines: adoption, amendment, publication; an effective date (施行) only if alone
    dated = [line for line in lines[:head_lines] if line != title and _starts_with_date(line)]
    acts = [line for line in dated if not re.search(r"(?:起)?(?:施行|生效)", line)] or dated
    head = [d for line in acts if (d := _first_date(line))]
    if head:
        return max(head, key=lambda d: (d.year, d.month or 0, d.day or 0))
    return None


def _first_date(line: str) -> Date | None:
    found = dates_in(line)
    return found[0] if found else None


def document_year(text: str, title: str = "") -> tuple[int | None, Date | None]:
    """``(year, date)``: the year from the title if it names one, else the document date's, else
    the year of the numbered meeting its title or opening names (第十二届全国人大第五次会议)."""
    date = document_date(text, title)
    title_years = years_in(title)
    if title_years:
        return title_years[0], date if date and date.year == title_years[0] else date
    if date:
        return date.year, date
    return session_year(title + "\n" + "\n".join(text.split("\n")[:3])), None


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



_NPC = re.compile(r"第([一二三四五六七八九十]+)届全国人民代表大会第([一二三四五六七八九十]+)次会议")
_CPPCC = re.compile(r"(?:中国人民政治协商会议|全国政协)第([一二三四五六七八九十]+)届(?:全国委员会)?第([一二三四五六七八九十]+)次会议")
_CPC = re.compile(r"(?:第([一二三四五六七八九十]+)次全国代表大会|[(（]([一二三四五六七八九十]+)大[)）])")


def session_year(text: str) -> int | None:
    """The year of a numbered national meeting the text is dated by (see data/sessions.toml)."""
    import tomllib

    from kb.config import DATA_DIR

    data = tomllib.loads((DATA_DIR / "sessions.toml").read_text(encoding="utf-8"))
    if found := _NPC.search(text):
        first = data["npc"]["first_years"].get(str(cn_number(found.group(1))))
        return first + cn_number(found.group(2)) - 1 if first else None
    if found := _CPPCC.search(text):
        first = data["cppcc"]["first_years"].get(str(cn_number(found.group(1))))
        return first + cn_number(found.group(2)) - 1 if first else None
    if found := _CPC.search(text):
        return data["cpc"]["years"].get(str(cn_number(found.group(1) or found.group(2))))
    return None
