"""JSON API: the same data as the pages, plus an OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from kb.index import FACETS
from kb.search import SORTS
from web import params as webparams
from web import security, uploads
from web.pages import _document_or_404, has_index, kb

bp = Blueprint("api", __name__, url_prefix="/api")

PUBLIC_DOC_FIELDS = ("id", "path", "title", "year", "date", "docno", "counties", "cities", "provinces", "sectors",
                     "topics", "doctype", "issuer", "added", "text")


@bp.get("/search")
def search():
    params = webparams.parse(request.args)
    if not has_index():
        return {"query": params.q, "total": 0, "hits": [], "facets": {}, "mode": params.mode}
    data = kb().search(**params.search_kwargs()).to_dict()
    data["mode"] = params.mode
    for hit in data["hits"]:
        hit["url"] = url_for("pages.document_page", doc_id=hit["id"], _external=True)
    return data


@bp.get("/facets")
def facets():
    params = webparams.parse(request.args)
    if not has_index():
        return {"facets": {}}
    params.page, params.size = 1, 1
    return {"facets": kb().search(**params.search_kwargs(), snippets=False).facets}


@bp.get("/doc/<doc_id>")
def document(doc_id: str):
    stored = _document_or_404(doc_id)
    data = {k: stored.get(k) for k in PUBLIC_DOC_FIELDS}
    info = stored.get("meta") or {}
    data.update({"format": info.get("format"), "encoding": info.get("encoding"), "size": info.get("size"),
                 "original_url": url_for("pages.original", doc_id=doc_id, _external=True),
                 "page_url": url_for("pages.document_page", doc_id=doc_id, _external=True)})
    return data


@bp.post("/documents")
def add_documents():
    security.check_admin_token(security.token_from_request())
    outcome = uploads.ingest_uploads(request.files.getlist("files"), request.form)
    return outcome.to_dict(), (200 if outcome.ok else 422)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def _filter_parameters() -> list[dict]:
    out = [
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 20000},
         "description": 'Query: words (AND), OR, -word, "phrase", title:word; with mode=like, a passage.'},
        {"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["words", "like"]}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS)}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
        {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        {"name": "from", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9999}},
        {"name": "to", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9999}},
    ]
    for name in FACETS:
        schema = {"type": "array", "items": {"type": "integer" if name == "year" else "string"}}
        out.append({"name": name, "in": "query", "schema": schema, "style": "form", "explode": True,
                    "description": f"filter by {name} (repeat for OR)"})
    return out


def openapi_document() -> dict:
    hit = {"type": "object", "properties": {k: {} for k in ("id", "path", "title", "year", "counties", "sectors",
                                                            "score", "snippet", "url")}}
    error = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}
    json_error = {"description": "bad parameters", "content": {"application/json": {"schema": error}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "中文文档知识库 API", "version": "1.0",
                 "description": "Search Chinese documents with facets; every page of the site has a JSON twin here."},
        "paths": {
            "/api/search": {"get": {
                "summary": "Search documents (facets and highlighted snippets included)",
                "parameters": _filter_parameters(),
                "responses": {"200": {"description": "results", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"query": {"type": "string"}, "total": {"type": "integer"},
                                                     "hits": {"type": "array", "items": hit},
                                                     "facets": {"type": "object"}}}}}},
                              "400": json_error}}},
            "/api/facets": {"get": {"summary": "Facet counts for a query and filters", "parameters": _filter_parameters(),
                                    "responses": {"200": {"description": "facets", "content": {"application/json": {
                                        "schema": {"type": "object"}}}}, "400": json_error}}},
            "/api/doc/{doc_id}": {"get": {
                "summary": "One document: metadata and clean text",
                "parameters": [{"name": "doc_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}],
                "responses": {"200": {"description": "document", "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": {"description": "no such document", "content": {"application/json": {"schema": error}}}}}},
            "/api/documents": {"post": {
                "summary": "Add documents (multipart field 'files'); needs the admin token",
                "security": [{"token": []}],
                "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "year": {"type": "integer"}, "counties": {"type": "string"}, "sectors": {"type": "string"}}}}}},
                "responses": {"200": {"description": "per-file results", "content": {"application/json": {"schema": {"type": "object"}}}},
                              "403": {"description": "uploads off or wrong token", "content": {"application/json": {"schema": error}}},
                              "413": {"description": "too large", "content": {"application/json": {"schema": error}}},
                              "422": {"description": "some file failed", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
