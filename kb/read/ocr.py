"""OCR: page images -> text lines in reading order, offline, cached by content hash.

Engine: RapidOCR 3 (``rapidocr``), PaddleOCR's PP-OCRv6 small Chinese models as ONNX, run by
onnxruntime. Its wheel ships the three models (det 9.9 MB, rec 21 MB, cls 0.6 MB); they are
passed by path, so the engine never reaches its download code (checked: it runs in a network
namespace without network). Chosen by measurement (``python -m bench.ocr``, figures in the
bench/ocr.py docstring): the lowest character error rate on pages rendered from real report
text, clean and degraded, at about the CPU cost of the older ``rapidocr_onnxruntime``
(PP-OCRv4), which also wants opencv-python with the system's libGL; Tesseract errs 5-10x more.

    text = recognize(png_bytes)          # or a PIL image; path= names the file in errors
    set_cache_dir(index / "ocr-cache")   # or KB_OCR_CACHE=...; default: no cache
    set_progress(lambda path, done, total: ...)   # after each OCR'd page

The engine is loaded once per process, on first use (ingest workers each load their own;
KB_OCR_THREADS sets onnxruntime's threads per process). Results are cached as small text files
keyed by sha256(image bytes) and the engine version, so reading the same scan again costs a
hash. A machine without the package gets ToolMissing naming it and the pip command.
"""

from __future__ import annotations

import hashlib
import io
import os
import statistics
import threading
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kb.errors import ReadError, ToolMissing

ENGINE = "rapidocr"
INSTALL = "pip install rapidocr==3.10.0 onnxruntime==1.32.0"
PILLOW_INSTALL = "pip install pillow==13.0.0"
# The models in rapidocr's wheel (rapidocr/models/), by the role the engine gives them.
MODELS = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
}
CACHE_ENV = "KB_OCR_CACHE"
THREADS_ENV = "KB_OCR_THREADS"  # onnxruntime threads per process; default: all cores

# Pages are downscaled to this longest side before OCR: an A4 page at 300 dpi (3508 px) keeps
# its resolution; a 100-megapixel photo does not cost 100 megapixels of memory per step.
MAX_SIDE = 3508
# Images whose header declares more pixels than this are refused before decoding (image bombs).
MAX_PIXELS = 120_000_000
# Text boxes the engine is less sure of than this are dropped (stains, lines, seals' rims).
MIN_SCORE = 0.5
# A page whose boxes average a lower confidence than this is tried again upside down.
UPSIDE_DOWN_SCORE = 0.75

_engine = None
_engine_lock = threading.Lock()
_cache_dir: Path | None = None
_cache_set = False
_progress: Callable[[str, int, int], None] | None = None


@dataclass(frozen=True)
class Box:
    """One text box the engine found: corner points (x, y) clockwise from top left, its text."""

    points: tuple[tuple[float, float], ...]
    text: str
    score: float = 1.0

    @property
    def top(self) -> float:
        return min(y for _, y in self.points)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.points)

    @property
    def left(self) -> float:
        return min(x for x, _ in self.points)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.points)


def set_cache_dir(path: str | os.PathLike | None) -> None:
    """Cache OCR results in `path` (created on first write); None: no cache. Overrides KB_OCR_CACHE."""
    global _cache_dir, _cache_set
    _cache_dir = Path(path) if path is not None else None
    _cache_set = True


def set_progress(callback: Callable[[str, int, int], None] | None) -> None:
    """Call `callback(path, pages_done, pages_to_do)` after each page OCR'd in this process
    (a long scan takes seconds per page: ingest can show them); None: no calls."""
    global _progress
    _progress = callback


def page_done(path, done: int, total: int) -> None:
    """For the readers: one more page of `path` OCR'd. A failing callback never fails the read."""
    if _progress is not None:
        try:
            _progress(str(path), done, total)
        except Exception:
            pass


def cache_dir() -> Path | None:
    """The cache folder in force: set_cache_dir's, else $KB_OCR_CACHE, else None."""
    if _cache_set:
        return _cache_dir
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value) if value else None


def engine_version() -> str:
    """Engine name and versions of the package and runtime: part of every cache key."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{ENGINE}-{version(ENGINE)}+onnxruntime-{version('onnxruntime')}+s{MIN_SCORE}+m{MAX_SIDE}+nocls+det2000"
    except PackageNotFoundError:
        return f"{ENGINE}-absent"


def tool_name() -> str:
    """What Extracted.tool says for OCR'd text: the engine package and its version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{ENGINE} {version(ENGINE)}"
    except PackageNotFoundError:
        return ENGINE


