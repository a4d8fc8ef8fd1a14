"""Every page state is a plain URL: the parameters a search takes, declared once, parsed into
search arguments, described to OpenAPI, and the URLs that change them.

``PARAMETERS`` (and one parameter per facet, from ``kb.facets``) drive both the checks ``parse``
applies and the OpenAPI document (``openapi_parameters``), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
import re
from functools import lru_cache
from urllib.parse import quote_plus, urlencode

from werkzeug.datastructures import MultiDict

from kb import trends as kbtrends
from kb.collector import MAX_LIKE_CHARS, SORTS
from kb.errors import QueryError
from kb.facets import FACETS, YEAR
from kb.query import MAX_QUERY_CHARS

DOC_ID = re.compile(r"^[0-9a-f]{16}$")  # as web.helpers checks ids (params is imported before helpers)
SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早", "added": "最近入库"}
MODES = ("words", "like")
MAX_VALUES_PER_FACET = 50
MAX_FACET_VALUE_CHARS = 200
MAX_PAGE_SIZE = 100
DEFAULT_FACET_SIZE = 30  # values per facet in /api/search unless facet_size says otherwise (as Datasette)
MAX_FACET_SIZE = 10_000
SWITCH = ("on", "off")
COLLAPSES = ("versions",)
TREND_DIMENSIONS = kbtrends.dimensions()
TREND_METRICS = kbtrends.METRICS
MAX_TREND_TERMS = kbtrends.MAX_TERMS
MAX_TREND_TERMS_CHARS = kbtrends.MAX_TERMS * (kbtrends.MAX_TERM_CHARS + 1)


_quoted = lru_cache(maxsize=8192)(quote_plus)


@dataclass(frozen=True)
class Param:
    """One query parameter: its name in URLs, its label as the form shows it, its type and limits."""

    name: str
    label: str
    description: str
    kind: str = "string"  # string | integer
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()

    def read(self, args) -> Any:
        """The parameter's value from request arguments (None when absent); QueryError names it
        as the form does."""
        raw = args.get(self.name, "")
        if self.kind == "integer":
            raw = raw.strip()
            if not raw:
                return None
            try:
                value = int(raw)
            except ValueError:
                raise QueryError(f"“{self.label}”应为整数（参数 {self.name} must be a number）") from None
            if not self.minimum <= value <= self.maximum:
                raise QueryError(f"“{self.label}”超出范围 {self.minimum}..{self.maximum}"
                                 f"（参数 {self.name} out of range）")
            return value
        if self.max_length is not None and len(raw) > self.max_length:
            raise QueryError(f"“{self.label}”太长（{len(raw)} 个字符，上限 {self.max_length}；"
                             f"参数 {self.name} is too long）")
        if self.choices and raw and raw not in self.choices:
            raise QueryError(f"“{self.label}”只能是 {', '.join(self.choices)}（参数 {self.name}: unknown value {raw!r}）")
        return raw

    def schema(self) -> dict:
        if self.kind == "integer":
            return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        schema: dict = {"type": "string"}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.choices:
            schema["enum"] = list(self.choices)
        return schema


PARAMETERS: dict[str, Param] = {p.name: p for p in (
    Param("q", "检索词", 'Query: words (AND), OR, -word, "phrase", title:word', max_length=MAX_QUERY_CHARS),
    Param("passage", "段落", "with mode=like: the passage to find documents like (else q is used)",
          max_length=MAX_LIKE_CHARS),
    Param("mode", "检索方式", "words: keyword search; like: documents like a passage", choices=MODES),
    Param("sort", "排序", "order of the hits", choices=SORTS),
    Param("page", "页码", "page of hits", "integer", 1, 100_000),
    Param("size", "每页条数", "hits per page", "integer", 1, MAX_PAGE_SIZE),
    Param("from", "从", "first year of a year range", "integer", YEAR.low, YEAR.high),
    Param("to", "到", "last year of a year range", "integer", YEAR.low, YEAR.high),
    Param("synonyms", "同义词", "on (default): an unquoted term also finds the other forms of its group in "
          "kb/data/synonyms.txt (统战 -> 统一战线), ranked below the typed form; off: only what was typed",
          choices=SWITCH),
    Param("collapse", "合并版本", "versions: one hit per group of versions of one document (its newest "
          "matching member; hits say how many others)", choices=COLLAPSES),
    Param("facet_size", "分面值数", f"API: values per facet, most frequent first (default {DEFAULT_FACET_SIZE} in "
          "/api/search, all in /api/facets), or max for all; filtered values always included, years always "
          "all; facets_truncated says how many each facet left out", max_length=6),
)}

# /trends and /api/trends: the terms and how to count them, besides the search filters above
TREND_PARAMETERS: dict[str, Param] = {p.name: p for p in (
    Param("terms", "词语", "terms to chart, separated by commas (乡村振兴,脱贫攻坚,新乡贤); at most "
          f"{MAX_TREND_TERMS}", max_length=MAX_TREND_TERMS_CHARS),
    Param("by", "统计维度", "count per year (default), or per value of a facet", choices=TREND_DIMENSIONS),
    Param("metric", "指标", "what the chart shows: docs (documents mentioning the term), share (of that "
          "year's documents), per10k (mentions per 10,000 characters)", choices=TREND_METRICS),
    Param("fold", "合并同义词", "on: count a term together with its synonyms (kb/data/synonyms.txt) as one line",
          choices=SWITCH),
    Param("from", "从", "first year of a year range", "integer", YEAR.low, YEAR.high),
    Param("to", "到", "last year of a year range", "integer", YEAR.low, YEAR.high),
)}

# /compare and /api/compare: two documents (or two ``id`` values, as the search page's checkboxes send)
COMPARE_PARAMETERS: dict[str, Param] = {p.name: p for p in (
    Param("a", "文档 A", "the earlier document's id", max_length=16),
    Param("b", "文档 B", "the later document's id", max_length=16),
    Param("changes", "只看变化", "only: show only the paragraphs that changed", choices=("only",)),
)}


def openapi_parameters(declared: dict[str, Param] | None = None, facets: bool = True) -> list[dict]:
    """Parameters as OpenAPI describes them: the declarations ``parse`` (or ``parse_trends``,
    ``parse_compare``) checks; the search's by default, with one filter per facet."""
    out = [{"name": p.name, "in": "query", "schema": p.schema(), "description": p.description}
           for p in (PARAMETERS if declared is None else declared).values()]
    if not facets:
        return out
    for name, facet in FACETS.items():
        items = facet.value_schema()
        if not facet.numeric:
            items = {**items, "maxLength": MAX_FACET_VALUE_CHARS}
        out.append({"name": name, "in": "query", "style": "form", "explode": True,
                    "schema": {"type": "array", "items": items, "maxItems": MAX_VALUES_PER_FACET},
                    "description": f"filter by {facet.label} ({facet.description}); repeat for any of several"})
    return out


