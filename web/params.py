"""Every page state is a plain URL: parse it into search arguments, and build the URLs that change it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from kb.errors import QueryError
from kb.index import FACETS
from kb.search import MAX_PAGE_SIZE, SORTS

FACET_LABELS = {
    "year": "年份", "county": "县区", "sector": "领域", "city": "城市", "province": "省份",
    "doctype": "文种", "issuer": "发文机关", "topic": "主题词",
}
SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早", "added": "最近入库"}
MAX_VALUES_PER_FACET = 20


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
        """This state as query arguments, with changes (None removes an argument)."""
        state = {"q": self.q or None, "mode": self.mode if self.like else None,
                 "sort": self.sort if self.sort != "relevance" else None,
                 "page": self.page if self.page > 1 else None, "size": self.size if self.size != 10 else None,
                 "from": self.year_from, "to": self.year_to}
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
        filters = {k: list(v) for k, v in self.filters.items() if k != "year"}
        filters["year"] = [year]
        return self.url(path, page=None, **{"from": None, "to": None}, _filters=filters)

    def without_years(self) -> "SearchParams":
        return SearchParams(self.q, self.mode, self.sort, 1, 1, None, None,
                            {k: v for k, v in self.filters.items() if k != "year"})


def _int_arg(args, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"参数 {name} 应为整数 ({name} must be a number)") from None
    if not low <= value <= high:
        raise QueryError(f"参数 {name} 超出范围 {low}..{high} ({name} out of range)")
    return value


def parse(args) -> SearchParams:
    """Search state from request arguments; QueryError (-> 400) for values that cannot be right."""
    params = SearchParams()
    params.q = args.get("q", "")
    params.mode = "like" if args.get("mode") == "like" else "words"
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise QueryError(f"未知的排序方式 {sort!r} (unknown sort)")
    params.sort = sort
    params.page = _int_arg(args, "page", 1, 1, 100_000)
    params.size = _int_arg(args, "size", 10, 1, MAX_PAGE_SIZE)
    params.year_from = _int_arg(args, "from", None, 0, 9999)
    params.year_to = _int_arg(args, "to", None, 0, 9999)
    for name in FACETS:
        values = [v for v in args.getlist(name) if v.strip()][:50]
        if name == "year":
            for v in values:
                if not v.strip().isdigit():
                    raise QueryError(f"年份 {v!r} 不是数字 (year must be a number)")
        if values:
            params.filters[name] = values
    return params
