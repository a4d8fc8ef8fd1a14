"""Every page state is a plain URL: the parameters a search takes, declared once, parsed into
search arguments, described to OpenAPI, and the URLs that change them.

``PARAMETERS`` (and one parameter per facet, from ``kb.facets``) drive both the checks ``parse``
applies and the OpenAPI document (``openapi_parameters``), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from kb.collector import MAX_LIKE_CHARS, SORTS
from kb.errors import QueryError
from kb.facets import FACETS, YEAR
from kb.query import MAX_QUERY_CHARS

SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早", "added": "最近入库"}
MODES = ("words", "like")
MAX_VALUES_PER_FACET = 50
MAX_FACET_VALUE_CHARS = 200
MAX_PAGE_SIZE = 100


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
)}


def openapi_parameters() -> list[dict]:
    """The search parameters as OpenAPI describes them: the declarations ``parse`` checks."""
    out = [{"name": p.name, "in": "query", "schema": p.schema(), "description": p.description}
           for p in PARAMETERS.values()]
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
                "page": self.page, "page_size": self.size, "like": self.like}

    # -- URLs

    def args(self, **changes) -> MultiDict:
        """This state as query arguments, with changes (None removes an argument). A passage
        goes in ``passage`` (it may be longer than a query)."""
        like = changes.get("mode", self.mode if self.like else None) == "like"
        state = {"q": None if like else (self.q or None), "passage": (self.q or None) if like else None,
                 "mode": self.mode if self.like else None,
                 "sort": self.sort if self.sort != "relevance" else None,
                 "page": self.page if self.page > 1 else None, "size": self.size if self.size != 10 else None,
                 "from": self.year_from, "to": self.year_to}
        if "q" in changes and like:
            changes = {**changes, "passage": changes.pop("q")}
        state.update(changes)
        items = [(k, v) for k, v in state.items() if v not in (None, "")]
        filters = changes.get("_filters", self.filters)
        for name, values in filters.items():
            items.extend((name, v) for v in values)
        return MultiDict([(k, v) for k, v in items if not k.startswith("_")])

    def url(self, path: str = "/", **changes) -> str:
        args = self.args(**changes)
        return path + ("?" + urlencode(list(args.items(multi=True))) if args else "")

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
                            {k: v for k, v in self.filters.items() if k != YEAR.name})


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


__all__ = ["PARAMETERS", "Param", "SearchParams", "parse", "openapi_parameters", "SORT_LABELS"]