@dataclass
class SearchParams:
    q: str = ""
    mode: str = "words"  # words | like (find documents like a passage)
    sort: str = "relevance"
    page: int = 1
    size: int = 10
    year_from: int | None = None
    year_to: int | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    synonyms: bool = True  # unquoted terms also find their other forms (kb.synonyms)
    collapse: str | None = None  # "versions": one hit per version group
    facet_size: int | None | str = "default"  # API: values per facet; None: all ("max"); "default": the route's

    @property
    def like(self) -> bool:
        return self.mode == "like"

    @property
    def years(self) -> tuple[int | None, int | None]:
        return self.year_from, self.year_to

    def has_filters(self) -> bool:
        return bool(self.filters) or self.year_from is not None or self.year_to is not None

    def search_kwargs(self) -> dict:
        return {"query": self.q, "filters": self.filters, "years": self.years, "sort": self.sort,
                "page": self.page, "page_size": self.size, "like": self.like, "synonyms": self.synonyms,
                "collapse": self.collapse}

    # -- URLs

    def args(self, **changes) -> MultiDict:
        """This state as query arguments, with changes (None removes an argument). A passage
        goes in ``passage`` (it may be longer than a query)."""
        return MultiDict(self._items(changes))

    def _items(self, changes: dict) -> list[tuple[str, Any]]:
        like = changes.get("mode", self.mode if self.like else None) == "like"
        state = {"q": None if like else (self.q or None), "passage": (self.q or None) if like else None,
                 "mode": self.mode if self.like else None,
                 "sort": self.sort if self.sort != "relevance" else None,
                 "page": self.page if self.page > 1 else None, "size": self.size if self.size != 10 else None,
                 "from": self.year_from, "to": self.year_to,
                 "synonyms": None if self.synonyms else "off", "collapse": self.collapse}
        if "q" in changes and like:
            changes = {**changes, "passage": changes.pop("q")}
        state.update(changes)
        items = [(k, v) for k, v in state.items() if v not in (None, "") and not k.startswith("_")]
        filters = changes.get("_filters", self.filters)
        for name, values in filters.items():
            items.extend((name, v) for v in values)
        return items

    def url(self, path: str = "/", **changes) -> str:
        # a results page builds a hundred of these (facet values, timeline bars): each piece is
        # encoded once (as urlencode would)
        items = self._items(changes)
        return path + ("?" + "&".join(f"{_quoted(k)}={_quoted(str(v))}" for k, v in items) if items else "")

    def toggle(self, facet: str, value: str, path: str = "/") -> str:
        """The URL with ``value`` added to or removed from a facet filter (page back to 1)."""
        filters = {k: list(v) for k, v in self.filters.items()}
        values = filters.setdefault(facet, [])
        if value in values:
            values.remove(value)
        else:
            values.append(value)
        filters = {k: v for k, v in filters.items() if v}
        return self.url(path, page=None, _filters=filters)

    def only_year(self, year: str, path: str = "/") -> str:
        """The URL filtered to one year (a timeline bar)."""
        filters = {k: list(v) for k, v in self.filters.items() if k != YEAR.name}
        filters[YEAR.name] = [year]
        return self.url(path, page=None, **{"from": None, "to": None}, _filters=filters)

    def without_years(self) -> "SearchParams":
        return SearchParams(self.q, self.mode, self.sort, 1, 1, None, None,
                            {k: v for k, v in self.filters.items() if k != YEAR.name}, self.synonyms, self.collapse)

    def trend_terms(self) -> str:
        """The query's positive terms as a trends ``terms`` value (one line per term)."""
        from kb.query import parse as parse_query

        try:
            return ",".join(dict.fromkeys(t.text for t in parse_query(self.q).terms()))
        except QueryError:
            return ""

    def trends_url(self, path: str) -> str:
        """The trends page charting this query's terms under these filters (one click from the results)."""
        items = [("terms", self.trend_terms())] + self.filter_args()
        return path + "?" + urlencode(items)

    def filter_args(self) -> list[tuple[str, str]]:
        """The filters and year range alone, as query arguments (for /trends, /compare links)."""
        items = [(name, v) for name, values in self.filters.items() for v in values]
        items += [(k, str(v)) for k, v in (("from", self.year_from), ("to", self.year_to)) if v is not None]
        return items


