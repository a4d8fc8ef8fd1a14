"""Facets: the properties a search is narrowed and counted by, each declared once, here.

A facet is a small object behind one interface (after Datasette's ``facets.py``): the index
field that stores it, the name users write (API, CLI, URLs) and its Chinese label, the other
spellings manifests use, how a value a user gives is read, how a filter selects documents and how
a result set is counted. Everything else is generated from ``FACETS``: the schema's facet fields,
metadata keys and aliases, filter checking, facet counts, the values a hit carries, the CLI's
flags, the site's labels and document page, CSV columns, the API's fields and its OpenAPI
parameters.

Adding a facet is one declaration below plus whatever supplies its value (an extractor in
``kb.meta``, or users' own metadata). Documents indexed before it simply lack it; ``python -m kb
reextract`` fills it in from the stored texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh import fields as whoosh_fields

from kb.errors import QueryError


class ListField(whoosh_fields.KEYWORD):
    """Facet values: a list of strings, each one term, stored as the list."""

    def __init__(self):
        super().__init__(stored=True, scorable=False, commas=True, lowercase=False)


class Facet:
    """The interface every facet has. ``snap`` arguments are ``kb.snapshot.Snapshot`` objects."""

    numeric = False
    multi = True

    def __init__(self, name: str, field: str, label: str, description: str, aliases: tuple[str, ...] = (),
                 extractor=None):
        self.name = name  # as the API, the CLI and URLs say it
        self.field = field  # the index field (and the metadata key)
        self.label = label  # as the site shows it
        self.description = description
        self.aliases = aliases  # other spellings in manifests and sidecars
        # ``extractor(title, text, metadata) -> value``: for a facet whose value ``kb.meta.extract``
        # does not already find (the built-in facets' values come from there)
        self.extractor = extractor

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # the index

    def schema_field(self) -> whoosh_fields.FieldType:
        raise NotImplementedError

    def index_value(self, metadata: dict) -> Any:
        """What ``add_document`` gets for this facet from a document's merged metadata (None: none)."""
        raise NotImplementedError

    def values(self, stored: dict) -> list:
        """The document's values (from its stored fields), as a list."""
        raise NotImplementedError

    def public(self, stored: dict) -> Any:
        """The value as the API and CSV give it: a list for multi-valued facets, else one value or None."""
        values = self.values(stored)
        return values if self.multi else (values[0] if values else None)

    # users' input

    def read_given(self, value: Any, origin: str) -> Any:
        """A value a user gave (manifest, sidecar, flag, form), checked; ValueError names ``origin``."""
        raise NotImplementedError

    def read_filter(self, values: list) -> list:
        """Filter values from a query, checked; QueryError for a value that cannot be right."""
        return [str(v) for v in values]

    def value_schema(self) -> dict:
        """The OpenAPI schema of one filter value."""
        return {"type": "string", "maxLength": 200}

    # search

    def select(self, snap, values: list) -> np.ndarray:
        """The documents with any of ``values`` (a mask over docnums)."""
        raise NotImplementedError

    def count(self, snap, docs: np.ndarray, in_result: np.ndarray, limit: int | None = None,
              keep: list | None = None) -> "Counts":
        """Documents per value over a result set (``docs``, and the same as a mask), most first;
        at most ``limit`` values (None: all) besides those in ``keep`` (selected filter values)."""
        raise NotImplementedError


class Counts(dict):
    """A facet's counts, value -> documents, most first; ``more``: values left out by a limit."""

    more = 0


class KeywordFacet(Facet):
    """Any number of string values per document (counties, sectors, ...), counted most first."""

    def schema_field(self):
        return ListField()

    def index_value(self, metadata):
        return list(dict.fromkeys(metadata.get(self.field) or []))

    def values(self, stored):
        return list(stored.get(self.field) or [])

    def read_given(self, value, origin):
        items = value if isinstance(value, (list, tuple)) else str(value).replace("；", ";").split(";")
        return [str(item).strip() for item in items if str(item).strip()]

    def select(self, snap, values):
        return snap.mask(np.concatenate([snap.docs_with(self.field, str(value)) for value in values]))

    def count(self, snap, docs, in_result, limit=None, keep=None):
        names, name_order, entry_docs, entry_values = snap.facet_entries(self.field)
        counts = np.bincount(entry_values[in_result[entry_docs]], minlength=len(names))
        present = np.flatnonzero(counts)
        present_all = len(present)
        limited = limit is not None and present_all > limit
        if limited:  # only the values that can be among the first ``limit`` are sorted (thousands of topics)
            present = present[counts[present] >= np.partition(counts[present], -limit)[-limit]] if limit else present[:0]
        present = present[np.lexsort((name_order[present], -counts[present]))]  # most first, then by name
        shown = present[:limit] if limited else present
        found = Counts(zip(map(names.__getitem__, shown.tolist()), counts[shown].tolist()))  # thousands: no Python loop
        if limited:
            wanted = {str(v) for v in keep or ()} - found.keys()  # selected values: counted whatever their rank
            for i in (i for i, name in enumerate(names) if name in wanted) if wanted else ():
                if counts[i]:
                    found[names[i]] = int(counts[i])
            found.more = present_all - len(found)
        return found


