"""Bad files, 30+ kinds: one clear line each naming the file and the cause, bounded memory, the batch
goes on, the exit code says failure, and nothing stored before is lost."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from support import ROOT
from kb.search import KnowledgeBase
from stress_config import FULL

pytestmark = pytest.mark.stress

# The whole ingest process tree, whatever the files: 1 GB, or 3 GB where the OCR engine is loaded
# (onnxruntime and its models hold ~0.8-1.2 GB in each of the two worker processes).
MEMORY_LIMIT_MB = 1024


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf_bytes() -> bytes:
    return (ROOT / "tests" / "fixtures" / "read" / "chinese.pdf").read_bytes()


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    return buffer.getvalue()


def bad_corpus(root: Path) -> dict[str, str]:
    """Write the bad files; returns name -> what must happen ('failed' or 'skipped')."""
    rng = random.Random(5)
    good_docx = _docx(["关于统战工作的通知", "正文内容。"])
    files: dict[str, tuple[bytes | str | None, str]] = {
        "empty.txt": (b"", "failed"),
        "whitespace.txt": ("  \n\t \u3000\n", "failed"),
        "binary-noise.txt": (bytes(rng.randrange(256) for _ in range(20000)), "failed"),
        "nul-bytes.txt": ("统战工作\x00\x00\x00报告\x00".encode("utf-8") * 200, "failed"),
        "random.md": (bytes(rng.randrange(256) for _ in range(5000)), "failed"),
        "truncated.docx": (good_docx[: len(good_docx) // 2], "failed"),
        "not-a-zip.docx": (b"PK\x03\x04 this is not a zip at all", "failed"),
        "zip-without-document.docx": (_zip_without_document(), "failed"),
        "zip-bomb.docx": (_zip_bomb(), "failed"),
        "truncated.pdf": (_pdf_bytes()[:400], "failed"),
        "garbage.pdf": (b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(3000)), "failed"),
        "encrypted.pdf": ((ROOT / "tests" / "fixtures" / "read" / "encrypted.pdf").read_bytes(), "failed"),
        "png-renamed.pdf": (b"\x89PNG\r\n\x1a\n" + b"\1" * 100, "failed"),
        "too-large.txt": (None, "failed"),  # 200 MB, refused before reading
        "invalid-utf8.txt": (b"\xff\xfe\xfd" + "统战".encode("gbk") + b"\x80\x81" * 50, "failed"),
        "only-markup.html": ("<html><head><script>var a=1;</script></head><body><div></div></body></html>", "failed"),
        "scrape-noise-only.txt": ("预览加载中,请您耐心等待几秒...\n1/8\n2/8\n在线预览结束,喜欢就下载吧", "failed"),
        "symbols-only.txt": ("。。。,,,!!!———……" * 50, "failed"),
        "image.png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, _ocr_or_skip("failed")),
        "image-bomb.png": (_image_bomb(), _ocr_or_skip("failed")),
        "archive.zip": (b"PK\x05\x06" + b"\0" * 18, "skipped"),  # an archive with nothing in it
        "legacy.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, "failed"),
        "spreadsheet-as.doc": ((ROOT / "tests" / "fixtures" / "read" / "office" / "table.xls").read_bytes(), "failed"),
        "spreadsheet.xlsx": (b"PK\x03\x04", "failed"),
        "corrupt.ofd": (b"PK\x03\x04 not an OFD package", "failed"),
        "ofd-without-pages.ofd": (_ofd_without_pages(), "failed"),
        "garbage.rtf": (b"{\\rtf1" + bytes(rng.randrange(256) for _ in range(2000)), "failed"),
        "no-extension": ("统战工作", "skipped"),
    }
    expected: dict[str, str] = {}
    for name, (content, outcome) in files.items():
        path = root / name
        if content is None:
            with open(path, "wb") as f:
                f.truncate(200 * 1024 * 1024)  # sparse: 200 MB without using the disk
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        expected[name] = outcome
    # text files that are odd but readable: they must ingest, not fail
    readable = {
        "one-10mb-line.txt": ("统战工作" * (10 * 1024 * 1024 // 12)).encode("utf-8"),
        "mixed-encodings.txt": "统一战线工作\n".encode("utf-8") + "民营经济\n".encode("gbk") + "乡村振兴\n".encode("utf-8"),
        "lone-surrogates.html": ('<html><head><meta charset="utf-8"></head><body><p>统一战线'.encode("utf-8")
                                 + b"\xed\xa0\x80\xed\xb0\x80" + "工作总结</p></body></html>".encode("utf-8")),
        "deep.html": ("<div>" * 50_000 + "统战工作深层嵌套" + "</div>" * 50_000).encode("utf-8"),
        "utf16-nobom.txt": "统一战线工作总结\n二〇二一年".encode("utf-16-le"),
        "gbk.txt": "关于统战工作的报告\n民营经济。".encode("gbk"),
        "big5.txt": "關於統戰工作的報告\n民營經濟。".encode("big5"),
        "name with spaces & 'quotes' \"x\".txt": "统战工作 空格文件名".encode("utf-8"),
        "名字-🙂-emoji.md": "# 统战工作\n表情文件名".encode("utf-8"),
        ("长" * 80) + ".txt": "统战工作 长文件名".encode("utf-8"),
        "-leading-dash.txt": "统战工作 连字符开头".encode("utf-8"),
        "line\nbreak.txt": "统战工作 换行文件名".encode("utf-8"),
        "<img src=x onerror=alert(1)>.txt": "统战工作 脚本文件名".encode("utf-8"),
    }
    for name, content in readable.items():
        (root / name).write_bytes(content)
        expected[name] = "added"
    # a scan of many pages: read page by page, memory stays flat (200 pages in the full campaign)
    (root / "scan-pages.pdf").write_bytes(_scan_pdf(200 if FULL else 12))
    expected["scan-pages.pdf"] = _ocr_or_skip("added|failed")  # OCR may read the smudge as a stroke: either is fine
    # an archive with members that try to leave their folder: those are left out, the rest is read
    (root / "traversal.zip").write_bytes((ROOT / "tests" / "fixtures" / "read" / "office" / "traversal.zip").read_bytes())
    # things a folder walk meets
    (root / "loop").mkdir()
    os.symlink(root / "loop", root / "loop" / "again")  # a symlink loop
    os.symlink(root / "missing-target.txt", root / "dangling.txt")
    expected["dangling.txt"] = "failed"
    os.mkfifo(root / "a-pipe.txt")
    expected["a-pipe.txt"] = "failed"
    (root / "folder.txt").mkdir()  # a folder with a file's name
    return expected


def _ocr_or_skip(outcome: str) -> str:
    """Images are read by OCR; without the engine they are skipped (its install command named)."""
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return "skipped"
    return outcome


def _image_bomb() -> bytes:
    """A PNG whose header declares 100,000 × 100,000 pixels (10 gigapixels) over a few bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


