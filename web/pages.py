"""HTML pages: search (words or passage), document, original download, upload, CSV export, Atom feed."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, redirect, render_template, request, send_file,
                   stream_with_context, url_for)
from markupsafe import Markup

from kb import facets as kbfacets
from kb.access import levels
from kb.facets import FACETS
from web import params as webparams
from web import audit, auth, security, timeline, uploads
from web.helpers import document_or_404, has_index, hit_dict, hit_path, kb, link, shown_path

bp = Blueprint("pages", __name__)
FEED_ENTRIES = 30
FACET_VALUES_SHOWN = 8  # per facet on the results page, until 更多… asks for all of one
# CSV: the document, every facet (kb.facets), its date and number, where it is
def csv_columns() -> tuple[str, ...]:
    return ("id", "title", *kbfacets.fields(), "date", "docno", "path", "url")


def register_filters(app) -> None:
    @app.template_filter("datetime")
    def _datetime(seconds):
        if not seconds:
            return ""
        return datetime.fromtimestamp(float(seconds)).strftime("%Y-%m-%d %H:%M")

    @app.template_filter("safe_snippet")
    def _safe_snippet(snippet_html: str) -> Markup:
        """Snippets are built from escaped text by kb.highlight; only <mark> tags are ours."""
        return Markup(snippet_html)

    app.jinja_env.globals.update(FACETS=FACETS, SORT_LABELS=webparams.SORT_LABELS, hit_path=hit_path,
                                 shown_path=shown_path, timeline_svg=timeline.svg)


@bp.get("/health")
def health():
    """For load balancers and monitors: the site answers (no login, no document data)."""
    return {"status": "ok", "index": has_index()}


# --- search ---------------------------------------------------------------------------------------


@bp.get("/")
def search_page():
    params = webparams.parse(request.args)
    if not has_index():
        return render_template("search.html", params=params, results=None, no_index=True, bars=None,
                               facets=[], chips=[])
    # counting every value of a facet is cheap; building thousands (topics) for 8 shown is not
    results = kb().search(**params.search_kwargs(), facet_limit=None if request.args.get("more") else FACET_VALUES_SHOWN)
    _audit_search(params, results.total)
    if params.page > results.pages and results.total:
        abort(404, description="没有这一页。(no such page)")
    years_for_timeline = results.facets.get("year", {})
    if params.filters.get("year") or params.year_from or params.year_to:
        # the timeline shows the topic over all years, whatever year is picked
        years_for_timeline = kb().search(**{**params.without_years().search_kwargs(), "page_size": 1},
                                         snippets=False, facet_limit=0).facets["year"]
    bars = timeline.bars(years_for_timeline, params)
    return render_template("search.html", params=params, results=results, no_index=False, bars=bars,
                           facets=_facet_views(results.facets, params), chips=_chips(params),
                           offered_synonyms=_offered_synonyms(params))


def _offered_synonyms(params: webparams.SearchParams) -> list[str]:
    """With synonyms=off: the other forms a search with them would also look for (to offer them)."""
    if params.synonyms or params.like or not params.q:
        return []
    from kb import synonyms
    from kb.query import parse as parse_query

    found = synonyms.expansions(synonyms.load().alternatives(parse_query(params.q)))
    return [form for forms in found.values() for form in forms]


def _audit_search(params: webparams.SearchParams, total: int) -> None:
    audit.record("search", query=params.q[:200], mode=params.mode, filters=params.filters,
                 years=[params.year_from, params.year_to], total=total)


# The results page's facet lists as objects, not dicts: Jinja's ``v.url`` tries an attribute first,
# and on a dict that is a raised and caught AttributeError per lookup (~500 a page).
@dataclass(slots=True)
class FacetValueView:
    value: str
    count: int
    selected: bool
    url: str


@dataclass(slots=True)
class FacetView:
    name: str
    label: str
    values: list[FacetValueView]
    more_url: str | None


def _facet_views(facets: dict, params: webparams.SearchParams) -> list[FacetView]:
    expanded = request.args.get("more")
    views = []
    for name, counts in facets.items():
        selected = params.filters.get(name, [])
        values = list(counts.items())
        limit = len(values) if expanded == name else FACET_VALUES_SHOWN
        shown = values[:limit]
        shown_names = {v for v, _ in shown}
        shown += [(v, counts.get(v, 0)) for v in selected if v not in shown_names]  # selected always visible
        views.append(FacetView(
            name, kbfacets.label(name),
            [FacetValueView(v, n, v in selected, params.toggle(name, v)) for v, n in shown],
            params.url(more=name) if len(values) > limit or getattr(counts, "more", 0) else None,
        ))
    return views


def _chips(params: webparams.SearchParams) -> list[dict]:
    chips = [{"label": f"{kbfacets.label(name)}: {value}", "url": params.toggle(name, value)}
             for name, values in params.filters.items() for value in values]
    if params.year_from is not None or params.year_to is not None:
        label = f"年份: {params.year_from or '…'}–{params.year_to or '…'}"
        chips.append({"label": label, "url": params.url(page=None, **{"from": None, "to": None})})
    return chips


# --- documents ------------------------------------------------------------------------------------


@bp.get("/doc/<doc_id>")
def document_page(doc_id: str):
    stored = document_or_404(doc_id)
    query = request.args.get("q", "")[:500]
    text_html, matches = kb().highlighted_text(doc_id, query)
    similar = kb().similar(doc_id, limit=6)
    audit.record("view", document=doc_id, title=stored.get("title", "")[:80])
    meta = stored.get("meta") or {}
    return render_template("document.html", doc=stored, text_html=Markup(text_html), matches=matches, query=query,
                           similar=similar, params=webparams.SearchParams(q=query), versions=kb().versions(doc_id),
                           provenance=(meta.get("extracted") or {}).get("provenance") or {},
                           corrected=meta.get("corrected") or {}, editable=auth.can("editor"),
                           access_levels=levels().names, saved=request.args.get("saved"))


@bp.post("/doc/<doc_id>/metadata")
@auth.require("editor")
def correct_metadata(doc_id: str):
    """The document page's correction form (editors): the same as POST /api/doc/<id>/metadata."""
    from web import corrections

    security.check_csrf()
    document_or_404(doc_id)
    fields = {k: v for k, v in request.form.items() if k in corrections.EDITABLE}
    unset = [k for k in corrections.EDITABLE if request.form.get(f"unset_{k}")]
    corrections.apply(doc_id, fields, unset)
    return redirect(url_for("pages.document_page", doc_id=doc_id, saved=1))