class NumericFacet(Facet):
    """One whole number per document, or none (the year), counted by value, largest first; it
    also filters by range (``2018-2021``)."""

    numeric = True
    multi = False

    def __init__(self, *args, low: int, high: int, bits: int = 32, **kwargs):
        super().__init__(*args, **kwargs)
        self.low, self.high, self.bits = low, high, bits

    def schema_field(self):
        return whoosh_fields.NUMERIC(int, bits=self.bits, stored=True, sortable=True, signed=False)

    def index_value(self, metadata):
        value = metadata.get(self.field)
        return int(value) if value else None

    def values(self, stored):
        value = stored.get(self.field)
        return [value] if value else []

    def read_given(self, value, origin):
        try:
            number = int(str(value).strip().removesuffix("年"))
        except ValueError:
            raise ValueError(f"{origin}: {self.name} {value!r} is not a number") from None
        if not self.low <= number <= self.high:
            raise ValueError(f"{origin}: {self.name} {value!r} is out of range ({self.low}..{self.high})")
        return number

    def read_filter(self, values):
        try:
            numbers = [int(str(v).strip()) for v in values]
        except (TypeError, ValueError):
            raise QueryError(f"{self.label} {values!r} 不是数字 ({self.name} filter {values!r} is not a number)") from None
        if any(not self.low <= n <= self.high for n in numbers):
            raise QueryError(f"{self.label} 超出范围 {self.low}..{self.high} ({self.name} out of range)")
        return numbers

    def value_schema(self):
        return {"type": "integer", "minimum": self.low, "maximum": self.high}

    def column(self, snap) -> np.ndarray:
        """Every document's value (0: none)."""
        return snap.numbers(self.field, self.low, self.high)

    def select(self, snap, values):
        column = self.column(snap)
        return np.isin(column, values) & (column > 0)

    def select_range(self, snap, low: int | None, high: int | None) -> np.ndarray:
        column = self.column(snap)
        return (column > 0) & (column >= (low if low is not None else self.low)) & (column <= (high if high is not None else self.high))

    def count(self, snap, docs, in_result, limit=None, keep=None):
        # every value, whatever the limit: a year per bar of the timeline, a few dozen at most
        column = self.column(snap)[docs]
        values, counts = np.unique(column[column > 0], return_counts=True)
        return Counts((str(v), n) for v, n in sorted(zip(values.tolist(), counts.tolist()), reverse=True))

    def parse_range(self, spec: str | None) -> tuple[int | None, int | None]:
        """``2018-2021``, ``2018-``, ``-2021`` or ``2020`` -> (from, to); a reversed range is an error."""
        if not spec:
            return None, None
        spec = str(spec).strip().replace("—", "-").replace("~", "-").replace("至", "-")
        try:
            if "-" in spec:
                a, _, b = spec.partition("-")
                low, high = (int(a) if a.strip() else None), (int(b) if b.strip() else None)
            else:
                low = high = int(spec)
        except ValueError:
            raise QueryError(f"{self.name} range {spec!r} is not like 2018-2021") from None
        return self.check_range(low, high)

    def check_range(self, low: int | None, high: int | None) -> tuple[int | None, int | None]:
        for value in (low, high):
            if value is not None and not self.low <= value <= self.high:
                raise QueryError(f"{self.name} {value} is out of range ({self.low}..{self.high})")
        if low is not None and high is not None and low > high:
            raise QueryError(f"{self.name} range {low}-{high} is reversed (from is after to)")
        return low, high


class AccessFacet(KeywordFacet):
    """The document's access level (kb/data/access.toml): one of the configured names. Search also
    hides documents above a user's clearance by it (``kb.access``)."""

    multi = False

    def read_given(self, value, origin):
        from kb.access import levels

        values = super().read_given(value, origin)
        if len(values) != 1:
            raise ValueError(f"{origin}: give one access level, not {value!r}")
        return [levels().check(values[0], origin)]

    def read_filter(self, values):
        from kb.access import levels

        known = levels().names
        for value in values:
            if value not in known:
                raise QueryError(f"未知的访问级别 {value!r}（unknown access level; levels are {', '.join(known)}）")
        return [str(v) for v in values]


# --- the facets ---------------------------------------------------------------------------------

FACETS: dict[str, Facet] = {}  # by name, in the order pages show them


