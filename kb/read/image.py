"""Images (.png .jpg .jpeg .tif .tiff .bmp .webp .gif): photos and scans, read by OCR (kb.read.ocr).

A multi-page TIFF gives one page per frame, PAGE_BREAK between them, one frame decoded at a
time and at most MAX_PAGES of them; an animated GIF or WebP gives its first frame only (the
others repeat it). The pixel limit is checked on the header, before anything is decoded, so an
image bomb is one ReadError and no memory.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from kb.documents import PAGE_BREAK, Extracted
from kb.errors import ReadError
from kb.read import ocr

MAX_PAGES = 300  # frames of one TIFF OCR'd; the rest are named in a warning
_MULTI_PAGE = frozenset(("TIFF", "MPO"))


def read(path: Path, data: bytes) -> Extracted:
    """OCR every page of the image; ReadError when it is not an image or OCR finds no text."""
    Image = ocr._pillow(path)
    try:
        with warnings.catch_warnings():  # Pillow warns above 89 Mpx; ocr.check_pixels decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ReadError(path, f"image too large to decode safely ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ReadError(path, f"not a readable image ({type(exc).__name__}: {exc})") from exc
    with image:
        frames = getattr(image, "n_frames", 1) if image.format in _MULTI_PAGE else 1
        notes: list[str] = []
        if frames > MAX_PAGES:
            notes.append(f"only the first {MAX_PAGES} of {frames} pages were OCR'd")
        texts = []
        if frames == 1:
            ocr.check_pixels(image, path)
            # The file's own bytes are the cache key: a cached image is not even decoded.
            texts.append(ocr.recognize(data, path=path))
            ocr.page_done(path, 1, 1)
        else:
            for index in range(min(frames, MAX_PAGES)):
                try:
                    image.seek(index)
                    ocr.check_pixels(image, path)
                    image.load()
                except ReadError:
                    raise
                except (OSError, ValueError, EOFError) as exc:  # a truncated frame: keep the others
                    notes.append(f"page {index + 1} could not be decoded ({type(exc).__name__}: {exc})")
                    texts.append("")
                    continue
                texts.append(ocr.recognize(image, path=path))
                ocr.page_done(path, index + 1, min(frames, MAX_PAGES))
    if not any(text.strip() for text in texts):
        raise ReadError(path, "OCR found no text in this image")
    return Extracted(
        text=PAGE_BREAK.join(texts),
        fmt="image",
        warnings=notes,
        ocr_pages=len(texts),
        tool=ocr.tool_name(),
    )
