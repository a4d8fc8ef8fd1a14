"""OCR benchmark: character error rate and seconds per page of each OCR engine installed here.

    python -m bench.ocr [--pages 3] [--repeat 1] [--threads N] [--json OUT]

Pages: paragraphs of real text (../shared/corpus/national-reports, seeded choice) rendered as
A4 scans at 300 dpi with a CJK font from Debian (fonts-noto-cjk or fonts-wqy-microhei): a
公文-like page (serif, 16 pt) and a report page (sans, 12 pt), each also degraded (blur, noise,
1.5 degree rotation, 200 dpi, JPEG q40); plus ../shared/corpus/formats/word-pdf/pdf/ocr_test.pdf
rendered with pypdfium2. Without ../shared it says so and uses two paragraphs of its own.

CER = edit distance / reference length, whitespace ignored (reading order counts: lines come
out in the order the engine's boxes are put into lines by kb.read.ocr.order_lines; tesseract
orders its own). Seconds per page: median over pages after one warm-up page (engine load
reported apart), wall clock and CPU seconds (this 2-core machine is shared: CPU seconds move
less with the neighbours' load than wall clock does).

Engines: rapidocr (3.x, PP-OCRv6 models in its wheel: what kb.read.ocr runs),
rapidocr_onnxruntime (1.4, PP-OCRv4) and tesseract (Debian tesseract-ocr + tesseract-ocr-chi-sim) when each is there;
the others are skipped with the reason. Run it with another interpreter to measure an engine
installed elsewhere: /tmp/venv/bin/python -m bench.ocr.

Measured 2026-12-01 on this 2-core machine (shared: wall clock 1.5-8x the CPU time), 13 pages
(6 rendered + 6 degraded + ocr_test.pdf), --threads 1:

| engine                               | CER clean | degraded | ocr_test.pdf | CPU s/page |
|--------------------------------------|-----------|----------|--------------|------------|
| rapidocr 3.10.0, PP-OCRv6, cls off   | 0.0%      | 0.3%     | 0.0%         | 5.1        |
| rapidocr 3.10.0, cls on (default)    | 0.9%      | 0.3%     | 0.0%         | 5.2        |
| rapidocr_onnxruntime 1.4.4, PP-OCRv4 | 0.3%      | 0.1%     | 0.0%         | 5.7        |
| tesseract 5.3.0 chi_sim (Debian)     | 3.1%      | 2.1%     | 40.0%        | 1.4        |

(cls on: the line classifier turned one upright line upside down, 5.2% CER on that page.
ocr_test.pdf has vertical text, which tesseract's chi_sim misses. PaddleOCR 3.7 was not run:
its wheel holds no models and it fetches them from model hosts at run time.)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REPORTS = SHARED / "corpus" / "national-reports" / "docs"
OCR_TEST_PDF = SHARED / "corpus" / "formats" / "word-pdf" / "pdf" / "ocr_test.pdf"
OCR_TEST_TEXT = "我是文字\n横向文本框\n竖向文本框\nEnglish text"
FONTS = {
    "serif": ["/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"],
    "sans": ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"],
}
# Used only when ../shared is absent (our own words).
FALLBACK_TEXT = (
    "一年来，全县上下坚持稳中求进工作总基调，统筹推进乡村振兴、防汛救灾和民营经济发展，"
    "主要经济指标保持平稳增长，城乡居民收入稳步提高，社会大局和谐稳定。\n"
    "新的一年，我们将持续深化改革开放，优化营商环境，加强基础设施建设，"
    "办好民生实事，推动经济社会高质量发展迈上新台阶。"
)
DPI = 300
NO_LINE_START = set("，。、；：？！）》」』”’%．,.;:?!)")
A4_MM = (210, 297)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- pages -------------------------------------------------------------------------------------


def font_path(kind: str) -> str | None:
    return next((path for path in FONTS[kind] if Path(path).exists()), None)


def paragraphs(count_chars: int, seed: int) -> str:
    """About `count_chars` characters of consecutive paragraphs from one national report."""
    rng = random.Random(seed)
    files = sorted(REPORTS.glob("*.txt"))
    text = files[rng.randrange(len(files))].read_text(encoding="utf-8")
    paras = [p.strip() for p in text.split("\n") if len(p.strip()) > 40]
    start = rng.randrange(max(len(paras) - 10, 1))
    out = []
    for para in paras[start:]:
        out.append(para)
        if sum(map(len, out)) >= count_chars:
            break
    return "\n".join(out)[: count_chars + 200]


def render_page(text: str, kind: str, points: float, dpi: int = DPI):
    """An A4 page image of `text`, wrapped to the margins; returns (image, the text as laid out)."""
    from PIL import Image, ImageDraw, ImageFont

    px_per_mm = dpi / 25.4
    width, height = int(A4_MM[0] * px_per_mm), int(A4_MM[1] * px_per_mm)
    size = int(points / 72 * dpi)
    font = ImageFont.truetype(font_path(kind), size)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    left, top = int(28 * px_per_mm), int(37 * px_per_mm)  # GB/T 9704 margins, roughly
    line_width = width - left - int(26 * px_per_mm)
    step = int(size * 1.6)
    y, laid = top, []
    for para in text.split("\n"):
        line = "　　"  # paragraphs start with two full-width spaces, as official documents do
        for char in para:
            if draw.textlength(line + char, font=font) > line_width and char not in NO_LINE_START:
                laid.append(line)
                line = ""
            line += char  # closing punctuation hangs at the line's end, as typesetters do
        laid.append(line)
    kept = []
    for line in laid:
        if y + step > height - int(35 * px_per_mm):
            break
        draw.text((left, y), line, font=font, fill=0)
        kept.append(line.strip("　"))
        y += step
    return image, "\n".join(kept)


def degrade(image, seed: int):
    """A poor scan of `image`: 200 dpi, slight rotation, blur, speckle noise, JPEG q40."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    small = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.BILINEAR)
    rotated = small.rotate(1.5, resample=Image.BICUBIC, expand=False, fillcolor=255)
    blurred = rotated.filter(ImageFilter.GaussianBlur(0.8))
    pixels = blurred.load()
    for _ in range(blurred.width * blurred.height // 200):
        x, y = rng.randrange(blurred.width), rng.randrange(blurred.height)
        pixels[x, y] = rng.choice((0, 90, 200))
    buffer = io.BytesIO()
    blurred.save(buffer, "JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def pdf_page_image(path: Path, dpi: int = DPI):
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return document[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()


def test_pages(count: int) -> tuple[list[tuple[str, object, str]], str]:
    """[(name, image, reference)], and a note on where the text came from."""
    pages = []
    shared = REPORTS.exists()
    note = "text: ../shared/corpus/national-reports" if shared else (
        f"../shared is absent ({SHARED}): pages rendered from built-in text only, no ocr_test.pdf"
    )
    layouts = [("gongwen", "serif", 16.0, 520), ("report", "sans", 12.0, 950)]
    for number in range(count):
        name, kind, points, chars = layouts[number % len(layouts)]
        text = paragraphs(chars, seed=number) if shared else FALLBACK_TEXT
        image, reference = render_page(text, kind, points)
        pages.append((f"{name}-{number}", image, reference))
        pages.append((f"{name}-{number}-degraded", degrade(image, seed=number), reference))
    if OCR_TEST_PDF.exists():
        try:
            pages.append(("ocr_test.pdf", pdf_page_image(OCR_TEST_PDF), OCR_TEST_TEXT))
        except ImportError:
            note += "; pypdfium2 absent: ocr_test.pdf left out"
    return pages, note


# --- engines -----------------------------------------------------------------------------------


def engine_rapidocr(threads: int | None):
    """What kb.read.ocr runs: rapidocr 3 with the PP-OCRv6 models of its wheel."""
    if threads:
        os.environ["KB_OCR_THREADS"] = str(threads)
    from kb.read import ocr

    if ocr.available():
        raise RuntimeError(ocr.available())

    def run(image):
        return ocr.lines_to_text(ocr.order_lines(ocr.run_engine(image)))

    return run, ocr.engine_version()


def engine_rapidocr_onnxruntime(threads: int | None):
    """The older package (PP-OCRv4 models in its wheel; needs opencv-python and libGL)."""
    import numpy
    from importlib.metadata import version

    from rapidocr_onnxruntime import RapidOCR

    from kb.read import ocr

    engine = RapidOCR(**({"intra_op_num_threads": threads} if threads else {}))

    def run(image):
        result, _ = engine(numpy.asarray(ocr.prepare(image)))
        boxes = [
            ocr.Box(tuple((float(x), float(y)) for x, y in points), " ".join(str(text).split()), float(score))
            for points, text, score in result or ()
            if str(text).strip() and float(score) >= ocr.MIN_SCORE
        ]
        return ocr.lines_to_text(ocr.order_lines(boxes))

    return run, f"rapidocr_onnxruntime-{version('rapidocr_onnxruntime')}"


def engine_tesseract(threads: int | None):
    program = shutil.which("tesseract")
    if program is None:
        raise RuntimeError("tesseract absent: apt-get install tesseract-ocr tesseract-ocr-chi-sim")
    langs = subprocess.run([program, "--list-langs"], capture_output=True, text=True).stdout.split()
    if "chi_sim" not in langs:
        raise RuntimeError("tesseract has no chi_sim: apt-get install tesseract-ocr-chi-sim")
    env = dict(os.environ, OMP_THREAD_LIMIT=str(threads or os.cpu_count() or 1))
    between_cjk = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[\u3000-\u9fff\uff00-\uffef])")

    def run(image):
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "page.png"
            image.save(source)
            out = subprocess.run(
                [program, str(source), "-", "-l", "chi_sim", "--psm", "3"],
                capture_output=True, text=True, env=env, check=True,
            ).stdout
        lines = [between_cjk.sub("", line).strip() for line in out.splitlines()]
        return "\n".join(line for line in lines if line)

    version = subprocess.run([program, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return run, version


ENGINES = {
    "rapidocr": engine_rapidocr,
    "rapidocr_onnxruntime": engine_rapidocr_onnxruntime,
    "tesseract": engine_tesseract,
}


# --- measuring ---------------------------------------------------------------------------------


def distance(a: str, b: str) -> int:
    try:
        from rapidfuzz.distance import Levenshtein

        return Levenshtein.distance(a, b)
    except ImportError:
        previous = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            current = [i]
            for j, cb in enumerate(b, 1):
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
            previous = current
        return previous[-1]


def cer(found: str, reference: str) -> float:
    squeeze = lambda s: "".join(s.split())  # noqa: E731
    reference = squeeze(reference)
    return distance(squeeze(found), reference) / max(len(reference), 1)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (tesseract runs as one)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(name: str, pages, threads: int | None, repeat: int) -> dict:
    started = time.perf_counter()
    try:
        run, version = ENGINES[name](threads)
        run(pages[0][1])  # warm-up: loads the models
    except Exception as exc:  # an engine that is absent or broken is reported, not fatal
        return {"engine": name, "skipped": f"{type(exc).__name__}: {exc}"}
    load = time.perf_counter() - started
    rows = []
    for page_name, image, reference in pages:
        times, cpus = [], []
        for _ in range(repeat):
            began, cpu = time.perf_counter(), _cpu()
            text = run(image)
            times.append(time.perf_counter() - began)
            cpus.append(_cpu() - cpu)
        rows.append({"page": page_name, "cer": round(cer(text, reference), 4), "s": round(min(times), 3),
                     "cpu_s": round(min(cpus), 3), "chars": len("".join(reference.split())), "text": text})
    clean = [r["cer"] for r in rows if "degraded" not in r["page"] and r["page"] != "ocr_test.pdf"]
    degraded = [r["cer"] for r in rows if "degraded" in r["page"]]
    return {
        "engine": name,
        "version": version,
        "load_and_first_page_s": round(load, 2),
        "median_s_per_page": round(statistics.median(r["s"] for r in rows), 2),
        "median_cpu_s_per_page": round(statistics.median(r["cpu_s"] for r in rows), 2),
        "cer_clean": round(statistics.mean(clean), 4) if clean else None,
        "cer_degraded": round(statistics.mean(degraded), 4) if degraded else None,
        "cer_ocr_test_pdf": next((r["cer"] for r in rows if r["page"] == "ocr_test.pdf"), None),
        "pages": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=4, help="rendered pages (each also degraded)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per page (the fastest counts)")
    parser.add_argument("--threads", type=int, default=None, help="engine threads (default: all cores)")
    parser.add_argument("--engines", nargs="*", default=list(ENGINES))
    parser.add_argument("--json", type=Path, help="write every result, texts included")
    parser.add_argument("--save-pages", type=Path, help="write the test pages as PNG here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if not (font_path("serif") and font_path("sans")):
        print("no CJK font to render pages: apt-get install fonts-noto-cjk (or fonts-wqy-microhei)")
        return 2
    pages, note = test_pages(args.pages)
    print(f"OCR benchmark: {len(pages)} pages; {note}; {os.cpu_count()} cores, threads={args.threads or 'all'}")
    if args.save_pages:
        args.save_pages.mkdir(parents=True, exist_ok=True)
        for page_name, image, _ in pages:
            image.save(args.save_pages / f"{page_name}.png")
    results = [measure(name, pages, args.threads, args.repeat) for name in args.engines]
    print(f"{'engine':22} {'version':40} {'CER clean':>9} {'degraded':>9} {'ocr_test':>9} {'s/page':>7} {'cpu s':>6} {'load s':>7}")
    for result in results:
        if "skipped" in result:
            print(f"{result['engine']:24} skipped: {result['skipped']}")
            continue
        fmt = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
        print(f"{result['engine']:22} {result['version'][:40]:40} {fmt(result['cer_clean']):>9} "
              f"{fmt(result['cer_degraded']):>9} {fmt(result['cer_ocr_test_pdf']):>9} "
              f"{result['median_s_per_page']:7.2f} {result['median_cpu_s_per_page']:6.2f} "
              f"{result['load_and_first_page_s']:7.2f}")
        for row in result["pages"]:
            print(f"    {row['page']:28} CER {row['cer']:6.1%}  {row['s']:6.2f} s  {row['cpu_s']:6.2f} cpu s  "
                  f"({row['chars']} chars)")
    if args.json:
        args.json.write_text(json.dumps({"note": note, "results": results}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
