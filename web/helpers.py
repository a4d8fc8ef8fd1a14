"""What every route shares: the knowledge base as the current user may see it, and looking a
document up or 404.

``kb()`` is a view of the app's knowledge base bound to the current request's clearance (anonymous:
the lowest access level): every answer a route gets from it — hits, totals, facet counts,
documents, originals, similar documents — already leaves out what the user may not see, so a
route cannot forget it. A document above the clearance is a 404, like one that does not exist.
"""

from __future__ import annotations

import re

from flask import abort, current_app

from kb import index as kbindex
from kb.search import KnowledgeBase
from web import auth

DOC_ID = re.compile(r"^[0-9a-f]{16}$")

# The KnowledgeBase methods a route may call, each given the request's clearance.
_CLEARED = ("search", "iter_hits", "matching_paths", "similar", "highlighted_text", "document", "find",
            "documents", "count", "facets", "original", "trends", "versions", "version_groups", "compare")


class ClearedKB:
    """A KnowledgeBase seen with one clearance. Only the methods above are offered: a method
    that does not take a clearance cannot be reached through it by mistake."""

    def __init__(self, base: KnowledgeBase, clearance: int):
        self._base = base
        self.clearance = clearance
        self.index_dir = base.index_dir

    def __getattr__(self, name: str):
        if name not in _CLEARED:
            raise AttributeError(f"{name!r} is not offered with access levels applied (kb.search.KnowledgeBase)")
        method = getattr(self._base, name)

        def cleared(*args, **kwargs):
            kwargs["clearance"] = self.clearance
            return method(*args, **kwargs)

        return cleared


def base_kb() -> KnowledgeBase:
    """The app's knowledge base without access levels: only for writes and for what users never see."""
    return current_app.extensions["kb"]


def kb() -> ClearedKB:
    """The knowledge base as the current user may see it."""
    return ClearedKB(base_kb(), auth.clearance())


def has_index() -> bool:
    return kbindex.begun(base_kb().index_dir)


def document_or_404(doc_id: str) -> dict:
    """A document's stored fields, or a 404 (also for ids that cannot be ids, and for documents
    above the user's clearance)."""
    if not DOC_ID.match(doc_id) or not has_index():
        abort(404, description="没有这篇文档。(no such document)")
    stored = kb().document(doc_id)
    if stored is None:
        abort(404, description="没有这篇文档。(no such document)")
    return stored


def shown_path(stored: dict) -> str:
    """The source path as this user may see it: relative to the folder that was ingested; the
    server's full path for admins only."""
    if auth.is_admin():
        return stored.get("path", "")
    meta = stored.get("meta") or {}
    return meta.get("shown_path") or stored.get("path", "").replace("\\", "/").rsplit("/", 1)[-1]


def hit_path(hit) -> str:
    """A hit's source path as this user may see it (see ``shown_path``)."""
    return hit.path if auth.is_admin() else hit.shown_path


def hit_dict(hit) -> dict:
    """A hit as the API and CSV give it, its path as this user may see it."""
    data = hit.to_dict()
    data["path"] = hit_path(hit)
    return data


def link(endpoint: str, **values) -> str:
    """A URL for the outside world (feeds, CSV, JSON): absolute from the ``base_url`` setting,
    else relative to the site — never built from the request's Host header, which a client chooses."""
    from flask import url_for

    path = url_for(endpoint, **values)
    base = current_app.config.get("BASE_URL")
    return f"{base}{path}" if base else path
