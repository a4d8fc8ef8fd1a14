"""JSON API: the same data as the pages, plus an OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from kb import facets as kbfacets
from kb.facets import FACETS, public_fields
from web import audit, auth, security, uploads
from web import params as webparams
from web.helpers import DOC_ID, document_or_404, has_index, hit_dict, kb, link, shown_path

bp = Blueprint("api", __name__, url_prefix="/api")

DOCUMENT_FIELDS = ("id", "path", "title", "date", "docno", "added", "text")  # besides every facet


@bp.get("/search")
def search():
    params = webparams.parse(request.args)
    if not has_index():
        return {"query": params.q, "total": 0, "hits": [], "facets": {}, "mode": params.mode}
    results = kb().search(**params.search_kwargs(), facet_limit=webparams.facet_limit(params, webparams.DEFAULT_FACET_SIZE))
    audit.record("search", query=params.q[:200], mode=params.mode, filters=params.filters,
                 years=[params.year_from, params.year_to], total=results.total, api=True)
    data = results.to_dict()
    data["mode"] = params.mode
    data["hits"] = [{**hit_dict(hit), "url": link("pages.document_page", doc_id=hit.id)} for hit in results.hits]
    return data


@bp.get("/facets")
def facets():
    params = webparams.parse(request.args)
    if not has_index():
        return {"facets": {}}
    params.page, params.size = 1, 1
    results = kb().search(**params.search_kwargs(), snippets=False, facet_limit=webparams.facet_limit(params, None))
    return {"facets": results.facets, "facets_truncated": kbfacets.truncated(results.facets)}


@bp.get("/doc/<doc_id>")
def document(doc_id: str):
    stored = document_or_404(doc_id)
    audit.record("view", document=doc_id, api=True)
    return document_data(stored)


@bp.get("/trends")
def trends():
    """Documents mentioning each term and its mentions, per year (or facet value)."""
    params = webparams.parse_trends(request.args)
    if not has_index():
        return {"terms": {term: {} for term in params.terms}, "years": {}}
    found = kb().trends(**params.trends_kwargs())
    audit.record("trends", terms=params.terms, filters=params.search.filters, by=params.by, api=True)
    return found.to_dict()


@bp.get("/compare")
def compare():
    """Two documents: aligned paragraphs with their changes, and distinctive terms."""
    params = webparams.parse_compare(request.args)
    document_or_404(params.a)
    document_or_404(params.b)
    found = kb().compare(params.a, params.b)
    if found is None:
        abort(404, description="没有这篇文档。(no such document)")
    audit.record("compare", a=params.a, b=params.b, api=True)
    data = found.to_dict()
    if params.changes_only:
        data["rows"] = [r for r in data["rows"] if r["kind"] != "same"]
    return data


@bp.get("/versions")
def version_groups():
    """Every group of versions of one document (newest member first)."""
    if not has_index():
        return {"groups": []}
    groups = kb().version_groups()
    return {"groups": [[{**member, "url": link("pages.document_page", doc_id=member["id"])} for member in group]
                       for group in groups]}


def document_data(stored: dict) -> dict:
    doc_id = stored["id"]
    versions = kb().versions(doc_id)
    data = {k: stored.get(k) for k in DOCUMENT_FIELDS}
    data["path"] = shown_path(stored)
    data.update(public_fields(stored))
    info = stored.get("meta") or {}
    extracted = info.get("extracted") or {}
    data.update({"format": info.get("format"), "encoding": info.get("encoding"), "size": info.get("size"),
                 "ocr_pages": info.get("ocr_pages") or 0, "pages": len(info.get("pages") or []) or None,
                 "provenance": extracted.get("provenance") or {}, "title_source": extracted.get("title_source"),
                 "corrected": info.get("corrected") or {},
                 "versions": [v.id for v in versions],  # other versions, newest first (kb.versions)
                 "version_details": [v.to_dict() for v in versions],
                 "original_url": link("pages.original", doc_id=doc_id),
                 "page_url": link("pages.document_page", doc_id=doc_id)})
    return data


@bp.post("/doc/<doc_id>/metadata")
def correct_metadata(doc_id: str):
    """Correct a document's metadata (editors): JSON ``{"set": {FIELD: VALUE}, "unset": [FIELD]}``."""
    from web import corrections

    security.require_writer()
    document_or_404(doc_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("set", {}), dict) or not isinstance(body.get("unset", []), list):
        abort(400, description='请求体应为 JSON：{"set": {字段: 值}, "unset": [字段]}。(expected JSON {"set": {...}, "unset": [...]})')
    values = {str(k): v for k, v in (body.get("set") or {}).items()}
    now = corrections.apply(doc_id, values, [str(x) for x in body.get("unset") or []])
    return {"id": doc_id, "corrected": now, "document": document_data(kb().document(doc_id) or {"id": doc_id})}


@bp.post("/documents")
def add_documents():
    user = security.require_writer()
    outcome = uploads.ingest_uploads(request.files.getlist("files"), request.form, user.name)
    audit.record("upload", user=user.name, files={r.path.rsplit("/", 1)[-1]: r.status for r in outcome.results},
                 queued=bool(outcome.job), job=outcome.job, api=True)
    if outcome.job:
        data = outcome.to_dict()
        data["status_url"] = link("api.upload_status", job=outcome.job)
        return data, 202, {"Location": data["status_url"]}
    return outcome.to_dict(), (200 if outcome.ok else 422)


