"""Metadata: what a document is (title, year, date, places, sectors, ...), extracted or given.

``extract`` reads clean text; ``merge`` lets what the user gave win over what was extracted.
Field names here are the index's field names (see ``kb.index``).
"""

from __future__ import annotations

from pathlib import PurePath

import unicodedata

from kb.analysis import fold_width, normalize
from kb import facets as kbfacets
from kb.facets import by_key

from kb.meta.dates import document_year, filename_date
from kb.meta.issuer import docno_of, doctype_of, issuers_of
from kb.meta.places import find_places, is_national
from kb.meta.sectors import classify
from kb.meta.title import extract_title
from kb.meta.topics import topics_of

# Document facts that are not facets (facets and their spellings are declared in kb.facets).
DOCUMENT_KEYS = ("title", "date", "docno")
DOCUMENT_ALIASES = {"document_number": "docno", "发文字号": "docno", "文号": "docno", "标题": "title", "日期": "date"}


def known_keys() -> tuple[str, ...]:
    """Metadata keys with a meaning of their own (the rest are kept as the user's extra fields)."""
    return DOCUMENT_KEYS + kbfacets.fields()


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
        key = str(key).strip().lower()
        if value is None or value == "" or value == []:
            continue
        facet = by_key(key)
        if facet is not None:
            out[facet.field] = facet.read_given(value, origin)
        elif key in ("path", "file", "filename"):
            continue
        else:
            key = DOCUMENT_ALIASES.get(key, key)
            out[key] = value if isinstance(value, (str, int, float, bool, list)) else str(value)
    return out


def merge(extracted: dict, *given: dict) -> dict:
    """Later sources win, field by field; ``given`` in increasing order of precedence."""
    merged = dict(extracted)
    for source in given:
        merged.update(source)
    return merged
