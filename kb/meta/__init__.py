"""Metadata: what a document is (title, year, date, places, sectors, ...), extracted or given.

``extract`` reads clean text; ``merge`` lets what the user gave win over what was extracted.
Field names here are the index's field names (see ``kb.index``).
"""

from __future__ import annotations

from pathlib import PurePath

import unicodedata

from kb.analysis import fold_width, normalize

from kb.meta.dates import document_year, filename_date
from kb.meta.issuer import docno_of, doctype_of, issuers_of
from kb.meta.places import find_places, is_national
from kb.meta.sectors import classify
from kb.meta.title import extract_title
from kb.meta.topics import topics_of

LIST_KEYS = ("counties", "sectors", "cities", "provinces", "doctype", "issuer", "topics")
SCALAR_KEYS = ("title", "year", "date", "docno")
# Singular or alternative spellings users write in manifests and sidecars.
ALIASES = {
    "county": "counties", "sector": "sectors", "city": "cities", "province": "provinces",
    "topic": "topics", "type": "doctype", "issuers": "issuer", "doctypes": "doctype",
    "document_number": "docno", "发文字号": "docno", "标题": "title", "年份": "year",
    "县": "counties", "区县": "counties", "领域": "sectors", "行业": "sectors",
}


def extract(text: str, title_hint: str | None = None, path: str | None = None) -> tuple[dict, str]:
    """Metadata found in clean text (and the file name); returns ``(metadata, text)``: a glued
    title gets a line of its own. The title keeps the document's own characters; the rules read
    the text with full-width punctuation folded (``fold_width``: same offsets)."""
    title, text = _title_as_written(text, title_hint)
    lines = [unicodedata.normalize("NFKC", line).strip() for line in text.split("\n") if line.strip()]
    shown_title, title = title, unicodedata.normalize("NFKC", title)
    title_index = next((i for i, line in enumerate(lines[:25]) if title and title.startswith(line[:12])), None)
    head = lines[: (title_index or 0) + 4] if title_index is not None else lines[:4]
    signature = lines[-6:]
    year, date = document_year("\n".join(lines), title)
    named = filename_date(PurePath(path).stem) if path else None
    if named and not (title and year and str(year) in title):
        year, date = named.year, named  # a version date in the file name beats dates in the text
    norm_title = normalize(title)
    issuers = issuers_of(norm_title, [normalize(x) for x in lines[:40] + lines[-8:]], title_index)
    places = find_places(title, text, head + signature, national=is_national(norm_title, issuers))
    doctype = doctype_of(norm_title, normalize("\n".join(lines[:12])))
    meta = {
        "title": shown_title,
        "year": year,
        "date": date.iso() if date else None,
        "counties": places.counties,
        "cities": places.cities,
        "provinces": places.provinces,
        "sectors": classify(title, text, doctype=doctype),
        "topics": topics_of(title, text),
        # facet values in simplified characters, whatever the document's script
        "doctype": [doctype] if doctype else [],
        "issuer": issuers,
        "docno": docno_of([normalize(x) for x in lines[:10]]),
    }
    return meta, text


def _title_as_written(text: str, hint: str | None) -> tuple[str, str]:
    """``extract_title`` on the width-folded text, mapped back to the characters as written."""
    folded = fold_width(text)
    title, changed = extract_title(folded, fold_width(hint) if hint else hint)
    if changed != folded:  # a line break put after a glued title: put it in the original too
        at = next((i for i, (a, b) in enumerate(zip(folded, changed)) if a != b), len(folded))
        if changed[:at] + changed[at + 1:] == folded:
            text, folded = text[:at] + changed[at] + text[at:], changed
    if hint and title == fold_width(hint).strip():
        return hint.strip(), text
    at = folded.find(title) if title else -1
    return (text[at:at + len(title)] if at >= 0 else title), text


def normalize_given(fields: dict, origin: str) -> dict:
    """User metadata in our field names and types; raises ValueError naming the bad field."""
    out: dict = {}
    for key, value in fields.items():
        key = ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        if value is None or value == "" or value == []:
            continue
        if key == "year":
            try:
                year = int(str(value).strip().removesuffix("年"))
            except ValueError:
                raise ValueError(f"{origin}: year {value!r} is not a year") from None
            if not 1000 <= year <= 2999:
                raise ValueError(f"{origin}: year {value!r} is out of range")
            out["year"] = year
        elif key in LIST_KEYS:
            items = value if isinstance(value, (list, tuple)) else str(value).replace("；", ";").split(";")
            out[key] = [str(item).strip() for item in items if str(item).strip()]
        elif key in ("path", "file", "filename"):
            continue
        else:
            out[key] = value if isinstance(value, (str, int, float, bool, list)) else str(value)
    return out


def merge(extracted: dict, *given: dict) -> dict:
    """Later sources win, field by field; ``given`` in increasing order of precedence."""
    merged = dict(extracted)
    for source in given:
        merged.update(source)
    return merged
