"""A view of text for rules: full-width forms folded to ASCII and traditional characters
simplified, one character for one character, so every offset in the view is an offset in the
text and what a rule finds can be cut out of the text as written.

Rules (noise lines, titles, dates) are written once, for ASCII punctuation and simplified
characters; the stored text keeps its own characters (``kb.analysis.normalize`` is for matching).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

from kb import tablecache
from kb.analysis import opencc_version, code_point_table, code_points, fold_width, from_code_points, normalize

_ARRAY_MIN_CHARS = 300

_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@lru_cache(maxsize=1)
def _simplify_table() -> dict[int, str]:
    """Traditional -> simplified for single CJK characters, as ``normalize`` maps them."""
    stamp = f"unicode-{unicodedata.unidata_version};opencc-{opencc_version()}"
    arrays = tablecache.cached_arrays("simplify", stamp, _build_simplify)
    return dict(zip(arrays["from"].tolist(), map(chr, arrays["to"].tolist())))


def _build_simplify() -> dict[str, np.ndarray]:
    pairs = []
    for start, end in _CJK_RANGES:
        for cp in range(start, end):
            ch = chr(cp)
            simple = normalize(ch)
            if len(simple) == 1 and simple != ch and "\u3400" <= simple <= "\ufaff":
                pairs.append((cp, ord(simple)))
    return {"from": np.array([a for a, _ in pairs], dtype=np.uint32), "to": np.array([b for _, b in pairs], dtype=np.uint32)}


@lru_cache(maxsize=1)
def _simplify_array() -> np.ndarray:
    return code_point_table(_simplify_table())


def simplified(text: str) -> str:
    """``text`` with traditional characters simplified, one for one (縣→县)."""
    if len(text) < _ARRAY_MIN_CHARS:
        return text.translate(_simplify_table())
    # a whole document: one table lookup per code point as array work (str.translate with a
    # dict looks every character up in Python: ~10x slower on a long text)
    return from_code_points(_simplify_array()[code_points(text)])


def rule_view(text: str) -> str:
    """``text`` folded (，→, ２→2) and simplified (縣→县), same length, same offsets."""
    return simplified(fold_width(text))
