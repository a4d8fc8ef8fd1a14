"""What every route shares: the knowledge base of this app, and looking a document up or 404."""

from __future__ import annotations

import re

from flask import abort, current_app

from kb import index as kbindex
from kb.search import KnowledgeBase

DOC_ID = re.compile(r"^[0-9a-f]{16}$")


def kb() -> KnowledgeBase:
    """The app's knowledge base (one per app, made by ``create_app``)."""
    return current_app.extensions["kb"]


def has_index() -> bool:
    return kbindex.exists(kb().index_dir)


def document_or_404(doc_id: str) -> dict:
    """A document's stored fields, or a 404 (also for ids that cannot be ids)."""
    if not DOC_ID.match(doc_id) or not has_index():
        abort(404, description="没有这篇文档。(no such document)")
    stored = kb().document(doc_id)
    if stored is None:
        abort(404, description="没有这篇文档。(no such document)")
    return stored
