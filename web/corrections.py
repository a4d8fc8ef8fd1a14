"""Corrections from the site (editors): the same store and re-indexing as ``kb set``."""

from __future__ import annotations

from flask import abort, current_app

from kb.corrections import CorrectionStore
from kb.errors import IndexLocked
from kb.facets import by_key
from web import audit

EDITABLE = ("title", "year", "date", "docno", "counties", "cities", "provinces", "sectors", "doctype", "issuer",
            "topics", "access")


def apply(doc_id: str, fields: dict, unset: list[str] = ()) -> dict:
    """Correct one document (400 for a bad value, 503 when the index is busy); returns its corrections."""
    from kb import meta  # here, not at import: its patterns cost ~70 ms of every server start
    from kb.maintain import reextract

    fields = {k: v for k, v in fields.items() if str(v).strip() != ""}
    try:
        corrected = meta.normalize_given(fields, "correction")
    except ValueError as exc:
        abort(400, description=str(exc))
    unset_fields = []
    for name in unset:
        facet = by_key(name)
        unset_fields.append(facet.field if facet else name)
    unknown = [k for k in list(corrected) + unset_fields if k not in meta.known_keys()]
    if unknown:
        abort(400, description=f"不能修改的字段 {', '.join(unknown)}。(unknown field)")
    index_dir = current_app.extensions["kb"].index_dir
    before = CorrectionStore(index_dir).get(doc_id)
    now = CorrectionStore(index_dir).update(doc_id, corrected, unset_fields)
    try:
        reextract(index_dir, lock_timeout=5, ids={doc_id})
    except IndexLocked:
        error = _busy()
        raise error
    action = "access" if "access" in set(corrected) | set(unset_fields) else "metadata"
    audit.record(action, document=doc_id, set=corrected, unset=unset_fields, before=before)
    return now


def _busy():
    from werkzeug.exceptions import ServiceUnavailable

    error = ServiceUnavailable(description="索引正在更新，修改已保存，稍后生效；请稍后刷新。(the index is busy: the "
                                           "correction is saved and applies with the next update; retry shortly)")
    error.retry_after = 30
    return error
