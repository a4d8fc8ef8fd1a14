"""Where each page (sheet, slide) of a paged document starts in its clean text, and which page a
place in the text is on.

Readers put ``PAGE_BREAK`` between pages; cleaning repairs lines across page breaks (a sentence
runs on over a page end) and drops noise, so offsets cannot be carried through it. Instead each
page is cleaned on its own and its first characters are looked up in the whole clean text, in
order: a page starts where its own text starts (inside a joined sentence too).
"""

from __future__ import annotations

from bisect import bisect_right

from kb.documents import PAGE_BREAK

_PROBE = 16  # characters of a page's own clean text that find it in the whole


def page_probes(raw: str, clean) -> list[str] | None:
    """The first characters of each page's clean text (None: not a paged text)."""
    if PAGE_BREAK not in raw:
        return None
    return [clean(page)[:_PROBE] for page in raw.split(PAGE_BREAK)]


def page_starts(text: str, probes: list[str]) -> list[int]:
    """Offsets in ``text`` where pages 1, 2, … start (page 1 at 0; an empty or unfound page starts
    where the one before it does)."""
    starts, position = [0], 0
    for probe in probes[1:]:
        if probe:
            found = text.find(probe, position)
            if found >= 0:
                position = found
        starts.append(position)
    return starts


def page_at(starts: list[int] | None, offset: int | None) -> int | None:
    """The page number (1-based) holding ``offset``, or None for an unpaged text."""
    if not starts or offset is None or len(starts) < 2:
        return None
    return bisect_right(starts, offset)


def page_label(labels: list[str] | None, number: int | None) -> str | None:
    """How to name a page: its own label (a sheet's name, "第 2 张幻灯片"), else "第 N 页"."""
    if number is None:
        return None
    if labels and 0 < number <= len(labels) and labels[number - 1]:
        return labels[number - 1]
    return f"第 {number} 页"