def register(facet: Facet) -> Facet:
    """Declare a facet (its name and field must be new)."""
    if facet.name in FACETS or any(f.field == facet.field for f in FACETS.values()):
        raise ValueError(f"facet {facet.name!r} (field {facet.field!r}) is declared twice")
    FACETS[facet.name] = facet
    return facet


def unregister(name: str) -> None:
    FACETS.pop(name, None)


YEAR = register(NumericFacet("year", "year", "年份", "the year of the document (of this version)", ("年份", "年"),
                             low=1000, high=2999))  # also the facet year ranges and the newest/oldest orders use
register(KeywordFacet("county", "counties", "县区", "county-level places the document is about",
                      ("county", "县", "区县", "县区")))
register(KeywordFacet("sector", "sectors", "领域", "policy domains (kb/data/sectors.toml)", ("sector", "领域", "行业")))
register(KeywordFacet("city", "cities", "城市", "cities the document is about", ("city", "城市")))
register(KeywordFacet("province", "provinces", "省份", "provinces the document is about", ("province", "省份")))
register(KeywordFacet("doctype", "doctype", "文种", "the kind of document (报告, 通知, 条例, ...)",
                      ("type", "doctypes", "文种")))
register(KeywordFacet("issuer", "issuer", "发文机关", "the body that issued or adopted it", ("issuers", "发文机关")))
register(KeywordFacet("topic", "topics", "主题词", "its key terms", ("topic", "主题词")))
register(KeywordFacet("source", "source", "来源", "where the text came from: OCR for scans and photos",
                      ("来源", "text_source")))
ACCESS = register(AccessFacet("access", "access", "访问级别", "who may see it (kb/data/access.toml)",
                              ("密级", "访问级别", "access_level", "level")))


def label(name: str) -> str:
    facet = FACETS.get(name)
    return facet.label if facet else name


def by_key(key: str) -> Facet | None:
    """The facet a metadata key names: its field, its name or one of its aliases."""
    key = str(key).strip().lower()
    return (next((f for f in FACETS.values() if key == f.field), None)
            or next((f for f in FACETS.values() if key == f.name or key in f.aliases), None))


def fields() -> tuple[str, ...]:
    """Every facet's index field (they are also metadata keys)."""
    return tuple(f.field for f in FACETS.values())


def extract(title: str, text: str, metadata: dict) -> dict:
    """The values of the facets that bring their own extractor."""
    return {f.field: f.extractor(title, text, metadata) for f in FACETS.values() if f.extractor is not None}


def read_filters(filters: dict | None) -> dict[str, list]:
    """Filters as ``{facet name: [values]}``, checked (QueryError for an unknown facet or value)."""
    out: dict[str, list] = {}
    for name, values in (filters or {}).items():
        facet = FACETS.get(name)
        if facet is None:
            raise QueryError(f"unknown filter {name!r}; known: {', '.join(FACETS)}")
        if values is None or values == "" or values == []:
            continue
        values = list(values) if isinstance(values, (list, tuple, set)) else [values]
        out[name] = facet.read_filter(values)
    return out


def allowed(snap, filters: dict[str, list], year_range: tuple[int | None, int | None] = (None, None),
            within: np.ndarray | None = None) -> np.ndarray | None:
    """The documents the filters allow (OR within a facet, AND across), a mask; None: no filter."""
    masks = [FACETS[name].select(snap, values) for name, values in filters.items()]
    if year_range != (None, None):
        masks.append(YEAR.select_range(snap, *year_range))
    if within is not None:
        masks.append(within)
    if not masks:
        return None
    return np.logical_and.reduce(masks) if len(masks) > 1 else masks[0]


def count(snap, docs: np.ndarray, limit: int | None = None, keep: dict | None = None) -> dict[str, Counts]:
    """Every facet's counts over a result set: array counting over every (document, value) pair,
    a cost that hardly grows with the number of matches. ``limit``: at most this many values of a
    keyword facet (its most frequent; the year's are all kept), plus its values in ``keep`` (facet
    name -> values: the selected filters, always shown); ``Counts.more`` says how many were left out."""
    in_result = snap.mask(docs)
    keep = keep or {}
    return {name: facet.count(snap, docs, in_result, limit, keep.get(name)) for name, facet in FACETS.items()}


def truncated(counts: dict[str, dict]) -> dict[str, int]:
    """Facet name -> values a limit left out of its counts (only facets that lost some)."""
    return {name: c.more for name, c in counts.items() if getattr(c, "more", 0)}


def hit_values(stored: dict) -> dict[str, list]:
    """A document's values of every facet, by facet name."""
    return {name: facet.values(stored) for name, facet in FACETS.items()}


def public_fields(stored: dict) -> dict[str, Any]:
    """A document's facets as the API and CSV give them, by field name."""
    return {facet.field: facet.public(stored) for facet in FACETS.values()}
