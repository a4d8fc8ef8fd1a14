"""Changing what is stored without new files: removing documents, and re-deriving metadata from
the stored texts (``reextract``, also after a staff correction)."""

from __future__ import annotations

from pathlib import Path

from kb import index as kbindex
from kb.corrections import CorrectionStore
from kb.pipeline import document_fields


def remove(index_dir: Path, ids_or_paths: list[str], lock_timeout: float | None = None) -> list[tuple[str, bool]]:
    """Remove documents by id or source path; returns (what, found) pairs."""
    ix = kbindex.open_index(index_dir)
    writer = kbindex.writer(ix, timeout=lock_timeout)
    outcome = []
    try:
        for item in ids_or_paths:
            removed = writer.delete_by_term("id", item)
            if not removed:
                removed = writer.delete_by_term("path", str(Path(item).resolve()))
            outcome.append((item, bool(removed)))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return outcome


def reextract(index_dir: Path, lock_timeout: float | None = None, report=None, ids: set[str] | None = None) -> int:
    """Re-derive every document's metadata (and analysis) from its stored clean text, for a new
    gazetteer, taxonomy or rule set; the source files are not needed; staff corrections are applied
    again. ``ids``: only these documents (after a correction). Returns the count."""
    from kb.search import KnowledgeBase

    kb = KnowledgeBase(index_dir)
    ix = kbindex.open_index(Path(index_dir))
    corrections = CorrectionStore(index_dir).all()
    writer = kbindex.writer(ix, timeout=lock_timeout)
    done = 0
    try:
        for stored in kb.documents():
            if ids is not None and stored["id"] not in ids:
                continue
            full = kb.document(stored["id"])
            meta = dict(full.get("meta") or {})
            given = meta.pop("given", {})
            for key in ("extracted", "extra"):
                meta.pop(key, None)
            meta.pop("corrected", None)
            fields = document_fields(full["path"], full["sha"], full["text"], given, meta, corrections.get(full["id"]))
            if meta.get("content"):
                fields["content"] = meta["content"]
            writer.update_document(**fields)
            done += 1
            if report and done % 500 == 0:
                report(f"reextract: {done} documents")
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        kb.close()
    return done
