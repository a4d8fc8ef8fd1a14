"""A view of text for rules: full-width forms folded to ASCII and traditional characters
simplified, one character for one character, so every offset in the view is an offset in the
text and what a rule finds can be cut out of the text as written.

Rules (noise lines, titles, dates) are written once, for ASCII punctuation and simplified
characters; the stored text keeps its own characters (``kb.analysis.normalize`` is for matching).
"""

from __future__ import annotations

from functools import lru_cache

from kb.analysis import fold_width, normalize

_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@lru_cache(maxsize=1)
def _simplify_table() -> dict[int, str]:
    """Traditional -> simplified for single CJK characters, as ``normalize`` maps them."""
    table = {}
    for start, end in _CJK_RANGES:
        for cp in range(start, end):
            ch = chr(cp)
            simple = normalize(ch)
            if len(simple) == 1 and simple != ch and "\u3400" <= simple <= "\ufaff":
                table[cp] = simple
    return table


def simplified(text: str) -> str:
    """``text`` with traditional characters simplified, one for one (縣→县)."""
    return text.translate(_simplify_table())


def rule_view(text: str) -> str:
    """``text`` folded (，→, ２→2) and simplified (縣→县), same length, same offsets."""
    return fold_width(text).translate(_simplify_table())