def parse(args) -> SearchParams:
    """Search state from request arguments; QueryError (-> 400) for values that cannot be right."""
    read = {name: p.read(args) for name, p in PARAMETERS.items()}
    params = SearchParams()
    params.mode = read["mode"] or "words"
    params.q = (read["passage"] or read["q"] or "") if params.like else (read["q"] or "")
    params.sort = read["sort"] or "relevance"
    params.page = read["page"] or 1
    params.size = read["size"] or 10
    params.year_from, params.year_to = read["from"], read["to"]
    params.synonyms = read["synonyms"] != "off"
    params.collapse = read["collapse"] or None
    params.facet_size = _facet_size(read["facet_size"])
    if params.year_from is not None and params.year_to is not None and params.year_from > params.year_to:
        raise QueryError(f"年份范围颠倒：“从” {params.year_from} 晚于“到” {params.year_to}（from is after to）")
    for name, facet in FACETS.items():
        values = [v for v in args.getlist(name) if v.strip()]
        if len(values) > MAX_VALUES_PER_FACET:
            raise QueryError(f"“{facet.label}”最多选 {MAX_VALUES_PER_FACET} 个值（too many {name} values）")
        if any(len(v) > MAX_FACET_VALUE_CHARS for v in values):
            raise QueryError(f"“{facet.label}”的值太长（{name} value too long）")
        if values:
            facet.read_filter(values)  # checked here, so a bad value is a 400 naming it
            params.filters[name] = values
    return params


