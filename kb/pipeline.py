"""One document's way from bytes to index fields: read -> clean -> metadata -> analysis.

Pure functions of their inputs, so they run in worker processes (``kb.segments``) or in the
ingest process alike; ``reextract`` starts from the stored clean text (``document_fields``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import warnings
from pathlib import Path

from kb import analysis, gramarrays, versions
from kb import clean as cleaning
from kb import meta as kbmeta
from kb.errors import ReadError, UnsupportedFormat
from kb import facets as kbfacets
from kb.access import levels
from kb.facets import FACETS
from kb.index import doc_id_for
from kb.pages import page_probes, page_starts
from kb.read import read_bytes
from kb.schema import analyzed_fields


def prepare(source: str, data: bytes, given: dict, stat: tuple[int, float], options: dict | None = None) -> dict:
    """Everything ``add_document`` needs for one file. Pure; runs in worker processes.

    ``options``: ``corrected`` (staff corrections of this document, kb.corrections), ``shown_path``
    (the path as users see it: relative to the folder that was ingested), ``tables`` (read
    spreadsheets and .csv/.tsv as documents)."""
    options = options or {}
    path = Path(source)
    with library_messages() as messages:
        extracted = read_bytes(path, data, tables=options.get("tables", False))
    extracted.warnings.extend(m for m in messages if m not in extracted.warnings)
    text = cleaning.clean(extracted.text)
    if not any(ch.isalnum() for ch in text):
        raise ReadError(path, "no text left after cleaning (only noise or symbols)")
    probes = page_probes(extracted.text, cleaning.clean)
    stored = {
        "format": extracted.fmt,
        "encoding": extracted.encoding,
        "size": stat[0],
        "mtime": stat[1],
        "ingested": time.time(),
        "title_hint": extracted.title,
        "warnings": extracted.warnings,
        "shown_path": options.get("shown_path") or path.name,
        "ocr_pages": extracted.ocr_pages,
        "tool": extracted.tool,
    }
    if probes:
        stored["page_probes"] = probes
        stored["page_labels"] = extracted.page_labels
    if options.get("content"):
        stored["content"] = options["content"]
    fields = document_fields(source, hashlib.sha256(data).hexdigest(), text, given, stored, options.get("corrected"))
    if options.get("content"):
        fields["content"] = options["content"]
    return fields


def document_fields(source: str, sha: str, text: str, given: dict, stored: dict, corrected: dict | None = None) -> dict:
    """From clean text on: metadata (staff corrections win over user-given metadata, which wins
    over extraction), analysis, the index's fields.

    Shared by ingest and by ``reextract`` (which starts from the stored text).
    """
    found, text = kbmeta.extract(text, stored.get("title_hint"), source)
    if "page_probes" in stored:  # where pages start in the final text (extraction may split a line)
        stored = {**stored, "pages": page_starts(text, stored["page_probes"])}
        stored.pop("page_probes")
    found.update(kbfacets.extract(found.get("title") or "", text, found))
    found.update(_access_level(source, found))
    found["source"] = ["OCR"] if stored.get("ocr_pages") else []
    corrected = corrected or {}
    metadata = kbmeta.merge(found, given, corrected)
    title = metadata.get("title") or Path(source).stem
    units = gramarrays.unit_string(analysis.normalize(text))  # matchable characters
    fields = {
        "id": doc_id_for(source),
        "path": source,
        "sha": sha,
        "_stored_title": title,
        "text": text,
        "meta": {
            **stored,
            "given": given,
            "corrected": corrected,
            "extracted": {k: v for k, v in found.items() if k != "title"},
            "extra": {k: v for k, v in metadata.items() if k not in kbmeta.known_keys() + kbmeta.EXTRACTION_KEYS},
            "sketch": versions.sketch(text, units),  # finds the document's other versions (kb.versions)
            "units": len(units),  # kb.trends counts per 10,000 of them
        },
    }
    fields.update(analyzed_fields(title, text))
    for facet in FACETS.values():
        value = facet.index_value(metadata)
        if value is not None:
            fields[facet.field] = value
    fields["added"] = int(stored.get("ingested") or time.time())
    for key in ("date", "docno"):
        if metadata.get(key):
            fields[key] = str(metadata[key])
    return fields


@contextlib.contextmanager
def library_messages():
    """What format libraries log or warn while reading a file (pypdf's "EOF marker not found"),
    collected to be reported with the file's name instead of printed bare on stderr."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(f"{record.name}: {record.getMessage()}"[:300])

    handler = Collect(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
        messages.extend(f"{w.category.__name__}: {w.message}"[:300] for w in caught)
    finally:
        root.removeHandler(handler)


def _access_level(source: str, found: dict) -> dict:
    """The access level the path rules give (kb/data/access.toml), else the default, and why."""
    lv = levels()
    by_rule = lv.for_path(source)
    provenance = dict(found.get("provenance") or {})
    provenance["access"] = "path rule (kb/data/access.toml)" if by_rule else "default level (kb/data/access.toml)"
    return {"access": [by_rule or lv.default], "provenance": provenance}


def prepare_or_error(args):
    source = args[0]
    try:
        return prepare(*args), None
    except (ReadError, UnsupportedFormat) as exc:
        return None, exc
    except Exception as exc:  # a bug or a library failure on one file must not stop the batch
        return None, ReadError(source, f"{type(exc).__name__}: {exc}")


def warm_worker():
    """Load what every document needs (the segmenter and its dictionary) before the first one."""
    analysis.segmenter()
    analysis.stop_words()
