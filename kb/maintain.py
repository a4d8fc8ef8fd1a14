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


# The stores kept beside the index's own files: carried over by an upgrade as they are.
STORES = ("originals", "users", "corrections", "audit", "uploads", "ocr-cache", "versions.json")


def upgrade(index_dir: Path, report=None) -> int:
    """Rebuild an index made by an older version of kb in the current format, from its stored
    texts and metadata (the source files are not needed; staff corrections are applied again).

    The new index is built in a folder beside it and swapped in only when complete; the old
    folder is kept as ``<name>.format1-<time>`` until the user removes it. Returns the count."""
    import os
    import shutil
    import time

    from whoosh import index as whoosh_index

    from kb.errors import KBError
    from kb.schema import is_current

    index_dir = Path(index_dir)
    old = whoosh_index.open_dir(str(index_dir), indexname=kbindex.INDEX_NAME)
    if is_current(old.schema):
        raise KBError(f"the index in {index_dir} is already in the current format; nothing to upgrade")
    staging = index_dir.with_name(f".{index_dir.name}.upgrading")
    shutil.rmtree(staging, ignore_errors=True)
    corrections = CorrectionStore(index_dir).all()
    ix = kbindex.open_index(staging, create=True)
    writer = kbindex.writer(ix)
    done = 0
    try:
        with old.searcher() as searcher:
            for stored in searcher.all_stored_fields():
                meta = dict(stored.get("meta") or {})
                given = meta.pop("given", {})
                for key in ("extracted", "extra", "corrected"):
                    meta.pop(key, None)
                fields = document_fields(stored["path"], stored["sha"], stored.get("text", ""), given, meta,
                                         corrections.get(stored["id"]))
                if meta.get("content"):
                    fields["content"] = meta["content"]
                writer.add_document(**fields)
                done += 1
                if report and done % 500 == 0:
                    report(f"upgrade: {done} documents")
        writer.commit()
    except BaseException:
        writer.cancel()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for name in STORES:
        if (index_dir / name).exists():
            os.replace(index_dir / name, staging / name)
    kept = index_dir.with_name(f"{index_dir.name}.format1-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(index_dir, kept)
    os.replace(staging, index_dir)
    if report:
        report(f"upgrade: the old index is kept in {kept} (remove it once the new one serves)")
    return done