@bp.get("/uploads/<job>")
def upload_status(job: str):
    """A queued upload's progress (``queued``, ``running``, ``done``, ``failed``)."""
    security.require_writer()
    found = uploads.upload_queue(current_app._get_current_object()).get(job)
    if found is None:
        abort(404, description="没有这个上传任务。(no such upload job)")
    return found.to_dict()


@bp.get("/me")
def me():
    """Who the request is signed in as (or not), and what they may do."""
    user = auth.user()
    if user is None:
        return {"user": None, "role": None, "clearance": None}
    return {"user": user.name, "role": user.role, "clearance": user.clearance or None}


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
    json_object = {"application/json": {"schema": {"type": "object"}}}
    cell = {"type": "object", "properties": {"docs": {"type": "integer"}, "share": {"type": "number"},
                                             "mentions": {"type": "integer"}, "per10k": {"type": "number"}}}
    trends_schema = {"type": "object", "properties": {
        "terms": {"type": "object", "description": "TERM -> YEAR (or facet value) -> counts",
                  "additionalProperties": {"type": "object", "additionalProperties": cell}},
        "years": {"type": "object", "description": "YEAR -> documents and characters (by=year)",
                  "additionalProperties": {"type": "object", "properties": {"docs": {"type": "integer"},
                                                                           "chars": {"type": "integer"}}}},
        "buckets": {"type": "object", "description": "the same as years, for by=a facet"},
        "forms": {"type": "object", "description": "TERM -> the forms counted (several with fold=on)"}}}
    unauthorised = {"description": "sign-in or a token needed", "content": {"application/json": {"schema": error}}}
    forbidden = {"description": "the user lacks the right, or writes are off", "content": {"application/json": {"schema": error}}}
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
            "/api/trends": {"get": {
                "summary": "Term trends: documents mentioning each term (count, share of the year's documents), "
                           "mentions (non-overlapping) and mentions per 10,000 characters, per year or facet value; "
                           "counted like search matches strings, over the stored texts",
                "parameters": (webparams.openapi_parameters(webparams.TREND_PARAMETERS, facets=False)
                               + [p for p in webparams.openapi_parameters() if p["name"] in FACETS]),
                "responses": {"200": {"description": "counts", "content": {"application/json": {"schema": trends_schema}}},
                              "400": json_error}}},
            "/api/compare": {"get": {
                "summary": "Compare two documents: aligned paragraphs with changes marked, and terms new in b, "
                           "dropped from a, rising, falling; also two id values (older first is not required)",
                "parameters": (webparams.openapi_parameters(webparams.COMPARE_PARAMETERS, facets=False)
                               + [{"name": "id", "in": "query", "style": "form", "explode": True,
                                   "schema": {"type": "array", "items": {"type": "string", "pattern": DOC_ID.pattern},
                                              "minItems": 2, "maxItems": 2},
                                   "description": "instead of a and b: the two documents"}]),
                "responses": {"200": {"description": "comparison", "content": json_object}, "400": json_error,
                              "404": {"description": "no such document", "content": {"application/json": {"schema": error}}}}}},
            "/api/versions": {"get": {
                "summary": "Every group of versions of one document (found by MinHash sketches at ingest), newest first",
                "responses": {"200": {"description": "groups", "content": json_object}}}},
            "/api/facets": {"get": {"summary": "Facet counts for a query and filters", "parameters": webparams.openapi_parameters(),
                                    "responses": {"200": {"description": "facets", "content": {"application/json": {
                                        "schema": {"type": "object"}}}}, "400": json_error}}},
            "/api/doc/{doc_id}": {"get": {
                "summary": "One document: metadata and clean text",
                "parameters": [{"name": "doc_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": DOC_ID.pattern}}],
                "responses": {"200": {"description": "document", "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": {"description": "no such document", "content": {"application/json": {"schema": error}}}}}},
            "/api/doc/{doc_id}/metadata": {"post": {
                "summary": "Correct a document's metadata (editors); wins over extraction, survives reextract",
                "security": [{"token": []}],
                "parameters": [{"name": "doc_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": DOC_ID.pattern}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"set": {"type": "object"},
                                                     "unset": {"type": "array", "items": {"type": "string"}}}}}}},
                "responses": {"200": {"description": "the document now", "content": json_object},
                              "400": json_error, "401": unauthorised, "403": forbidden,
                              "404": {"description": "no such document", "content": {"application/json": {"schema": error}}},
                              "503": {"description": "index busy: retry", "content": {"application/json": {"schema": error}}}}}},
            "/api/documents": {"post": {
                "summary": "Add documents (multipart field 'files'); needs an editor's token or the admin token",
                "security": [{"token": []}],
                "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "year": {"type": "integer"}, "counties": {"type": "string"}, "sectors": {"type": "string"},
                    "access": {"type": "string"}}}}}},
                "responses": {"200": {"description": "per-file results", "content": json_object},
                              "202": {"description": "still ingesting after upload_wait_seconds (OCR, or another ingest holds the index): see status_url", "content": json_object},
                              "401": unauthorised, "403": forbidden,
                              "413": {"description": "too large, or too many files", "content": {"application/json": {"schema": error}}},
                              "422": {"description": "some file failed", "content": json_object}}}},
            "/api/uploads/{job}": {"get": {
                "summary": "A queued upload's status", "security": [{"token": []}],
                "parameters": [{"name": "job", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "status", "content": json_object}, "401": unauthorised,
                              "403": forbidden, "404": {"description": "no such job", "content": {"application/json": {"schema": error}}}}}},
            "/api/me": {"get": {"summary": "Who the request is signed in as",
                                "responses": {"200": {"description": "user, role, clearance", "content": json_object}}}},
        },
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