def missing_tool() -> tuple[str, str] | None:
    """(package, install command) of the first thing OCR lacks here, or None; loads nothing."""
    import importlib.util

    for module, tool, install in (("PIL", "Pillow", PILLOW_INSTALL), (ENGINE, ENGINE, INSTALL),
                                  ("onnxruntime", "onnxruntime", INSTALL)):
        if importlib.util.find_spec(module) is None:
            return tool, install
    return None


def available() -> str | None:
    """None when OCR can run here, else why not (which package, how to install it)."""
    missing = missing_tool()
    return None if missing is None else f"{missing[0]} is not installed; install it with: {missing[1]}"


def recognize(image, *, path: str | os.PathLike = "<image>") -> str:
    """The text of one page image (encoded bytes or a PIL image), lines in reading order.

    Cached when a cache folder is set. Raises ToolMissing when the engine is not installed,
    ReadError when the bytes are not an image or declare too many pixels.
    """
    key = _key(image)
    cached = _cache_get(key)
    if cached is not None:
        return cached
    picture = open_image(image, path) if isinstance(image, (bytes, bytearray, memoryview)) else image
    text = lines_to_text(order_lines(run_engine(picture, path=path)))
    _cache_put(key, text)
    return text


def open_image(data: bytes, path: str | os.PathLike = "<image>"):
    """Decode one image from bytes with the pixel limit enforced before decoding (ReadError)."""
    Image = _pillow(path)
    from PIL import ImageOps

    try:
        with warnings.catch_warnings():  # Pillow warns above 89 Mpx; check_pixels decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(bytes(data)))
        check_pixels(image, path)
        image.load()
        image = ImageOps.exif_transpose(image)  # phone photos: upright as the camera saw them
    except ReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ReadError(path, f"image too large to decode safely ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # PIL's errors for truncated or unknown data
        raise ReadError(path, f"not a readable image ({type(exc).__name__}: {exc})") from exc
    return image


def check_pixels(image, path) -> None:
    """ReadError when an opened (not yet decoded) image declares more than MAX_PIXELS."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ReadError(
            path,
            f"image of {width}x{height} pixels is over the {MAX_PIXELS // 1_000_000} megapixel limit "
            "(decompression bomb?)",
        )


def prepare(image):
    """RGB, at most MAX_SIDE pixels on the longest side (a copy only when something changes)."""
    if image.mode not in ("RGB", "L"):
        if "A" in image.getbands() or image.mode == "P":  # transparent areas become white, not black
            image = image.convert("RGBA")
            from PIL import Image

            background = Image.new("RGBA", image.size, "white")
            image = Image.alpha_composite(background, image)
        image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    if image.mode == "L":
        image = image.convert("RGB")
    return image


def run_engine(image, *, path: str | os.PathLike = "<image>") -> list[Box]:
    """The engine's boxes for one PIL image (no cache, no ordering).

    The engine's per-line orientation classifier is off: on upright report pages it turned
    lines upside down and read them as garbage (a whole line lost in the benchmark). A page the
    engine reads with low confidence, or with far fewer characters than its boxes have room
    for, is tried again turned 180 degrees (a page scanned upside down); the better reading is
    kept.
    """
    import numpy

    engine = _load_engine(path)
    array = numpy.asarray(prepare(image))
    boxes = _boxes(engine(array))
    if boxes and (statistics.fmean(box.score for box in boxes) < UPSIDE_DOWN_SCORE or _density(boxes) < 0.5):
        turned = _boxes(engine(numpy.ascontiguousarray(array[::-1, ::-1])))
        if _weight(turned) > 1.2 * _weight(boxes):
            boxes = turned
    return [box for box in boxes if box.score >= MIN_SCORE]


def _boxes(result) -> list[Box]:
    if result.boxes is None or not result.txts:
        return []
    boxes = []
    for points, text, score in zip(result.boxes, result.txts, result.scores):
        text = _clean(text)
        if text:
            boxes.append(Box(tuple((float(x), float(y)) for x, y in points), text, float(score)))
    return boxes


def _density(boxes: list[Box]) -> float:
    """Characters read per character the boxes have room for (about 1 for Chinese read right
    side up; a few characters in a long box is text read upside down)."""
    room = sum(max(box.right - box.left, 1.0) / max(box.bottom - box.top, 1.0) for box in boxes)
    return sum(len(box.text) for box in boxes) / max(room, 1.0)


def _weight(boxes: list[Box]) -> float:
    """Characters read, each counted by the engine's confidence."""
    return sum(box.score * len(box.text) for box in boxes)


def order_lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into lines, top to bottom, each line left to right.

    A box joins a line when it overlaps the line's vertical extent by at least half of the
    lower of the two heights and is not much taller than the line: boxes of one printed line
    share most of their height even when the scan is slightly rotated; boxes of consecutive
    lines share little; a column of vertical text is a line of its own.
    """
    lines: list[list[Box]] = []
    extents: list[tuple[float, float]] = []
    for box in sorted(boxes, key=lambda b: ((b.top + b.bottom) / 2, b.left)):
        height = max(box.bottom - box.top, 1.0)
        best, best_overlap = None, 0.0
        for index, (top, bottom) in enumerate(extents[-3:], start=max(len(extents) - 3, 0)):
            overlap = min(bottom, box.bottom) - max(top, box.top)
            line_height = max(bottom - top, 1.0)
            share = overlap / min(height, line_height)
            comparable = max(height, line_height) <= 2.5 * min(height, line_height)
            if comparable and share >= 0.5 and share > best_overlap:
                best, best_overlap = index, share
        if best is None:
            lines.append([box])
            extents.append((box.top, box.bottom))
        else:
            lines[best].append(box)
            top, bottom = extents[best]
            extents[best] = (min(top, box.top), max(bottom, box.bottom))
    ordered = [sorted(line, key=lambda b: b.left) for line in lines]
    ordered.sort(key=lambda line: min(b.top for b in line))
    return ordered


def lines_to_text(lines: list[list[Box]]) -> str:
    """One text line per line of boxes; boxes joined directly between Chinese characters, else by a space."""
    out = []
    for line in lines:
        text = line[0].text
        for box in line[1:]:
            text += ("" if _wide(text[-1]) and _wide(box.text[0]) else " ") + box.text
        out.append(text)
    return "\n".join(out)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _clean(text: str) -> str:
    return " ".join(str(text or "").split())


def _pillow(path):
    try:
        from PIL import Image
    except ImportError:
        raise ToolMissing(path, "Pillow", PILLOW_INSTALL, "OCR of images") from None
    return Image


def _load_engine(path):
    """The engine, loaded on first use and kept for the life of the process."""
    global _engine
    if _engine is not None:
        return _engine
    with _engine_lock:
        if _engine is None:
            missing = missing_tool()
            if missing is not None:
                raise ToolMissing(path, missing[0], missing[1], "OCR of scans and images")
            import rapidocr

            folder = Path(rapidocr.__file__).parent / "models"
            # Scores are filtered here (MIN_SCORE), after the upside-down check that needs them all.
            # Detection at the image's own size up to 2000 px (the engine's default enlarges a
            # short side to 736 px: a one-line strip 1240 x 232 became 3934 x 736, 3x the work).
            params = {"Global.log_level": "error", "Global.use_cls": False, "Global.text_score": 0.0,
                      "Det.limit_type": "max", "Det.limit_side_len": 2000}
            for role, name in MODELS.items():
                if not (folder / name).is_file():  # never let the engine fetch a model instead
                    raise ReadError(path, f"OCR model {name} is missing from {folder}; reinstall: {INSTALL}")
                params[role] = str(folder / name)
            threads = os.environ.get(THREADS_ENV, "").strip()
            if threads.isdigit() and int(threads) > 0:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
            _engine = rapidocr.RapidOCR(params=params)
    return _engine


def _key(image) -> str:
    """sha256 of the image's bytes (encoded file, or mode, size and pixels) and the engine version."""
    digest = hashlib.sha256(engine_version().encode())
    if isinstance(image, (bytes, bytearray, memoryview)):
        digest.update(b"bytes\0")
        digest.update(image)
    else:
        digest.update(f"pixels\0{image.mode}\0{image.size}\0".encode())
        digest.update(image.tobytes())
    return digest.hexdigest()


def _cache_get(key: str) -> str | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return (folder / key[:2] / f"{key}.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _cache_put(key: str, text: str) -> None:
    """Write atomically (temporary file, then rename): workers may write the same key at once."""
    folder = cache_dir()
    if folder is None:
        return
    target = folder / key[:2] / f"{key}.txt"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{key}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError:  # a read-only or full disk costs the cache, not the document
        pass
