"""Metadata: what a document is (title, year, date, places, sectors, ...), extracted or given.

``extract`` reads clean text; ``merge`` lets what the user gave win over what was extracted.
Field names here are the index's field names (see ``kb.index``).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

from kb import facets as kbfacets
from kb.analysis import nfkc_lines, normalize, normalize_lines
from kb.facets import by_key
from kb.meta.dates import filename_date, find_year
from kb.meta.issuer import docno_of, doctype_of, issuers_of
from kb.meta.places import find_places, is_national
from kb.meta.sectors import classify
from kb.meta.title import compose_title, document_kind, find_title
from kb.meta.topics import topics_of
from kb.textview import rule_view

# Document facts that are not facets (facets and their spellings are declared in kb.facets).
DOCUMENT_KEYS = ("title", "date", "docno")
DOCUMENT_ALIASES = {"document_number": "docno", "发文字号": "docno", "文号": "docno", "标题": "title", "日期": "date"}
# What extraction says about itself (where each field came from): kept, but nobody sets it.
EXTRACTION_KEYS = ("provenance", "title_source")


def known_keys() -> tuple[str, ...]:
    """Metadata keys users can set (the rest of what they give is kept as their extra fields)."""
    return DOCUMENT_KEYS + kbfacets.fields()


def extract(text: str, title_hint: str | None = None, path: str | None = None) -> tuple[dict, str]:
    """Metadata found in clean text (and the file name); returns ``(metadata, text)``: a glued
    title gets a line of its own. The title keeps the document's own characters; the title and
    date rules read ``kb.textview.rule_view`` of the text (full-width folded, traditional
    simplified: same offsets). ``provenance`` says where the title and the year came from;
    ``title_source`` is text, format (the reader's title) or composed (place + year + 文种)."""
    found, text, view = _title_as_written(text, title_hint)
    hint_view = rule_view(title_hint) if title_hint else None
    title_view = found.render(view, hint_view) if found else ""
    is_report = bool(document_kind(view)) or "工作报告" in title_view or bool(re.match(r"\s*各位代表", view))
    title_line = found.line if found.source == "text" else next(
        (i for i, line in enumerate(view.split("\n")[:25]) if title_view and line.strip() and title_view.startswith(line.strip()[:12])),
        None)  # the format's title written again at the top of the text
    dated = find_year(view, title_view, title_line, is_report)
    if not found or found.generic:  # no title line, or only a bare 文种: a catalogue title
        found = compose_title(view, found, dated.year, dated.where, text) or found
    shown_title = " ".join(found.render(text, title_hint).split()) if found else ""
    title = unicodedata.normalize("NFKC", shown_title)
    written = text.split("\n")
    lines = [line.strip() for line, raw in zip(nfkc_lines(written), written) if raw.strip()]
    title_index = next((i for i, line in enumerate(lines[:25]) if title and title.startswith(line[:12])), None)
    head = lines[: (title_index or 0) + 4] if title_index is not None else lines[:4]
    signature = lines[-6:]
    year, date, year_where, date_where = dated.year, dated.date, dated.where, dated.date_where or dated.where
    named = filename_date(PurePath(path).stem) if path else None
    if named and not (title and year and str(year) in title):
        # a version date in the file name beats dates in the text
        year, date, year_where = named.year, named, f"file name: {PurePath(path).stem}"
        date_where = year_where
    norm_title = normalize(title)
    norm_lines = normalize_lines(lines[:40] + lines[-8:])  # the first 40 and last 8, normalised once
    issuers = issuers_of(norm_title, norm_lines, title_index)
    places = find_places(title, text, head + signature, national=is_national(norm_title, issuers))
    doctype = doctype_of(norm_title, "\n".join(norm_lines[:min(12, len(lines))]))
    provenance = {"title": found.where} if found else {}
    if year is not None:
        provenance["year"] = year_where
        if date is not None:
            provenance["date"] = date_where
    meta = {
        "title": shown_title,
        "title_source": found.source if found else None,
        "year": year,
        "date": date.iso() if date else None,
        "counties": places.counties,
        "cities": places.cities,
        "provinces": places.provinces,
        "sectors": classify(title, text, doctype=doctype, reasons=provenance.setdefault("sectors", {})),
        "topics": topics_of(title, text),
        # facet values in simplified characters, whatever the document's script
        "doctype": [doctype] if doctype else [],
        "issuer": issuers,
        "docno": docno_of(norm_lines[:min(10, len(lines))]),
        "provenance": provenance,
    }
    return meta, text


def _title_as_written(text: str, hint: str | None):
    """``(title, text, view)``: the title found in the rule view of the text (or of the format's
    title ``hint``), as pieces that cut it out of the characters as written; the text gets a line
    break after a glued title; ``view`` is the text's rule view."""
    view = rule_view(text)
    found, changed = find_title(view, rule_view(hint) if hint else None)
    if changed != view:  # a line break put after a glued title: put it in the original too
        at = next((i for i, (a, b) in enumerate(zip(view, changed)) if a != b), len(view))
        if changed[:at] + changed[at + 1:] == view:
            text, view = text[:at] + changed[at] + text[at:], changed
    return found, text, view


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
