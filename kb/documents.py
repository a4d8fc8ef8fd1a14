"""The words every module shares: what a reader returns, what gets indexed, what a search returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Extracted:
    """What a format reader gets out of a file: text plus what the format itself says."""

    text: str
    fmt: str  # "txt", "md", "html", "docx", "pdf"
    title: str | None = None  # a title the format marks as such (<title>, "# ...", docx Title style)
    encoding: str | None = None  # for text formats: the encoding that was detected
    warnings: list[str] = field(default_factory=list)