def _ofd_without_pages() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("OFD.xml", '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody>'
                              '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        z.writestr("Doc_0/Document.xml", '<?xml version="1.0"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
                                         '<ofd:Pages/></ofd:Document>')
    return buffer.getvalue()


def _scan_pdf(pages: int) -> bytes:
    """A scan: a PDF whose pages are images only (blank paper with a smudge), for OCR's bounds."""
    from PIL import Image, ImageDraw

    images = []
    for i in range(pages):
        image = Image.new("L", (400, 560), 255)
        ImageDraw.Draw(image).rectangle((40 + i % 7, 60, 60 + i % 7, 64), fill=0)
        images.append(image.convert("RGB"))
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=50)
    return buffer.getvalue()


def _zip_without_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "not a word document")
    return buffer.getvalue()


def _tree_rss_mb(pid: int) -> float:
    sys.path.insert(0, str(ROOT))
    from bench.measure import tree_rss_kb

    return tree_rss_kb(pid) / 1024


def test_bad_files_are_reported_and_the_rest_is_kept(tmp_path):
    index_dir = tmp_path / "index"
    good = tmp_path / "good"
    good.mkdir()
    (good / "kept.txt").write_text("关于统一战线工作的报告\n这份文档在坏文件之前入库。\n2020年1月1日", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(ROOT / "ingest.py"), str(good), "--index", str(index_dir)], env=env, check=True,
                   capture_output=True)

    bad = tmp_path / "bad"
    bad.mkdir()
    expected = bad_corpus(bad)
    process = subprocess.Popen([sys.executable, str(ROOT / "ingest.py"), str(bad), "--index", str(index_dir),
                                "--json", "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0.0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate(timeout=900)
    sampler.join()
    import json

    report = json.loads(out)
    by_name = {}
    for result in report["files"]:
        by_name[Path(result["path"]).name] = result
    kinds = 0
    for name, outcome in expected.items():
        result = by_name.get(name)
        assert result is not None, f"{name!r} not reported"
        assert result["status"] in outcome.split("|"), (name, result)
        if outcome not in ("added", "added|failed") or result["status"] != "added":
            assert result["message"], name
            line = next(l for l in err.decode("utf-8", "replace").splitlines() if name.split("\n")[0] in l)
            assert line.startswith(("failed: ", "skipped: ")), line
        kinds += 1
    members = {r["path"].split("traversal.zip!/", 1)[1]: r for r in report["files"] if "traversal.zip!/" in r["path"]}
    assert members["ok/好.txt"]["status"] == "added"
    assert {"../evil.txt", "/etc/evil.txt", "a/../../evil.txt"} <= {m.split(":")[0] for m in members}
    assert all(r["status"] == "skipped" for name, r in members.items() if "evil" in name)
    assert not (tmp_path / "evil.txt").exists() and not list(tmp_path.rglob("evil.txt"))
    assert process.returncode == 1  # something failed
    limit = MEMORY_LIMIT_MB if _ocr_or_skip("ocr") == "skipped" else 3 * MEMORY_LIMIT_MB
    assert peak[0] < limit, f"ingest used {peak[0]:.0f} MB"
    kb = KnowledgeBase(index_dir)
    assert kb.search("坏文件之前入库").total == 1  # nothing stored before is lost
    assert kb.search("深层嵌套").total == 1 and kb.search("表情文件名").total == 1
    print(f"\nbad files: {kinds} kinds handled, peak memory {peak[0]:.0f} MB (limit {limit} MB)")