def _facet_size(raw: str | None) -> int | None | str:
    if not raw:
        return "default"
    if raw == "max":
        return None
    if raw.isdigit() and int(raw) <= MAX_FACET_SIZE:
        return int(raw)
    raise QueryError(f"“分面值数”应为 0..{MAX_FACET_SIZE} 的整数或 max（参数 facet_size: {raw!r}）")


def facet_limit(params: SearchParams, default: int | None) -> int | None:
    """How many values per facet a route returns: what facet_size asked, else the route's default."""
    return default if params.facet_size == "default" else params.facet_size


@dataclass
class TrendParams:
    """A trends page's state: terms, how to count and show them, and the search filters."""

    terms: list[str]
    terms_text: str
    by: str = "year"
    metric: str = "docs"
    fold: bool = False
    search: SearchParams = field(default_factory=SearchParams)  # filters and years (no query)

    def trends_kwargs(self) -> dict:
        return {"terms": self.terms, "filters": self.search.filters, "years": self.search.years, "by": self.by,
                "fold": self.fold}

    def url(self, path: str, **changes) -> str:
        state = {"terms": self.terms_text, "by": self.by if self.by != "year" else None,
                 "metric": self.metric if self.metric != "docs" else None, "fold": "on" if self.fold else None}
        state.update(changes)
        items = [(k, v) for k, v in state.items() if v not in (None, "")] + self.search.filter_args()
        return path + ("?" + urlencode(items) if items else "")


    def search_url(self, path: str, term: str, bucket: str | None = None) -> str:
        """The search for ``term`` under these filters (and in one bucket: a year, a county)."""
        filters = {k: list(v) for k, v in self.search.filters.items()}
        if bucket is not None:
            filters[self.by] = [bucket]
        return SearchParams(q=term, year_from=self.search.year_from, year_to=self.search.year_to,
                            filters=filters).url(path)


def parse_trends(args) -> TrendParams:
    """Trends state from request arguments; QueryError (-> 400) names the bad one."""
    read = {name: p.read(args) for name, p in TREND_PARAMETERS.items()}
    search = parse(MultiDict([(k, v) for k, v in args.items(multi=True) if k in FACETS or k in ("from", "to")]))
    terms = kbtrends.parse_terms(read["terms"])
    return TrendParams(terms, ",".join(terms), read["by"] or "year", read["metric"] or "docs", read["fold"] == "on", search)


@dataclass
class CompareParams:
    a: str
    b: str
    changes_only: bool = False


def parse_compare(args) -> CompareParams:
    """Two document ids: ``a`` and ``b``, or two ``id`` values (checked boxes on the search page)."""
    read = {name: p.read(args) for name, p in COMPARE_PARAMETERS.items()}
    a, b = read["a"], read["b"]
    if not (a and b):
        ids = [v for v in args.getlist("id") if v.strip()]
        if len(ids) != 2:
            raise QueryError(f"请选择两篇文档进行对比（give a and b, or exactly two id values; got {len(ids)}）")
        a, b = ids
    for name, value in (("a", a), ("b", b)):
        if not DOC_ID.match(value):
            raise QueryError(f"“{COMPARE_PARAMETERS[name].label}”不是文档编号（{name} is not a document id）")
    if a == b:
        raise QueryError("请选择两篇不同的文档（a and b are the same document）")
    return CompareParams(a, b, read["changes"] == "only")


__all__ = ["PARAMETERS", "TREND_PARAMETERS", "COMPARE_PARAMETERS", "Param", "SearchParams", "TrendParams",
           "CompareParams", "parse", "parse_trends", "parse_compare", "openapi_parameters", "SORT_LABELS"]
