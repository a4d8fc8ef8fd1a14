"""The term streams of ``kb.analysis`` as numpy arrays, for ingest.

What ``unit_runs``/``gram_positions``/``char_counts`` give, built from the text's code points: no
Python object per character or per posting (a 6,000-character law: ~0.4 ms for its bigrams with
positions and its characters, against ~2 ms). A gram term is one integer key: ``first << 21 |
second`` for a bigram, ``char << 21`` for one character (code points are below 2**21), so keys
sort as the terms' UTF-8 bytes do. ``tests/test_termarrays.py`` holds them equal to the Python
streams.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

from kb import tablecache
from kb.analysis import code_points

_SPACE = re.compile(r"\s+")  # as kb.analysis squeezes whitespace

GRAM_SHIFT = 21
_SQUEEZED, _UNIT, _OTHER = 0, 1, 2
_CLASSIFIED = 0x40000


@lru_cache(maxsize=1)
def _unit_classes() -> np.ndarray:
    """Every code point's class: whitespace (squeezed out), a gram unit (``[^\\W_]``, i.e.
    ``isalnum``), or other (punctuation and symbols), found by the same regular expressions
    ``unit_runs`` uses, run once over every code point (~30 ms; kept in the table cache)."""
    stamp = f"unicode-{unicodedata.unidata_version}"
    return tablecache.cached_arrays("unit-classes", stamp, lambda: {"classes": _classify_code_points()},
                                    code=(_classify_code_points,))["classes"]


def _classify_code_points() -> np.ndarray:
    # above plane 3 nothing is a letter, a digit or a space (tags, variation selectors, private use)
    chars = "".join(map(chr, range(_CLASSIFIED)))
    classes = np.full(0x110000, _OTHER, dtype=np.uint8)
    for match in re.finditer(r"[^\W_]+", chars):
        classes[match.start():match.end()] = _UNIT
    for match in _SPACE.finditer(chars):
        classes[match.start():match.end()] = _SQUEEZED
    return classes


@lru_cache(maxsize=2)  # the sketch, the gram and the character fields read one text's units
def unit_arrays(norm_text: str) -> tuple[np.ndarray, np.ndarray]:
    """``unit_runs`` as arrays: every gram unit's code point and position (read-only: shared)."""
    cps, positions = _unit_arrays(norm_text)
    cps.flags.writeable = positions.flags.writeable = False
    return cps, positions


def _unit_arrays(norm_text: str) -> tuple[np.ndarray, np.ndarray]:
    cps = code_points(norm_text)
    classes = _unit_classes()[cps]
    kept = classes != _SQUEEZED
    if not kept.all():
        cps, classes = cps[kept], classes[kept]
    unit = classes == _UNIT
    if not unit.size:
        return cps[:0], np.zeros(0, dtype=np.int64)
    # each unit advances the position by one, and so does each run of other characters
    after_unit = np.empty_like(unit)
    after_unit[0] = True
    after_unit[1:] = unit[:-1]
    steps = unit | after_unit
    positions = np.cumsum(steps, dtype=np.int64) - 1
    return cps[unit], positions[unit]


def unit_string(norm_text: str) -> str:
    """``analysis.units`` through the arrays (half its time on a long text)."""
    cps, _ = unit_arrays(norm_text)
    return cps.astype("<u4").tobytes().decode("utf-32-le")


def gram_key(term: str) -> int:
    """The integer key of a one- or two-character gram term."""
    if len(term) == 1:
        return ord(term) << GRAM_SHIFT
    return ord(term[0]) << GRAM_SHIFT | ord(term[1])


def key_term(key: int) -> str:
    second = key & ((1 << GRAM_SHIFT) - 1)
    return chr(key >> GRAM_SHIFT) + (chr(second) if second else "")


_POSITION_BITS = 22  # below 2**42 (two code points), a key leaves this many bits for a position


def _grouped(keys: np.ndarray, positions: np.ndarray | None):
    """(distinct keys ascending, their counts, positions grouped by key, ascending within one)."""
    if not keys.size:
        return keys.astype(np.uint64), np.zeros(0, np.uint32), (None if positions is None else np.zeros(0, np.uint32))
    if positions is None:
        keys = np.sort(keys)
    elif positions.max() < (1 << _POSITION_BITS):  # one sort of (key, position) pairs packed in a uint64
        pairs = np.sort((keys << np.uint64(_POSITION_BITS)) | positions.astype(np.uint64))
        keys = pairs >> np.uint64(_POSITION_BITS)
        positions = pairs & np.uint64((1 << _POSITION_BITS) - 1)
    else:
        order = np.argsort(keys, kind="stable")
        keys, positions = keys[order], positions[order]
    firsts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    bounds = np.concatenate(([0], firsts, [keys.size]))
    tfs = np.diff(bounds).astype(np.uint32)
    return keys[bounds[:-1]], tfs, (None if positions is None else positions.astype(np.uint32))


def _bigrams(cps: np.ndarray, positions: np.ndarray):
    joined = np.flatnonzero(positions[1:] == positions[:-1] + 1)  # the next unit is in the same run
    keys = (cps[joined].astype(np.uint64) << np.uint64(GRAM_SHIFT)) | cps[joined + 1].astype(np.uint64)
    return keys, positions[joined]


def gram_arrays(norm_text: str):
    """``gram_positions`` as arrays: (keys, counts, positions grouped by key)."""
    return _grouped(*_bigrams(*unit_arrays(norm_text)))


def char_arrays(norm_text: str):
    """``char_counts`` as arrays: (keys, counts)."""
    cps, _ = unit_arrays(norm_text)
    keys, tfs, _ = _grouped(cps.astype(np.uint64) << np.uint64(GRAM_SHIFT), None)
    return keys, tfs


def title_gram_arrays(norm_title: str):
    """The title's bigrams and single characters with their positions: (keys, counts, positions)."""
    cps, positions = unit_arrays(norm_title)
    keys, at = _bigrams(cps, positions)
    return _grouped(np.concatenate((keys, cps.astype(np.uint64) << np.uint64(GRAM_SHIFT))),
                    np.concatenate((at, positions)))
