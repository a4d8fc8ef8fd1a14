"""kb.read: files -> text. Inputs are made in tmp_path or shipped in tests/fixtures/read;
the tests at the end also read ../shared/corpus/formats when it is there."""

from __future__ import annotations

import io
import json
import os
import random
import re
import zipfile
from pathlib import Path

import docx
import pytest

from kb.documents import PAGE_BREAK
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from pypdf import PdfReader, PdfWriter

import kb.read.pdf
import kb.read.walk
from kb.errors import ReadError, UnsupportedFormat
from kb.read import SUPPORTED_SUFFIXES, iter_files, read_bytes

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "read"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FORMATS = SHARED / "corpus" / "formats"

LAW = "第一条 为了规范城乡建设管理，根据有关法律法规，结合本县实际，制定本条例。\n第二条 本条例适用于本县行政区域。\n"
TRADITIONAL = "第一條 為了規範城鄉建設管理，根據有關法律法規，結合本縣實際，制定本條例。\n臺灣與香港的讀者。\n"


def read(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_bytes(path, data)


def read_error(tmp_path: Path, name: str, data: bytes) -> str:
    with pytest.raises(ReadError) as caught:
        read(tmp_path, name, data)
    assert caught.value.path.endswith(name)
    return caught.value.cause


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES >= {
        ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".xml", ".docx", ".pdf",
        ".doc", ".wps", ".rtf", ".ofd", ".xlsx", ".xls", ".pptx", ".ppt", ".png", ".jpg", ".tif",
    }
    assert not SUPPORTED_SUFFIXES & {".csv", ".tsv", ".json", ".zip"}  # data, and archives (walked by ingest)


# --- plain text and encodings ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".TXT", ".text"])
def test_utf8_text_is_returned_as_written_with_unix_line_endings(tmp_path, suffix):
    written = "标题\r\n\r\n　　第一条　全角空格、NBSP\u00a0和行尾空格保留。  \r第二条 ＡＢＣ１２３"
    extracted = read(tmp_path, "a" + suffix, written.encode("utf-8"))
    assert extracted.text == written.replace("\r\n", "\n").replace("\r", "\n")
    assert (extracted.fmt, extracted.encoding, extracted.title) == ("txt", "utf-8", None)


def test_utf8_with_a_broken_last_character_stays_utf8(tmp_path):
    # GB18030 would accept these bytes too, and turn the whole text into mojibake.
    extracted = read(tmp_path, "cut.txt", LAW.encode("utf-8") + "县".encode("utf-8")[:2])
    assert extracted.text == LAW + "\ufffd"
    assert extracted.encoding == "utf-8"
    assert extracted.warnings == ["1 invalid UTF-8 byte(s) replaced with U+FFFD"]


def test_gbk_decodes_as_gb18030(tmp_path):
    extracted = read(tmp_path, "gbk.txt", LAW.replace("\n", "\r\n").encode("gbk"))
    assert extracted.text == LAW
    assert extracted.encoding == "gb18030"


def test_short_gbk_is_not_taken_for_korean(tmp_path):
    # Seven characters are as plausible in cp949 to the detector; the tie goes to Chinese.
    assert read(tmp_path, "short.txt", "中华人民共和国".encode("gbk")).text == "中华人民共和国"


def test_gb18030_only_characters(tmp_path):
    written = "扩展字符𠀀𠀁𪚥与㐀、〇在GB18030里用四个字节编码。" + LAW
    extracted = read(tmp_path, "ext.txt", written.encode("gb18030"))
    assert extracted.text == written
    assert extracted.encoding == "gb18030"


def test_big5_traditional(tmp_path):
    extracted = read(tmp_path, "big5.txt", TRADITIONAL.encode("big5"))
    assert extracted.text == TRADITIONAL
    assert extracted.encoding in {"cp950", "big5hkscs"}


def test_big5_with_hong_kong_characters_falls_back_to_big5hkscs(tmp_path):
    written = "佢哋喺度食緊嘢㗎，唔該晒你嘅幫忙。香港的粵語用字。\n"  # 哋, 嘢, 㗎 are not in cp950
    extracted = read(tmp_path, "hk.txt", written.encode("big5hkscs"))
    assert (extracted.text, extracted.encoding) == (written, "big5hkscs")


CJK_ONLY = "为了规范城乡建设管理制定本条例"  # in UTF-16 this has no NUL byte at all


@pytest.mark.parametrize(
    "encoded, written, encoding",
    [
        (b"\xef\xbb\xbf" + LAW.encode("utf-8"), LAW, "utf-8-sig"),
        (b"\xff\xfe" + LAW.encode("utf-16-le"), LAW, "utf-16"),
        (b"\xfe\xff" + LAW.encode("utf-16-be"), LAW, "utf-16"),
        (b"\xff\xfe\x00\x00" + LAW.encode("utf-32-le"), LAW, "utf-32"),
        (b"\x00\x00\xfe\xff" + LAW.encode("utf-32-be"), LAW, "utf-32"),
        (LAW.encode("utf-16-le"), LAW, "utf-16-le"),
        (LAW.encode("utf-16-be"), LAW, "utf-16-be"),
        (CJK_ONLY.encode("utf-16-le"), CJK_ONLY, "utf-16-le"),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom", "utf32le-bom", "utf32be-bom",
         "utf16le", "utf16be", "utf16le-cjk-only"],
)
def test_unicode_with_and_without_byte_order_mark(tmp_path, encoded, written, encoding):
    extracted = read(tmp_path, "u.txt", encoded)
    assert extracted.text == written  # the byte-order mark is gone
    assert extracted.encoding == encoding


@pytest.mark.parametrize(
    "data, cause",
    [
        (b"", "empty file"),
        (b" \r\n\t\n" + "\u3000".encode("utf-8"), "whitespace-only"),
        (b"\xef\xbb\xbf", "only a byte-order mark"),
        ("正文".encode("utf-8") + b"\x00\x00\x01\x02" + "正文".encode("utf-8"), "NUL bytes"),
        (random.Random(7).randbytes(4096), "binary"),
        (bytes(1 + b % 31 for b in random.Random(8).randbytes(4096)), "binary"),
        (b"\xef\xbb\xbf" + "中文".encode("utf-8") + b"\xff\xfe\xfd", "undecodable text"),
    ],
    ids=["empty", "whitespace", "bom-only", "nul", "noise", "control-chars", "bad-utf8-after-bom"],
)
def test_unreadable_text(tmp_path, data, cause):
    assert cause in read_error(tmp_path, "bad.txt", data)


# --- markdown -------------------------------------------------------------------------------

MARKDOWN = """---
title: "前置标题"
date: 2020-05-29
---
# 丽水市制定地方性法规条例

2020年5月29日 丽水市第四届人民代表大会常务委员会第二十五次会议通过

<!-- INFO END -->

## 第一章 总则

**第一条** 为了规范*立法*活动，参见[立法法](https://example.org/law)。![图](a.png)

> 引用的段落

- 列表项一
1. 有序项

| 项目 | 说明 |
| --- | :-: |
| 甲 | 乙 |

```
code_block = *不改*
```

***
"""


def test_markdown_front_matter_title_and_markup(tmp_path):
    extracted = read(tmp_path, "law.md", MARKDOWN.encode("utf-8"))
    assert extracted.fmt == "md"
    assert extracted.title == "前置标题"
    assert extracted.text.split("\n") == [
        "丽水市制定地方性法规条例",
        "2020年5月29日 丽水市第四届人民代表大会常务委员会第二十五次会议通过",
        "第一章 总则",
        "第一条 为了规范立法活动，参见立法法。",
        "引用的段落",
        "列表项一",
        "1. 有序项",
        "项目\t说明",
        "甲\t乙",
        "code_block = *不改*",
    ]


def test_markdown_title_is_first_level_one_heading(tmp_path):
    body = "前言\n\n## 小节\n\n# 真正的标题\n\n正文 snake_case_name 保留。\n"
    extracted = read(tmp_path, "b.markdown", body.encode("gbk"))
    assert extracted.title == "真正的标题"
    assert extracted.encoding == "gb18030"
    assert "snake_case_name" in extracted.text


def test_markdown_with_only_markup_has_no_text(tmp_path):
    assert "no text" in read_error(tmp_path, "c.md", b"---\ntitle: x\n---\n<!-- comment -->\n")


# --- HTML and feeds -------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="gbk"><title> 政府工作报告
 2021 </title><style>p {color: red}</style><script>var 脚本 = 1;</script></head>
<body><noscript>请启用脚本</noscript><template><p>模板</p></template>
<h1>标题一</h1><div>第一段<span>继续</span></div>第二段<br>第三段
<table><tr><th>地区</th><th>数量</th></tr><tr><td>祁县</td><td>3</td></tr></table>
<!-- 注释不要 --><p>乡村振兴&nbsp;和　防汛救灾</p></body></html>"""


def test_html_declared_gbk(tmp_path):
    extracted = read(tmp_path, "page.html", PAGE.encode("gbk"))
    assert (extracted.fmt, extracted.encoding) == ("html", "gb18030")
    assert extracted.title == "政府工作报告 2021"
    assert extracted.text.split("\n") == [
        "标题一", "第一段继续", "第二段", "第三段", "地区\t数量", "祁县\t3", "乡村振兴\u00a0和　防汛救灾",
    ]


def test_html_wrong_declaration_falls_back_to_detection(tmp_path):
    page = f"<html><head><meta http-equiv='Content-Type' content='text/html; charset=utf-8'></head><body><p>{LAW}</p></body></html>"
    extracted = read(tmp_path, "page.htm", page.encode("gb18030"))
    assert extracted.encoding == "gb18030"
    assert extracted.text == LAW.strip()
    assert extracted.title is None


def test_html_declared_utf8_with_a_few_broken_bytes_stays_utf8(tmp_path):
    page = '<html><head><meta charset="utf-8"></head><body><p>统一战线'.encode() + b"\xed\xa0\x80" + "工作</p></body></html>".encode()
    extracted = read(tmp_path, "page.html", page)
    assert extracted.encoding == "utf-8"
    assert extracted.text.replace("\ufffd", "") == "统一战线工作"
    assert extracted.warnings


def test_xhtml_title_from_h1(tmp_path):
    page = '<?xml version="1.0" encoding="big5"?><html xmlns="http://www.w3.org/1999/xhtml"><body><h1>臺灣</h1><p>正體中文</p></body></html>'
    extracted = read(tmp_path, "page.xhtml", page.encode("big5"))
    assert (extracted.title, extracted.text) == ("臺灣", "臺灣\n正體中文")


def test_deeply_nested_html_does_not_crash(tmp_path):
    page = "<html><body>" + "<div>" * 100_000 + "深层文字" + "</div>" * 100_000 + "<p>结尾</p></body></html>"
    assert read(tmp_path, "deep.html", page.encode("utf-8")).text == "深层文字\n结尾"


RSS = """<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>部门动态</title><link>http://example.org/</link><description>频道说明不要</description>
<item><title>第一篇</title><link>http://example.org/1</link>
<description>&lt;p&gt;转义的&lt;b&gt;HTML&lt;/b&gt;正文&lt;/p&gt;&lt;p&gt;第二段&lt;/p&gt;</description></item>
<item><title>第二篇</title><description><![CDATA[<div>CDATA 里的<a href="x">链接</a></div>]]></description>
<content:encoded><![CDATA[<p>全文优先</p>]]></content:encoded></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>原子订阅</title>
<entry><title>条目</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>内嵌</p><p>XHTML</p></div></content></entry>
<entry><title>摘要条目</title><summary type="html">&lt;i&gt;摘要&lt;/i&gt;</summary></entry>
</feed>"""


def test_rss_items_with_escaped_html(tmp_path):
    extracted = read(tmp_path, "feed.xml", RSS.encode("gb2312"))
    assert extracted.title == "部门动态"
    assert extracted.text.split("\n") == ["第一篇", "转义的HTML正文", "第二段", "第二篇", "全文优先"]


def test_atom_entries(tmp_path):
    extracted = read(tmp_path, "atom.xml", ATOM.encode("utf-8"))
    assert extracted.title == "原子订阅"
    assert extracted.text.split("\n") == ["条目", "内嵌", "XHTML", "摘要条目", "摘要"]


def test_other_xml_gives_each_element_on_a_line(tmp_path):
    xml = "<?xml version='1.0'?><laws><law><name>民法典</name><year>2020</year></law><law><name>刑法</name></law></laws>"
    extracted = read(tmp_path, "laws.xml", xml.encode("utf-8"))
    assert (extracted.text, extracted.title) == ("民法典\n2020\n刑法", None)


def test_html_without_text(tmp_path):
    assert "no text" in read_error(tmp_path, "empty.html", b"<html><script>x()</script></html>")


# --- docx -----------------------------------------------------------------------------------


def docx_bytes(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _report(document):
    document.add_paragraph("封面说明")
    document.add_paragraph("晋中市2021年工作总结", style="Title")
    document.add_heading("一、总体情况", level=1)
    document.add_paragraph("表格之前的段落。")
    table = document.add_table(rows=3, cols=3)
    for row, values in enumerate([["县区", "项目", "数量"], ["祁县", "乡村振兴", "3"], ["", "防汛救灾", "5"]]):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    table.cell(1, 0).merge(table.cell(2, 0))  # vertical merge: 祁县 once
    document.add_paragraph("表格之后的段落。")


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    extracted = read(tmp_path, "report.docx", docx_bytes(_report))
    assert extracted.fmt == "docx"
    assert extracted.title == "晋中市2021年工作总结"
    assert extracted.text.split("\n") == [
        "封面说明", "晋中市2021年工作总结", "一、总体情况", "表格之前的段落。",
        "县区\t项目\t数量", "祁县\t乡村振兴\t3", "\t防汛救灾\t5", "表格之后的段落。",
    ]


TEXT_BOX = """<w:r %s
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
  xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
  xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent>
<mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>
  <w:p><w:r><w:t>封面标题在文本框里</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>
<mc:Fallback><w:pict><v:textbox><w:txbxContent>
  <w:p><w:r><w:t>封面标题在文本框里</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback>
</mc:AlternateContent></w:r>""" % nsdecls("w")


def test_docx_text_boxes_once_after_their_paragraph(tmp_path):
    def with_text_box(document):
        document.add_paragraph("锚定段落")._p.append(parse_xml(TEXT_BOX))
        document.add_paragraph("后文")

    assert read(tmp_path, "box.docx", docx_bytes(with_text_box)).text == "锚定段落\n封面标题在文本框里\n后文"


def test_docx_title_falls_back_to_heading_1_then_none(tmp_path):
    def heading(document):
        document.add_paragraph("正文在前")
        document.add_heading("一级标题", level=1)

    assert read(tmp_path, "h.docx", docx_bytes(heading)).title == "一级标题"
    assert read(tmp_path, "n.docx", docx_bytes(lambda d: d.add_paragraph("只有正文"))).title is None


@pytest.mark.parametrize(
    "data, cause",
    [
        (b"PK\x03\x04 not really a zip", "corrupt .docx"),
        (docx_bytes(_report)[:5000], "corrupt .docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "OLE"),
    ],
    ids=["garbage", "truncated", "ole"],
)
def test_corrupt_docx(tmp_path, data, cause):
    assert cause in read_error(tmp_path, "bad.docx", data)


def test_zip_without_a_word_document(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是 Word 文档")
    assert "corrupt .docx" in read_error(tmp_path, "plain.docx", buffer.getvalue())


def _with_zeros(data: bytes, megabytes: int, level: int) -> bytes:
    """`data` (a zip) with one more entry holding `megabytes` MB of zeros."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as entry:
            chunk = bytes(1 << 20)
            for _ in range(megabytes):
                entry.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_over_the_size_limit(tmp_path):
    data = _with_zeros(docx_bytes(_report), 210, level=1)
    assert len(data) < 2 * 2**20
    cause = read_error(tmp_path, "bomb.docx", data)
    assert "zip bomb" in cause and "200 MB" in cause


def test_zip_bomb_by_compression_ratio(tmp_path):
    cause = read_error(tmp_path, "ratio.docx", _with_zeros(docx_bytes(_report), 20, level=9))
    assert "zip bomb" in cause and "zeros.bin" in cause


# --- PDF ------------------------------------------------------------------------------------


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_pdf_chinese_text_pages_separated_by_page_breaks(tmp_path):
    extracted = read(tmp_path, "chinese.pdf", fixture("chinese.pdf"))
    assert extracted.fmt == "pdf"
    assert extracted.title == "知识库测试文档"
    first, second = extracted.text.split(PAGE_BREAK)
    assert first.split("\n") == [
        "知识库测试文档", "第一条 为了规范城乡建设管理，制定本条例。", "第二条 本条例适用于本县行政区域。"
    ]
    assert second.split("\n") == ["第二页：政府工作报告摘要", "乡村振兴、防汛救灾和民营经济取得新进展。"]
    assert extracted.warnings == []


def test_pdf_with_a_user_password(tmp_path):
    assert read_error(tmp_path, "locked.pdf", fixture("encrypted.pdf")) == "password-protected PDF"


def test_pdf_encrypted_with_an_empty_user_password_reads(tmp_path):
    writer = PdfWriter(clone_from=PdfReader(FIXTURES / "chinese.pdf"))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "知识库测试文档" in read(tmp_path, "restricted.pdf", buffer.getvalue()).text


def test_pdf_without_text_layer(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert read_error(tmp_path, "scan.pdf", buffer.getvalue()) == "no text layer (scanned PDF?); OCR it first"


def test_pdf_with_some_scanned_pages_warns(tmp_path):
    writer = PdfWriter(clone_from=PdfReader(FIXTURES / "chinese.pdf"))
    writer.add_blank_page()
    buffer = io.BytesIO()
    writer.write(buffer)
    extracted = read(tmp_path, "mixed.pdf", buffer.getvalue())
    assert len([page for page in extracted.text.split(PAGE_BREAK) if page.strip()]) == 2
    assert any("1 of 3 pages" in warning for warning in extracted.warnings), extracted.warnings


@pytest.mark.parametrize(
    "data, cause",
    [
        (fixture("truncated.pdf"), "corrupt or truncated PDF"),
        (b"%PDF-1.7\n" + random.Random(3).randbytes(2000), "corrupt or truncated PDF"),
        ("这不是 PDF".encode("utf-8"), "not a PDF"),
    ],
    ids=["truncated", "garbage", "not-pdf"],
)
def test_corrupt_pdf(tmp_path, data, cause):
    assert cause in read_error(tmp_path, "bad.pdf", data)


def test_pdfminer_reads_what_pypdf_cannot(tmp_path, monkeypatch):
    def broken_reader(*args, **kwargs):
        raise ValueError("pypdf gave up")

    monkeypatch.setattr(kb.read.pdf, "PdfReader", broken_reader)
    extracted = read(tmp_path, "fallback.pdf", fixture("chinese.pdf"))
    assert "第一条 为了规范城乡建设管理，制定本条例。" in extracted.text.replace(PAGE_BREAK, "\n").split("\n")
    assert len(extracted.text.split(PAGE_BREAK)) == 2
    assert "pdfminer" in extracted.warnings[0]


# --- dispatch -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, cause",
    [
        ("paper.CAJ", "CNKI .caj is not supported"),
        ("talk.mp3", "audio and video hold no text"),
        ("bundle.zip", "an archive: ingest reads the files in it"),
        ("data.xyz", "unsupported file type .xyz"),
        ("README", "no file suffix, so the format is unknown"),
    ],
)
def test_unsupported_formats(tmp_path, name, cause):
    with pytest.raises(UnsupportedFormat) as caught:
        read(tmp_path, name, b"\xd0\xcf\x11\xe0 anything")
    assert caught.value.cause.startswith(cause)


@pytest.mark.parametrize(
    "error, cause",
    [
        (ValueError("boom"), "could not read .txt (ValueError: boom)"),
        (KeyError("word/document.xml"), "could not read .txt (KeyError: 'word/document.xml')"),
        (RecursionError(), "structure nested too deeply to read"),
    ],
)
def test_no_library_exception_escapes(tmp_path, monkeypatch, error, cause):
    def failing(path, data):
        raise error

    monkeypatch.setitem(kb.read._READERS, ".txt", failing)
    assert read_error(tmp_path, "x.txt", b"text") == cause


# --- walking folders ------------------------------------------------------------------------


def make_tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_iter_files_sorted_skipping_hidden_and_sidecars(tmp_path):
    make_tree(tmp_path, ["b.txt", "a/z.md", "a/b/c.pdf", "a/c.txt", "a/c.txt.meta.json",
                         ".hidden.txt", ".git/config", "c/.secret/x.txt", "d.doc"])
    found = list(iter_files(tmp_path))  # one path or several
    assert [p.relative_to(tmp_path).as_posix() for p, problem in found if problem is None] == [
        "a/b/c.pdf", "a/c.txt", "a/z.md", "b.txt", "d.doc"
    ]
    from kb.read.walk import HIDDEN

    hidden = sorted(p.relative_to(tmp_path).as_posix() for p, problem in found if problem == HIDDEN)
    assert hidden == [".git", ".hidden.txt", "c/.secret"]  # counted by ingest, never read


def test_iter_files_explicit_paths_and_problems(tmp_path):
    make_tree(tmp_path, ["dir/a.txt", ".explicit.txt"])
    (tmp_path / "dir" / "dangling").symlink_to(tmp_path / "nowhere")
    found = list(iter_files([tmp_path / ".explicit.txt", tmp_path / "missing.txt", tmp_path / "dir",
                             tmp_path / "dir" / "a.txt"]))  # a.txt a second time: yielded once
    assert [(p.name, problem) for p, problem in found] == [
        (".explicit.txt", None),
        ("missing.txt", "no such file or folder"),
        ("a.txt", None),
        ("dangling", "broken symbolic link"),
    ]


def test_iter_files_symlink_loop_is_reported_not_followed(tmp_path):
    make_tree(tmp_path, ["top/sub/a.txt"])
    (tmp_path / "top" / "sub" / "up").symlink_to(tmp_path / "top", target_is_directory=True)
    (tmp_path / "top" / "self").symlink_to(tmp_path / "top" / "self")
    found = list(iter_files([tmp_path / "top"]))
    assert [(p.relative_to(tmp_path).as_posix(), problem) for p, problem in found] == [
        ("top/self", "symbolic link loop"),
        ("top/sub/a.txt", None),
        ("top/sub/up", "folder already walked (symlink loop or a second link to it); skipped"),
    ]


def test_iter_files_reports_unreadable_folder(tmp_path, monkeypatch):
    make_tree(tmp_path, ["ok/a.txt", "locked/b.txt"])
    real_scandir = os.scandir

    def scandir(path):  # tests run as root, where chmod 000 would not stop anything
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(kb.read.walk.os, "scandir", scandir)
    found = [(p.relative_to(tmp_path).as_posix(), problem) for p, problem in iter_files([tmp_path])]
    assert found == [("locked", "cannot read folder: Permission denied"), ("ok/a.txt", None)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_iter_files_reports_special_files(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert list(iter_files([tmp_path])) == [
        (tmp_path / "pipe.txt", "not a regular file (device, pipe or socket); skipped")
    ]


# --- real files in ../shared ----------------------------------------------------------------

CJK = re.compile(r"[\u2e80-\u2fdf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Latin-1 letters in Chinese text are the mark of GBK or Big5 read as a Western code page
# (× and ÷ are real: tables use them).
MOJIBAKE = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]")


@pytest.fixture(scope="module")
def formats() -> Path:
    if not FORMATS.is_dir():
        pytest.skip(f"../shared not present: no real files at {FORMATS} (core tests above still run)")
    return FORMATS


def _problems_with(path: Path, text: str) -> list[str]:
    """What makes `text` not readable Chinese: replacement characters, mojibake, too little CJK."""
    letters = len(text) - sum(1 for c in text if c.isspace())
    replaced, mojibake, cjk = text.count("\ufffd"), len(MOJIBAKE.findall(text)), len(CJK.findall(text))
    problems = []
    if replaced > letters / 1000:
        problems.append(f"{replaced} U+FFFD")
    if mojibake > letters / 100:
        problems.append(f"{mojibake} Latin-1 letters (mojibake?)")
    if "LICENSE" not in path.name.upper() and cjk < 0.02 * letters:  # the licences are English
        problems.append(f"only {cjk} CJK characters of {letters}")
    return problems


# Outcomes that are right for a real file of a supported kind: they tell the user what to do.
ACCEPTED_CAUSES = ("no text layer (scanned PDF?); OCR it first", "password-protected PDF")


def test_every_real_format_file_reads_or_says_why(formats):
    failures, read_count = [], 0
    for path, problem in iter_files([formats]):
        assert problem is None, f"{path}: {problem}"
        name = path.relative_to(formats)
        try:
            extracted = read_bytes(path, path.read_bytes())
        except UnsupportedFormat as exc:
            if path.name != "manifest.json":  # every kind in ../shared is read now (.doc and .ofd too)
                failures.append(f"{name}: unsupported? {exc.cause}")
            continue
        except ReadError as exc:
            if exc.cause not in ACCEPTED_CAUSES:
                failures.append(f"{name}: {exc.cause}")
            continue
        read_count += 1
        if any("cannot be extracted" in warning for warning in extracted.warnings):
            continue  # the reader says plainly which text it cannot give (glyph numbers without characters)
        failures += [f"{name}: {problem}" for problem in _problems_with(path, extracted.text)]
    assert not failures, "\n".join(failures)
    assert read_count > 50


def test_gbk_gb18030_and_bom_copies_equal_their_utf8_originals(formats):
    folder = formats / "gbk-gb18030-bom"
    entries = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert len(entries) == 21
    for entry in entries:
        path = folder / entry["file"]
        original = (SHARED / entry["source_path"]).read_bytes().decode("utf-8")
        extracted = read_bytes(path, path.read_bytes())
        assert extracted.text == original, path.name
        expected = {"gbk": "gb18030", "gb18030": "gb18030", "utf-8-sig": "utf-8-sig"}[entry["encoding"]]
        assert extracted.encoding == expected, path.name


@pytest.mark.parametrize(
    "folder, count, encodings",
    [("gb2312-web", 20, {"gb18030"}), ("big5-web", 26, {"cp950", "big5hkscs"})],
)
def test_chinese_web_pages_decode_cleanly(formats, folder, count, encodings):
    paths = sorted(p for p in (formats / folder).iterdir() if p.is_file())
    assert len(paths) == count
    for path in paths:
        extracted = read_bytes(path, path.read_bytes())
        assert "\ufffd" not in extracted.text, path.name
        assert extracted.encoding in encodings, path.name


def test_text_pasted_together_from_utf8_and_gbk_is_decoded_line_by_line(tmp_path):
    data = "统一战线工作\n".encode("utf-8") + "民营经济\n".encode("gbk") + "乡村振兴".encode("utf-8")
    extracted = read(tmp_path, "mixed.txt", data)
    assert extracted.text == "统一战线工作\n民营经济\n乡村振兴"
    assert extracted.warnings
