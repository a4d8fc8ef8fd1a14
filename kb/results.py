"""What a search returns: hits (one matching document each) and the result page around them."""

from __future__ import annotations

from dataclasses import dataclass, field

from kb import facets as kbfacets


@dataclass
class Hit:
    id: str
    path: str
    title: str
    score: float
    snippet: str
    exact: int = 0  # how many of the query's strings the document contains exactly
    facets: dict[str, list] = field(default_factory=dict)  # every facet's values, by facet name
    date: str | None = None
    docno: str | None = None
    added: int | None = None  # when it was ingested (seconds)
    page: int | None = None  # the page (sheet, slide) of the snippet's first match, in paged formats
    page_label: str | None = None  # how to name it: "第 3 页", a sheet's name
    shown_path: str = ""  # the source path from the folder that was ingested (what users see)
    other_versions: int = 0  # with collapse=versions: matching versions of it left out (kb.versions)

    @property
    def year(self) -> int | None:
        values = self.facets.get(kbfacets.YEAR.name)
        return values[0] if values else None

    def to_dict(self) -> dict:
        data = {"id": self.id, "path": self.path, "title": self.title, "score": round(self.score, 4),
                "snippet": self.snippet, "date": self.date, "docno": self.docno, "added": self.added,
                "page": self.page, "page_label": self.page_label, "other_versions": self.other_versions}
        for name, facet in kbfacets.FACETS.items():
            values = self.facets.get(name, [])
            data[facet.field] = values if facet.multi else (values[0] if values else None)
        return data


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict]
    page: int = 1
    page_size: int = 10
    sort: str = "relevance"
    took_ms: float = 0.0
    terms: list[str] = field(default_factory=list)  # normalised query strings, for highlighting
    expansions: dict[str, list[str]] = field(default_factory=dict)  # typed term -> other forms searched
    collapse: str | None = None  # "versions": one hit per version group

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "page_size": self.page_size,
            "sort": self.sort,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
            "facets_truncated": kbfacets.truncated(self.facets),  # values a facet_limit left out
            "expansions": self.expansions,
            "collapse": self.collapse,
        }
