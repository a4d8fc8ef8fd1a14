"""Who issued a document (发文机关), its number (发文字号) and its type (文种)."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache

from kb.config import DATA_DIR, read_pairs

from kb.meta.title import doctype_words, ends_with_doctype, issuer_line

_CN_NUM = "一二三四五六七八九十百千零〇○"
# 晋政发〔2021〕12号, 晋政发[2021]12号, 晋政发(2021)12号, 国发〔2021〕第12号
DOCNO = re.compile(
    rf"[\u4e00-\u9fff]{{1,15}}\s*[〔\[(【]\s*(?:19|20)\d{{2}}\s*[〕\])】]\s*第?\s*\d{{1,4}}\s*号"
)
# 中华人民共和国主席令第三十一号, 国务院令第708号, 商务部令2019年第1号
ORDER_NO = re.compile(
    rf"(?:中华人民共和国)?[\u4e00-\u9fff]{{0,12}}令\s*[(（]?\s*(?:(?:19|20)\d{{2}}\s*年\s*)?第\s*[\d{_CN_NUM}]+\s*号[)）]?"
)
# 2008年8月22日 宁波市第十三届人民代表大会常务委员会第十一次会议通过; 1999年7月10日 国务院批准
_ADOPTED = re.compile(
    rf"^(?P<body>[\u4e00-\u9fff]{{2,40}}?)(?:第[\d{_CN_NUM}]+次)?(?:(?:全体|常务|主任|部务|委务|局务|署务|行务)?会议)?"
    rf"(?:审议)?(?:通过|批准|发布|公布)"
)
_LEADING_DATE = re.compile(r"^[(（\s]*(?:(?:19|20)\d{2}|[一二][〇○零一二三四五六七八九]{3})\s*年[^日]{1,6}日\s*")
# 我代表国务院,向大会报告; 我受十二届中央委员会委托 (speeches and reports)
_ON_BEHALF = re.compile(r"我(?:代表|受)(?P<body>[\u4e00-\u9fff]{2,20}?)(?:委托)?[,，]?向")
# 公安部令第146号, 国务院令第708号: the ministry or the State Council issued it
_ORDER_ISSUER = re.compile(r"^(?:中华人民共和国)?(?P<body>[\u4e00-\u9fff]{2,12}?)令")
_TERM = re.compile(rf"第[\d{_CN_NUM}]+届")
_MEETING_BODY = re.compile(r"(?:审判委员会|检察委员会)$")
_TITLE_PREFIX = re.compile(r"^(?P<issuer>.{2,40}?)关于")
_LEVELS = "省市县区州"
_TITLE_PLACE = re.compile(rf"^([\u4e00-\u9fff]{{1,12}}?[{_LEVELS}])")
_JOINT = re.compile(r"[、，,]")  # 最高人民法院、最高人民检察院: two issuers


@lru_cache(maxsize=1)
def _aliases() -> tuple[tuple[str, str], ...]:
    return tuple(read_pairs(DATA_DIR / "issuer_aliases.txt"))


@lru_cache(maxsize=1)
def _canonical_rules() -> tuple[tuple[tuple[re.Pattern, str], ...], dict[str, str]]:
    """data/issuers.toml: the ordered rules, and whole-name alias -> canonical name."""
    data = tomllib.loads((DATA_DIR / "issuers.toml").read_text(encoding="utf-8"))
    rules = tuple((re.compile(rule["pattern"]), rule["replace"]) for rule in data.get("rule", []))
    names = {alias: name for name, aliases in data.get("canonical", {}).items() for alias in aliases}
    return rules, names


def canonical_issuer(name: str) -> str:
    """One name per body: parts of names first (统一战线工作部 -> 统战部; an 调研组 speaks for its
    body), then data/issuers.toml's rules (a term or session is not another body: 第十三届全国人民代表
    大会常务委员会 -> 全国人民代表大会常务委员会; short forms: 省政府, 人大常委会; 中华人民共和国国务院
    -> 国务院), then its whole-name aliases (十九届中央委员会 -> 中国共产党中央委员会)."""
    for source, target in _aliases():
        name = name.replace(source, target)
    rules, names = _canonical_rules()
    name = name.strip()
    for pattern, replace in rules:
        name = pattern.sub(replace, name)
    return names.get(name, name)


def _with_place(name: str, title: str) -> str:
    """A body named by its level only (市人民代表大会常务委员会, from 市十四届人大常委会) is the
    body of the place the title begins with (宁波市人民调解条例), when the levels agree."""
    if name[:1] in _LEVELS and (place := _TITLE_PLACE.match(title or "")) and place.group(1)[-1] == name[0]:
        return place.group(1)[:-1] + name
    return name


@lru_cache(maxsize=1)
def _formulas() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(pattern), kind) for pattern, kind in read_pairs(DATA_DIR / "doctype_formulas.txt"))


def doctype_of(title: str, opening: str = "") -> str | None:
    """The 文种 a title ends with (通知, 报告, 条例, 法律, ...), ignoring a trailing (试行); else
    what the opening lines say (我…向大会作报告; 行业标准) per data/doctype_formulas.txt."""
    if not title or not ends_with_doctype(title):
        for pattern, kind in _formulas():
            if opening and pattern.search(opening):
                return kind
        return None
    core = re.sub(r"\s*[(（][^()（）]{1,12}[)）]$", "", title).rstrip("。.:;,")
    for word, kind in doctype_words():
        if core.endswith(word):
            return kind
    return None


def _norm_brackets(docno: str) -> str:
    docno = re.sub(r"\s+", "", docno)
    return re.sub(r"[\[(【]((?:19|20)\d{2})[\])】]", r"〔\1〕", docno)


def docno_of(head_lines: list[str]) -> str | None:
    """The document's own number: printed near its top (numbers cited in the body are others')."""
    for line in head_lines:
        if len(line) > 40:  # a sentence that cites a number, not the number's own line
            continue
        found = DOCNO.search(line)
        if found:
            return _norm_brackets(found.group())
        found = ORDER_NO.search(line)
        if found:
            return re.sub(r"\s+", "", found.group())
    return None


def _adopting_body(line: str) -> str | None:
    line = _LEADING_DATE.sub("", line)
    if line.startswith("《"):  # amended by another document's decision: not an adopting body
        return None
    found = _ADOPTED.search(_TERM.sub("", line))
    if not found:
        return None
    body = _MEETING_BODY.sub("", found.group("body").strip())
    return body if len(body) >= 2 else None


def issuers_of(title: str, lines: list[str], title_index: int | None) -> list[str]:
    """Issuing bodies, most telling first: letterhead above the title, the title's own
    "X关于…", an adopting body in dated header lines (laws), the signature block."""
    found: list[str] = []
    letterhead = issuer_line()

    def add(name: str | None):
        for part in _JOINT.sub(" ", name or "").split():  # joint issuers share a line
            part = _with_place(canonical_issuer(re.sub(r"文件$", "", part)), title)
            if len(part) >= 2 and part not in found:
                found.append(part)

    start = title_index if title_index is not None else 0
    for line in lines[:start][-4:] + lines[start + 1:start + 3]:  # letterhead above, or byline below
        if letterhead.match(line):
            add(line)
    for line in lines[:12]:
        on_behalf = _ON_BEHALF.search(line)
        if on_behalf and letterhead.match(on_behalf.group("body")):
            add(on_behalf.group("body"))
            break
        order = ORDER_NO.search(line)
        if order and len(line) <= 40 and (body := _ORDER_ISSUER.match(order.group())):
            add(body.group("body"))
    prefix = _TITLE_PREFIX.match(title or "")
    if prefix and letterhead.match(prefix.group("issuer")):
        add(prefix.group("issuer"))
    for line in lines[(title_index or 0) + 1:(title_index or 0) + 8]:
        if re.match(r"^[(（\s]*(?:19|20)\d{2}\s*年", line) or line.startswith(("(", "（")):
            add(_adopting_body(line))
            if found:
                break
    tail = lines[-6:]
    for i, line in enumerate(tail):
        if len(line) <= 40 and letterhead.match(line) and any(re.search(r"(?:19|20)\d{2}\s*年|[〇○一二]{4}年", x)
                                                               for x in tail[i + 1:i + 3]):
            add(line)
    return found