@bp.get("/doc/<doc_id>/original")
def original(doc_id: str):
    stored = document_or_404(doc_id)
    path = kb().original(doc_id)
    if path is None:
        abort(404, description="原始文件不在库中。(original not stored)")
    audit.record("download", document=doc_id)
    name = shown_path(stored).replace("\\", "/").rsplit("/", 1)[-1].replace("!", "_") or f"{doc_id}{path.suffix}"
    return send_file(path, as_attachment=True, download_name=name)


# --- export and feed --------------------------------------------------------------------------------


@bp.get("/export.csv")
def export_csv():
    params = webparams.parse(request.args)
    if not has_index():
        abort(404, description="知识库还没有文档。")
    kwargs = params.search_kwargs()
    for key in ("page", "page_size"):
        kwargs.pop(key)
    hits = kb().iter_hits(**kwargs)
    audit.record("search", query=params.q[:200], mode=params.mode, filters=params.filters, export="csv")

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        columns = csv_columns()
        writer.writerow(columns)
        yield "\ufeff" + buffer.getvalue()  # a BOM, so Excel reads UTF-8; the header even with no hits
        buffer.seek(0)
        buffer.truncate()
        for hit in hits:
            data = hit_dict(hit)
            data["url"] = link("pages.document_page", doc_id=hit.id)
            writer.writerow([csv_cell(data.get(c)) for c in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    name = time.strftime("kb-export-%Y%m%d-%H%M%S.csv")
    return Response(stream_with_context(rows()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as a CSV cell that Excel and LibreOffice show as text, never run as a formula."""
    text = "; ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


@bp.get("/feed")
def feed():
    params = webparams.parse(request.args)
    params.sort, params.page, params.size = "added", 1, FEED_ENTRIES
    results = kb().search(**params.search_kwargs()) if has_index() else None
    updated = max((h.added or 0 for h in results.hits), default=0) if results else 0
    body = render_template("feed.xml", params=params, results=results, xml=xml_text,
                           updated=_iso(updated or time.time()), iso=_iso, link=link,
                           self_url=params.url(link("pages.feed")), search_url=params.url(link("pages.search_page")),
                           feed_id=f"urn:kb:feed:{hashlib.sha1(params.url('/').encode('utf-8')).hexdigest()}")
    return Response(body, mimetype="application/atom+xml")


# Characters XML 1.0 forbids (C0 controls but tab/newline/return, surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value) -> str:
    """Text that can go into an XML document (Jinja escapes markup; this drops what XML forbids)."""
    return _NOT_XML.sub("", str(value or ""))


def _iso(seconds) -> str:
    return datetime.fromtimestamp(float(seconds or 0), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- upload -----------------------------------------------------------------------------------------


@bp.route("/upload", methods=["GET", "POST"])
def upload_page():
    enabled = auth.writes_enabled()
    outcome, job = None, None
    if request.args.get("job"):
        job = uploads.upload_queue(current_app._get_current_object()).get(request.args["job"])
        if job is not None and job.status in ("done", "failed"):  # shown as if it had been answered at once
            outcome = uploads.Outcome(results=job.results, error=job.error)
    if request.method == "POST":
        security.check_csrf()
        user = security.writer_from_form(request.form.get("token"))
        outcome = uploads.ingest_uploads(request.files.getlist("files"), request.form, user.name)
        audit.record("upload", user=user.name, files={Path(r.path).name: r.status for r in outcome.results},
                     queued=bool(outcome.job), job=outcome.job, error=outcome.error)
        if outcome.job:
            return redirect(url_for("pages.upload_page", job=outcome.job)), 303
    status = 422 if request.method == "POST" and outcome and not outcome.ok else 200
    return render_template("upload.html", enabled=enabled, outcome=outcome, job=job,
                           signed_in_editor=auth.can("editor"), access_levels=levels().names,
                           max_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
                           max_files=current_app.config["UPLOAD_MAX_FILES"]), status


# --- research: term trends, comparing two documents (issue 14) -------------------------------------


@bp.get("/trends")
def trends_page():
    from kb import trends as kbtrends

    if not request.args.get("terms", "").strip():  # the empty form, with what can be asked
        params = webparams.TrendParams([], "", search=webparams.parse(request.args))
        return render_template("trends.html", tparams=params, trends=None, chart=None, phone_chart=None,
                               metric_labels=kbtrends.METRIC_LABELS,
                               facet_chips=_chips(params.search), no_index=not has_index())
    params = webparams.parse_trends(request.args)
    if not has_index():
        return render_template("trends.html", tparams=params, trends=None, chart=None, phone_chart=None,
                               metric_labels=kbtrends.METRIC_LABELS,
                               facet_chips=_chips(params.search), no_index=True)
    found = kb().trends(**params.trends_kwargs())
    audit.record("trends", terms=params.terms, filters=params.search.filters, by=params.by)
    return render_template("trends.html", tparams=params, trends=found, chart=kbtrends.layout(found, params.metric),
                           phone_chart=kbtrends.layout(found, params.metric, narrow=True),
                           metric_labels=kbtrends.METRIC_LABELS, facet_chips=_trend_chips(params), no_index=False)


def _trend_chips(params: webparams.TrendParams) -> list[dict]:
    """The filters as removable chips (each chip's URL is the trends page without it)."""
    chips = []
    for name, values in params.search.filters.items():
        for value in values:
            rest = {k: [v for v in vs if not (k == name and v == value)] for k, vs in params.search.filters.items()}
            without = webparams.TrendParams(params.terms, params.terms_text, params.by, params.metric, params.fold,
                                            webparams.SearchParams(filters={k: v for k, v in rest.items() if v},
                                                                   year_from=params.search.year_from,
                                                                   year_to=params.search.year_to))
            chips.append({"label": f"{kbfacets.label(name)}: {value}", "url": without.url(url_for("pages.trends_page"))})
    if params.search.year_from is not None or params.search.year_to is not None:
        without = webparams.TrendParams(params.terms, params.terms_text, params.by, params.metric, params.fold,
                                        webparams.SearchParams(filters=params.search.filters))
        chips.append({"label": f"年份: {params.search.year_from or '…'}–{params.search.year_to or '…'}",
                      "url": without.url(url_for("pages.trends_page"))})
    return chips


TREND_CSV_COLUMNS = ("term", "bucket", "docs", "bucket_docs", "share", "mentions", "bucket_chars", "per10k")


@bp.get("/trends.csv")
def trends_csv():
    params = webparams.parse_trends(request.args)
    if not has_index():
        abort(404, description="知识库还没有文档。")
    found = kb().trends(**params.trends_kwargs())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("term", params.by, *TREND_CSV_COLUMNS[2:]))
    for row in found.rows():
        writer.writerow([csv_cell(v) for v in row])
    name = time.strftime("kb-trends-%Y%m%d-%H%M%S.csv")
    return Response("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/compare")
def compare_page():
    params = webparams.parse_compare(request.args)
    if "id" in request.args and not request.args.get("a"):  # two checked hits: the canonical URL, older first
        first, second = document_or_404(params.a), document_or_404(params.b)
        older, newer = sorted((first, second), key=_when)
        return redirect(url_for("pages.compare_page", a=older["id"], b=newer["id"]), 303)
    document_or_404(params.a)
    document_or_404(params.b)
    found = kb().compare(params.a, params.b)
    if found is None:
        abort(404, description="没有这篇文档。(no such document)")
    audit.record("compare", a=params.a, b=params.b)
    rows = [r for r in found.rows if r.kind != "same"] if params.changes_only else found.rows
    return render_template("compare.html", cmp=found, rows=rows, cparams=params)


def _when(stored: dict) -> tuple:
    """How documents are put in time order for a comparison: year, date, when ingested."""
    years = stored.get("year")
    year = years[0] if isinstance(years, list) and years else (years or 0)
    return (year or 0, str(stored.get("date") or ""), stored.get("added") or 0)

