"""JSON API: the same data as the pages, plus an OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from kb.facets import FACETS, public_fields
from web import params as webparams
from web import security, uploads
from web.helpers import DOC_ID, document_or_404, has_index, kb

bp = Blueprint("api", __name__, url_prefix="/api")

DOCUMENT_FIELDS = ("id", "path", "title", "date", "docno", "added", "text")  # besides every facet


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
    stored = document_or_404(doc_id)
    data = {k: stored.get(k) for k in DOCUMENT_FIELDS}
    data.update(public_fields(stored))
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


def openapi_document() -> dict:
    hit = {"type": "object", "properties": {
        **{k: {"type": "string"} for k in ("id", "path", "title", "snippet", "url")}, "score": {"type": "number"},
        **{f.field: ({"type": "array", "items": f.value_schema()} if f.multi else f.value_schema())
           for f in FACETS.values()}}}
    error = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}
    json_error = {"description": "bad parameters", "content": {"application/json": {"schema": error}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "中文文档知识库 API", "version": "1.0",
                 "description": "Search Chinese documents with facets; every page of the site has a JSON twin here."},
        "paths": {
            "/api/search": {"get": {
                "summary": "Search documents (facets and highlighted snippets included)",
                "parameters": webparams.openapi_parameters(),
                "responses": {"200": {"description": "results", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"query": {"type": "string"}, "total": {"type": "integer"},
                                                     "hits": {"type": "array", "items": hit},
                                                     "facets": {"type": "object"}}}}}},
                              "400": json_error}}},
            "/api/facets": {"get": {"summary": "Facet counts for a query and filters", "parameters": webparams.openapi_parameters(),
                                    "responses": {"200": {"description": "facets", "content": {"application/json": {
                                        "schema": {"type": "object"}}}}, "400": json_error}}},
            "/api/doc/{doc_id}": {"get": {
                "summary": "One document: metadata and clean text",
                "parameters": [{"name": "doc_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": DOC_ID.pattern}}],
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
