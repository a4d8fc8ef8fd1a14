"""kb.read.ocr, kb.read.image and the OCR of scanned PDF pages (kb.read.pdf).

Fixtures: tests/fixtures/read/ocr/*.png, rendered from text we wrote (make_images.py beside
them); PDFs and image variants are made here from them. Tests that run the engine skip, naming
the package and its install command, when it is absent; the rest (line order, cache, limits,
a missing engine) run everywhere.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from kb.documents import PAGE_BREAK
from kb.errors import ReadError, ToolMissing
from kb.read import image as image_reader
from kb.read import ocr, pdf

PIL = pytest.importorskip("PIL", reason=f"Pillow is not installed; install it with: {ocr.PILLOW_INSTALL}")
from PIL import Image  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "read"
OCR_FIXTURES = FIXTURES / "ocr"
NOTICE = (OCR_FIXTURES / "notice.txt").read_text(encoding="utf-8").strip()
SCAN = (OCR_FIXTURES / "scan.txt").read_text(encoding="utf-8").strip()

needs_engine = pytest.mark.skipif(ocr.available() is not None, reason=f"OCR engine absent: {ocr.available()}")


@pytest.fixture(autouse=True)
def no_cache_unless_asked(monkeypatch):
    """Each test starts with no cache folder set, no KB_OCR_CACHE and no progress callback."""
    monkeypatch.setattr(ocr, "_progress", None)
    monkeypatch.setattr(ocr, "_cache_dir", None)
    monkeypatch.setattr(ocr, "_cache_set", False)
    monkeypatch.delenv(ocr.CACHE_ENV, raising=False)


def png(name: str) -> bytes:
    return (OCR_FIXTURES / name).read_bytes()


def encoded(picture, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def squeezed(text: str) -> str:
    return "".join(text.split())


# --- reading order (no engine needed) -----------------------------------------------------------


def box(left: float, top: float, right: float, bottom: float, text: str) -> ocr.Box:
    return ocr.Box(((left, top), (right, top), (right, bottom), (left, bottom)), text)


def test_boxes_on_one_line_are_joined_left_to_right_lines_top_to_bottom():
    boxes = [
        box(600, 210, 900, 250, "第二行右"),
        box(100, 100, 400, 140, "第一行左"),
        box(100, 205, 400, 245, "第二行左"),
        box(500, 104, 800, 146, "第一行右"),  # slightly lower: a skewed scan
        box(100, 300, 420, 340, "Total 42"),
        box(450, 302, 700, 342, "元"),
    ]
    assert ocr.lines_to_text(ocr.order_lines(boxes)) == "第一行左第一行右\n第二行左第二行右\nTotal 42 元"


def test_a_vertical_column_is_a_line_of_its_own():
    boxes = [box(100, 100, 140, 400, "竖向文本框"), box(300, 200, 600, 240, "English text")]
    assert ocr.lines_to_text(ocr.order_lines(boxes)) == "竖向文本框\nEnglish text"


# --- cache (no engine needed: the engine is replaced) -----------------------------------------


@pytest.fixture
def fake_engine(monkeypatch):
    """run_engine replaced by a counter that 'reads' one line."""
    calls = []

    def run(picture, *, path="<image>"):
        calls.append(picture.size)
        return [box(0, 0, 100, 20, f"第{len(calls)}次识别")]

    monkeypatch.setattr(ocr, "run_engine", run)
    return calls


def test_results_are_cached_by_content_hash(tmp_path, fake_engine):
    ocr.set_cache_dir(tmp_path / "ocr-cache")
    data = png("scan.png")
    assert ocr.recognize(data) == "第1次识别"
    assert ocr.recognize(data) == "第1次识别"  # from the cache: the engine ran once
    assert ocr.recognize(Image.open(io.BytesIO(data))) == "第2次识别"  # pixels: another key
    assert ocr.recognize(Image.open(io.BytesIO(data))) == "第2次识别"
    assert len(fake_engine) == 2
    assert len(list((tmp_path / "ocr-cache").rglob("*.txt"))) == 2


def test_cache_key_includes_the_engine_version(tmp_path, fake_engine, monkeypatch):
    ocr.set_cache_dir(tmp_path)
    ocr.recognize(png("scan.png"))
    monkeypatch.setattr(ocr, "engine_version", lambda: "another-engine-9")
    assert ocr.recognize(png("scan.png")) == "第2次识别"


def test_cache_folder_from_the_environment_and_none_by_default(tmp_path, fake_engine, monkeypatch):
    ocr.recognize(png("scan.png"))
    ocr.recognize(png("scan.png"))
    assert len(fake_engine) == 2 and ocr.cache_dir() is None  # default: no cache
    monkeypatch.setenv(ocr.CACHE_ENV, str(tmp_path / "env-cache"))
    ocr.recognize(png("scan.png"))
    ocr.recognize(png("scan.png"))
    assert len(fake_engine) == 3 and list((tmp_path / "env-cache").rglob("*.txt"))
    ocr.set_cache_dir(None)  # an explicit None wins over the environment
    ocr.recognize(png("scan.png"))
    assert len(fake_engine) == 4


def test_an_unwritable_cache_costs_the_cache_not_the_text(tmp_path, fake_engine):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ocr.set_cache_dir(blocker / "cache")
    assert ocr.recognize(png("scan.png")) == "第1次识别"


# --- limits and bad input (no engine needed) --------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` pixels and holds almost nothing (an image bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(11_000, 11_000), (100_000, 100_000)], ids=["over-our-limit", "huge"])
def test_image_bomb_is_refused_before_decoding(tmp_path, fake_engine, width, height):
    with pytest.raises(ReadError) as caught:
        image_reader.read(tmp_path / "bomb.png", png_header(width, height))
    assert "limit" in caught.value.cause or "too large" in caught.value.cause
    assert fake_engine == []


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "这不是图片".encode(), png("scan.png")[:300]],
    ids=["broken-header", "text", "truncated"],
)
def test_not_an_image_is_one_read_error(tmp_path, fake_engine, data):
    with pytest.raises(ReadError) as caught:
        image_reader.read(tmp_path / "bad.png", data)
    assert "image" in caught.value.cause and caught.value.path.endswith("bad.png")


def test_huge_pages_are_downscaled_before_ocr(fake_engine):
    ocr.recognize(Image.new("L", (7000, 5000), 255))
    assert max(ocr.prepare(Image.new("L", (7000, 5000), 255)).size) == ocr.MAX_SIDE


def test_transparent_background_becomes_white():
    ink = Image.new("L", (40, 20), 0)
    alpha = Image.new("L", (40, 20), 0)
    alpha.paste(255, (10, 5, 20, 15))
    ink.putalpha(alpha)  # black text on a transparent background
    flat = ocr.prepare(ink.convert("RGBA"))
    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (255, 255, 255) and flat.getpixel((15, 10)) == (0, 0, 0)


def test_multi_page_tiff_is_read_one_frame_at_a_time(tmp_path, fake_engine):
    first, second = Image.open(OCR_FIXTURES / "notice.png"), Image.open(OCR_FIXTURES / "scan.png")
    data = encoded(first, "TIFF", save_all=True, append_images=[second], compression="tiff_lzw")
    extracted = image_reader.read(tmp_path / "two.tif", data)
    assert extracted.text == f"第1次识别{PAGE_BREAK}第2次识别"
    assert (extracted.fmt, extracted.ocr_pages) == ("image", 2)
    assert fake_engine == [first.size, second.size]


def test_progress_is_reported_after_each_page(tmp_path, fake_engine, monkeypatch):
    calls = []
    monkeypatch.setattr(ocr, "_progress", None)
    ocr.set_progress(lambda path, done, total: calls.append((Path(path).name, done, total)))
    first, second = Image.open(OCR_FIXTURES / "notice.png"), Image.open(OCR_FIXTURES / "scan.png")
    image_reader.read(tmp_path / "two.tif", encoded(first, "TIFF", save_all=True, append_images=[second]))
    ocr.set_progress(lambda *args: 1 / 0)  # a broken callback costs nothing
    image_reader.read(tmp_path / "one.png", png("scan.png"))
    assert calls == [("two.tif", 1, 2), ("two.tif", 2, 2)]


# --- engine absent ------------------------------------------------------------------------------


@pytest.fixture
def engine_absent(monkeypatch):
    monkeypatch.setattr(ocr, "_engine", None)
    monkeypatch.setattr(ocr, "missing_tool", lambda: (ocr.ENGINE, ocr.INSTALL))


def test_without_the_engine_an_image_is_skipped_naming_the_package(tmp_path, engine_absent):
    with pytest.raises(ToolMissing) as caught:
        image_reader.read(tmp_path / "scan.png", png("scan.png"))
    assert caught.value.tool == "rapidocr" and "pip install rapidocr==" in caught.value.cause
    assert ocr.available().startswith("rapidocr is not installed")


def mixed_pdf(*pages: str) -> bytes:
    """A PDF of pages: "text" is a page of tests/fixtures/read/chinese.pdf, a PNG name an image-only page."""
    writer = PdfWriter()
    text_pages = PdfReader(FIXTURES / "chinese.pdf").pages
    for page in pages:
        if page == "text":
            writer.add_page(text_pages[0])
        else:
            scan = encoded(Image.open(OCR_FIXTURES / page), "PDF", resolution=150)
            writer.add_page(PdfReader(io.BytesIO(scan)).pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_without_the_engine_a_scanned_pdf_is_skipped_and_a_mixed_one_warns(tmp_path, engine_absent):
    with pytest.raises(ToolMissing) as caught:
        pdf.read(tmp_path / "scan.pdf", mixed_pdf("scan.png"))
    assert caught.value.tool == "rapidocr"
    extracted = pdf.read(tmp_path / "mixed.pdf", mixed_pdf("text", "scan.png"))
    assert "知识库测试文档" in extracted.text and extracted.ocr_pages == 0
    assert extracted.warnings[0].startswith("1 of 2 pages are scans and were not OCR'd: rapidocr is not installed")


def test_a_blank_pdf_page_is_not_ocrd(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "recognize", lambda *a, **k: pytest.fail("a blank page was OCR'd"))
    writer = PdfWriter(clone_from=PdfReader(FIXTURES / "chinese.pdf"))
    writer.add_blank_page()
    buffer = io.BytesIO()
    writer.write(buffer)
    extracted = pdf.read(tmp_path / "blank.pdf", buffer.getvalue())
    assert extracted.ocr_pages == 0 and extracted.text.count(PAGE_BREAK) == 2


# --- with the engine ----------------------------------------------------------------------------


@needs_engine
def test_image_text_in_reading_order(tmp_path):
    extracted = image_reader.read(tmp_path / "notice.png", png("notice.png"))
    assert extracted.text == NOTICE
    assert (extracted.fmt, extracted.ocr_pages) == ("image", 1)
    assert extracted.tool.startswith("rapidocr ")


@needs_engine
@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("BMP", ".bmp"), ("GIF", ".gif"), ("WEBP", ".webp")])
def test_other_image_formats(tmp_path, fmt, suffix):
    data = encoded(Image.open(OCR_FIXTURES / "scan.png").convert("RGB" if fmt == "JPEG" else "L"), fmt)
    assert squeezed(image_reader.read(tmp_path / f"scan{suffix}", data).text) == squeezed(SCAN)


@needs_engine
def test_a_page_scanned_upside_down_is_read(tmp_path):
    data = encoded(Image.open(OCR_FIXTURES / "notice.png").rotate(180), "PNG")
    assert image_reader.read(tmp_path / "upside-down.png", data).text == NOTICE


@needs_engine
def test_phone_photo_orientation_from_exif(tmp_path):
    turned = Image.open(OCR_FIXTURES / "scan.png").convert("RGB").rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the camera was held sideways
    data = encoded(turned, "JPEG", exif=exif)
    assert squeezed(image_reader.read(tmp_path / "photo.jpg", data).text) == squeezed(SCAN)


@needs_engine
def test_mixed_pdf_ocrs_only_the_page_without_text(tmp_path, monkeypatch):
    seen = []
    real = ocr.recognize
    monkeypatch.setattr(ocr, "recognize", lambda picture, **k: seen.append(picture.size) or real(picture, **k))
    progress = []
    ocr.set_progress(lambda path, done, total: progress.append((Path(path).name, done, total)))
    extracted = pdf.read(tmp_path / "mixed.pdf", mixed_pdf("text", "scan.png"))
    assert progress == [("mixed.pdf", 1, 1)]
    first, second = extracted.text.split(PAGE_BREAK)
    assert first.startswith("知识库测试文档")
    assert squeezed(second) == squeezed(SCAN)
    assert extracted.ocr_pages == 1 and len(seen) == 1
    assert extracted.tool.startswith("pypdf + rapidocr ")
    assert extracted.warnings == []


@needs_engine
def test_reading_the_same_scan_again_costs_no_ocr(tmp_path, monkeypatch):
    ocr.set_cache_dir(tmp_path / "ocr-cache")
    data = mixed_pdf("scan.png", "notice.png")
    first = pdf.read(tmp_path / "scan.pdf", data)
    monkeypatch.setattr(ocr, "run_engine", lambda *a, **k: pytest.fail("OCR ran again"))
    again = pdf.read(tmp_path / "scan.pdf", data)
    assert again.text == first.text and again.ocr_pages == 2
    assert squeezed(again.text.split(PAGE_BREAK)[1]) == squeezed(NOTICE)


SHARED_OCR_TEST = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "formats" / "word-pdf" / "pdf" / "ocr_test.pdf"


@pytest.mark.shared
@needs_engine
def test_real_pdf_with_text_in_an_image():
    if not SHARED_OCR_TEST.exists():
        pytest.skip(f"real data not present: {SHARED_OCR_TEST} (../shared is only on the team's machines)")
    extracted = pdf.read(SHARED_OCR_TEST, SHARED_OCR_TEST.read_bytes())
    # The text layer says only 我是文字; the rest is an image.
    assert extracted.text.split("\n") == ["我是文字", "横向文本框", "竖向文本框", "English text"]
    assert extracted.ocr_pages == 1
